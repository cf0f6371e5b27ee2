"""Request and response bodies of the public contract (``<Thing>In`` / ``<Thing>Out``).

Validation here is about shape only (types, lengths); the core decides what a valid phone,
code, invite code or name is, and its errors come back as 422 with the same JSON shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _iso_8601(value: object) -> object:
    """A date-time given as text must be ISO 8601 (pydantic alone would also read "0.5" as a
    Unix time)."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("give an ISO 8601 date-time, e.g. 2026-01-15T12:00:00Z") from None
    if not isinstance(value, datetime):
        raise ValueError("give an ISO 8601 date-time, e.g. 2026-01-15T12:00:00Z")
    return value


#: A date-time in ISO 8601 only, as the schema says.
IsoDatetime = Annotated[datetime, BeforeValidator(_iso_8601)]

Phone = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        description="Phone number in international format; 8 999 123-45-67 style is accepted too.",
        examples=["+79999999999"],
    ),
]
InviteCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        description="6 letters and digits; case, I/L (read as 1), O (read as 0), "
        "spaces and hyphens are forgiven.",
        examples=["jqpQZf"],
    ),
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class PhoneIn(_In):
    phone: Phone

    model_config = ConfigDict(json_schema_extra={"examples": [{"phone": "+79999999999"}]})


class LoginIn(_In):
    phone: Phone
    otp_code: Annotated[
        str,
        Field(min_length=1, max_length=16, description="The code from the SMS.", examples=["1234"]),
    ]
    referral_code: InviteCode | None = Field(
        None, description="Register as the referral of this invite code (first login or not)."
    )

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"phone": "+79999999999", "otp_code": "1234"}]}
    )


class ReferIn(_In):
    referral_code: InviteCode

    model_config = ConfigDict(json_schema_extra={"examples": [{"referral_code": "jqpQZf"}]})


class RefreshIn(_In):
    refresh_token: Annotated[str, Field(min_length=1, max_length=4096)]


class ProfileUpdateIn(_In):
    first_name: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    last_name: Annotated[str, Field(min_length=1, max_length=64)] | None = None

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"first_name": "Анна", "last_name": "O'Neil"}]}
    )


class PageQuery(_In):
    """Query parameters of a keyset page; unknown parameters are refused."""

    limit: Annotated[int, Field(ge=1, le=100, description="Items per page.")] = 20
    cursor: Annotated[
        str | None, Field(max_length=200, description="next_cursor of the previous page.")
    ] = None


class MessageOut(BaseModel):
    message: str = Field(examples=["Code created successfully"])


class TokenPairOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int = Field(description="Seconds the access token stays valid.", examples=[900])

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "access_token",
                    "refresh_token": "refresh_token",
                    "token_type": "bearer",
                    "expires_in": 900,
                }
            ]
        }
    )


class UserOut(BaseModel):
    """The profile, as the original contract shows it, plus ``id`` and ``referral_count``."""

    id: int
    phone: str
    first_name: str | None
    last_name: str | None
    referral_code: str = Field(description="This user's own invite code.")
    referral_code_refer: str | None = Field(description="The invite code this user activated.")
    refer: int | None = Field(description="The id of the user whose code this user activated.")
    referral_count: int
    referral_list: list[str] = Field(
        description="Phones of the users who activated this user's code, newest first "
        "(the 100 newest; see /users/me/referrals/ for all)."
    )
    balance: str = Field("0.00", description="Rewards available, two decimal places.")
    pending_balance: str = Field("0.00", description="Rewards still held (hold or review).")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "phone": "+79999999999",
                    "first_name": "string",
                    "last_name": "string",
                    "referral_code": "7KQ2XD",
                    "referral_code_refer": "JQPQZF",
                    "refer": 1,
                    "referral_count": 3,
                    "referral_list": ["+79999999999", "+79999999999", "+79999999999"],
                    "balance": "150.00",
                    "pending_balance": "99.00",
                }
            ]
        }
    )


class ReferOut(BaseModel):
    referral_code_refer: str = Field(examples=["JQPQZF"])
    refer: int = Field(description="The id of the code's owner.", examples=[1])


class ReferralOut(BaseModel):
    id: int
    phone: str
    first_name: str | None
    last_name: str | None
    joined_at: datetime
    status: Literal["joined", "qualified", "flagged", "rejected"]
    qualified_at: datetime | None


class ReferralPageOut(BaseModel):
    items: list[ReferralOut]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null at the end."
    )


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"


class ErrorOut(BaseModel):
    detail: str = Field(description="What is wrong, for a person.")
    code: str = Field(description="A stable machine-readable code.")


class FieldError(BaseModel):
    field: str
    message: str
    type: str


class ValidationErrorOut(ErrorOut):
    errors: list[FieldError]
