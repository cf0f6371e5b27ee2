"""Every dialog in Russian: a Russian-speaking client (uk) from /start to /logout."""

from __future__ import annotations

from core.services import Services
from tests.bot.harness import Harness, SendMessage, SendPhoto, buttons, sent
from tests.bot.helpers import PHONE, make_user, phone_number
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender


async def test_every_dialog_speaks_russian(
    tg: Harness, services: Services, sms: RecordingSmsSender, clock: FrozenClock
) -> None:
    boris = await make_user(services, sms, clock, phone_number(1), first_name="Борис")
    olga = await make_user(services, sms, clock, phone_number(2), first_name="Ольга")
    oksana = tg.person(first_name="Оксана", language_code="uk")

    # 1. start with a deep link
    await oksana.send(f"/start {boris.invite_code}")
    [welcome] = sent(tg.take(), SendMessage)
    assert welcome.text.startswith("🎁 Вас пригласил(а) Борис.")
    assert buttons(welcome.reply_markup) == ["📱 Отправить мой номер", "✖️ Отмена"]
    # 2. phone: someone else's contact, then the own one
    await oksana.share_contact("79990000000", user_id=42)
    assert tg.last_text().startswith("Это не ваш контакт.")
    await oksana.share_contact(PHONE.lstrip("+"))
    ack, prompt = sent(tg.take(), SendMessage)
    assert ack.text == "📨 Мы отправили SMS с кодом на +7999***4567."
    assert buttons(prompt.reply_markup) == [
        "⏳ Отправить снова через 60 с",
        "✏️ Другой номер",
        "✖️ Отмена",
    ]
    assert sms.sent[-1][1].startswith("Ваш код")
    # 3. code: a wrong one, then the right one; 4. the pending invite
    await oksana.send("12ab")
    assert tg.last_text() == "Код состоит только из цифр, как в SMS."
    await oksana.send(sms.last_code(PHONE))
    greeting, joined = tg.texts()
    assert greeting.startswith("✅ Добро пожаловать, Оксана!\nВы вошли с номером +7999***4567.")
    assert joined == "🤝 Вы присоединились по приглашению: Борис (+7999***4567)."
    # 4. entering a code once more is refused for good
    await oksana.send("🎟 Ввести код приглашения")
    assert tg.last_text().startswith("Отправьте код приглашения")
    await oksana.send(olga.invite_code)
    assert tg.last_text() == (
        "Вы уже активировали код приглашения; это можно сделать только один раз."
    )
    # 5. profile
    await oksana.send("👤 Профиль")
    profile = tg.last_text()
    assert profile.startswith("👤 <b>Ваш профиль</b>")
    assert "Пригласил: Борис (+7999***4567)" in profile and "Рефералов: 0" in profile
    # 6. invite link
    await oksana.send("🔗 Моя ссылка")
    [photo] = sent(tg.take(), SendPhoto)
    assert photo.caption is not None and photo.caption.startswith("🔗 Ваша пригласительная ссылка:")
    assert buttons(photo.reply_markup) == [
        "📤 Поделиться",
        "📋 Скопировать код",
        "➕ Новая ссылка для кампании",
    ]
    # 7. referrals (empty)
    await oksana.send("👥 Мои рефералы")
    assert tg.last_text().startswith("По вашей ссылке пока никто не пришёл.")
    # 10. help and logout
    await oksana.send("❓ Помощь")
    assert tg.last_text().startswith("<b>Как это работает</b>")
    await oksana.send("/logout")
    assert tg.last_text().startswith("Вы вышли")
