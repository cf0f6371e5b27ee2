"""What Telegram checks in what a bot sends: text and caption length, the HTML parse mode (turned
into entities, refused when it does not parse) and keyboard markup."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any, Final

from tests.fakes.telegram_server.protocol import JsonDict, Params, bad_request

MAX_TEXT: Final = 4096
MAX_CAPTION: Final = 1024

INLINE_BUTTON_ACTIONS: Final = frozenset(
    [
        "callback_data",
        "url",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "callback_game",
        "pay",
        "web_app",
        "copy_text",
    ]
)

HTML_TAGS: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


def utf16_len(text: str) -> int:
    """Telegram measures texts and entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def check_text(text: str) -> None:
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise bad_request("message is too long")


def check_caption(caption: str) -> None:
    if utf16_len(caption) > MAX_CAPTION:
        raise bad_request("message caption is too long")


def command_entities(text: str) -> list[JsonDict]:
    """The ``bot_command`` entity Telegram marks at the start of a user's ``/command``."""
    if not text.startswith("/"):
        return []
    command = text.split(maxsplit=1)[0]
    if len(command) < 2:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]


def render(text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[JsonDict]]:
    """The text users see and its entities: HTML is parsed (and refused like Telegram does
    when it does not parse); Markdown modes are kept as sent."""
    if isinstance(entities, list):
        return text, [e for e in entities if isinstance(e, dict)]
    if parse_mode is not None and parse_mode.lower() == "html":
        parser = _HtmlEntities()
        parser.feed(text)
        parser.close()
        return parser.result()
    return text, []


class _HtmlEntities(HTMLParser):
    """Telegram's HTML subset to plain text + entities (offsets in UTF-16 code units)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._length = 0
        self._stack: list[tuple[str, int, dict[str, str | None]]] = []
        self._entities: list[JsonDict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag not in HTML_TAGS or (tag == "span" and attributes.get("class") != "tg-spoiler"):
            raise bad_request(f'can\'t parse entities: Unsupported start tag "{tag}"')
        if tag == "a" and not attributes.get("href"):
            raise bad_request("can't parse entities: Empty URL in an <a> tag")
        self._stack.append((tag, self._length, attributes))

    def handle_endtag(self, tag: str) -> None:
        if not self._stack or self._stack[-1][0] != tag:
            expected = f'"</{self._stack[-1][0]}>"' if self._stack else "nothing"
            raise bad_request(
                f'can\'t parse entities: Unmatched end tag "</{tag}>", expected {expected}'
            )
        name, start, attributes = self._stack.pop()
        length = self._length - start
        if length == 0:
            return
        entity: JsonDict = {"type": HTML_TAGS[name], "offset": start, "length": length}
        if name == "a":
            entity["url"] = attributes["href"]
        elif name == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        elif name == "tg-emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id") or ""
        self._entities.append(entity)

    def handle_data(self, data: str) -> None:
        self._parts.append(data)
        self._length += utf16_len(data)

    def handle_comment(self, data: str) -> None:
        raise bad_request("can't parse entities: Unsupported comment")

    def result(self) -> tuple[str, list[JsonDict]]:
        if self._stack:
            raise bad_request(
                "can't parse entities: Can't find end tag corresponding to start tag "
                f'"{self._stack[-1][0]}"'
            )
        entities = sorted(self._entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self._parts), entities


def reply_rows(markup: JsonDict) -> list[list[JsonDict]]:
    """The rows of a reply keyboard (buttons given as strings become ``{"text": s}``)."""
    rows = markup.get("keyboard") or []
    return [[b if isinstance(b, dict) else {"text": str(b)} for b in row] for row in rows]


def reply_markup(p: Params, *, inline_only: bool = False) -> JsonDict | None:
    """The ``reply_markup`` parameter, checked as Telegram does (``None``: no markup)."""
    markup = p.opt_json("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
        return markup if markup["inline_keyboard"] else None
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in reply_rows(markup):
            for button in row:
                if not button.get("text"):
                    raise bad_request("keyboard button text is empty")
        return markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def _check_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request("can't parse inline keyboard markup JSON object")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request("can't parse inline keyboard button: text is empty")
            actions = INLINE_BUTTON_ACTIONS.intersection(button)
            if len(actions) != 1:
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if "callback_data" in button and not (
                isinstance(data, str) and 1 <= len(data.encode()) <= 64
            ):
                raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if "url" in button and not (
                isinstance(url, str) and url.startswith(("http://", "https://", "tg://"))
            ):
                raise bad_request("BUTTON_URL_INVALID")
