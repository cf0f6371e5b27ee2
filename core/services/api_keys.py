"""Integrators' API keys: created, listed, revoked, and checked on every request."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from core.domain.api_keys import (
    SHOWN_PREFIX,
    derive_api_key_hasher,
    generate_api_key,
    hash_api_key,
    parse_key_name,
    parse_scopes,
)
from core.domain.entities import ApiKey, NewApiKey
from core.domain.errors import ApiKeyInvalid, ApiKeyNotFound, ApiKeyScopeMissing
from core.ports import Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_KEY_LENGTH = 200


class ApiKeyService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, secret_key: str) -> None:
        self._uow = uow
        self._clock = clock
        self._hasher = derive_api_key_hasher(secret_key)

    async def create(self, name: str, scopes: Iterable[str]) -> NewApiKey:
        """A new key; its secret is in the answer only (the database keeps its hash)."""
        clean_name = parse_key_name(name)
        granted = parse_scopes(scopes)
        secret = generate_api_key()
        async with self._uow() as tx:
            key = await tx.api_keys.add(
                name=clean_name,
                prefix=secret[:SHOWN_PREFIX],
                key_hash=hash_api_key(self._hasher, secret),
                scopes=",".join(sorted(granted)),
                now=self._clock.now(),
            )
        log.info("API key %d (%s) created with %s", key.id, key.prefix, ",".join(sorted(granted)))
        return NewApiKey(key=key, secret=secret)

    async def list(self) -> Sequence[ApiKey]:
        async with self._uow(read_only=True) as tx:
            return await tx.api_keys.all()

    async def revoke(self, key_id: int) -> None:
        async with self._uow() as tx:
            if not await tx.api_keys.revoke(key_id, self._clock.now()):
                raise ApiKeyNotFound()
        log.info("API key %d revoked", key_id)

    async def authenticate(self, raw: str | None, scope: str) -> ApiKey:
        """The live key ``raw`` is, if it has ``scope``: else 401 (unknown) or 403 (scope)."""
        if not raw or len(raw) > MAX_KEY_LENGTH:
            raise ApiKeyInvalid()
        async with self._uow(read_only=True) as tx:
            key = await tx.api_keys.by_hash(hash_api_key(self._hasher, raw))
        if key is None or key.revoked_at is not None:
            raise ApiKeyInvalid()
        if scope not in key.scopes:
            raise ApiKeyScopeMissing(scope)
        return key
