"""The Telegram front end (aiogram 3): a thin transport over the core's services."""
