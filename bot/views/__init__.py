"""What the diary shows staff, as text the Telegram handlers and the command line both answer with."""
