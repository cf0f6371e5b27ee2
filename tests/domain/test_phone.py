import pytest

from core.domain.errors import InvalidPhone, PhoneNotAllowed
from core.domain.phone import mask_phone, normalize_phone, phone_prefix


@pytest.mark.parametrize(
    "raw",
    ["+7 (999) 123-45-67", "8 999 123 45 67", "79991234567", "+79991234567", " 8(999)1234567 "],
)
def test_russian_spellings_are_one_number(raw: str) -> None:
    assert normalize_phone(raw) == "+79991234567"


def test_contract_example_number_is_accepted() -> None:
    assert normalize_phone("+79999999999") == "+79999999999"


@pytest.mark.parametrize(
    "raw", ["", "   ", "12345", "+7999", "phone", "+7 999 123 45 67 89 00", "1" * 40]
)
def test_invalid_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(raw)


def test_other_countries_are_refused_before_anything_is_sent() -> None:
    with pytest.raises(PhoneNotAllowed, match=r"\+1"):
        normalize_phone("+1 202 555 0123")


def test_allowed_prefixes_are_configurable() -> None:
    assert normalize_phone("+44 7911 123456", ("+7", "+44")) == "+447911123456"


def test_prefix_is_first_seven_digits() -> None:
    assert phone_prefix("+79991234567") == "+7999123"


def test_mask_keeps_country_operator_and_last_four() -> None:
    assert mask_phone("+79991234567") == "+7999***4567"


@pytest.mark.parametrize(
    ("raw", "allowed", "e164"),
    [
        ("79991234567", ("+7",), "+79991234567"),  # a Telegram contact, without the plus
        ("447911123456", ("+7", "+44"), "+447911123456"),
        ("9991234567", ("+7",), "+79991234567"),  # ten national digits
    ],
)
def test_bare_international_digits_are_read_with_their_country(
    raw: str, allowed: tuple[str, ...], e164: str
) -> None:
    assert normalize_phone(raw, allowed) == e164


def test_bare_digits_of_another_country_are_refused_by_country_not_as_invalid() -> None:
    with pytest.raises(PhoneNotAllowed, match=r"\+44"):
        normalize_phone("447911123456")
