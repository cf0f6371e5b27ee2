"""The dialog steps. The FSM holds the UI position only; codes and limits live in the core."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class LoginFlow(StatesGroup):
    phone = State()
    code = State()


class InviteFlow(StatesGroup):
    code = State()


class ProfileFlow(StatesGroup):
    name = State()


class CampaignFlow(StatesGroup):
    name = State()


# Keys of the FSM data (JSON values, so they survive in Redis).
PENDING_INVITE = "pending_invite"  # normalised invite code from the deep link, kept until login
LOCALE = "locale"  # language chosen with /language before login (or kept after logout)
PHONE = "phone"  # E.164 number being confirmed
REFERRAL_CURSORS = "referral_cursors"  # keyset cursor of each page shown so far

LOGIN_KEYS = (PHONE,)
