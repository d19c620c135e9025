"""The clinicians' web console: sign-in through the bot (auth.py), pages (app.py, panel.py)."""
