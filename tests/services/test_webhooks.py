"""Webhooks through the outbox: signed per Standard Webhooks, retried, ordered, logged."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from core.domain.entities import User, UserRef
from core.domain.errors import InvalidInput, WebhookNotFound
from core.services import Services
from core.settings import Settings
from tests.conftest import make_settings
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.services.helpers import sign_up


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as running:
        yield running


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"REWARD_REFERRER_FIXED": "100", "WEBHOOK_MAX_AGE_SECONDS": "3600"}


async def drain(services: Services) -> None:
    """The worker's outbox rounds until nothing is due now."""
    while await services.delivery.dispatch() + await services.delivery.deliver_webhooks():
        pass


async def pair(services: Services, sms: RecordingSmsSender, clock: FrozenClock) -> list[User]:
    anna = await sign_up(services, sms, "+79990000001", clock)
    boris = await sign_up(services, sms, "+79990000002", clock)
    await services.referrals.activate_invite(boris.id, anna.invite_code)
    return [anna, boris]


def verify(secret: str, received: Any) -> Any:
    """What an integrator does: the five lines of the README."""
    return Webhook(secret).verify(received.body, received.headers)


async def test_a_delivery_is_signed_so_that_standardwebhooks_verifies_it(
    services: Services, sms: RecordingSmsSender, clock: FrozenClock, receiver: WebhookReceiver
) -> None:
    clock.current = datetime.now(UTC)  # the verification checks the timestamp against now
    new = await services.webhooks.create(receiver.url, ["referral.joined"])
    assert new.secret.startswith("whsec_")
    anna, boris = await pair(services, sms, clock)
    await drain(services)
    [got] = receiver.received
    payload = verify(new.secret, got)
    assert payload["type"] == "referral.joined"
    data = payload["data"]
    assert data["referral"] == {
        "referee_id": boris.id,
        "referrer_id": anna.id,
        "status": "joined",
        "joined_at": data["referral"]["joined_at"],
        "qualified_at": None,
    }
    assert "phone" not in data["referee"]  # the endpoint did not ask for phones
    assert got.headers["content-type"] == "application/json"
    assert got.headers["webhook-id"].startswith("evt_")
    with pytest.raises(Exception, match="signature"):
        Webhook(new.secret).verify(got.body.replace(b"joined", b"qualif"), got.headers)


async def test_phones_are_included_only_where_the_endpoint_asked(
    services: Services, sms: RecordingSmsSender, clock: FrozenClock, receiver: WebhookReceiver
) -> None:
    await services.webhooks.create(receiver.url, ["referral.joined"], include_phones=True)
    anna, boris = await pair(services, sms, clock)
    await drain(services)
    data = receiver.received[0].json()["data"]
    assert data["referee"]["phone"] == boris.phone and data["referrer"]["phone"] == anna.phone


async def test_500_three_times_then_200_keeps_the_webhook_id_and_ends_delivered(
    services: Services, sms: RecordingSmsSender, clock: FrozenClock, receiver: WebhookReceiver
) -> None:
    new = await services.webhooks.create(receiver.url, ["referral.joined"])
    receiver.answers.extend([500, 500, 500])
    await pair(services, sms, clock)
    await services.delivery.dispatch()
    for expected in (1, 2, 3, 4):
        await services.delivery.deliver_webhooks()
        joined = [r for r in receiver.received if r.json()["type"] == "referral.joined"]
        assert len(joined) == expected
        clock.advance(minutes=5)  # past each of the first three retries (5 s, 30 s, 2 min)
    ids = {r.event_id for r in receiver.received if r.json()["type"] == "referral.joined"}
    assert len(ids) == 1
    page = await services.webhooks.deliveries(new.endpoint.id)
    [joined_delivery] = [d for d in page.items if d.event_type == "referral.joined"]
    assert joined_delivery.status == "delivered" and joined_delivery.attempts == 4
    assert [a.status_code for a in joined_delivery.log] == [500, 500, 500, 200]
    assert joined_delivery.log[0].response == '{"status": 500}'


async def test_retries_follow_the_schedule(
    services: Services, sms: RecordingSmsSender, clock: FrozenClock, receiver: WebhookReceiver
) -> None:
    await services.webhooks.create(receiver.url, ["referral.joined"])
    receiver.answers.extend([500] * 10)
    await pair(services, sms, clock)
    await services.delivery.dispatch()
    await services.delivery.deliver_webhooks()
    assert len(receiver.received) == 1
    clock.advance(3)  # the first retry comes after about 5 s (±20%), not before
    await services.delivery.deliver_webhooks()
    assert len(receiver.received) == 1
    clock.advance(4)
    await services.delivery.deliver_webhooks()
    assert len(receiver.received) == 2
    clock.advance(20)  # the second after about 30 s
    await services.delivery.deliver_webhooks()
    assert len(receiver.received) == 2
    clock.advance(20)
    await services.delivery.deliver_webhooks()
    assert len(receiver.received) == 3


async def test_an_endpoint_that_was_down_gets_everything_in_order(
    services: Services, sms: RecordingSmsSender, clock: FrozenClock, receiver: WebhookReceiver
) -> None:
    await services.webhooks.create(receiver.url, ["referral.joined", "referral.qualified"])
    await receiver.stop()  # down: connections refused
    anna = await sign_up(services, sms, "+79990000001", clock)
    friends = [await sign_up(services, sms, f"+7999000010{i}", clock) for i in range(3)]
    for friend in friends:
        await services.referrals.activate_invite(friend.id, anna.invite_code)
        await services.program.record_event(
            event_id=f"o{friend.id}", type="purchase", user=UserRef(id=friend.id), amount="1"
        )
    await drain(services)
    for _ in range(3):
        clock.advance(minutes=15)
        await drain(services)
    assert receiver.received == []
    await receiver.start()  # back, on the same port
    for _ in range(12):
        clock.advance(hours=1)
        await drain(services)
    got = [
        (r.json()["type"], r.json()["data"]["referral"]["referee_id"]) for r in receiver.received
    ]
    assert len(got) == 6 and len({r.event_id for r in receiver.received}) == 6
    for friend in friends:
        mine = [kind for kind, referee in got if referee == friend.id]
        assert mine == ["referral.joined", "referral.qualified"]
    # And in the order the events happened, across referrals too.
    assert [kind for kind, _ in got] == ["referral.joined", "referral.qualified"] * 3


async def test_a_delivery_that_ages_out_is_failed_and_the_next_one_goes(
    services: Services, sms: RecordingSmsSender, clock: FrozenClock, receiver: WebhookReceiver
) -> None:
    new = await services.webhooks.create(receiver.url, ["user.created"])
    receiver.answers.extend([500] * 100)
    await sign_up(services, sms, "+79990000001", clock)
    await drain(services)
    clock.advance(hours=2)  # past WEBHOOK_MAX_AGE_SECONDS=3600
    await drain(services)
    failed = await services.webhooks.deliveries(new.endpoint.id, status="failed")
    assert len(failed.items) == 1
    receiver.answers.clear()
    await sign_up(services, sms, "+79990000002", clock)
    await drain(services)
    delivered = await services.webhooks.deliveries(new.endpoint.id, status="delivered")
    assert len(delivered.items) == 1
    # Replay: the failed event is queued again and delivered.
    await services.webhooks.replay(new.endpoint.id, failed.items[0].event_uid)
    await drain(services)
    assert len((await services.webhooks.deliveries(new.endpoint.id, "delivered")).items) == 2


class TestDisabling:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"WEBHOOK_DISABLE_AFTER_SECONDS": "7200", "WEBHOOK_MAX_AGE_SECONDS": "86400"}

    async def test_an_endpoint_failing_for_long_enough_is_disabled_and_says_why(
        self,
        services: Services,
        sms: RecordingSmsSender,
        clock: FrozenClock,
        receiver: WebhookReceiver,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        new = await services.webhooks.create(receiver.url, ["user.created"])
        receiver.answers.extend([503] * 100)
        await sign_up(services, sms, "+79990000001", clock)
        for _ in range(6):
            await drain(services)
            clock.advance(minutes=30)
        endpoint = await services.webhooks.get(new.endpoint.id)
        assert not endpoint.enabled and endpoint.disabled_reason is not None
        assert "503" in endpoint.disabled_reason
        assert any("disabled" in r.getMessage() for r in caplog.records)
        tried = len(receiver.received)
        clock.advance(hours=3)
        await drain(services)
        assert len(receiver.received) == tried  # nothing more while disabled
        receiver.answers.clear()
        await services.webhooks.update(new.endpoint.id, enabled=True)
        await drain(services)
        assert receiver.delivered()


class TestAdmin:
    async def test_only_https_in_production(self, db_url: str, receiver: WebhookReceiver) -> None:
        from core.services import WebhookService

        strict = WebhookService(None, FrozenClock(), allow_http=False)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match="https"):
            await strict.create(receiver.url, ["*"])

    @pytest.mark.parametrize(
        ("url", "events"),
        [
            ("ftp://example.org/x", ["*"]),
            ("https://user:pw@example.org/x", ["*"]),
            ("https://example.org/x", []),
            ("https://example.org/x", ["referral.exploded"]),
        ],
    )
    async def test_bad_endpoints_are_refused(
        self, services: Services, url: str, events: list[str]
    ) -> None:
        with pytest.raises(InvalidInput):
            await services.webhooks.create(url, events)

    async def test_rotation_signs_with_the_new_secret_only(
        self,
        services: Services,
        sms: RecordingSmsSender,
        clock: FrozenClock,
        receiver: WebhookReceiver,
    ) -> None:
        clock.current = datetime.now(UTC)
        old = await services.webhooks.create(receiver.url, ["user.created"])
        new = await services.webhooks.rotate_secret(old.endpoint.id)
        assert new.secret != old.secret
        await sign_up(services, sms, "+79990000001", clock)
        await drain(services)
        verify(new.secret, receiver.received[0])
        with pytest.raises(Exception, match="signature"):
            verify(old.secret, receiver.received[0])

    async def test_unknown_endpoints_are_not_found(self, services: Services) -> None:
        with pytest.raises(WebhookNotFound):
            await services.webhooks.rotate_secret(999)
        with pytest.raises(WebhookNotFound):
            await services.webhooks.delete(999)


async def test_two_workers_never_deliver_one_event_at_the_same_time(
    db_url: str,
    services: Services,
    sms: RecordingSmsSender,
    clock: FrozenClock,
    receiver: WebhookReceiver,
) -> None:
    """Two workers (two sets of services, two connection pools) on the same outbox."""
    from core.container import build_services

    await services.webhooks.create(receiver.url, ["*"])
    for i in range(8):
        await sign_up(services, sms, f"+7999000020{i}", clock)
    receiver.delay = 0.05
    settings: Settings = make_settings(db_url, SMS_BACKEND="console")
    async with build_services(settings, clock=clock) as other:

        async def work(worker: Services) -> None:
            for _ in range(40):
                await worker.delivery.dispatch()
                await worker.delivery.deliver_webhooks()

        await asyncio.gather(work(services), work(other), work(services), work(other))
    assert len(receiver.received) == 8
    assert len({r.event_id for r in receiver.received}) == 8
    assert set(receiver.max_in_flight.values()) == {1}
