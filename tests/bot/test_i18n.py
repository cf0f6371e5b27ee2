"""The gettext catalogs: complete in both languages, compiled, and in step with the code."""

from __future__ import annotations

import re
import shutil
import string
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, cast

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from bot import texts
from bot.i18n import LOCALES, LOCALES_DIR, make_i18n, use_locale

ROOT = Path(__file__).resolve().parents[2]
Key = str | tuple[str, ...]


def catalog(locale: str, kind: str = "po") -> Catalog:
    path = LOCALES_DIR / locale / "LC_MESSAGES" / f"messages.{kind}"
    with path.open("rb") as fh:
        return read_po(fh, locale=locale) if kind == "po" else read_mo(fh)


def key(message_id: str | tuple[str, ...] | list[str]) -> Key:
    return message_id if isinstance(message_id, str) else tuple(message_id)


def entries(cat: Catalog) -> dict[Key, tuple[str, ...]]:
    out: dict[Key, tuple[str, ...]] = {}
    for message in cat:
        if message.id:
            strings = message.string
            if isinstance(strings, str):
                out[key(message.id)] = (strings,)
            else:
                out[key(message.id)] = tuple(s or "" for s in strings or ())
    return out


_parse_mapping_cfg = cast(
    Callable[[IO[str]], tuple[list[tuple[str, str]], dict[str, dict[str, Any]]]],
    parse_mapping_cfg,
)


def extracted() -> set[Key]:
    """What ``pybabel extract -F bot/babel.cfg bot`` finds in the code."""
    with (ROOT / "bot" / "babel.cfg").open() as fh:
        method_map, options_map = _parse_mapping_cfg(fh)
    found = extract_from_dir(
        str(ROOT / "bot"),
        method_map=method_map,
        options_map=options_map,
        keywords={"_": None, "ngettext": (1, 2)},
    )
    return {key(message) for _file, _line, message, _comments, _context in found}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(locale: str) -> None:
    cat = catalog(locale)
    missing = [k for k, strings in entries(cat).items() if not all(s.strip() for s in strings)]
    assert not missing, f"untranslated in {locale}: {missing}"
    fuzzy = [m.id for m in cat if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy in {locale}: {fuzzy}"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_holds_exactly_the_strings_of_the_code(locale: str) -> None:
    in_code, in_catalog = extracted(), set(entries(catalog(locale)))
    assert in_code - in_catalog == set(), "run make messages (docs/bot.md)"
    assert in_catalog - in_code == set(), "obsolete messages: run make messages"


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalog_matches_the_po_file(locale: str) -> None:
    assert entries(catalog(locale, "mo")) == entries(catalog(locale)), (
        "stale .mo: run make compile-messages"
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders_and_markup(locale: str) -> None:
    for message_id, strings in entries(catalog(locale)).items():
        ids = (message_id,) if isinstance(message_id, str) else message_id
        wanted = placeholders(ids[0]) | placeholders(ids[-1])
        tags = set(re.findall(r"</?\w+>", "".join(ids)))
        for translated in strings:
            assert placeholders(translated) <= wanted, (message_id, translated)
            assert placeholders(ids[-1]) <= placeholders(translated) | {"count"}, translated
            assert set(re.findall(r"</?\w+>", translated)) == tags, translated


def test_russian_has_three_plural_forms() -> None:
    cat = catalog("ru")
    assert cat.num_plurals == 3
    i18n = make_i18n()
    with use_locale(i18n, "ru"):
        assert [texts.err_code_wrong(n) for n in (1, 3, 5)] == [
            "Неверный код. Осталась 1 попытка.",
            "Неверный код. Осталось 3 попытки.",
            "Неверный код. Осталось 5 попыток.",
        ]


def test_both_catalogs_load() -> None:
    assert set(make_i18n().available_locales) == set(LOCALES)


def test_names_are_escaped_for_html() -> None:
    assert texts.full_name("<b>Anna</b>", "&") == "&lt;b&gt;Anna&lt;/b&gt; &amp;"


def test_make_messages_and_compile_messages_reproduce_the_committed_catalogs(
    tmp_path: Path,
) -> None:
    """The committed files are exactly what the Makefile's targets write, run on a copy."""
    copy = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
    for target in ("messages", "compile-messages"):
        subprocess.run(
            ["make", "-s", "-o", "install", target, f"LOCALES_DIR={copy}", f"VENV={sys.prefix}"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=120,
        )
    committed = sorted(LOCALES_DIR.rglob("messages.*"))
    assert len(committed) == 2 * len(LOCALES)
    for path in committed:
        made = copy / path.relative_to(LOCALES_DIR)
        assert made.read_bytes() == path.read_bytes(), f"{path}: run make messages"
