"""Liveness, readiness and metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response

from core.api.deps import ServicesDep
from core.api.errors import error_response, responses
from core.api.schemas import HealthOut

log = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])


@router.get("/healthz", name="healthz", summary="The process answers", response_model=HealthOut)
async def healthz() -> HealthOut:
    return HealthOut()


@router.get("/metrics", name="metrics", include_in_schema=False)
async def metrics(services: ServicesDep) -> Response:
    """Prometheus text format: requests, codes, logins, activations, bot updates, the outbox."""
    try:
        await services.delivery.lag()  # the gauge, read from the database at each scrape
    except Exception:
        log.warning("could not read the outbox lag for /metrics", exc_info=True)
    body, content_type = services.metrics.render()
    return Response(body, media_type=content_type)


@router.get(
    "/readyz",
    name="readyz",
    summary="The database (and Redis, when configured) answer",
    response_model=HealthOut,
    responses=responses(503),
)
async def readyz(request: Request, services: ServicesDep) -> HealthOut | Response:
    try:
        await services.health.ping()
    except Exception:
        return error_response(
            503, "A dependency is not reachable.", "not_ready", {"Retry-After": "5"}
        )
    return HealthOut()
