"""Replay a clinic's history through the rules, without a bot: how many alerts would they have given?"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.alerts import crisis_cache
from bot.alerts.crisis import CrisisLanguage
from bot.alerts.rules import RULE_NAMES, Rules
from bot.alerts.trends import Finding, Infusion, Point, Scored, evaluate
from bot.diary.questionnaire import Questionnaires
from bot.records.diary_csv import DiaryRow, escape, read_diary, read_infusions
from bot.records.questionnaires_csv import read_scores

ALERT_COLUMNS = ("patient", "rule", "severity", "opened_at", "details")
DAYS_PER_MONTH = 30.44


@dataclass
class Report:
    patients: int = 0
    checkins: int = 0  # answered ones
    patient_months: float = 0.0
    by_rule: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_rule.values())

    def lines(self) -> list[str]:
        def rates(count: int) -> str:
            per_100 = 100 * count / self.checkins if self.checkins else 0.0
            per_month = count / self.patient_months if self.patient_months else 0.0
            return f"{count:>8} {per_100:>15.2f} {per_month:>19.3f}"

        lines = [
            f"{self.patients} patients, {self.checkins} answered check-ins, {self.patient_months:.1f} patient-months",
            f"{'rule':<18} {'alerts':>8} {'per 100 check-ins':>15} {'per patient-month':>19}",
        ]
        lines += [f"{rule:<18} {rates(self.by_rule[rule])}" for rule in RULE_NAMES]
        lines.append(f"{'all rules':<18} {rates(self.total)}")
        return lines


def crisis_findings(points: Iterable[Point], phrases: CrisisLanguage, rules: Rules) -> list[Finding]:
    if not rules.crisis_text.enabled:
        return []
    return [
        Finding("crisis_text", rules.crisis_text.tier, p.at, {})
        for p in points
        if p.note is not None and phrases.matches(p.note)
    ]


def replay(
    rows: list[DiaryRow],
    infusions: list[tuple[str, Infusion]],
    rules: Rules,
    phrases: CrisisLanguage,
    scores: Sequence[tuple[str, Scored]] = (),
) -> tuple[Report, list[tuple[str, Finding]]]:
    diaries: dict[str, list[Point]] = defaultdict(list)
    for row in rows:
        diaries[row.patient].append(row.point)
    given: dict[str, list[Infusion]] = defaultdict(list)
    for code, infusion in infusions:
        given[code].append(infusion)
    scored: dict[str, list[Scored]] = defaultdict(list)
    for code, score in scores:
        scored[code].append(score)
    return replay_diaries(diaries, given, rules, phrases, scored)


def replay_diaries(
    diaries: Mapping[str, list[Point]],
    infusions: Mapping[str, list[Infusion]],
    rules: Rules,
    phrases: CrisisLanguage,
    scores: Mapping[str, list[Scored]],
) -> tuple[Report, list[tuple[str, Finding]]]:
    """Each patient's diary (by code) through the rules, as the command line's replay and the console's
    what-if both count alerts."""
    report = Report(patients=len(diaries))
    alerts: list[tuple[str, Finding]] = []
    for code, diary in diaries.items():
        points = sorted(diary, key=lambda p: p.at)
        report.checkins += sum(1 for p in points if not p.missed)
        report.patient_months += max(1.0, (points[-1].at - points[0].at).total_seconds() / 86400) / DAYS_PER_MONTH
        findings = evaluate(points, infusions.get(code, []), rules, scores.get(code, []))
        findings += crisis_findings(points, phrases, rules)
        findings.sort(key=lambda f: f.at)
        report.by_rule.update(f.rule for f in findings)
        alerts += [(code, f) for f in findings]
    return report, alerts


def write_alerts(path: Path, alerts: list[tuple[str, Finding]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ALERT_COLUMNS)
        for code, f in alerts:
            # The code is free text, escaped as in the diary CSV; rule, severity, time and JSON details
            # are ours and never begin with a formula character.
            details = json.dumps(f.details, ensure_ascii=False)
            writer.writerow((escape(code), f.rule, f.tier.value, f.at.isoformat(), details))


def run(
    diary: Path,
    *,
    infusions: Path | None,
    rules: Rules,
    out: Path,
    questionnaires: Path | None = None,
    progress: bool = True,
) -> Report:
    """Read and check every file first (CsvError names the bad cell), then replay and write `out`."""
    rows = read_diary(diary, progress=progress)
    given = read_infusions(infusions) if infusions else []
    scores = read_scores(questionnaires, Questionnaires.load()) if questionnaires else []
    report, alerts = replay(rows, given, rules, crisis_cache.load(), scores)
    partial = out.with_name(out.name + ".partial")
    write_alerts(partial, alerts)
    partial.replace(out)  # never a half-written alerts file
    return report
