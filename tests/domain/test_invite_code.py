import pytest

from core.domain.errors import InvalidInviteCode
from core.domain.invite_code import (
    ALPHABET,
    generate_invite_code,
    is_invite_code,
    parse_invite_code,
)


def test_alphabet_is_crockford_base32() -> None:
    assert len(ALPHABET) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_generated_codes_are_six_alphabet_characters_and_vary() -> None:
    codes = {generate_invite_code() for _ in range(200)}
    assert all(len(c) == 6 and set(c) <= set(ALPHABET) for c in codes)
    assert len(codes) > 190


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("7kq2xd", "7KQ2XD"),
        ("7KQ-2XD", "7KQ2XD"),
        (" 7kq 2xd ", "7KQ2XD"),
        ("ilo2ab", "1102AB"),
        ("IlO2AB", "1102AB"),
    ],
)
def test_input_is_forgiving(raw: str, code: str) -> None:
    assert parse_invite_code(raw) == code


@pytest.mark.parametrize("raw", ["", "ABC", "ABCDEFG", "ABCDE!", "ABCDEU", "ЖЖЖЖЖЖ", "x" * 100])
def test_malformed_codes_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInviteCode):
        parse_invite_code(raw)
    assert not is_invite_code(raw)
