"""Development SMS senders: the message goes to the log or to a JSON-lines file, not to a phone."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger("referral.sms")


class ConsoleSmsSender:
    """Logs the whole message, so a newcomer on the embedded default can log in.

    Development only: ``Settings.ensure_can_start`` refuses it in production.
    """

    async def send(self, phone: str, text: str) -> None:
        log.warning("DEVELOPMENT SMS to %s: %s", phone, text)


class FileSmsSender:
    """Appends ``{"phone", "text", "sent_at"}`` as one JSON line per message. Development only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()

    async def send(self, phone: str, text: str) -> None:
        line = json.dumps(
            {"phone": phone, "text": text, "sent_at": datetime.now(UTC).isoformat()},
            ensure_ascii=False,
        )
        async with self._lock:
            await asyncio.to_thread(self._append, line)

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
