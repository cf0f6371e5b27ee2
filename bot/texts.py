"""Every user-facing string of the bot, in one place, through gettext.

The English text is the msgid; ``bot/locales/<lang>/LC_MESSAGES/messages.po`` translate it
(English included, so a test can insist that every msgid has a translation everywhere).
Each function renders in the locale of the current update (set by the i18n middleware) and
HTML-escapes whatever people typed themselves.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from html import escape
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.i18n.context import get_i18n
from babel.dates import format_date, format_timedelta
from babel.numbers import format_decimal

from core.domain.entities import FunnelCounts, Leaderboard, Profile, Referral, Referrer, Stats, User
from core.domain.phone import mask_phone

# ----- formatting helpers -------------------------------------------------------------------


def _locale() -> str:
    return get_i18n().current_locale


def duration(seconds: int) -> str:
    """``42 seconds``, ``5 minutes``, ``1 hour`` in the current language."""
    seconds = max(1, int(seconds))
    threshold = 1.0 if seconds < 3600 else 0.85
    return format_timedelta(
        timedelta(seconds=seconds), threshold=threshold, format="long", locale=_locale()
    )


def date(moment: datetime) -> str:
    return format_date(moment, format="medium", locale=_locale())


def full_name(first: str | None, last: str | None) -> str | None:
    name = " ".join(part for part in (first, last) if part)
    return escape(name, quote=False) if name else None


def referrer_label(referrer: Referrer) -> str:
    """``Anna Petrova (+7999***4567)``, or just the masked phone when there is no name."""
    name = full_name(referrer.first_name, referrer.last_name)
    phone = mask_phone(referrer.phone)
    return f"{name} ({phone})" if name else phone


def money(amount: Decimal | str, unit: str) -> str:
    """``1 234.50 points`` in English, ``1 234,50 points`` in Russian (the unit as configured)."""
    value = format_decimal(Decimal(str(amount)), format="#,##0.00", locale=_locale())
    return f"{value} {escape(unit, quote=False)}"


def _moment(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None


def _no_name() -> str:
    return _("no name")


# ----- buttons ------------------------------------------------------------------------------


def btn_share_phone() -> str:
    return "📱 " + _("Share my phone number")


def btn_cancel() -> str:
    return "✖️ " + _("Cancel")


def btn_profile() -> str:
    return "👤 " + _("Profile")


def btn_invite_link() -> str:
    return "🔗 " + _("My invite link")


def btn_referrals() -> str:
    return "👥 " + _("My referrals")


def btn_enter_code() -> str:
    return "🎟 " + _("Enter invite code")


def btn_language() -> str:
    return "🌐 " + _("Language")


def btn_help() -> str:
    return "❓ " + _("Help")


def btn_send_again() -> str:
    return "🔁 " + _("Send again")


def btn_send_again_in(seconds: int) -> str:
    return "⏳ " + _("Send again in {seconds} s").format(seconds=seconds)


def btn_send_new_code() -> str:
    return "🔁 " + _("Send a new code")


def btn_change_number() -> str:
    return "✏️ " + _("Change number")


def btn_share() -> str:
    return "📤 " + _("Share")


def btn_copy_code() -> str:
    return "📋 " + _("Copy code")


def btn_new_campaign() -> str:
    return "➕ " + _("New link for a campaign")


def btn_edit_name() -> str:
    return "✏️ " + _("Edit name")


# ----- command menu -------------------------------------------------------------------------


def commands() -> list[tuple[str, str]]:
    """(command, description) pairs for ``set_my_commands``."""
    return [
        ("start", _("Start or log in")),
        ("profile", _("Your profile")),
        ("invite", _("Your invite link and QR code")),
        ("referrals", _("People who joined by your link")),
        ("code", _("Enter an invite code")),
        ("stats", _("Your clicks, logins and referrals")),
        ("top", _("The top referrers")),
        ("language", _("Change the language")),
        ("help", _("How it works")),
        ("cancel", _("Cancel the current step")),
        ("logout", _("Log out of this Telegram account")),
    ]


# ----- start and login ----------------------------------------------------------------------


def welcome() -> str:
    return _(
        "Hi! Here you can invite friends with your own link and see who joined by it.\n\n"
        "To begin, log in with your phone number: tap the button below or type the number."
    )


def invited_by(referrer: Referrer | None, code: str) -> str:
    if referrer is not None and referrer.first_name:
        return _("🎁 {name} invited you. The invite is applied when you log in.").format(
            name=escape(referrer.first_name, quote=False)
        )
    return _("🎁 You came with the invite code {code}. It is applied when you log in.").format(
        code=f"<code>{escape(code, quote=False)}</code>"
    )


def ask_phone() -> str:
    return _(
        "Tap “Share my phone number” below, or type your number in international format, "
        "e.g. +79991234567."
    )


def not_own_contact() -> str:
    return _(
        "This is not your own contact. Share your number with the button below, or type it by hand."
    )


def code_sent(phone: str) -> str:
    return _("📨 We sent an SMS with a code to {phone}.").format(phone=mask_phone(phone))


def ask_code() -> str:
    return _("Enter the code from the SMS. No SMS? Ask for a new one when the button allows.")


def new_code_sent(phone: str) -> str:
    return _("📨 We sent a new code to {phone}. Enter it here.").format(phone=mask_phone(phone))


def resend_wait(seconds: int) -> str:
    return _("You can ask for a new code in {seconds} s.").format(seconds=seconds)


def greeting(user: User, link: str) -> str:
    name = full_name(user.first_name, user.last_name)
    head = _("✅ Welcome, {name}!").format(name=name) if name else _("✅ Welcome!")
    return "\n".join(
        [
            head,
            _("You are logged in with {phone}.").format(phone=mask_phone(user.phone)),
            "",
            _("Your invite code: {code}").format(code=f"<code>{user.invite_code}</code>"),
            _("Your invite link: {link}").format(link=link),
            _("Whoever opens the link and logs in becomes your referral."),
        ]
    )


def invite_activated(referrer: Referrer) -> str:
    return _("🤝 You joined by the invite of {who}.").format(who=referrer_label(referrer))


def pending_invite_failed(code: str, reason: str) -> str:
    return _("The invite code {code} could not be applied: {reason}").format(
        code=f"<code>{escape(code, quote=False)}</code>", reason=reason
    )


# ----- profile ------------------------------------------------------------------------------


def profile(data: Profile, link: str, unit: str) -> str:
    user = data.user
    name = full_name(user.first_name, user.last_name) or _("not set")
    if data.referrer is not None:
        invited = _("Invited by: {who}, code {code}").format(
            who=referrer_label(data.referrer), code=f"<code>{data.referrer.invite_code}</code>"
        )
    else:
        invited = _("Invited by: nobody")
    lines = [
        "👤 <b>" + _("Your profile") + "</b>",
        "",
        _("Name: {name}").format(name=name),
        _("Phone: {phone}").format(phone=user.phone),
        _("Your invite code: {code}").format(code=f"<code>{user.invite_code}</code>"),
        _("Your invite link: {link}").format(link=link),
        invited,
        _("Referrals: {count}").format(count=user.referral_count),
    ]
    lines += referral_statuses(user)
    lines.append(_("Balance: {amount}").format(amount=money(data.balance.available, unit)))
    if data.balance.pending:
        held = money(data.balance.pending, unit)
        if data.balance.next_available_at is not None:
            lines.append(
                _("Pending: {amount}, the first of it available on {date}").format(
                    amount=held, date=date(data.balance.next_available_at)
                )
            )
        else:
            lines.append(_("Pending: {amount}, under review").format(amount=held))
    return "\n".join(lines)


def referral_statuses(user: User) -> list[str]:
    """How the referrals stand, one line per status that has any."""
    counts = [
        (user.qualified_count, ngettext("{n} qualified", "{n} qualified", user.qualified_count)),
        (
            user.joined_count,
            ngettext("{n} waiting to qualify", "{n} waiting to qualify", user.joined_count),
        ),
        (user.flagged_count, ngettext("{n} under review", "{n} under review", user.flagged_count)),
        (user.rejected_count, ngettext("{n} rejected", "{n} rejected", user.rejected_count)),
    ]
    shown = [text.format(n=n) for n, text in counts if n]
    return ["  " + ", ".join(shown)] if user.referral_count and shown else []


def ask_name() -> str:
    return _(
        "Send your name: the first name, and the last name after a space if you like, "
        "e.g. Anna Petrova."
    )


def name_saved(user: User) -> str:
    return _("Saved. Your name is {name}.").format(
        name=full_name(user.first_name, user.last_name) or _no_name()
    )


# ----- invites ------------------------------------------------------------------------------


def invite_link(link: str, code: str) -> str:
    return "\n".join(
        [
            "🔗 " + _("Your invite link:"),
            link,
            "",
            _("Your invite code: {code}").format(code=f"<code>{code}</code>"),
            _(
                "Send the link or the QR code to friends: whoever opens it and logs in "
                "becomes your referral."
            ),
        ]
    )


def share_text() -> str:
    return _("Join me: log in with your phone number in this bot.")


def ask_invite_code() -> str:
    return _("Send the invite code: 6 letters and digits, e.g. 7KQ2XD.")


# ----- referrals ----------------------------------------------------------------------------


def referrals_empty() -> str:
    return _(
        "Nobody has joined by your link yet. Send it to friends: /invite shows the link "
        "and a QR code."
    )


def referrals_page(
    items: tuple[Referral, ...], total: int, page: int, pages: int, first_number: int
) -> str:
    head = ngettext(
        "👥 You invited {count} person.", "👥 You invited {count} people.", total
    ).format(count=total)
    lines = [head, _("Page {page} of {pages}.").format(page=page + 1, pages=pages), ""]
    for number, item in enumerate(items, start=first_number):
        name = full_name(item.first_name, item.last_name) or _no_name()
        lines.append(
            _("{number}. {name} · {phone} · joined {date}").format(
                number=number, name=name, phone=mask_phone(item.phone), date=date(item.joined_at)
            )
        )
    return "\n".join(lines)


# ----- language, help, logout, cancel -------------------------------------------------------


def choose_language() -> str:
    return _("Choose your language:")


def language_set() -> str:
    return _("🌐 The bot now speaks English.")


def help_text() -> str:
    return "\n".join(
        [
            "<b>" + _("How it works") + "</b>",
            "",
            _("1. Log in with your phone number: we send a code by SMS."),
            _("2. Get your invite link with /invite and send it to friends."),
            _("3. A friend who opens the link and logs in becomes your referral."),
            _("4. /referrals lists them; you get a message when someone joins."),
            _("Came with a code instead of a link? Enter it with /code (once only)."),
            "",
            _(
                "Other commands: /profile, /language, /cancel to leave a step, "
                "/logout to unlink this Telegram account."
            ),
        ]
    )


def logged_out() -> str:
    return _(
        "You are logged out: this Telegram account is no longer linked to your phone. "
        "Press /start to log in again."
    )


def not_logged_in() -> str:
    return _("You are not logged in. Press /start to log in.")


def login_first() -> str:
    return _("Log in first: share your phone number with the button below, or type it.")


def cancelled() -> str:
    return _("Cancelled.")


def cancelled_anonymous() -> str:
    return _("Cancelled. Press /start to log in.")


# ----- hints for unexpected input -----------------------------------------------------------


def menu_hint() -> str:
    return _("Choose an item from the menu below, or see /help.")


def hint_phone() -> str:
    return _("Send your phone number: tap the button below, or type it.")


def hint_code() -> str:
    return _("Send the code from the SMS as a text message.")


def hint_invite_code() -> str:
    return _("Send the invite code as a text message, or /cancel.")


def hint_name() -> str:
    return _("Send your name as a text message, or /cancel.")


def hint_edited() -> str:
    return _("Edited messages are not read: please send a new message.")


def stale_button() -> str:
    return _("This button is no longer active.")


def throttled() -> str:
    return _("Too many messages at once. Please wait a moment.")


def apology() -> str:
    return _("Sorry, something went wrong on our side. Please try again.")


# ----- notifications ------------------------------------------------------------------------


# ----- notifications (sent by the worker) ---------------------------------------------------


def _who(params: dict[str, Any]) -> str:
    name = full_name(params.get("first_name"), params.get("last_name"))
    phone = params.get("phone")
    return name or (mask_phone(phone) if phone else _no_name())


def _earned_line(params: dict[str, Any]) -> str | None:
    amount, unit = params.get("amount"), params.get("unit")
    if not unit or not amount or Decimal(amount) <= 0:
        return None
    when = _moment(params.get("available_at"))
    if params.get("pending") and when is not None:
        return _("You earned {amount}; it becomes available on {date}.").format(
            amount=money(amount, unit), date=date(when)
        )
    if params.get("pending"):
        return _("You earned {amount}; it is held while the referral is reviewed.").format(
            amount=money(amount, unit)
        )
    return _("You earned {amount}.").format(amount=money(amount, unit))


def _reward_line(params: dict[str, Any]) -> str:
    amount = money(params["amount"], params["unit"])
    reason = params.get("reason")
    if reason == "level2":
        return _("🎁 {amount} from a referral of your referral.").format(amount=amount)
    if reason == "repeat_event":
        return _("🎁 {amount} from a purchase of your referral.").format(amount=amount)
    if reason == "referral_join":
        return _("🎁 {amount} for joining by an invite.").format(amount=amount)
    return _("🎁 {amount}: your reward for coming by an invite.").format(amount=amount)


def notification(kind: str, params: dict[str, Any]) -> str:
    """The text of a queued notification (``core.domain.notifications``)."""
    if kind == "referral_joined":
        lines = [_("🎉 {who} joined by your invite!").format(who=_who(params))]
        count = params.get("referral_count")
        if isinstance(count, int):
            lines.append(
                ngettext(
                    "You now have {count} referral.", "You now have {count} referrals.", count
                ).format(count=count)
            )
    elif kind == "referral_qualified":
        lines = [_("✅ {who}, whom you invited, has qualified.").format(who=_who(params))]
    elif kind == "reward_received":
        lines = [_reward_line(params)]
        when = _moment(params.get("available_at"))
        if params.get("pending") and when is not None:
            lines.append(_("It becomes available on {date}.").format(date=date(when)))
    elif kind == "reward_available":
        lines = [
            _("💰 {amount} of your rewards can now be spent.").format(
                amount=money(params["amount"], params["unit"])
            )
        ]
    elif kind == "broadcast":
        return str(params["text"])
    elif kind == "contest_won":
        lines = [
            _("🏆 You took place {rank} in the contest “{title}”!").format(
                rank=params["rank"], title=escape(str(params["title"]), quote=False)
            ),
            _("Your prize: {prize}").format(
                prize=escape(str(params.get("prize") or ""), quote=False)
            ),
        ]
    elif kind == "contest_closed":
        lines = [
            _("The contest “{title}” has ended. Winners:").format(
                title=escape(str(params["title"]), quote=False)
            ),
            *(
                f"{w['rank']}. {escape(str(w['name']), quote=False)} — {w['count']}"
                for w in params.get("winners", [])
            ),
        ]
    else:
        raise ValueError(f"unknown notification kind {kind!r}")
    earned = _earned_line(params) if kind in ("referral_joined", "referral_qualified") else None
    if earned:
        lines.append(earned)
    return "\n".join(lines)


# ----- growth: campaigns, stats, leaderboard ------------------------------------------------


def ask_campaign_name() -> str:
    return _(
        "Name the campaign (where you will post the link), e.g. My channel. "
        "You will see its clicks and referrals in /stats."
    )


def campaign_created(name: str, link: str | None) -> str:
    head = _("🔗 Your link for “{name}”:").format(name=escape(name, quote=False))
    return f"{head}\n{link}" if link else head


def _rate(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "—"


def funnel(counts: FunnelCounts, unit: str) -> list[str]:
    return [
        _("Clicks: {n}").format(n=counts.clicks),
        _("Logins: {n} ({rate})").format(n=counts.logins, rate=_rate(counts.logins, counts.clicks)),
        _("Joined: {n}").format(n=counts.joined),
        _("Qualified: {n} ({rate})").format(
            n=counts.qualified, rate=_rate(counts.qualified, counts.joined)
        ),
        _("Earned: {amount}").format(amount=money(counts.rewards, unit)),
    ]


def stats(data: Stats, unit: str) -> str:
    lines = [
        "📊 <b>" + _("Your last 30 days") + "</b>",
        "",
        *funnel(data.total, unit),
    ]
    for campaign, counts in data.campaigns:
        lines += ["", "<b>" + escape(campaign.name, quote=False) + "</b>"]
        lines += funnel(counts, unit)
    if not data.campaigns:
        lines += ["", _("Make a link per channel with /invite → “New link for a campaign”.")]
    return "\n".join(lines)


def _time_left(ends_at: datetime, now: datetime) -> str:
    return duration(max(1, int((ends_at - now).total_seconds())))


def leaderboard(board: Leaderboard, now: datetime) -> str:
    lines = ["🏆 <b>" + _("Top referrers of the week") + "</b>"]
    if board.contest is not None:
        lines += [
            "",
            _("Contest “{title}”: {left} left.").format(
                title=escape(board.contest.title, quote=False),
                left=_time_left(board.contest.ends_at, now),
            ),
            _("Prizes: {prizes}").format(
                prizes=", ".join(escape(p, quote=False) for p in board.contest.prizes)
            ),
        ]
    lines.append("")
    if not board.entries:
        lines.append(_("Nobody has invited anyone this week yet: be the first!"))
    for entry in board.entries:
        lines.append(f"{entry.rank}. {escape(entry.name, quote=False)} — {entry.count}")
    if board.me is not None:
        lines += [
            "",
            _("You: place {rank}, {count}").format(rank=board.me.rank, count=board.me.count),
        ]
    return "\n".join(lines)


# ----- domain errors (used by bot/errors.py only) -------------------------------------------


def err_invalid_phone() -> str:
    return _(
        "This does not look like a phone number. Send it in international format, "
        "e.g. +79991234567."
    )


def err_phone_not_allowed() -> str:
    return _("Sorry, phone numbers of this country are not served.")


def err_invalid_code_format() -> str:
    return _("The code is digits only, as in the SMS.")


def err_invalid_invite_code() -> str:
    return _("An invite code is 6 letters and digits, e.g. 7KQ2XD.")


def err_invalid_name() -> str:
    return _("A name is 1 to 64 letters, spaces, hyphens or apostrophes.")


def err_invalid_language() -> str:
    return _("Only English and Russian are available.")


def err_invalid_input() -> str:
    return _("This input is not valid. Please check it and try again.")


def err_user_not_found() -> str:
    return _("Your account was not found. Press /start to log in again.")


def err_not_found() -> str:
    return _("Nothing was found.")


def err_invite_not_found() -> str:
    return _("Nobody has this invite code. Check it and try again.")


def err_invite_own_code() -> str:
    return _("This is your own invite code: send it to friends instead.")


def err_invite_already_activated() -> str:
    return _("You have already activated an invite code; it can be done only once.")


def err_invite_cycle() -> str:
    return _(
        "This code belongs to someone you invited, directly or through others, "
        "so it cannot be activated."
    )


def err_conflict() -> str:
    return _("This cannot be done now.")


def err_code_wrong(attempts_left: int) -> str:
    return ngettext(
        "Wrong code. {count} attempt left.", "Wrong code. {count} attempts left.", attempts_left
    ).format(count=attempts_left)


def err_code_used_up() -> str:
    return _("This code is no longer valid. Ask for a new one.")


def err_code_expired() -> str:
    return _("The code has expired. Ask for a new one.")


def err_unauthorized() -> str:
    return _("Please log in again: press /start.")


def err_phone_locked(seconds: int) -> str:
    return _("Too many wrong codes. This number is locked; try again in {duration}.").format(
        duration=duration(seconds)
    )


def err_rate_limited(seconds: int) -> str:
    return _("Too many code requests. You can ask again in {duration}.").format(
        duration=duration(seconds)
    )


def err_sms_unavailable() -> str:
    return _("The SMS could not be sent. Please try again later.")


def err_sms_daily_cap() -> str:
    return _("The service cannot send more codes today. Please try again tomorrow.")


def err_unavailable() -> str:
    return _("The service is busy right now. Please try again later.")


def err_generic() -> str:
    return _("Something went wrong. Please try again.")
