"""How things look: alert cards, check-in messages, scores and schedules in words, and the buttons they
carry, rendered for any sender (the Telegram handlers, the outbox, the console, the command line)."""
