"""Log lines never carry secrets, except the development SMS log, which exists to show the code."""

import json
import logging

import pytest

from core.adapters.sms_log import ConsoleSmsSender
from core.logging import RedactingFilter, configure_logging, redact


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("Authorization: Bearer eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl", "eyJzdWIiOiIx"),
        ("GET https://api.telegram.org/bot123456:AAHsecretTOKEN/getMe", "AAHsecretTOKEN"),
        ("sms to +79991234567 failed", "9991234567"),
        ("api_key=abcdef0123456789 rejected", "abcdef0123456789"),
        ("otp_code: 4821", "4821"),
    ],
)
def test_secrets_are_masked(line: str, secret: str) -> None:
    assert secret not in redact(line)


def test_the_filter_rewrites_records() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token=%s", ("abc.def.ghi",), None)
    RedactingFilter().filter(record)
    assert "abc.def.ghi" not in record.getMessage()


async def test_console_sms_shows_the_whole_message(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging("INFO")
    try:
        await ConsoleSmsSender().send("+79991234567", "Your code: 4821")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    err = capsys.readouterr().err
    assert "+79991234567" in err and "Your code: 4821" in err


def test_json_format_writes_one_object_per_line_with_the_request_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging("INFO", "json")
    try:
        logging.getLogger("referral.access").info(
            "GET /healthz 200 0.4ms", extra={"request_id": "abc", "status": 200, "path": "/healthz"}
        )
        logging.getLogger("x").warning("token=abc.def.ghi")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    lines = capsys.readouterr().err.strip().splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["request_id"] == "abc" and first["status"] == 200 and first["level"] == "INFO"
    assert "abc.def.ghi" not in second["message"]
