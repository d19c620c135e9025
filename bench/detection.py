"""How well the alert rules find worsening, and what they cost in alerts. Prints figures; asserts nothing.

    uv run python bench/detection.py [--patients 500] [--days 180] [--replay-patients 10000]

A simulated cohort (bench/simulated_diaries.py) with known flare onsets goes through the default
rules (prompts/rules.yaml) and, side by side, through a naive rule (pain >= 7 or up >= 2 on the
previous entry, at every entry) and the plain "2 of the last 3 >= baseline + 2" rule.

A flare is found when a pain rule fires between its onset and a week after it ends; the delay is
the number of answered check-ins from the onset up to and including the one that fired. Pain alerts
in calm periods (no flare or the week after one, not within 12 weeks after an infusion) are false.
Columns: pain/100 counts pain alerts, cards/100 the alerts that interrupt staff (amber and urgent),
all/100 and all/pt-mo also the digest lines (missed check-ins, relief waning).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.simulated_diaries import SimulatedPatient, calm, simulate
from bot.alerts.rules import Rules, Tier, load_rules
from bot.alerts.trends import Finding, evaluate

PAIN_RULES = {"pain_worsening", "severe_pain"}
WEEK = timedelta(weeks=1)
TWELVE_WEEKS = timedelta(weeks=12)

Detector = Callable[[SimulatedPatient], list[Finding]]


def naive(patient: SimulatedPatient) -> list[Finding]:
    findings, previous = [], None
    for point in patient.points:
        if point.pain is None:
            continue
        if point.pain >= 7 or (previous is not None and point.pain - previous >= 2):
            findings.append(Finding("naive", Tier.AMBER, point.at))
        previous = point.pain
    return findings


def two_of_three(patient: SimulatedPatient) -> list[Finding]:
    """2 of the last 3 >= baseline + 2 (baseline: median of the previous 28 days, >= 8 entries); one
    alert each time the condition starts to hold."""
    findings: list[Finding] = []
    history: deque[tuple[datetime, int]] = deque()
    last3: deque[bool] = deque(maxlen=3)
    was = False
    for point in patient.points:
        if point.pain is None:
            continue
        while history and history[0][0] < point.at - timedelta(days=28):
            history.popleft()
        if len(history) >= 8:
            baseline = statistics.median(p for _, p in history)
            last3.append(point.pain >= baseline + 2)
            now = sum(last3) >= 2
            if now and not was:
                findings.append(Finding("two_of_three", Tier.AMBER, point.at))
            was = now
        history.append((point.at, point.pain))
    return findings


@dataclass
class Figures:
    sensitivity: float
    median_delay: float
    false_per_patient_year: float
    pain_per_100: float
    cards_per_100: float
    all_per_100: float
    all_per_patient_month: float


def measure(cohort: Sequence[SimulatedPatient], detector: Detector, *, pain_rules: set[str] | None) -> Figures:
    flares = found = false = alerts = pain_alerts = cards = checkins = 0
    delays: list[int] = []
    calm_days = patient_days = 0.0
    for patient in cohort:
        findings = detector(patient)
        pain = [f for f in findings if pain_rules is None or f.rule in pain_rules]
        alerts += len(findings)
        pain_alerts += len(pain)
        cards += sum(1 for f in findings if f.tier is not Tier.DIGEST)
        answered = [p for p in patient.points if p.pain is not None]
        checkins += len(answered)
        patient_days += (patient.end - patient.start).days
        for flare in patient.flares:
            flares += 1
            hits = [f.at for f in pain if flare.onset <= f.at <= flare.end + WEEK]
            if hits:
                found += 1
                delays.append(sum(1 for p in answered if flare.onset <= p.at <= hits[0]))
        false += sum(1 for f in pain if calm(patient, f.at, after_flare=WEEK, after_infusion=TWELVE_WEEKS))
        day = patient.start
        while day < patient.end:
            calm_days += calm(patient, day, after_flare=WEEK, after_infusion=TWELVE_WEEKS)
            day += timedelta(days=1)
    return Figures(
        sensitivity=found / flares if flares else float("nan"),
        median_delay=statistics.median(delays) if delays else float("nan"),
        false_per_patient_year=false / (calm_days / 365.25) if calm_days else float("nan"),
        pain_per_100=100 * pain_alerts / checkins,
        cards_per_100=100 * cards / checkins,
        all_per_100=100 * alerts / checkins,
        all_per_patient_month=alerts / (patient_days / 30.44),
    )


def rules_detector(rules: Rules) -> Detector:
    return lambda patient: evaluate(patient.points, patient.infusions, rules)


def evaluation_times(cohort: Sequence[SimulatedPatient], rules: Rules, samples: int) -> list[float]:
    """Seconds per evaluation of one patient's last 180 days, as after a completed check-in."""
    rng = random.Random(3)
    times = []
    for _ in range(samples):
        patient = rng.choice(cohort)
        upto = rng.randrange(len(patient.points) // 2, len(patient.points))
        history = patient.points[: upto + 1]
        started = time.perf_counter()
        evaluate(history, patient.infusions, rules)
        times.append(time.perf_counter() - started)
    return times


def replay_seconds(patients: int, days: int) -> tuple[float, int, int]:
    """Write a diary CSV for the cohort, then time `python -m bot replay` on it (in process)."""
    from bot.records import diary_csv, replay

    cohort = simulate(patients, days, seed=11)
    with tempfile.TemporaryDirectory() as folder:
        diary, infusions, out = Path(folder, "diary.csv"), Path(folder, "infusions.csv"), Path(folder, "alerts.csv")
        diary_csv.write_points(diary, ((p.code, p.points) for p in cohort))
        diary_csv.write_infusions(infusions, ((p.code, p.infusions) for p in cohort))
        started = time.perf_counter()
        report = replay.run(diary, infusions=infusions, rules=load_rules(), out=out, progress=False)
        seconds = time.perf_counter() - started
    return seconds, report.checkins, report.total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--replay-patients", type=int, default=10_000, help="0 skips the replay timing")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    cohort = simulate(args.patients, args.days, seed=args.seed)
    flares = sum(len(p.flares) for p in cohort)
    infused = sum(1 for p in cohort if p.infusions)
    answered = sum(1 for p in cohort for q in p.points if q.pain is not None)
    missed = sum(1 for p in cohort for q in p.points if q.missed)
    print(
        f"cohort: {args.patients} patients x {args.days} days, {answered} answered and {missed} missed check-ins, "
        f"{flares} flares, {infused} patients with infusions"
    )
    rules = load_rules()
    rows = [
        ("default rules", measure(cohort, rules_detector(rules), pain_rules=PAIN_RULES)),
        ("naive (>= 7 or +2)", measure(cohort, naive, pain_rules=None)),
        ("2 of last 3 >= base+2", measure(cohort, two_of_three, pain_rules=None)),
    ]
    print()
    print(
        f"{'':24} {'sensitivity':>11} {'delay p50':>9} {'false/pt-yr':>11} "
        f"{'pain/100':>9} {'cards/100':>9} {'all/100':>8} {'all/pt-mo':>9}"
    )
    for name, f in rows:
        print(
            f"{name:24} {f.sensitivity:11.3f} {f.median_delay:9.1f} {f.false_per_patient_year:11.2f} "
            f"{f.pain_per_100:9.2f} {f.cards_per_100:9.2f} {f.all_per_100:8.2f} {f.all_per_patient_month:9.2f}"
        )
    defaults, naive_figures = rows[0][1], rows[1][1]
    print(
        "\nalerts per 100 check-ins, default rules / naive rule: "
        f"pain alerts {defaults.pain_per_100 / naive_figures.pain_per_100:.3f}, "
        f"alert cards (amber + urgent) {defaults.cards_per_100 / naive_figures.cards_per_100:.3f}, "
        f"everything incl. digest lines {defaults.all_per_100 / naive_figures.all_per_100:.3f}"
    )
    by_rule: dict[str, int] = {}
    for patient in cohort:
        for finding in evaluate(patient.points, patient.infusions, rules):
            by_rule[finding.rule] = by_rule.get(finding.rule, 0) + 1
    patient_months = sum((p.end - p.start).days for p in cohort) / 30.44
    print(
        "default rules, alerts per patient-month by rule: "
        + ", ".join(f"{rule} {count / patient_months:.3f}" for rule, count in sorted(by_rule.items()))
    )

    times = sorted(evaluation_times(cohort, rules, 2000))
    print(
        f"\nevaluation of one patient's diary (up to {args.days} days) after a check-in: "
        f"p50 {1000 * times[len(times) // 2]:.2f} ms, p99 {1000 * times[int(len(times) * 0.99)]:.2f} ms"
    )
    if args.replay_patients:
        seconds, checkins, total = replay_seconds(args.replay_patients, args.days)
        print(
            f"replay of {args.replay_patients} patients x {args.days} days ({checkins} check-ins, {total} alerts): "
            f"{seconds:.1f} s"
        )


if __name__ == "__main__":
    main()
