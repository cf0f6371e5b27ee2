import pytest

from core.domain.errors import InvalidName
from core.domain.names import clean_name, name_from_telegram


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("  Anna ", "Anna"),
        ("Jean-Luc", "Jean-Luc"),
        ("O'Brien", "O'Brien"),
        ("Анна  Мария", "Анна Мария"),
    ],
)
def test_names_in_any_script_are_trimmed(raw: str, name: str) -> None:
    assert clean_name(raw, "First name") == name


@pytest.mark.parametrize("raw", ["", "   ", "A" * 65, "R2D2", "<script>", "--", "Ann!"])
def test_bad_names_are_refused_with_the_field_named(raw: str) -> None:
    with pytest.raises(InvalidName, match="First name"):
        clean_name(raw, "First name")


def test_unusable_telegram_names_are_dropped_not_refused() -> None:
    assert name_from_telegram("🔥🔥") is None
    assert name_from_telegram("Ivan") == "Ivan"
