"""The questionnaires (prompts/questionnaires/*.yaml): items, how to move through them, and how an
instrument is scored by its published rules. No Telegram here."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from bot.prompts import FAST_YAML_LOADER, PROMPTS_DIR

ItemType = Literal["scale", "choice", "text"]
# How a total is made: the sum of the option codes (PHQ), their mean (PEG), or how many items were
# answered with the `counts` code (the CRPS signs checklist).
ScoreMethod = Literal["sum", "mean", "count"]
DAILY = "daily"


@dataclass(frozen=True)
class Item:
    id: str
    type: ItemType
    options: tuple[str, ...] = ()
    loinc: str | None = None
    # Option labels shared by several items (prompts/messages: scales.<name>.<code>); None: the item's own.
    scale: str | None = None
    # Codes an earlier version of the question offered: no longer a button, still read from the
    # database and from CSV files, and still labelled for staff.
    legacy: tuple[str, ...] = ()
    loinc_answers: tuple[str, ...] = ()  # LOINC answer codes (LA...), in the order of `options`

    def accepts(self, value: str) -> bool:
        """Whether a button's value belongs to this item's scale (callback data is untrusted)."""
        return self.type != "text" and value in self.options


@dataclass(frozen=True)
class Band:
    lowest: int  # the lowest total in the band
    name: str


@dataclass(frozen=True)
class Score:
    total: float  # a whole number for sums and counts; a mean keeps one decimal
    band: str | None  # None for an instrument without published bands

    @property
    def shown(self) -> str:
        return f"{self.total:g}"


@dataclass(frozen=True)
class Scoring:
    method: ScoreMethod = "sum"
    items: tuple[str, ...] = ()  # the items that make the total; empty: every item
    counts: str = "yes"  # for `count`: the answer that counts as present
    loinc: str | None = None  # the total's own code, where LOINC publishes one


@dataclass(frozen=True)
class StepUp:
    """A total of at least `at_least` continues the same day with the longer questionnaire `to`."""

    at_least: int
    to: str


@dataclass(frozen=True)
class CrisisItem:
    """An answer of at least `at_least` to this item is handled as a crisis message is."""

    item: str
    at_least: int


@dataclass(frozen=True)
class Questionnaire:
    id: str
    items: tuple[Item, ...]
    # Offered after a completed daily check-in when none was answered or declined for this many days;
    # None: never offered by itself (the daily diary, or a step-up).
    every_days: int | None = None
    scoring: Scoring | None = None  # None: not scored (the daily diary)
    bands: tuple[Band, ...] = ()
    step_up: StepUp | None = None
    loinc: str | None = None  # the instrument's panel code, where LOINC publishes one
    crisis_item: CrisisItem | None = None

    @classmethod
    def load(cls, name: str = DAILY, directory: Path = PROMPTS_DIR / "questionnaires") -> Questionnaire:
        path = directory / f"{name}.yaml"
        found = path.stat()
        return _read(path, found.st_mtime_ns, found.st_size)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Questionnaire:
        items = []
        for raw in data["items"]:
            if raw["type"] == "scale":
                options = tuple(str(n) for n in range(int(raw["min"]), int(raw["max"]) + 1))
            else:
                options = tuple(str(code) for code in raw.get("options", ()))
            items.append(
                Item(
                    id=raw["id"],
                    type=raw["type"],
                    options=options,
                    loinc=raw.get("loinc"),
                    scale=raw.get("scale"),
                    legacy=tuple(str(code) for code in raw.get("legacy", ())),
                    loinc_answers=tuple(raw.get("loinc_answers", ())),
                )
            )
        score = data.get("score")
        scoring = None
        if score is not None:
            scoring = Scoring(
                method=score.get("method", "sum"),
                items=tuple(str(item) for item in score.get("items", ())),
                counts=str(score.get("counts", "yes")),
                loinc=score.get("loinc"),
            )
        bands = tuple(Band(int(lowest), str(name)) for lowest, name in ((score or {}).get("bands") or {}).items())
        step_up = data.get("step_up")
        crisis_item = data.get("crisis_item")
        questionnaire = cls(
            id=data["id"],
            items=tuple(items),
            every_days=data.get("every_days"),
            scoring=scoring,
            bands=tuple(sorted(bands, key=lambda band: band.lowest)),
            step_up=StepUp(int(step_up["at_least"]), str(step_up["to"])) if step_up else None,
            crisis_item=CrisisItem(str(crisis_item["item"]), int(crisis_item["at_least"])) if crisis_item else None,
            loinc=data.get("loinc"),
        )
        questionnaire._check()
        return questionnaire

    def _check(self) -> None:
        if any(item.loinc_answers and len(item.loinc_answers) != len(item.options) for item in self.items):
            raise ValueError(f"questionnaire {self.id}: loinc_answers has one code per option")
        if self.crisis_item and self.item(self.crisis_item.item) is None:
            raise ValueError(f"questionnaire {self.id}: crisis_item names no item")
        scoring = self.scoring
        if scoring is None:
            return
        if scoring.method not in ("sum", "mean", "count"):
            raise ValueError(f"questionnaire {self.id}: score.method is sum, mean or count")
        if any(self.item(item) is None for item in scoring.items):
            raise ValueError(f"questionnaire {self.id}: score.items names an unknown item")
        counted = self.scored_items
        if scoring.method != "count" and any(not code.isdigit() for item in counted for code in item.options):
            raise ValueError(f"questionnaire {self.id}: a summed or averaged item has numeric option codes")
        if scoring.method == "count" and any(scoring.counts not in item.options for item in counted):
            raise ValueError(f"questionnaire {self.id}: every counted item offers {scoring.counts!r}")

    @property
    def first(self) -> str:
        return self.items[0].id

    def item(self, item_id: str) -> Item | None:
        return next((item for item in self.items if item.id == item_id), None)

    def position(self, item_id: str) -> int:
        return [item.id for item in self.items].index(item_id)

    def after(self, item_id: str) -> str | None:
        """The next item, or None when the summary comes next."""
        index = self.position(item_id) + 1
        return self.items[index].id if index < len(self.items) else None

    def before(self, item_id: str | None) -> str:
        """The previous item (from the summary: the last item); the first item stays where it is."""
        index = len(self.items) if item_id is None else self.position(item_id)
        return self.items[max(index - 1, 0)].id

    @property
    def has_note(self) -> bool:
        return any(item.type == "text" for item in self.items)

    @property
    def scored_items(self) -> tuple[Item, ...]:
        if self.scoring is None:
            return ()
        chosen = self.scoring.items
        return tuple(item for item in self.items if not chosen or item.id in chosen)

    @property
    def highest(self) -> float:
        """The highest total the scoring allows (27 for the PHQ-9): the top of a chart's axis."""
        items = self.scored_items
        if self.scoring is None or not items:
            return 0
        if self.scoring.method == "count":
            return len(items)
        tops = [max(int(code) for code in item.options) for item in items]
        return max(tops) if self.scoring.method == "mean" else sum(tops)

    def score(self, answers: Mapping[str, str]) -> Score | None:
        """The total and its band by the instrument's published rules; None when the questionnaire is not
        scored or an item is unanswered (a partial total would read lower than the patient's state)."""
        scoring, items = self.scoring, self.scored_items
        if scoring is None or any(item.id not in answers for item in items):
            return None
        if scoring.method == "count":
            total: float = sum(answers[item.id] == scoring.counts for item in items)
        else:
            total = sum(int(answers[item.id]) for item in items)
            if scoring.method == "mean":
                total = round(total / len(items), 1)
        bands = [band.name for band in self.bands if band.lowest <= total]
        return Score(total, bands[-1] if bands else None)

    def is_crisis_answer(self, item_id: str, value: str | None) -> bool:
        crisis = self.crisis_item
        return crisis is not None and crisis.item == item_id and value is not None and int(value) >= crisis.at_least


def higher(value: str, than: str | None) -> bool:
    """Whether an answer scores above another one (none given: above 0). A crisis answer higher than the one
    heard says more, and is heard again."""
    return int(value) > int(than or 0)


@cache
def _read(path: Path, modified: int, size: int) -> Questionnaire:
    """Read once while the file stays as it is (its time and size): the settings, every application, alert
    desk and console, and each scheduler tick of a test load the questionnaires. A questionnaire is
    immutable, so one may be shared."""
    return Questionnaire.parse(yaml.load(path.read_text(encoding="utf-8"), Loader=FAST_YAML_LOADER))


class Questionnaires(Mapping[str, Questionnaire]):
    """Every questionnaire in the folder, by id; `daily` is the diary itself."""

    def __init__(self, questionnaires: list[Questionnaire]) -> None:
        self._by_id = {questionnaire.id: questionnaire for questionnaire in questionnaires}
        for questionnaire in questionnaires:
            if questionnaire.step_up and questionnaire.step_up.to not in self._by_id:
                raise ValueError(f"questionnaire {questionnaire.id}: steps up to unknown {questionnaire.step_up.to}")

    @classmethod
    def load(cls, directory: Path = PROMPTS_DIR / "questionnaires") -> Questionnaires:
        return cls([Questionnaire.load(path.stem, directory) for path in sorted(directory.glob("*.yaml"))])

    def __getitem__(self, questionnaire_id: str) -> Questionnaire:
        return self._by_id[questionnaire_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    @property
    def daily(self) -> Questionnaire:
        return self._by_id[DAILY]
