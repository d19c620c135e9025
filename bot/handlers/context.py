"""The typed context every handler receives, with the services the application wires in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.access import Role, roles_of
from bot.alerts.crisis import CrisisPhrases
from bot.alerts.desk import AlertDesk
from bot.config import Settings
from bot.delivery.rate_limit import FloodLimiter
from bot.diary.checkins import CheckIns
from bot.diary.enrolment import FailedStarts
from bot.diary.questionnaire import Questionnaire
from bot.diary.scheduling import Scheduler
from bot.handlers.alert_card import CardRenderer
from bot.prompts import Catalog
from storage.database import Database
from storage.models import Patient


@dataclass
class Services:
    settings: Settings
    database: Database
    catalog: Catalog
    questionnaire: Questionnaire
    checkins: CheckIns
    scheduler: Scheduler
    desk: AlertDesk
    cards: CardRenderer
    crisis_phrases: CrisisPhrases
    limiter: FloodLimiter
    failed_starts: FailedStarts
    clock: Callable[[], datetime]


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

    @property
    def roles(self) -> frozenset[Role]:
        return roles_of(staff_role=self.staff_role, is_patient=self.patient is not None)

    def staff_help(self) -> str:
        catalog = self.services.catalog
        text = catalog.text(catalog.default_language, "staff.help")
        if self.staff_role == Role.ADMIN:
            text += "\n\n" + catalog.text(catalog.default_language, "staff.admin_help")
        return text

    @property
    def services(self) -> Services:
        services: Services = self.bot_data["services"]
        return services

    def text(self, key: str, **values: object) -> str:
        """A message in the patient's language (or the sender's Telegram language before enrolment)."""
        catalog = self.services.catalog
        language = self.patient.language if self.patient else catalog.default_language
        return catalog.text(language, key, **values)
