"""Logging set up once, first thing, by the CLI. Secrets and codes never reach a log line."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

#: Belt and braces behind the rule that nobody logs a secret: anything shaped like one is masked.
_PATTERNS = [
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1***"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), "***jwt***"),
    (re.compile(r"/bot\d+:[A-Za-z0-9_-]+"), "/bot***"),
    (
        re.compile(
            r"(?i)(\b(?:api_?key|password|secret|token|otp_code|code)\b[\"']?\s*[:=]\s*[\"']?)[^\s\"',&]+"
        ),
        r"\1***",
    ),
    (re.compile(r"(\+?\d{4})\d{3,}(\d{4})"), r"\1***\2"),
]


def redact(text: str) -> str:
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


#: The development SMS backend's logger: its whole point is to show the code to the developer.
#: ``Settings.ensure_can_start`` refuses that backend in production.
DEVELOPMENT_SMS_LOGGER = "referral.sms"
#: The request log writes only the method, the route template, the status and the time.
ACCESS_LOGGER = "referral.access"


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.name in (DEVELOPMENT_SMS_LOGGER, ACCESS_LOGGER):
            return True
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "method", "path", "status", "duration_ms", "client", "update_id"):
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info:
            data["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False)


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Third-party loggers that print URLs with keys or message texts at DEBUG stay quiet.
    for noisy in (
        "smsaero",
        "urllib3",
        "aiogram.event",
        "httpx",
        "asyncio",
        "alembic.runtime.plugins",
    ):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
