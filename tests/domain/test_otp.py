import pytest

from core.domain.errors import InvalidCode
from core.domain.otp import (
    derive_otp_key,
    generate_otp,
    hash_otp,
    otp_matches,
    otp_message,
    parse_otp,
)


def test_codes_have_the_configured_length_and_are_digits() -> None:
    for length in (4, 6, 8):
        code = generate_otp(length)
        assert len(code) == length and code.isdigit()


def test_hash_is_keyed_and_bound_to_the_phone() -> None:
    key = derive_otp_key("secret-a")
    stored = hash_otp(key, "+79991234567", "1234")
    assert "1234" not in stored
    assert otp_matches(key, "+79991234567", "1234", stored)
    assert not otp_matches(key, "+79991234567", "1235", stored)
    assert not otp_matches(key, "+79991234568", "1234", stored)
    assert not otp_matches(derive_otp_key("secret-b"), "+79991234567", "1234", stored)


def test_code_hash_key_differs_from_the_secret() -> None:
    assert derive_otp_key("secret") != b"secret"


@pytest.mark.parametrize("raw", ["12a4", "123", "12345", "", "١٢٣٤"])
def test_malformed_codes_are_input_errors(raw: str) -> None:
    with pytest.raises(InvalidCode):
        parse_otp(raw, 4)


def test_code_input_tolerates_spaces() -> None:
    assert parse_otp(" 12 34 ", 4) == "1234"


def test_message_is_translated_and_fits_one_sms() -> None:
    assert otp_message("1234", "en") == "Your code: 1234"
    assert otp_message("1234", "ru") == "Ваш код: 1234"
    assert len(otp_message("12345678", "ru")) <= 70
