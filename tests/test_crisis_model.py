"""The learned second opinion on crisis language (bot/alerts/crisis_model.py): asked only where no pattern
matches, reading the words as the patterns do (the clinic's exceptions blanked), kept as data trained on the
labelled files as they are; and end to end, a message only it hears is a crisis for the patient and staff."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.alerts import crisis_cache, crisis_model
from bot.alerts.crisis import LEARNED, CrisisLanguage, CrisisLanguageError
from bot.alerts.crisis_model import LearnedModel
from bot.app import crisis_language
from bot.care_team.intake import Heard, Intake
from bot.care_team.text_limits import units
from bot.sandbox import SimulatedUser
from tests.harness import Diary
from tests.test_care_team import alerts, crisis

# The plain samples, and what the diary hears of the two together (their headers give each when it was kept): crises
# heard, at least; ordinary messages that alarm, at most.
SAMPLES = ("crisis_sample.tsv", "crisis_sample_second.tsv")
SAMPLES_HEARD, SAMPLES_ALARMS = 244, 18
PATTERNS = "crisis:\n  wish:\n    - 'want to die'\nnot_crisis:\n  cake:\n    - 'blow out the candles'\n"
# A model that hears candles blown out, and has read the other words of the messages below.
CANDLES = LearnedModel(
    bias=-3.0,
    weights={"w:candle": 2.0, "w:candles": 2.0, "w:blow": 2.0, "c:dle": 5.0}
    | dict.fromkeys(("w:i", "w:am", "w:going", "w:to", "w:out", "w:the", "w:tonight", "w:on", "w:my", "w:with"), 0.0),
    threshold=0.9,
    min_words=4,
)


def with_model(model: LearnedModel | None = CANDLES) -> CrisisLanguage:
    return CrisisLanguage(CrisisLanguage.from_yaml({"en.yaml": PATTERNS}).patterns, model)


def test_the_model_is_asked_only_where_no_pattern_matches_and_hears_the_whole_message() -> None:
    language = with_model()
    assert language.finding("I want to die").pattern.section == "crisis"  # type: ignore[union-attr]
    text = "I am going to blow out the candle tonight"
    found = language.finding(text)
    assert found is not None and found.pattern is LEARNED
    assert language.span(text, found) == (0, len(text)), "the card shows the message from its start"
    assert not with_model(None).matches(text), "without the model, the patterns alone"


def test_the_clinics_exceptions_stay_exceptions_for_the_model() -> None:
    language = with_model()
    assert (
        language.as_read("I am going to blow out the candles on my cake")
        == "i am going to ____ ___ ___ _______ on my cake"
    )
    assert not language.matches("I am going to blow out the candles on my cake with everyone")
    assert language.matches("I am going to blow the candles out tonight with everyone")


def test_a_negation_makes_the_words_after_it_other_words() -> None:
    pieces = crisis_model.features("i am not going to do it tonight", "")
    assert {"w:not", "n:going", "n:to", "n:do", "w:it", "w:tonight"} <= pieces
    assert "w:going" not in pieces
    assert {"w:going", "w:do"} <= crisis_model.features("i am going to do it tonight", "")


def test_too_few_words_it_has_read_are_not_weighed() -> None:
    language = with_model()
    assert not language.matches("blow the candle"), "three words"
    # Pieces of letters alone ("dle") weigh heavily, but only two of these words were ever read.
    assert CANDLES.probability("candle xyzzy qwerty plugh", "") > 0.9
    assert not language.matches("candle xyzzy qwerty plugh")


def test_a_labelled_ordinary_message_the_weights_still_hear_stays_ordinary() -> None:
    text = "I am going to blow the candle out tonight"
    assert with_model().matches(text)
    kept = dataclasses.replace(CANDLES, ordinary=frozenset({with_model().as_read(text)}))
    assert not with_model(kept).matches(text)
    assert not with_model(kept).matches("i am GOING to blow the candle out tonight!"), "read as the patterns read"
    assert with_model(kept).matches("I am going to blow the candle out tonight with everyone")


@functools.cache
def examples_of_the_tests() -> list[tuple[bool, str]]:
    """The tests' examples as the patterns alone judge them (the application's, without the model): worked out once
    for the two tests below, which share a worker (their xdist group)."""
    return crisis_model.examples_of_the_tests(CrisisLanguage(crisis_language().patterns).matches)


@pytest.mark.xdist_group("examples_of_the_tests")
def test_the_model_file_is_trained_on_the_labelled_files_and_patterns_as_they_are() -> None:
    saved = json.loads(crisis_model.MODEL_PATH.read_text(encoding="utf-8"))
    patterns = sorted(crisis_model.MODEL_PATH.parent.glob("*.yaml"))
    examples = examples_of_the_tests()
    expected = crisis_model.fingerprint([*crisis_model.training_files(), *patterns], examples)
    assert saved["trained_on"] == expected, "train it again: uv run python -m bot.alerts.crisis_model"
    assert not LearnedModel.load().changed_since(patterns)


def test_every_labelled_file_is_read_by_the_model_or_kept_blind_from_it() -> None:
    def named(patterns: tuple[str, ...]) -> set[str]:
        return {p.name for pattern in patterns for p in crisis_model.DATA_DIR.glob(pattern)}

    read, blind = named(crisis_model.TRAINED_ON), named(crisis_model.NOT_TRAINED_ON)
    kept = {"crisis_everyday_second.tsv", "crisis_everyday_third.tsv", "crisis_neighbours.tsv", *SAMPLES}
    assert kept <= blind
    assert not read & blind
    assert read | blind == {p.name for p in crisis_model.DATA_DIR.glob("crisis_*.tsv")}, "a new file: which is it?"


def test_the_clinics_model_hears_crises_said_in_ways_no_pattern_lists_and_not_low_mood_or_denials() -> None:
    """Messages of kinds the blind sets showed, in no labelled file word for word (close rewordings are: this guards
    what the model keeps hearing; the blind sets measure how it generalises). The model on its own, so that a round
    of patterns that comes to hear them does not hide what it does."""
    model = LearnedModel.load()
    patterns = CrisisLanguage.load(learned=False)
    crises = [
        "I've said my goodbyes to everyone I love and tonight is the night",
        "The candle has burnt all the way down and tonight I am going to blow it out for good",
        "there won't be a tomorrow for me, I've made up my mind and I'm at peace with it",
        "nobody would notice if I was gone, so tonight I'm going to find out for sure",
        "ya me despedí de todos los que quiero y esta noche es la noche",
        "no va a haber un mañana para mí, ya lo tengo decidido y estoy en paz",
    ]
    heard = [text for text in crises if model.says_crisis(patterns.as_read(text), text)]
    assert len(heard) >= 5, set(crises) - set(heard)
    for text in (
        "my physio says the swelling is down and I can walk to the shop again",
        "la infusión de ketamina fue bien, mañana vuelvo al trabajo",
        "I am not going to do anything tonight, just resting my foot",
        "Sorry I haven't filled in the diary, life got in the way this week",
        "nobody in my family understands the pain, they think I'm lazy",
        "no me voy a tomar todas las pastillas, tranquila, solo estoy harta de tantas",
    ):
        assert not model.says_crisis(patterns.as_read(text), text), text


@pytest.mark.parametrize("name", ["crisis_everyday_second.tsv", "crisis_everyday_third.tsv"])
def test_everyday_messages_it_never_read_rarely_alarm_the_diary(name: str) -> None:
    """Everyday sets kept from the model (the third written blind after it was built): a false alarm here is the
    crisis text sent to a patient who wrote about their day."""
    language = crisis_language()
    messages = [text for _, text in crisis_model.labelled([crisis_model.DATA_DIR / name])]
    alarms = [text for text in messages if language.matches(text)]
    assert len(messages) >= 400 and len(alarms) <= len(messages) // 100, alarms


def test_the_plain_samples_no_round_has_read_are_heard_as_well_as_when_they_were_kept() -> None:
    """The plain samples (a year's messages of a clinic, written blind twice) are kept from every round of patterns and
    from training: how much of them the diary hears is how it hears words nobody tuned it on. A change that hears less
    of them, or alarms on more of their ordinary messages, fails here. They are held together, as one measure: a model
    trained again moves a message near its threshold from one side to the other in either. The failure names no
    message, so that no pattern is written from their misses."""
    language = crisis_language()
    messages = crisis_model.labelled([crisis_model.DATA_DIR / name for name in SAMPLES])
    crises = [text for crisis, text in messages if crisis]
    ordinary = [text for crisis, text in messages if not crisis]
    heard = sum(language.matches(text) for text in crises)
    alarms = sum(language.matches(text) for text in ordinary)
    figures = f"{heard}/{len(crises)} crises heard, {alarms}/{len(ordinary)} ordinary messages alarmed"
    assert heard >= SAMPLES_HEARD and alarms <= SAMPLES_ALARMS, figures


def test_training_gives_the_same_model_from_the_same_messages_and_learns_from_them() -> None:
    rows = [(True, "i will end it tonight"), (True, "going to end my life"), (False, "i will end the call")]
    rows += [(False, "the physio went well today"), (False, "pain is bad tonight")]
    first = crisis_model.train(rows, str.lower, steps=200)
    assert first == crisis_model.train(rows, str.lower, steps=200)
    assert first.probability("end my life tonight", "") > 0.5 > first.probability("the physio call went well", "")


@pytest.mark.xdist_group("examples_of_the_tests")
def test_the_tests_examples_are_read_with_the_patterns_verdicts() -> None:
    examples = examples_of_the_tests()
    verdicts = dict((text, crisis) for crisis, text in examples)
    assert verdicts["I want to die"] is True
    assert verdicts["I'm going to die"] is False
    assert len(verdicts) > 1000


def test_a_model_file_that_cannot_be_read_stops_the_start_and_names_it(tmp_path: Path) -> None:
    (tmp_path / "en.yaml").write_text(PATTERNS, encoding="utf-8")
    assert CrisisLanguage.load(tmp_path).learned is None, "a folder of patterns without a model: patterns alone"
    (tmp_path / "learned.json").write_text('{"bias": 1.0, "weights": [', encoding="utf-8")
    with pytest.raises(CrisisLanguageError, match=r"learned\.json"):
        CrisisLanguage.load(tmp_path)
    assert CrisisLanguage.load(tmp_path, learned=False).learned is None


def test_a_model_trained_before_the_patterns_changed_is_still_asked_and_the_clinic_told(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "en.yaml").write_text(PATTERNS, encoding="utf-8")
    trained = crisis_model.fingerprint([tmp_path / "en.yaml"], [])
    crisis_model.save(dataclasses.replace(CANDLES, trained_on=trained), tmp_path / "learned.json")
    with caplog.at_level(logging.WARNING):
        assert CrisisLanguage.load(tmp_path).learned is not None
    assert not caplog.records
    (tmp_path / "en.yaml").write_text(PATTERNS + "    - 'wish i was dead'\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert CrisisLanguage.load(tmp_path).matches("I am going to blow the candle out tonight")
    assert [r.getMessage() for r in caplog.records] == [
        "crisis language: the learned model was trained before en.yaml changed; train it again "
        "(python -m bot.alerts.crisis_model)"
    ]


def test_the_compiled_patterns_read_back_come_with_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "crisis"
    folder.mkdir()
    (folder / "en.yaml").write_text(PATTERNS, encoding="utf-8")
    crisis_model.save(CANDLES, folder / "learned.json")
    compiled = crisis_cache.load(folder, folder=tmp_path)
    monkeypatch.setattr(CrisisLanguage, "load", None)  # read back, not compiled: calling it would fail
    read_back = crisis_cache.load(folder, folder=tmp_path)
    assert compiled.learned == read_back.learned == CANDLES
    assert read_back.matches("I am going to blow the candle out tonight")


def test_a_long_message_only_the_model_hears_is_shown_on_the_card_from_its_start() -> None:
    """No words of it stand out, so a card too small for all of it shows its beginning, not "…" and the beginning."""
    routine = " ".join(["Pain 6 today, physio went fine and the swelling is down a little."] * 12)
    text = f"I am going to blow the candle out tonight. {routine}"
    shown = Intake._passage(SimpleNamespace(crisis_language=with_model()), Heard(text), 200)  # type: ignore[arg-type]
    assert shown.startswith("I am going to blow the candle out tonight") and shown.endswith("…"), shown
    assert units(shown) <= 200


async def test_a_crisis_only_the_model_hears_is_a_crisis_for_the_patient_and_staff(diary: Diary) -> None:
    text = "I've said my goodbyes to everyone I love, and by the morning it will all be done"
    found = crisis_language().finding(text)  # the application's
    assert found is not None and found.pattern is LEARNED, "a pattern hears it now: choose words only the model hears"
    ben = SimulatedUser(diary.standin, 301, "Ben")
    await diary.enrol(ben)
    card = await crisis(diary, ben, text)
    assert card.caption is not None and "by the morning it will all be done" in card.caption
    assert [a.rule for a in await alerts(diary)] == ["crisis_text"]
