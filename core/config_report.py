"""``referral check-config``: every setting's effective value, secrets masked, and what is missing.

Masking is decided by the value, not by a list of names: every ``SecretStr`` is masked (a URL
keeps everything but its password), and so is any other setting whose name says it is a secret.
A setting added later is therefore covered without touching this file.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from pydantic import SecretStr

from core.settings import DEV_SECRET_KEY, Settings

MASK = "***"
UNSET = "(unset)"
#: Secret settings that hold a URL: shown with the password masked, the rest (host, database) kept.
URL_SECRETS = frozenset({"database_url", "redis_url"})
_SECRET_NAME = re.compile(r"(?i)password|secret|token|(^|_)key$")
_SECRET_QUERY_KEY = re.compile(r"(?i)password|secret|token|key")


def mask_url(url: str) -> str:
    """``url`` with the password of its user info and any secret-looking query value masked.

    Anything that does not parse as ``scheme://...`` is masked whole: it may be a password
    pasted in the wrong place.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    if not parts.scheme or "://" not in url:
        return MASK
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if at and ":" in userinfo:
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, MASK if _SECRET_QUERY_KEY.search(k) else v) for k, v in pairs], safe="*"
        )
    shown = f"{parts.scheme}://{netloc}{parts.path}"
    if query:
        shown += f"?{query}"
    if parts.fragment:
        shown += f"#{parts.fragment}"
    return shown


def _shown(name: str, value: object) -> str:
    if value is None or value == "":
        return UNSET
    if isinstance(value, SecretStr):
        secret = value.get_secret_value()
        if name in URL_SECRETS:
            return mask_url(secret)
        if name == "secret_key" and secret == DEV_SECRET_KEY:
            return f"{MASK} (the development default)"
        return MASK if secret else UNSET
    if isinstance(value, Path):  # where a secret is read from (SECRET_KEY_FILE) is no secret
        return str(value)
    if _SECRET_NAME.search(name):
        return MASK
    text = str(value)
    return mask_url(text) if "://" in text else text


def settings_lines(settings: Settings) -> list[str]:
    """One ``ENV_NAME = value`` line per setting, in the order ``Settings`` declares them."""
    lines = []
    for name, field in type(settings).model_fields.items():
        env_name = field.alias or name.upper()
        lines.append(f"{env_name} = {_shown(name, getattr(settings, name))}")
    return lines


def advice(settings: Settings) -> list[str]:
    """Recommendations for production that do not stop it from starting."""
    notes = []
    if settings.db_url.startswith("sqlite"):
        notes.append(
            "the database is the embedded SQLite file: set POSTGRES_HOST (with POSTGRES_DB, "
            "POSTGRES_USER, POSTGRES_PASSWORD) or DATABASE_URL for PostgreSQL"
        )
    if settings.bot_token is None:
        notes.append("BOT_TOKEN is unset: the Telegram bot is off")
    else:
        if settings.redis_url is None:
            notes.append(
                "REDIS_URL is unset: the bot's dialogs live in memory and are lost on restart"
            )
        if settings.webhook_url and settings.webhook_secret is None:
            notes.append("WEBHOOK_URL is set without WEBHOOK_SECRET")
    return notes


def report(settings: Settings) -> tuple[str, bool]:
    """The text of ``referral check-config`` and whether the configuration may run.

    ``ok`` is false only for ``APP_ENV=production`` with something required missing
    (``Settings.production_problems``); in development the same list is printed as advice.
    """
    problems = settings.production_problems()
    out = ["Settings (environment name = effective value; secrets masked):"]
    out += [f"  {line}" for line in settings_lines(settings)]
    out += [
        "",
        "Effective:",
        f"  database = {mask_url(settings.db_url)}",
        f"  SMS backend = {settings.effective_sms_backend}",
        f"  environment = {settings.app_env}",
        "",
    ]
    ok = not (settings.is_production and problems)
    if settings.is_production:
        if problems:
            out.append("Production cannot start; required:")
        else:
            out.append("Production: nothing required is missing.")
    elif problems:
        out.append("Development. Production would still need:")
    else:
        out.append("Development. Production would need nothing more.")
    out += [f"  - {problem}" for problem in problems]
    notes = advice(settings)
    if notes:
        out += ["", "Recommended for production:"]
        out += [f"  - {note}" for note in notes]
    return "\n".join(out), ok
