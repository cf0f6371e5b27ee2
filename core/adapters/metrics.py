"""``PrometheusMetrics``: ``core.ports.Metrics``, plus HTTP and bot counters, for /metrics.

Each instance owns a ``CollectorRegistry`` (never prometheus_client's global one), so tests and
the composition root can build as many as they like without "Duplicated timeseries" errors.

Several processes. Every process has its own registry: with ``referral api --workers N`` each
uvicorn worker counts only what it handled, and a scrape of /metrics sees whichever worker
answered. To aggregate, set the environment variable ``PROMETHEUS_MULTIPROC_DIR`` to an empty
directory, writable by the service, that exists before the process starts and is emptied between
runs (docker-compose mounts a tmpfs there). prometheus_client then keeps every value in a
memory-mapped file per process in that directory, and ``render`` reads them all through
``prometheus_client.multiprocess.MultiProcessCollector``: one scrape, the sum of all workers.
prometheus_client decides this when it is first imported, so the variable must be in the
environment before the process starts, not set later. In that mode the per-process collectors
(``process_*``, ``python_gc_*``) are not exported.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.gc_collector import GCCollector
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

#: The classic text format, which every Prometheus version scrapes.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: Request latency buckets in seconds: 1 ms to 10 s, about three per decade.
LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

#: Methods kept as labels; anything else a client sends is counted as ``OTHER`` so that a
#: stream of made-up methods cannot create unbounded time series.
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def multiprocess_dir() -> str | None:
    """The shared directory of multi-process mode, or ``None`` for one registry per process."""
    return os.environ.get(MULTIPROC_ENV) or None


class PrometheusMetrics:
    """Counts what the core, the HTTP API and the bot do, in Prometheus' text format."""

    def __init__(self, namespace: str = "referral") -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        # Read once: prometheus_client chose its value storage when it was imported.
        self._multiprocess = multiprocess_dir() is not None
        self._codes_sent = Counter(
            "codes_sent",
            "One-time codes handed to the SMS gateway.",
            namespace=namespace,
            registry=registry,
        )
        self._codes_failed = Counter(
            "codes_failed",
            "One-time codes the SMS gateway refused or failed to take.",
            namespace=namespace,
            registry=registry,
        )
        self._logins = Counter(
            "logins",
            "Successful logins; created=true for the first login of a phone (a new account).",
            ["created"],
            namespace=namespace,
            registry=registry,
        )
        self._login_failures = Counter(
            "login_failures",
            "Logins refused: a wrong, expired or used code, or a locked phone.",
            namespace=namespace,
            registry=registry,
        )
        self._activations = Counter(
            "activations",
            "Invite codes activated.",
            namespace=namespace,
            registry=registry,
        )
        self._bot_updates = Counter(
            "bot_updates",
            "Telegram updates handled by the bot, by update type and result (ok or error).",
            ["type", "result"],
            namespace=namespace,
            registry=registry,
        )
        self._http_requests = Counter(
            "http_requests",
            "HTTP requests answered, by route template, method and status code.",
            ["route", "method", "status"],
            namespace=namespace,
            registry=registry,
        )
        self._http_latency = Histogram(
            "http_request_duration_seconds",
            "Time from the request's arrival to the end of its answer, by route template.",
            ["route", "method"],
            namespace=namespace,
            registry=registry,
            buckets=LATENCY_BUCKETS,
        )
        self._webhook_deliveries = Counter(
            "webhook_deliveries",
            "Webhook attempts by outcome: delivered, retry (it will be tried again), failed.",
            ["outcome"],
            namespace=namespace,
            registry=registry,
        )
        self._telegram_messages = Counter(
            "telegram_messages",
            "Telegram sends by outcome: sent, blocked, retry, failed.",
            ["outcome"],
            namespace=namespace,
            registry=registry,
        )
        self._outbox_lag = Gauge(
            "outbox_lag_seconds",
            "Age of the oldest event not yet delivered (0 when nothing waits).",
            namespace=namespace,
            registry=registry,
            multiprocess_mode="max",
        )
        # Both outcomes exist from the start, so a dashboard's rate() has a zero to begin from.
        for created in ("true", "false"):
            self._logins.labels(created=created)
        if not self._multiprocess:
            ProcessCollector(registry=registry)
            PlatformCollector(registry=registry)
            GCCollector(registry=registry)

    # ----- the core's hooks (core.ports.Metrics) -------------------------------------------

    def codes_sent(self) -> None:
        self._codes_sent.inc()

    def codes_failed(self) -> None:
        self._codes_failed.inc()

    def logged_in(self, *, created: bool) -> None:
        self._logins.labels(created="true" if created else "false").inc()

    def login_failed(self) -> None:
        self._login_failures.inc()

    def activated(self) -> None:
        self._activations.inc()

    # ----- transports ----------------------------------------------------------------------

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """One answered HTTP request; ``route`` is the template (``/users/{user_id}/``), never
        the raw path, so ids do not become labels."""
        method = method.upper()
        if method not in HTTP_METHODS:
            method = "OTHER"
        self._http_requests.labels(route=route, method=method, status=str(status)).inc()
        self._http_latency.labels(route=route, method=method).observe(max(seconds, 0.0))

    def bot_update(self, kind: str, ok: bool) -> None:
        """One Telegram update handled; ``kind`` is its type (``message``, ``callback_query``)."""
        self._bot_updates.labels(type=kind, result="ok" if ok else "error").inc()

    # ----- the worker ----------------------------------------------------------------------

    def webhook_delivery(self, outcome: str) -> None:
        self._webhook_deliveries.labels(outcome=outcome).inc()

    def telegram_message(self, outcome: str) -> None:
        self._telegram_messages.labels(outcome=outcome).inc()

    def outbox_lag(self, seconds: float) -> None:
        self._outbox_lag.set(seconds)

    # ----- exposition ----------------------------------------------------------------------

    def render(self) -> tuple[bytes, str]:
        """The body and content type of GET /metrics (Prometheus text format 0.0.4)."""
        if self._multiprocess:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry), CONTENT_TYPE
        return generate_latest(self.registry), CONTENT_TYPE
