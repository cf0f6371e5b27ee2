"""Invite activation, profiles and referral listings."""

import pytest

from core.domain.entities import User
from core.domain.errors import (
    InvalidCursor,
    InvalidInput,
    InvalidInviteCode,
    InvalidLanguage,
    InvalidName,
    InviteAlreadyActivated,
    InviteCycle,
    InviteNotFound,
    InviteOwnCode,
    UserNotFound,
)
from core.services import Services
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender
from tests.services.helpers import get_user, sign_up


@pytest.fixture
async def people(services: Services, sms: RecordingSmsSender, clock: FrozenClock) -> list[User]:
    return [await sign_up(services, sms, f"+7999000000{i}", clock) for i in range(5)]


class TestActivation:
    async def test_activation_links_the_user_to_the_code_owner(
        self, services: Services, people: list[User]
    ) -> None:
        a, b = people[:2]
        activation = await services.referrals.activate_invite(b.id, f" {a.invite_code.lower()} ")
        assert activation.user.referrer_id == a.id and activation.referrer.id == a.id
        assert activation.user.referred_at is not None
        profile = await services.referrals.profile(a.id, a.id)
        assert profile.user.referral_count == 1
        assert profile.referral_phones == (b.phone,)

    async def test_unknown_code_is_not_found(self, services: Services, people: list[User]) -> None:
        with pytest.raises(InviteNotFound):
            await services.referrals.activate_invite(people[0].id, "ZZZZZZ")

    async def test_malformed_code_is_an_input_error(
        self, services: Services, people: list[User]
    ) -> None:
        with pytest.raises(InvalidInviteCode):
            await services.referrals.activate_invite(people[0].id, "jqpQZ!")

    async def test_own_code_is_refused(self, services: Services, people: list[User]) -> None:
        with pytest.raises(InviteOwnCode):
            await services.referrals.activate_invite(people[0].id, people[0].invite_code)

    async def test_activation_happens_once_for_good(
        self, services: Services, people: list[User]
    ) -> None:
        a, b, c = people[:3]
        await services.referrals.activate_invite(c.id, a.invite_code)
        for code in (a.invite_code, b.invite_code):
            with pytest.raises(InviteAlreadyActivated):
                await services.referrals.activate_invite(c.id, code)
        assert (await get_user(services, c.id)).referrer_id == a.id

    async def test_direct_cycle_is_refused(self, services: Services, people: list[User]) -> None:
        a, b = people[:2]
        await services.referrals.activate_invite(b.id, a.invite_code)
        with pytest.raises(InviteCycle):
            await services.referrals.activate_invite(a.id, b.invite_code)

    async def test_long_cycle_is_refused(self, services: Services, people: list[User]) -> None:
        # a <- b <- c <- d <- e: a may not activate e's code.
        for child, parent in zip(people[1:], people, strict=False):
            await services.referrals.activate_invite(child.id, parent.invite_code)
        with pytest.raises(InviteCycle):
            await services.referrals.activate_invite(people[0].id, people[4].invite_code)

    async def test_unknown_user_cannot_activate(
        self, services: Services, people: list[User]
    ) -> None:
        with pytest.raises(UserNotFound):
            await services.referrals.activate_invite(10**9, people[0].invite_code)


class TestProfile:
    async def test_profile_shows_referrer_code_and_referrals_newest_first(
        self, services: Services, people: list[User], clock: FrozenClock
    ) -> None:
        a, b, c, d = people[:4]
        await services.referrals.activate_invite(a.id, d.invite_code)
        for referral in (b, c):
            clock.advance(5)
            await services.referrals.activate_invite(referral.id, a.invite_code)
        profile = await services.referrals.profile(a.id, a.id)
        assert profile.referrer is not None and profile.referrer.invite_code == d.invite_code
        assert profile.referral_phones == (c.phone, b.phone)
        assert profile.user.referral_count == 2

    async def test_only_the_owner_sees_a_profile(
        self, services: Services, people: list[User]
    ) -> None:
        with pytest.raises(UserNotFound):
            await services.referrals.profile(people[0].id, people[1].id)

    async def test_missing_user_is_not_found(self, services: Services) -> None:
        with pytest.raises(UserNotFound):
            await services.referrals.profile(77, 77)


class TestReferralPages:
    async def test_keyset_pages_cover_every_referral_once(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        owner = await sign_up(services, sms, "+79990000100", clock)
        joined = []
        for i in range(7):
            user = await sign_up(services, sms, f"+7999000020{i}", clock)
            await services.referrals.activate_invite(user.id, owner.invite_code)
            joined.append(user.id)
            if i % 2:
                clock.advance(1)  # some share a timestamp: the id breaks the tie
        seen: list[int] = []
        cursor = None
        while True:
            page = await services.referrals.referrals(owner.id, limit=3, cursor=cursor)
            seen.extend(item.id for item in page.items)
            assert len(page.items) <= 3
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == list(reversed(joined))

    async def test_empty_list_has_no_cursor(self, services: Services, people: list[User]) -> None:
        page = await services.referrals.referrals(people[0].id)
        assert page.items == () and page.next_cursor is None

    @pytest.mark.parametrize("limit", [0, 101, -1])
    async def test_page_size_is_bounded(
        self, services: Services, people: list[User], limit: int
    ) -> None:
        with pytest.raises(InvalidInput, match="limit"):
            await services.referrals.referrals(people[0].id, limit=limit)

    @pytest.mark.parametrize("cursor", ["garbage", "!!!", "MjAyNnwx"])
    async def test_bad_cursor_is_an_input_error(
        self, services: Services, people: list[User], cursor: str
    ) -> None:
        with pytest.raises(InvalidCursor):
            await services.referrals.referrals(people[0].id, cursor=cursor)


class TestEditing:
    async def test_names_are_cleaned_and_saved(
        self, services: Services, people: list[User]
    ) -> None:
        user = await services.accounts.update_names(people[0].id, "  Анна-Мария ", "O'Neil")
        assert (user.first_name, user.last_name) == ("Анна-Мария", "O'Neil")
        user = await services.accounts.update_names(people[0].id, last_name="Smith")
        assert (user.first_name, user.last_name) == ("Анна-Мария", "Smith")

    async def test_bad_name_changes_nothing(self, services: Services, people: list[User]) -> None:
        await services.accounts.update_names(people[0].id, "Anna")
        with pytest.raises(InvalidName):
            await services.accounts.update_names(people[0].id, "Anna", "X" * 65)
        assert (await get_user(services, people[0].id)).last_name is None

    async def test_nothing_to_change_is_an_input_error(
        self, services: Services, people: list[User]
    ) -> None:
        with pytest.raises(InvalidInput):
            await services.accounts.update_names(people[0].id)

    async def test_language_is_saved_and_checked(
        self, services: Services, people: list[User]
    ) -> None:
        assert (await services.accounts.set_language(people[0].id, "ru")).language == "ru"
        with pytest.raises(InvalidLanguage):
            await services.accounts.set_language(people[0].id, "de")

    async def test_unlinking_telegram(self, services: Services, people: list[User]) -> None:
        assert await services.accounts.user_by_telegram(5) is None
        await services.accounts.unlink_telegram(5)  # no account: nothing happens

    async def test_inviter_lookup(self, services: Services, people: list[User]) -> None:
        inviter = await services.referrals.inviter(people[0].invite_code.lower())
        assert inviter is not None and inviter.id == people[0].id
        assert await services.referrals.inviter("ZZZZZZ") is None
