"""The typed context every handler receives, with the services the application wires in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.access import Role, roles_of
from bot.services import Services
from storage.models import Patient


def update_time(update: Update, received_at: dict[int, datetime]) -> datetime | None:
    """A message's own date (its edit's, for an edit); for a button press, which Telegram does not
    date, when the update was stored."""
    message = update.edited_message or update.message
    if message is not None:
        return message.edit_date or message.date if update.edited_message else message.date
    return received_at.get(update.update_id)


class DiaryContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """`patient` and `staff_role` are filled in by the sender gate (handlers/gate.py) first."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id, user_id)
        self.patient: Patient | None = None
        self.staff_role: str | None = None  # staff or admin (storage/staff.py)
        self._at: datetime | None = None
        self.sender_language_code: str | None = None  # as the sender's Telegram app reports it
        # Links in this update that the gate made stop working as seen in a group (an invite, a console sign-in): a
        # staff reply holding one is not passed on (handlers/staff_replies.py).
        self.withdrew_invite = False
        self.withdrew_console_link = False

    @classmethod
    def from_update(cls, update: object, application: Application[Any, Any, Any, Any, Any, Any]) -> DiaryContext:
        context = super().from_update(update, application)
        if isinstance(update, Update):
            at = update_time(update, context.services.received_at)
            # Never later than this server's clock: Telegram dates a message by its own, which this one may be
            # behind (set back, or a board without a real-time clock before time synchronisation). What the
            # message brings is owed from the moment it is handled; dated later, the crisis text, its card and a
            # staff reply waited in the outbox until this clock reached that date.
            context._at = min(at, context.services.clock()) if at is not None else None
            user = update.effective_user
            context.sender_language_code = user.language_code if user else None
        return context

    @property
    def roles(self) -> frozenset[Role]:
        return roles_of(staff_role=self.staff_role, is_patient=self.patient is not None)

    def staff_help(self) -> str:
        """The staff commands, in the sender's language."""
        catalog = self.services.catalog
        language = catalog.language_for(self.sender_language_code)
        text = catalog.text(language, "staff.help")
        if self.staff_role == Role.ADMIN:
            text += "\n\n" + catalog.text(language, "staff.admin_help")
        return text

    @property
    def now(self) -> datetime:
        """The time the update happened, which decides what it does (a note typed before a check-in
        closed belongs to it, even when a restart handles it later); the clock for anything else."""
        return self._at or self.services.clock()

    @property
    def services(self) -> Services:
        services: Services = self.bot_data["services"]
        return services

    def text(self, key: str, **values: object) -> str:
        """A message in the patient's language (or the sender's Telegram language before enrolment)."""
        catalog = self.services.catalog
        language = self.patient.language if self.patient else catalog.default_language
        return catalog.text(language, key, **values)

    def sender_text(self, update: Update, key: str, **values: object) -> str:
        """A reply to the person who typed a command (usage lines, refusals, what they asked for), in
        their Telegram language: a clinic's staff need not all read its language. What goes to the staff
        chat for everyone (cards, digests) stays in the clinic's language."""
        catalog = self.services.catalog
        user = update.effective_user
        return catalog.text(catalog.language_for(user.language_code if user else None), key, **values)
