"""The ceiling: what plain Python does on this machine with the same server and database.

A bare ASGI callable (no framework, no ORM) served by uvicorn with the same worker count as
``referral api``, one asyncpg pool per worker:

- ``GET /json``: a constant JSON body, ``{"status":"ok"}`` (the HTTP ceiling, beside the
  service's ``/healthz`` which answers the same bytes);
- ``GET /users/{id}/``: scenario 1 with the same contract: the bearer token checked with PyJWT
  exactly as ``TokenService.authenticate`` does (HS256, issuer, audience, ``typ``, expiry),
  another user's id answered 404, then ONE query, and the same response body as the service
  (same keys, same order, the 100 newest referral phones).

Run by the bench as::

    python -m uvicorn bench.ceiling:create_app --factory --workers 2 --port N

with ``BENCH_CEILING_DSN``, ``SECRET_KEY`` and the pool sizes in the environment.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import asyncpg
import jwt
import orjson

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PROFILE_SQL = """
SELECT u.id, u.phone, u.first_name, u.last_name, u.invite_code, r.invite_code AS referrer_code,
       u.referrer_id, u.referral_count,
       CASE WHEN u.referral_count > 0 THEN ARRAY(
           SELECT c.phone FROM "user" c WHERE c.referrer_id = u.id
           ORDER BY c.referred_at DESC, c.id DESC LIMIT 100
       ) ELSE '{}'::varchar[] END AS referral_list
FROM "user" u LEFT JOIN "user" r ON r.id = u.referrer_id
WHERE u.id = $1
"""

CONSTANT = orjson.dumps({"status": "ok"})
JSON_HEADERS = [(b"content-type", b"application/json")]
NOT_FOUND = orjson.dumps({"detail": "Not found.", "code": "not_found"})
UNAUTHORIZED = orjson.dumps({"detail": "Invalid token.", "code": "token_invalid"})
REQUIRED = ["sub", "iat", "exp", "jti", "typ", "iss", "aud"]


def create_app() -> ASGIApp:
    dsn = os.environ["BENCH_CEILING_DSN"]
    secret = os.environ["SECRET_KEY"]
    issuer = os.environ.get("JWT_ISSUER", "referral-service")
    audience = os.environ.get("JWT_AUDIENCE", "referral-api")
    pool_min = int(os.environ.get("BENCH_CEILING_POOL_MIN", "10"))
    pool_max = int(os.environ.get("BENCH_CEILING_POOL_MAX", "20"))
    state: dict[str, asyncpg.Pool] = {}

    def user_id_from(headers: list[tuple[bytes, bytes]]) -> int | None:
        for name, value in headers:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer":
                    return None
                try:
                    claims = jwt.decode(
                        token,
                        secret,
                        algorithms=["HS256"],
                        audience=audience,
                        issuer=issuer,
                        options={"require": REQUIRED, "verify_exp": False, "verify_iat": False},
                    )
                except jwt.PyJWTError:
                    return None
                sub = str(claims.get("sub", ""))
                if claims.get("typ") != "access" or not sub.isdigit():
                    return None
                if int(claims["exp"]) <= int(time.time()):
                    return None
                return int(sub)
        return None

    async def respond(send: Send, status: int, body: bytes) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*JSON_HEADERS, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def profile(scope: Scope, send: Send, raw_id: str) -> None:
        viewer = user_id_from(scope["headers"])
        if viewer is None:
            await respond(send, 401, UNAUTHORIZED)
            return
        if not raw_id.isdigit() or int(raw_id) != viewer:
            await respond(send, 404, NOT_FOUND)
            return
        row = await state["pool"].fetchrow(PROFILE_SQL, viewer)
        if row is None:
            await respond(send, 404, NOT_FOUND)
            return
        body = orjson.dumps(
            {
                "id": row["id"],
                "phone": row["phone"],
                "first_name": row["first_name"],
                "last_name": row["last_name"],
                "referral_code": row["invite_code"],
                "referral_code_refer": row["referrer_code"],
                "refer": row["referrer_id"],
                "referral_count": row["referral_count"],
                "referral_list": list(row["referral_list"]),
            }
        )
        await respond(send, 200, body)

    async def lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                state["pool"] = await asyncpg.create_pool(dsn, min_size=pool_min, max_size=pool_max)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if "pool" in state:
                    await state["pool"].close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path == "/json":
            await respond(send, 200, CONSTANT)
        elif path.startswith("/users/") and path.endswith("/"):
            await profile(scope, send, path[len("/users/") : -1])
        else:
            await respond(send, 404, NOT_FOUND)

    return app
