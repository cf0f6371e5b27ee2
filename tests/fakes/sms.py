from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.domain.errors import SmsDeliveryFailed


@dataclass
class RecordingSmsSender:
    """Captures every message; can be told to fail like a gateway with no money."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    fail: bool = False

    async def send(self, phone: str, text: str) -> None:
        if self.fail:
            raise SmsDeliveryFailed()
        self.sent.append((phone, text))

    def last_code(self, phone: str | None = None) -> str:
        for to, text in reversed(self.sent):
            if phone is None or to == phone:
                match = re.search(r"\d{4,8}", text)
                assert match, text
                return match.group()
        raise AssertionError(f"no SMS sent to {phone}")
