"""Persistence: SQLModel tables, the engine, and query functions. Nothing above this package writes SQL."""
