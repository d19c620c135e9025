"""How well, and how fast, is crisis language heard?

    uv run python bench/crisis_language.py

Prints recall and false alarms per language on the labelled corpus the patterns were written with
(tests/data/crisis_messages.tsv) and on the held-out sets (tests/data/crisis_heldout_*.tsv), written by
people who never saw the patterns (each file's header gives the figure measured before the patterns saw
it), and false alarms on everyday messages (tests/data/crisis_everyday*.tsv) and on near neighbours, crisis words
in ordinary meanings (tests/data/crisis_neighbours*.tsv, written blind and not tuned on). Each figure is given as the
diary hears (the patterns, then the learned model where none matched: bot/alerts/crisis_model.py) and, in brackets,
the patterns alone. The model has read every file but the near-neighbour sets, the second and third everyday sets
and the two plain samples (tests/data/crisis_sample*.tsv, which no round of patterns is written from either). Then how
long loading takes and how long one message takes to check (a corpus message, and a 4,000-character note).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.alerts.crisis import CrisisLanguage  # noqa: E402

DATA = ROOT / "tests" / "data"


def read(path: Path) -> list[tuple[str, str, str]]:
    """(label, language, text) rows of a labelled TSV file."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, language, text = line.split("\t", 2)
            rows.append((label, language, text))
    return rows


def report(name: str, rows: list[tuple[str, str, str]], language: CrisisLanguage, alone: CrisisLanguage) -> None:
    for lang in [*sorted({lang for _, lang, _ in rows}), "all"]:
        chosen = [(label, text) for label, tl, text in rows if lang in ("all", tl)]
        crisis = [text for label, text in chosen if label == "crisis"]
        ordinary = [text for label, text in chosen if label == "ordinary"]
        print(
            f"  {name:<28} {lang:<4} recall {_share(language, alone, crisis)}   "
            f"false alarms {_share(language, alone, ordinary)}"
        )


def _share(language: CrisisLanguage, alone: CrisisLanguage, texts: list[str]) -> str:
    heard = [text for text in texts if alone.matches(text)]
    more = sum(language.matches(text) for text in texts if text not in heard)
    n = max(1, len(texts))
    return f"{len(heard) + more:>4}/{len(texts):<4} = {(len(heard) + more) / n:.3f} ({len(heard) / n:.3f})"


def main() -> None:
    started = time.perf_counter()
    language = CrisisLanguage.load()
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    for pattern in language.crisis + language.not_crisis:  # each is compiled when a message first needs it
        _ = pattern.regex, pattern.before
    compiled = time.perf_counter() - started
    alone = CrisisLanguage(language.patterns)
    corpus = read(DATA / "crisis_messages.tsv")
    print("Recall and false alarms: heard by the diary (by the patterns alone)")
    report("corpus (patterns tuned on)", corpus, language, alone)
    for path in sorted(DATA.glob("crisis_heldout_*.tsv")):
        report(f"held out: {path.stem.removeprefix('crisis_heldout_')}", read(path), language, alone)
    # Plain samples of a year's messages, written blind and kept so: no round of patterns or training reads them.
    report("plain sample, kept blind", read(DATA / "crisis_sample.tsv"), language, alone)
    report("second plain sample, kept blind", read(DATA / "crisis_sample_second.tsv"), language, alone)
    report("everyday (ordinary only)", read(DATA / "crisis_everyday.tsv"), language, alone)
    # Written blind and never read by the model: its false alarms where it learnt nothing.
    report("everyday, second (ordinary only)", read(DATA / "crisis_everyday_second.tsv"), language, alone)
    report("everyday, third (ordinary only)", read(DATA / "crisis_everyday_third.tsv"), language, alone)
    # Near neighbours written blind: crisis words in ordinary meanings. Not tuned on, so no test holds it at 0.
    report("near neighbours (ordinary only)", read(DATA / "crisis_neighbours.tsv"), language, alone)
    report("near neighbours, second (ordinary only)", read(DATA / "crisis_neighbours_second.tsv"), language, alone)

    note = " ".join(text for label, _, text in corpus if label == "ordinary")[:4000]
    print("\nSpeed")
    print(f"  loading the patterns and the model   {loaded * 1000:8.0f} ms (once per process)")
    print(f"  compiling all of them                {compiled * 1000:8.0f} ms (each when a message first needs it)")
    for name, reader in (("the diary", language), ("the patterns alone", alone)):
        timings = [_time(reader, text) for _, _, text in corpus]
        best = min(_time(reader, note) for _ in range(15))
        print(f"  {name}:")
        print(
            f"    one corpus message                 p50 {statistics.median(timings) * 1e6:5.0f} µs, "
            f"p99 {sorted(timings)[int(0.99 * len(timings))] * 1e6:5.0f} µs"
        )
        print(f"    a 4,000-character ordinary note    {best * 1000:8.2f} ms (best of 15)")


def _time(language: CrisisLanguage, text: str) -> float:
    began = time.perf_counter()
    language.matches(text)
    return time.perf_counter() - began


if __name__ == "__main__":
    main()
