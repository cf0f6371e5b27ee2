"""The Telegram webhook route (webhook mode only; not part of the public API schema)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from core.api.errors import error_response

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)


def build_router(path: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.post(path, name="telegram_webhook")
    async def telegram_webhook(request: Request) -> Response:
        from bot.webhook import QueueFull

        intake = getattr(request.app.state, "telegram", None)
        if intake is None:
            return error_response(404, "Not Found", "not_found")
        if not intake.secret_matches(request.headers.get(SECRET_HEADER)):
            return error_response(403, "Wrong or missing secret token.", "forbidden")
        try:
            payload = json.loads(await request.body())
        except ValueError:
            return error_response(422, "The body is not valid JSON.", "validation_error")
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            return error_response(422, "The body is not a Telegram update.", "validation_error")
        try:
            await intake.accept(payload)
        except ValidationError:
            return error_response(422, "The body is not a Telegram update.", "validation_error")
        except QueueFull:
            return error_response(503, "Busy; Telegram will retry.", "busy", {"Retry-After": "5"})
        return Response(b'{"ok":true}', media_type="application/json")

    return router
