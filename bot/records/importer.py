"""`python -m bot import`: load a clinic's diary history (and infusions) into the database.

Both files are read and checked completely first; then everything goes in one transaction. A bad
cell stops the import with its file, row and field, and nothing is stored. Importing the same file
twice changes nothing: each row is a check-in keyed by its time.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.alerts.trends import Infusion
from bot.records.diary_csv import DiaryRow, read_diary, read_infusions
from storage import audit, checkins, infusions, patients
from storage.database import Database

BATCH = 2_000
LARGE = 20_000  # rows from which a progress bar is drawn


@dataclass(frozen=True)
class Imported:
    patients: int
    new_patients: int
    checkins: int  # new ones; rows already imported are skipped
    infusions: int


class _Progress:
    """A one-line progress bar on stderr for large files, redrawn every 5%."""

    def __init__(self, total: int) -> None:
        self.total, self.shown = total, -5
        self.visible = total >= LARGE

    def update(self, done: int) -> None:
        percent = 100 * done // max(self.total, 1)
        if self.visible and (percent >= self.shown + 5 or done == self.total):
            self.shown = percent
            bar = "#" * (percent // 5)
            end = "\n" if done == self.total else ""
            print(f"\rimporting [{bar:<20}] {percent:3}% of {self.total:,} rows", end=end, file=sys.stderr, flush=True)


async def import_files(
    database: Database,
    diary: Path,
    *,
    infusions_file: Path | None,
    now: datetime,
    language: str,
    timezone: str,
    questionnaire: str = "daily",
) -> Imported:
    rows = read_diary(diary, progress=True)
    given = read_infusions(infusions_file) if infusions_file else []
    by_patient: dict[str, list[DiaryRow]] = defaultdict(list)
    for row in rows:
        by_patient[row.patient].append(row)
    infusions_by_patient: dict[str, list[Infusion]] = defaultdict(list)
    for code, infusion in given:
        infusions_by_patient[code].append(infusion)
    progress = _Progress(len(rows))
    done = new_patients = new_checkins = new_infusions = 0
    async with database.session() as session:
        for code in sorted(by_patient.keys() | infusions_by_patient.keys()):
            patient = await patients.by_code(session=session, code=code)
            if patient is None:
                new_patients += 1
                patient = await patients.get_or_create(
                    session=session, code=code, language=language, timezone=timezone, now=now
                )
            assert patient.id is not None
            zone = ZoneInfo(patient.timezone)
            entries = by_patient.get(code, [])
            for start in range(0, len(entries), BATCH):
                batch = entries[start : start + BATCH]
                new_checkins += await checkins.import_entries(
                    session=session,
                    patient_id=patient.id,
                    questionnaire=questionnaire,
                    entries=[
                        (row.point.at.astimezone(UTC), row.point.at.astimezone(zone).date(), row.answers)
                        for row in batch
                    ],
                )
                done += len(batch)
                progress.update(done)
            for infusion in infusions_by_patient.get(code, []):
                new_infusions += await infusions.record(
                    session=session, patient_id=patient.id, given_on=infusion.on, kind=infusion.kind, now=now, by=None
                )
        detail = f"{new_checkins} check-ins, {new_infusions} infusions, {new_patients} new patients"
        await audit.record(session=session, actor_id=None, action="import", detail=detail, now=now)
    return Imported(len(by_patient.keys() | infusions_by_patient.keys()), new_patients, new_checkins, new_infusions)
