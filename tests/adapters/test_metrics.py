"""``PrometheusMetrics``: what the core, the API and the bot count, and how /metrics renders it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.adapters.metrics import LATENCY_BUCKETS, MULTIPROC_ENV, PrometheusMetrics
from core.ports import Metrics

ROOT = Path(__file__).resolve().parents[2]


def value(metrics: PrometheusMetrics, name: str, **labels: str) -> float:
    sample = metrics.registry.get_sample_value(name, labels)
    return 0.0 if sample is None else sample


@pytest.fixture
def metrics() -> PrometheusMetrics:
    if os.environ.get(MULTIPROC_ENV):
        pytest.fail(f"run the tests without {MULTIPROC_ENV}: it changes how values are stored")
    return PrometheusMetrics()


def test_every_metrics_hook_has_a_prometheus_counterpart() -> None:
    hooks = [name for name, attr in vars(Metrics).items() if callable(attr) and name[0] != "_"]
    assert "codes_sent" in hooks and "render" in hooks
    for name in hooks:
        assert callable(getattr(PrometheusMetrics, name, None)), name


def test_core_hooks_count_codes_logins_and_activations(metrics: PrometheusMetrics) -> None:
    metrics.codes_sent()
    metrics.codes_sent()
    metrics.codes_failed()
    metrics.logged_in(created=True)
    metrics.logged_in(created=False)
    metrics.logged_in(created=False)
    metrics.login_failed()
    metrics.activated()

    assert value(metrics, "referral_codes_sent_total") == 2
    assert value(metrics, "referral_codes_failed_total") == 1
    assert value(metrics, "referral_logins_total", created="true") == 1
    assert value(metrics, "referral_logins_total", created="false") == 2
    assert value(metrics, "referral_login_failures_total") == 1
    assert value(metrics, "referral_activations_total") == 1


def test_each_instance_has_its_own_registry() -> None:
    first, second = PrometheusMetrics(), PrometheusMetrics()
    first.codes_sent()
    assert value(first, "referral_codes_sent_total") == 1
    assert value(second, "referral_codes_sent_total") == 0


def test_requests_are_counted_by_route_template_method_and_status(
    metrics: PrometheusMetrics,
) -> None:
    metrics.observe_request("/users/{user_id}/", "GET", 200, 0.004)
    metrics.observe_request("/users/{user_id}/", "get", 200, 0.02)
    metrics.observe_request("/users/{user_id}/", "GET", 404, 0.001)

    count = "referral_http_requests_total"
    assert value(metrics, count, route="/users/{user_id}/", method="GET", status="200") == 2
    assert value(metrics, count, route="/users/{user_id}/", method="GET", status="404") == 1
    latency = "referral_http_request_duration_seconds"
    labels = {"route": "/users/{user_id}/", "method": "GET"}
    assert value(metrics, f"{latency}_count", **labels) == 3
    assert value(metrics, f"{latency}_bucket", le="0.005", **labels) == 2
    assert value(metrics, f"{latency}_sum", **labels) == pytest.approx(0.025)


def test_made_up_methods_share_one_label(metrics: PrometheusMetrics) -> None:
    for method in ("FOO", "BAR", "PROPFIND"):
        metrics.observe_request("unmatched", method, 405, 0.001)
    count = "referral_http_requests_total"
    assert value(metrics, count, route="unmatched", method="OTHER", status="405") == 3
    assert value(metrics, count, route="unmatched", method="FOO", status="405") == 0


def test_latency_buckets_span_one_millisecond_to_ten_seconds(metrics: PrometheusMetrics) -> None:
    assert LATENCY_BUCKETS[0] == 0.001
    assert LATENCY_BUCKETS[-1] == 10.0
    assert list(LATENCY_BUCKETS) == sorted(set(LATENCY_BUCKETS))
    metrics.observe_request("/healthz", "GET", 200, 30.0)
    latency = "referral_http_request_duration_seconds_bucket"
    labels = {"route": "/healthz", "method": "GET"}
    assert value(metrics, latency, le="10.0", **labels) == 0
    assert value(metrics, latency, le="+Inf", **labels) == 1


def test_bot_updates_are_counted_by_type_and_result(metrics: PrometheusMetrics) -> None:
    metrics.bot_update("message", ok=True)
    metrics.bot_update("message", ok=False)
    metrics.bot_update("callback_query", ok=True)

    name = "referral_bot_updates_total"
    assert value(metrics, name, type="message", result="ok") == 1
    assert value(metrics, name, type="message", result="error") == 1
    assert value(metrics, name, type="callback_query", result="ok") == 1


def test_render_is_the_prometheus_text_format(metrics: PrometheusMetrics) -> None:
    metrics.codes_sent()
    metrics.observe_request("/user/veryfi/", "POST", 200, 0.05)

    body, content_type = metrics.render()

    assert content_type.startswith("text/plain; version=0.0.4")
    families = {family.name: family for family in text_string_to_metric_families(body.decode())}
    expected = {
        "referral_codes_sent",
        "referral_codes_failed",
        "referral_logins",
        "referral_login_failures",
        "referral_activations",
        "referral_bot_updates",
        "referral_http_requests",
        "referral_http_request_duration_seconds",
    }
    assert expected <= families.keys()
    sent = [s for s in families["referral_codes_sent"].samples if s.name.endswith("_total")]
    assert [s.value for s in sent] == [1.0]


WORKER = """
from core.adapters.metrics import PrometheusMetrics
metrics = PrometheusMetrics()
metrics.codes_sent()
metrics.logged_in(created=True)
metrics.observe_request("/healthz", "GET", 200, 0.002)
"""

SCRAPE = """
import sys
from core.adapters.metrics import PrometheusMetrics
body, _ = PrometheusMetrics().render()
sys.stdout.write(body.decode())
"""


def run_python(code: str, multiproc_dir: Path) -> str:
    env = {**os.environ, MULTIPROC_ENV: str(multiproc_dir)}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_with_a_multiprocess_dir_one_scrape_sums_every_process(tmp_path: Path) -> None:
    run_python(WORKER, tmp_path)
    run_python(WORKER, tmp_path)

    text = run_python(SCRAPE, tmp_path)

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("referral_codes_sent_total", ())] == 2
    assert samples[("referral_logins_total", (("created", "true"),))] == 2
    route = (("method", "GET"), ("route", "/healthz"))
    assert samples[("referral_http_request_duration_seconds_count", route)] == 2
