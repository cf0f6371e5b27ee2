from core.domain.entities import User
from core.services import Services
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender


async def sign_up(
    services: Services, sms: RecordingSmsSender, phone: str, clock: FrozenClock | None = None
) -> User:
    """Request a code for ``phone`` and log in with it; returns the (new) user."""
    await services.auth.request_code(phone, f"test:{phone}")
    result = await services.auth.login(phone, sms.last_code(phone))
    if clock is not None:
        clock.advance(1)
    return result.user


async def get_user(services: Services, user_id: int) -> User:
    """The user as stored now (through the owner's own profile)."""
    return (await services.referrals.profile(user_id, user_id)).user
