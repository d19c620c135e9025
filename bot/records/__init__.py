"""Diary records in and out of the database: the CSV formats, import, replay."""
