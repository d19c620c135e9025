"""The yardstick for bench/answers.py: a minimal PTB bot that echoes each button press into its message.

Configured like the diary bot (concurrent updates, a connection pool), but with no database.
"""

import os

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("again", callback_data=query.data)]])
    await query.edit_message_text(f"echo {query.data}", reply_markup=keyboard)
    await query.answer()


def main() -> None:
    application = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_BASE_URL"] + "/bot")
        .concurrent_updates(512)
        .connection_pool_size(128)
        .pool_timeout(30)
        .build()
    )
    application.add_handler(CallbackQueryHandler(echo))
    application.run_polling(allowed_updates=Update.ALL_TYPES, poll_interval=0, timeout=10)


if __name__ == "__main__":
    main()
