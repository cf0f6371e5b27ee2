"""The Bot API on the wire: a method call in (a request, or a webhook's answer), the envelope out.

aiogram 3 sends ``POST /bot<token>/<method>`` with form fields (nested values JSON-encoded) or
multipart when files are attached (``attach://<key>``); JSON bodies and query strings are read
too. Every answer is the envelope ``{"ok": true, "result": ...}`` or ``{"ok": false,
"error_code": N, "description": "...", "parameters": {...}}`` with HTTP status N, so aiogram
raises its own exceptions (``TelegramRetryAfter``, ``TelegramBadRequest``, ...).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Final

import orjson
from aiohttp import ClientResponse, MultipartReader, web
from aiohttp.web_request import FileField

JsonDict = dict[str, Any]

#: Form fields that stay strings (everything else is JSON-decoded when it parses).
STRING_FIELDS: Final = frozenset(
    [
        "action",
        "address",
        "animation",
        "audio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "description",
        "document",
        "emoji",
        "file_id",
        "first_name",
        "inline_message_id",
        "ip_address",
        "language_code",
        "last_name",
        "message_effect_id",
        "name",
        "parse_mode",
        "phone_number",
        "photo",
        "query",
        "secret_token",
        "short_description",
        "sticker",
        "text",
        "thumbnail",
        "title",
        "url",
        "vcard",
        "video",
        "video_note",
        "voice",
    ]
)


class ApiError(Exception):
    """A Bot API error answer: HTTP status ``error_code`` with the ``ok: false`` envelope."""

    def __init__(
        self, error_code: int, description: str, parameters: JsonDict | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def envelope(self) -> JsonDict:
        body: JsonDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    return ApiError(403, f"Forbidden: {reason}")


@dataclass(frozen=True, slots=True)
class Upload:
    """A file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


class Params:
    """Decoded request parameters with Bot API-style errors for missing or wrong values."""

    __slots__ = ("files", "values")

    def __init__(self, values: JsonDict, files: dict[str, Upload]) -> None:
        self.values = values
        self.files = files

    def opt_text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else str(value)

    def req_text(self, name: str) -> str:
        value = self.opt_text(name)
        if value is None:
            raise bad_request(f"parameter {name} is required")
        return value

    def opt_int(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or isinstance(value, bool):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def req_int(self, name: str) -> int:
        value = self.opt_int(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def opt_json(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value


def decode_field(name: str, raw: str) -> Any:
    """A form field as Telegram reads it: JSON where the field is not a plain string."""
    if name in STRING_FIELDS:
        return raw
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw


async def read_params(request: web.Request) -> Params:
    """Query string, then a JSON, urlencoded or multipart body on top."""
    values: JsonDict = {k: decode_field(k, v) for k, v in request.query.items()}
    files: dict[str, Upload] = {}
    if not request.can_read_body:
        return Params(values, files)
    if request.content_type == "application/json":
        body = await request.json(loads=orjson.loads)
        if isinstance(body, dict):
            values.update(body)
        return Params(values, files)
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, FileField):
            files[key] = Upload(key, value.filename, value.content_type, value.file.read())
        elif isinstance(value, bytes | bytearray):
            values[key] = decode_field(key, bytes(value).decode())
        else:
            values[key] = decode_field(key, value)
    return Params(values, files)


async def read_webhook_reply(resp: ClientResponse) -> tuple[bytes, str | None, Params]:
    """A webhook's answer: its body (empty when multipart) and the method it calls, if any,
    with the parameters (a JSON object with ``method``, or multipart as aiogram sends files)."""
    values: JsonDict = {}
    files: dict[str, Upload] = {}
    method: str | None = None
    if resp.content_type.startswith("multipart/"):
        reader = MultipartReader.from_response(resp)
        while (part := await reader.next()) is not None:
            if isinstance(part, MultipartReader) or part.name is None:
                continue
            data = bytes(await part.read(decode=True))
            if part.filename is not None:
                content_type = part.headers.get("Content-Type")
                files[part.name] = Upload(part.name, part.filename, content_type, data)
            elif part.name == "method":
                method = data.decode()
            else:
                values[part.name] = decode_field(part.name, data.decode())
        return b"", method, Params(values, files)
    body = await resp.read()
    if resp.content_type == "application/json" and body:
        parsed = orjson.loads(body)
        if isinstance(parsed, dict) and isinstance(parsed.get("method"), str):
            method = parsed.pop("method")
            values = parsed
    return body, method, Params(values, files)


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def now() -> int:
    """A Telegram date: Unix time in seconds."""
    return int(time.time())
