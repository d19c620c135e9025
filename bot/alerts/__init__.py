"""Trend rules and the alert life cycle: what staff are told about, and when. No Telegram here."""
