"""The questionnaires CSV (README, "Questionnaires CSV"): one row per answer to an instrument (PHQ-2,
PHQ-9, pain interference, CRPS signs), with the score of each completed one. Written for exports and
read by replay, which scores the rows itself, so the file's own score column is for people only.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.alerts.trends import Scored
from bot.diary.questionnaire import Questionnaire, Questionnaires
from bot.records.diary_csv import CsvError, escape, patient_code, read_rows, recorded_time

QUESTIONNAIRE_COLUMNS = ("patient", "recorded_at", "questionnaire", "item", "answer", "score")


def write_questionnaire_rows(
    handle: TextIO, code: str, questionnaire: Questionnaire, answered: Iterable[tuple[datetime, Mapping[str, str]]]
) -> int:
    """Rows in the questionnaire's item order; the score on each row of a completed one. Returns rows."""
    writer = csv.writer(handle)
    count = 0
    for at, answers in answered:
        score = questionnaire.score(answers)
        shown = "" if score is None else score.shown
        for item in questionnaire.items:
            if item.id in answers:
                writer.writerow((escape(code), at.isoformat(), questionnaire.id, item.id, answers[item.id], shown))
                count += 1
    return count


def write_header(handle: TextIO) -> None:
    csv.writer(handle).writerow(QUESTIONNAIRE_COLUMNS)


def read_scores(path: Path, questionnaires: Questionnaires) -> list[tuple[str, Scored]]:
    """Every completed, scored questionnaire in the file, by patient code; CsvError at the first bad row
    (an unknown questionnaire or item, an answer its scale does not offer)."""
    answered: dict[tuple[str, datetime, str], dict[str, str]] = {}
    for number, cells in read_rows(path, QUESTIONNAIRE_COLUMNS):
        where = f"{path}, row {number}"
        patient = patient_code(cells["patient"], where)
        at = recorded_time(cells["recorded_at"], where)
        name = cells["questionnaire"].strip()
        questionnaire = questionnaires.get(name)
        if questionnaire is None or questionnaire.scoring is None:
            known = "|".join(q.id for q in questionnaires.values() if q.scoring is not None)
            raise CsvError(f"{where}, questionnaire: {name[:40]!r} is not one of {known}")
        item = questionnaire.item(cells["item"].strip())
        if item is None:
            raise CsvError(f"{where}, item: {cells['item'][:40]!r} is not a question of {name}")
        answer = cells["answer"].strip()
        if not item.accepts(answer):
            raise CsvError(f"{where}, answer: {answer[:40]!r} is not one of {'|'.join(item.options)}")
        answered.setdefault((patient, at, name), {})[item.id] = answer
    scores = []
    for (patient, at, name), answers in answered.items():
        score = questionnaires[name].score(answers)
        if score is not None:
            scores.append((patient, Scored(at, name, score.total)))
    scores.sort(key=lambda found: found[1].at)
    return scores
