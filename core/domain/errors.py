"""One tree of domain errors.

Every error carries a stable machine ``code`` and a ``message`` that is safe to show to a
person. Transports translate the *category* (the first-level subclass) once each:
``core/api/errors.py`` for HTTP and ``bot/errors.py`` for Telegram.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the core raises on purpose."""

    code: str = "error"
    message: str = "Something went wrong."
    #: The input field at fault, when the error is about one.
    field: str | None = None

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        if message is not None:
            self.message = message
        if field is not None:
            self.field = field
        super().__init__(self.message)


# ----- categories ---------------------------------------------------------------------


class InvalidInput(DomainError):
    """The caller sent something malformed; fixing the input fixes the call."""


class NotFound(DomainError):
    """The thing asked for does not exist, or the caller may not see it."""


class Conflict(DomainError):
    """The request is well formed but clashes with the current state."""


class Unauthorized(DomainError):
    """Credentials are missing, wrong, expired or already used."""


class Forbidden(DomainError):
    """The caller is known but may not do this."""


class RateLimited(DomainError):
    """Too many requests: try again in ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message or f"Too many requests. Try again in {self.retry_after} seconds.")


class Unavailable(DomainError):
    """A dependency (the SMS gateway, a daily budget) cannot serve now; retrying later may work."""


# ----- leaves -------------------------------------------------------------------------


class InvalidPhone(InvalidInput):
    field = "phone"
    code = "invalid_phone"
    message = "Invalid phone number. Send it in international format, e.g. +79991234567."


class PhoneNotAllowed(InvalidInput):
    field = "phone"
    code = "phone_not_allowed"
    message = "Phone numbers of this country are not served."


class InvalidCode(InvalidInput):
    field = "otp_code"
    code = "invalid_code_format"
    message = "The code must be digits only."


class InvalidInviteCode(InvalidInput):
    field = "referral_code"
    code = "invalid_invite_code"
    message = "An invite code is 6 letters and digits, e.g. 7KQ2XD."


class InvalidName(InvalidInput):
    code = "invalid_name"
    message = "A name is 1 to 64 letters, spaces, hyphens or apostrophes."


class InvalidLanguage(InvalidInput):
    field = "language"
    code = "invalid_language"
    message = "Supported languages: en, ru."


class InvalidCursor(InvalidInput):
    field = "cursor"
    code = "invalid_cursor"
    message = "The cursor is not valid; start again without it."


class InvalidAmount(InvalidInput):
    field = "amount"
    code = "invalid_amount"
    message = 'An amount is a decimal string with at most two places, e.g. "990.00".'


class InvalidEvent(InvalidInput):
    code = "invalid_event"
    message = "The event is not valid."


class UserNotFound(NotFound):
    code = "user_not_found"
    message = "User not found."


class InviteNotFound(NotFound):
    code = "invite_not_found"
    message = "No user has this invite code."


class ReferralNotFound(NotFound):
    code = "referral_not_found"
    message = "This user has not activated an invite: there is no referral to review."


class ReferralNotFlagged(Conflict):
    code = "referral_not_flagged"
    message = "Only a flagged referral can be approved."


class ReferralAlreadyRejected(Conflict):
    code = "referral_rejected"
    message = "This referral was already rejected."


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"
    message = "No live API key has this id."


class WebhookNotFound(NotFound):
    code = "webhook_not_found"
    message = "No webhook endpoint has this id."


class EventNotFound(NotFound):
    code = "event_not_found"
    message = "No event has this id."


class ContestNotFound(NotFound):
    code = "contest_not_found"
    message = "No contest has this id."


class CampaignNotFound(NotFound):
    code = "campaign_not_found"
    message = "No campaign has this id."


class InviteOwnCode(Conflict):
    code = "invite_own_code"
    message = "You cannot activate your own invite code."


class InviteAlreadyActivated(Conflict):
    code = "invite_already_activated"
    message = "You have already activated an invite code; it can be done only once."


class InviteCycle(Conflict):
    code = "invite_cycle"
    message = "This invite code belongs to someone you invited, directly or through others."


class EventConflict(Conflict):
    code = "event_conflict"
    message = (
        "This event_id was already recorded with a different type, user or amount; "
        "send a new event_id for a new event."
    )


class ApiKeyInvalid(Unauthorized):
    code = "api_key_invalid"
    message = "Send a valid API key as `X-API-Key: <key>`; it is missing, wrong or revoked."


class ApiKeyScopeMissing(Forbidden):
    code = "scope_missing"

    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__(f"This API key lacks the scope {scope!r}.")


class CodeInvalid(Unauthorized):
    """A wrong, used or never-requested one-time code."""

    code = "code_invalid"

    def __init__(self, attempts_left: int) -> None:
        self.attempts_left = max(0, attempts_left)
        if self.attempts_left:
            text = f"Wrong code. Attempts left: {self.attempts_left}."
        else:
            text = "This code is no longer valid. Request a new one."
        super().__init__(text)


class CodeExpired(Unauthorized):
    code = "code_expired"
    message = "The code has expired. Request a new one."


class TokenInvalid(Unauthorized):
    code = "token_invalid"
    message = "The token is missing, invalid or expired. Log in again."


class TokenReused(Unauthorized):
    code = "token_reused"
    message = "This refresh token was already used; the session has been closed. Log in again."


class PhoneLocked(RateLimited):
    code = "phone_locked"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            retry_after,
            "Too many wrong codes. This number is locked; "
            f"try again in {max(1, retry_after)} seconds.",
        )


class ResendTooSoon(RateLimited):
    """The phone got a code moments ago: the resend cooldown has ``retry_after`` seconds left."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            retry_after,
            "A code was just sent. You can ask for a new one in "
            f"{max(1, int(retry_after))} seconds.",
        )


class SmsDeliveryFailed(Unavailable):
    code = "sms_unavailable"
    message = "The SMS could not be sent. Try again later."


class SmsDailyCapReached(Unavailable):
    code = "sms_daily_cap"
    message = "The service cannot send more codes today. Try again later."
