"""Thin Telegram adapters: turn an update into a call on the domain and a reply from prompts/."""
