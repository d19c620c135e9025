"""The crisis language matcher: its recall and false alarms on a labelled corpus, the normalisation it
reads messages with, the decision on denials, the pattern language, and the loader's errors."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.alerts.crisis import CrisisLanguage, CrisisLanguageError, normalise, word_spans
from bot.app import crisis_language
from bot.prompts import PROMPTS_DIR

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "crisis_messages.tsv"
# The corpus the patterns were written with, and sets written by people who never saw the patterns
# (their headers give the figures measured before the patterns saw them).
LABELLED = [CORPUS, *sorted(DATA.glob("crisis_heldout_*.tsv"))]
LANGUAGES = ("en", "es")
MIN_RECALL = 0.95
# Up to 7%: the seventeenth set keeps 4 of its 65 English ordinary messages as false alarms, because the exceptions
# that quieted them hid crises said after their words (test_crises_said_after_the_words_of_an_exception_...).
MAX_FALSE_ALARMS = 0.07


@dataclass(frozen=True)
class Labelled:
    line: int
    crisis: bool
    language: str
    text: str


def read_corpus(path: Path = CORPUS) -> list[Labelled]:
    """label<TAB>language<TAB>text, one message a line; '#' lines and blank lines are skipped."""
    messages = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        label, language, text = line.split("\t")
        assert label in ("crisis", "ordinary") and language in LANGUAGES and text.strip(), f"line {number}: {line!r}"
        messages.append(Labelled(number, label == "crisis", language, text))
    return messages


@pytest.fixture(scope="module")
def language() -> CrisisLanguage:
    """The clinic's patterns, compiled once per process as the bot does, without the learned model that the bot asks
    where none matches (tests/test_crisis_model.py): these tests hold the patterns to what they hear on their own."""
    return CrisisLanguage(crisis_language().patterns)


# -- the labelled corpus


def test_the_corpus_has_enough_messages_of_each_kind_in_both_languages() -> None:
    messages = read_corpus()
    assert sum(m.crisis for m in messages) >= 150 and sum(not m.crisis for m in messages) >= 100
    for code in LANGUAGES:
        assert {m.crisis for m in messages if m.language == code} == {True, False}, code
    texts = [m.text for m in messages]
    assert len(set(texts)) == len(texts), "a message is in the corpus twice"


@pytest.mark.parametrize("path", LABELLED, ids=[path.stem for path in LABELLED])
def test_recall_on_crisis_messages_and_false_alarms_on_ordinary_ones(
    language: CrisisLanguage, capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    messages = read_corpus(path)
    wrong = [m for m in messages if language.matches(m.text) is not m.crisis]
    lines, failures = [], []
    for code in (*LANGUAGES, "all"):
        subset = [m for m in messages if code in ("all", m.language)]
        crisis = [m for m in subset if m.crisis]
        ordinary = [m for m in subset if not m.crisis]
        recall = 1 - sum(m in wrong for m in crisis) / len(crisis)
        false_alarms = sum(m in wrong for m in ordinary) / len(ordinary)
        lines.append(
            f"  {code:>3}: recall {recall:.3f} on {len(crisis)} crisis messages, "
            f"false alarms {false_alarms:.3f} on {len(ordinary)} ordinary ones"
        )
        if recall < MIN_RECALL or false_alarms > MAX_FALSE_ALARMS:
            failures.append(code)
    with capsys.disabled():
        print(f"\ncrisis language on tests/data/{path.name}\n" + "\n".join(lines))
    missed = [f"  line {m.line} ({m.language}) missed: {m.text}" for m in wrong if m.crisis]
    alarms = []
    for m in wrong:
        found = language.finding(m.text)
        if not m.crisis and found is not None:
            alarms.append(f"  line {m.line} ({m.language}) false alarm: {m.text}\n      by {found.pattern}")
    assert not failures, "\n".join(
        [f"below recall {MIN_RECALL} or above false alarms {MAX_FALSE_ALARMS}: {failures}", *lines, *missed, *alarms]
    )


def test_everyday_messages_do_not_alarm(language: CrisisLanguage) -> None:
    """What patients send day after day (scores, appointments, side effects, venting, thanks), written by people
    who never saw the patterns: a false alarm here is a crisis text sent to a patient who wrote "bad night"."""
    messages = read_corpus(DATA / "crisis_everyday.tsv")
    assert len(messages) >= 700 and not any(m.crisis for m in messages)
    alarms = [
        f"  line {m.line}: {m.text} (by {language.finding(m.text)})" for m in messages if language.matches(m.text)
    ]
    assert len(alarms) <= len(messages) // 200, "\n".join(alarms)  # at most 1 in 200


# -- reading a message: case, accents, invisible characters, apostrophes, punctuation


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("I WANT to DIE", "i want to die"),
        ("Quiero MORIR, ¿sabés?", "quiero morir sabes"),
        ("ojalá no despertar mañana", "ojala no despertar manana"),
        ("hacerme daño", "hacerme dano"),
        ("SUÏCIDE", "suicide"),
        ("sui\u200bcide", "suicide"),  # zero-width space
        ("ki\u00adll my\u200dself\ufeff", "kill myself"),  # soft hyphen, zero-width joiner, byte order mark
        ("don't", "dont"),
        ("don\u2019t", "dont"),  # typographic apostrophe
        ("I\u00b4m", "im"),  # acute accent typed as an apostrophe
        ("can`t", "cant"),
        ("self-harm...   again!!", "self harm again"),
        ("  tabs\tand\nnew lines  ", "tabs and new lines"),
        ("", ""),
    ],
)
def test_normalise_folds_case_accents_invisible_characters_apostrophes_and_punctuation(
    text: str, normalised: str
) -> None:
    assert normalise(text) == normalised


@given(st.text(alphabet="aé\u0301ñ'’ \u200b.,-_😣💀💊½ßİ1", max_size=60))
def test_word_spans_find_in_the_text_the_words_normalise_reads(text: str) -> None:
    words, spans = normalise(text).split(), word_spans(text)
    if len(spans) == len(words):
        assert [normalise(text[start:end]) for start, end in spans] == words
    else:  # a character normalise reads as two words (½ is 1, 2): the caller shows the start of the message
        assert any(char in text for char in "½")


def test_the_span_of_a_finding_is_where_the_words_were_written(language: CrisisLanguage) -> None:
    text = "Hand swollen, pain 8.  Honestly I’ve DECIDED to end my life — this weekend."
    found = language.finding(text)
    assert found is not None
    where = language.span(text, found)
    assert where is not None and "end my life" in text[where[0] : where[1]]


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I want to die", True),
        ("i WANT   to DIE", True),
        ("Quiero morirme", True),
        ("no puedo más", True),
        ("I can’t go on like this", True),
        ("sui\u200bcide", True),  # a zero-width space does not hide a word
        ("i want to ki\ufe0fll mys\U000e0041elf", True),  # nor a variation selector or a tag character
        ("quiero mo\u3164rir", True),  # nor a filler
        ("I WANNA DIEEEE", True),  # nor do capitals and repeated letters
        ("QUIERO MORIRMEEE", True),
        ("I want to diet", False),
        ("pain 8 today, the dye test was fine", False),
        ("", False),
        ("!!! ...", False),
    ],
)
def test_crisis_words_are_found_whole_ignoring_case_accents_and_invisible_characters(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


# -- denials. Decision: a denial that governs the crisis words themselves ("I'm not suicidal", "I would
# never hurt myself", "no quiero morir") is not a crisis; hedges are; and a denial does not cancel other
# crisis words in the same message.


@pytest.mark.parametrize(
    "text",
    [
        "I'm not suicidal, just exhausted",
        "i would never hurt myself",
        "I don't want to die, I want the pain to stop",
        "I'm not going to kill myself, don't worry",
        "no suicidal thoughts",
        "no quiero morir",
        "nunca me haría daño",
        "no estoy pensando en suicidarme",
        "no soy suicida",
        "no tengo ideas de suicidio",
    ],
)
def test_an_explicit_denial_is_not_a_crisis(language: CrisisLanguage, text: str) -> None:
    assert not language.matches(text)


@pytest.mark.parametrize(
    "text",
    [
        "I'm not suicidal but I keep thinking about jumping off the bridge",
        "I don't want to die, but I don't want to live like this either",
        "no quiero morir pero ya no quiero vivir así",
        "not sure I want to be alive",
        "I'm not saying I want to die",
        "not suicidal yet",
        "I'm not going to kill myself tonight",
        "I can't kill myself because of my kids",
        "no sé si quiero seguir viviendo",
    ],
)
def test_a_hedge_or_a_denial_next_to_other_crisis_words_is_a_crisis(language: CrisisLanguage, text: str) -> None:
    assert language.matches(text)


@pytest.mark.parametrize(
    "text",
    [
        "I'd kill for a coffee",
        "this pain is killing me",
        "dying to see my grandkids",
        "dead tired",
        "the cake was to die for",
        "my phone died",
        "new painkillers",
        "killing time at the clinic",
        "cut myself shaving",
        "me muero de ganas de verte",
        "me muero de hambre",
        "me mata el dolor",
        "muerto de cansancio",
        "matar el tiempo",
        "me corté cocinando",
    ],
)
def test_figures_of_speech_are_not_a_crisis(language: CrisisLanguage, text: str) -> None:
    assert not language.matches(text)


@pytest.mark.parametrize("quarter", range(4))
def test_skipping_patterns_a_message_cannot_match_never_changes_a_decision(
    language: CrisisLanguage, quarter: int
) -> None:
    # `matches` only tries the patterns whose rarest required words the message holds; trying every
    # pattern on every corpus message, as written (with the exceptions found without its fillers), then read the
    # second way, then without its fillers, must decide the same.
    # In quarters of the corpus, which the test processes share: trying every pattern is slow.
    from bot.alerts.crisis import _Message, answering_noes, second_reading

    # A pattern whose first set of required words the message lacks cannot match (the first thing `_Message.matches`
    # checks): left out in one pass over the patterns, where a call for each was most of this test's time.
    crisis = [(pattern, pattern.needs[0] if pattern.needs else frozenset()) for pattern in language.crisis]

    def every_pattern(
        text: str, answering: frozenset[int] = frozenset(), excepted: list[tuple[int, int]] | None = None
    ) -> bool:
        message = _Message(normalise(text), language._read_word, language._read, text, answering)
        if any(message.matches(pattern, first=True) for pattern in language.crisis_before_exceptions):
            return True
        denied = [found.span() for pattern in language.not_crisis for found in message.matches(pattern)]
        denied += [(message.offset(n), message.offset(n) + len(message.tokens[n])) for n in answering]
        denied += [(message.offset(a), message.offset(b) + len(message.tokens[b])) for a, b in excepted or []]
        if denied:
            message.blank(denied)
        present = message.present
        possible = [pattern for pattern, needs in crisis if not needs or not needs.isdisjoint(present)]
        return any(message.matches(pattern, first=True) for pattern in possible)

    for m in read_corpus()[quarter::4]:
        plain, near, kept = language._without_fillers(m.text)
        decided = every_pattern(m.text)
        if decided and near:
            decided = every_pattern(m.text, excepted=language._excepted(plain, near, kept))
        if not decided and language._worth_reading_again(m.text, normalise(m.text)):
            second = second_reading(m.text, language._split, language._known)
            decided = every_pattern(second, answering_noes(m.text, second))
            plain, near, _ = language._without_fillers(second)
        if not decided and near:
            decided = every_pattern(plain, answering_noes(m.text, plain))
        assert decided is language.matches(m.text), f"line {m.line}: {m.text}"


def test_every_language_is_checked_against_every_message(language: CrisisLanguage) -> None:
    found = language.finding("pain 8 today. quiero morirme")
    assert found is not None and found.pattern.source.endswith("es.yaml")


# -- the pattern language


def one_file(*crisis: str, not_crisis: tuple[str, ...] = (), words: str = "") -> CrisisLanguage:
    text = "words:\n" + (words or "  none: [nothing]\n") + "crisis:\n  tested:\n"
    text += "".join(f"    - '{pattern}'\n" for pattern in crisis)
    if not_crisis:
        text += "not_crisis:\n  tested:\n" + "".join(f"    - '{pattern}'\n" for pattern in not_crisis)
    return CrisisLanguage.from_yaml({"test.yaml": text})


@pytest.mark.parametrize(
    ("patterns", "text", "crisis"),
    [
        (("want to die",), "i really want to die", True),
        (("want to die",), "want to dine", False),  # whole words only
        (("want ~ die",), "want so very much to die", False),  # ~ is up to 3 words
        (("want ~ die",), "want so much to die", True),
        (("want ~5 die",), "want so very much to die", True),
        (("(want|wish) to? die",), "wish die", True),
        (("(want|wish) to? die",), "need to die", False),
        (("suicid*",), "feeling suicidal", True),
        (("kill myself !laughing",), "nearly kill myself laughing", False),
        (("kill myself !laughing",), "i will kill myself", True),
        (("cant go on $",), "i cant go on", True),
        (("cant go on $",), "i cant go on the bus", False),
        (("cant go on (like this|$)",), "cant go on like this", True),
        (("cant go on (like this|$)",), "cant go on holiday", False),
        (("{want} to die",), "wanna to die", True),
        (("self-harm",), "self harm", True),  # pattern words are normalised like messages
        (("daño",), "dano", True),
        (("kill",), "kiiilll", True),  # repeated letters count once, in both
        (("!dont want to die",), "i want to die", True),  # a leading ! : not just after these words
        (("!dont want to die",), "i dont want to die", False),
        (("!dont want to die",), "dont really want to die", True),  # only just after
        (("!(dont|do not) {want} to die",), "i do not wish to die", False),
        (("!(dont|do not) {want} to die",), "idont want to die", True),  # whole words before
        (("!dont want to die",), "dont want to dine but want to die", True),
        (("!dont want to die",), "I dont. Want to die", True),  # only in the same clause
        (("!dont want to die",), "dont, want to die", True),
        (("!dont want to die",), "dont \u2014 want to die", True),
        (("!(do not|not) want to die",), "I do. Not want to die", False),  # "not" alone is in the clause
        (("!(dont|do not) want to die",), "I do not want to die.", False),
        (("want to die &now",), "i want to die now", True),  # &: followed by, not part of the match
        (("want to die &now",), "i want to die", False),
        (("^ tonight $",), "Tonight.", True),  # ^: the start of the message
        (("^ tonight $",), "see you tonight", False),
        (("^ (its|it is)? tonight $",), "it is tonight", True),
        (("want to die", "^ want to die"), "i want to die", True),
    ],
)
def test_the_pattern_language(patterns: tuple[str, ...], text: str, crisis: bool) -> None:
    language = one_file(*patterns, words="  want: [want, wanna, wish]\n")
    assert language.matches(text) is crisis


def test_a_not_crisis_match_blanks_only_its_own_words() -> None:
    language = one_file("suicidal", "want to die", not_crisis=("not suicidal",))
    assert not language.matches("im not suicidal")
    assert language.matches("im not suicidal but i want to die")
    assert language.matches("not suicidal and also suicidal")


def test_a_finding_names_the_pattern_and_the_words() -> None:
    found = one_file("want ~ die").finding("Some days I really WANT to die.")
    assert found is not None and found.words == "want to die"
    assert str(found.pattern) == "test.yaml: crisis.tested: want ~ die"


# -- loading the files


def test_the_clinic_files_load_and_every_pattern_can_match_something(language: CrisisLanguage) -> None:
    sources = {p.source for p in language.crisis}
    assert sources == {str(PROMPTS_DIR / "crisis" / "en.yaml"), str(PROMPTS_DIR / "crisis" / "es.yaml")}
    assert len(language.crisis) > 100 and language.not_crisis
    # Each pattern's expression is compiled when a message first needs it: every one of them compiles.
    for pattern in language.crisis + language.not_crisis + language.follow_up:
        assert pattern.regex.pattern == pattern.expression
        assert pattern.before is None or pattern.before.pattern == pattern.before_expression


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


GOOD = "crisis:\n  outright:\n    - 'want to die'\n"


def test_only_yaml_files_directly_in_the_folder_are_read(tmp_path: Path) -> None:
    write(tmp_path, "en.yaml", GOOD)
    write(tmp_path, "replies/en.yaml", "crisis: [this is : not {a valid file\n")
    write(tmp_path, "replies/es.yaml", "crisis:\n  other:\n    - 'hello'\n")
    write(tmp_path, "notes.txt", "crisis: ((")
    language = CrisisLanguage.load(tmp_path)
    assert language.matches("I want to die") and not language.matches("hello")
    assert {p.source for p in language.crisis} == {str(tmp_path / "en.yaml")}


def test_a_folder_without_definitions_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "replies/en.yaml", GOOD)
    with pytest.raises(CrisisLanguageError, match="no crisis language files"):
        CrisisLanguage.load(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("crisis:\n  broken:\n    - 'want (to die'\n", "'(' without its ')'"),
        ("crisis:\n  broken:\n    - 'want to die)'\n", "unexpected ')'"),
        ("crisis:\n  broken:\n    - '{wish} to die'\n", "no word group named {wish}"),
        ("crisis:\n  broken:\n    - 'want ~20 die'\n", "a gap skips 1 to 8 words"),
        ("crisis:\n  broken:\n    - 'want? to?'\n", "every part is optional"),
        ("crisis:\n  broken:\n    - 'want? !to die'\n", "must come after a required word"),
        ("crisis:\n  broken:\n    - '!want* to die'\n", "a leading '!' takes whole words"),
        ("crisis:\n  broken:\n    - '!(dont ~ really) want to die'\n", "a leading '!' takes words only"),
        ("crisis:\n  broken:\n    - '!(dont|really?) want to die'\n", "may all be missing"),
        ("crisis:\n  broken:\n    - 'want (? to) die'\n", "'?' must follow"),
        ("crisis:\n  broken:\n    - 'su*cide'\n", "'*' may only end a word"),
        ("crisis:\n  broken:\n    - 'want () die'\n", "an empty choice"),
        ("crisis:\n  broken:\n    - 'want ... die'\n", "has no letters or digits"),
        ("crisis:\n  broken:\n    - '$ want'\n", "must come after a required word"),
        ("crisis:\n  broken:\n    - 'want ^ die'\n", "'^' (the start of the message) must come first"),
        ("crisis:\n  broken:\n    - 'ok (^ tonight|soon)'\n", "'^' (the start of the message) must begin the pattern"),
        ("crisis:\n  broken:\n    - '&now die'\n", "'&' must follow words"),
    ],
)
def test_a_bad_pattern_is_refused_naming_the_file_and_the_pattern(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "es.yaml", text)
    with pytest.raises(CrisisLanguageError) as error:
        CrisisLanguage.load(tmp_path)
    assert str(error.value).startswith(f"{path}: crisis.broken: pattern '") and message in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("crisis: [unclosed\n", "not readable YAML"),
        ("- a list\n", "expected the sections"),
        ("phrases:\n  - want to die\n", "unknown section 'phrases'"),
        ("crisis:\n  - want to die\n", "crisis: expected named entries"),
        ("crisis:\n  nested:\n    deeper: 'want'\n", "crisis.nested: expected a text or a list of texts"),
        ("words:\n  a: ['{b}']\n  b: ['{a}']\n" + GOOD, "the word group {a} uses itself: a -> b -> a"),
        ("words:\n  a: []\n" + GOOD, "words.a: the word group {a} is empty"),
        ("words:\n  a: ['(x']\n" + GOOD, "words.a: in word group {a}, '(x': a '(' without its ')'"),
        ("words:\n  a: ['a? !x']\n" + GOOD, "words.a: '!' and '$' must come after a required word"),
        ("not_crisis:\n  only:\n    - 'fine'\n", "no crisis patterns"),
        # YAML keeps the last of two entries of one name: the first group's patterns would silently change.
        ("words:\n  a: [x]\n  a: [y]\n" + GOOD, "'a' is named twice"),
        (GOOD + "  outright:\n    - 'want to be dead'\n", "'outright' is named twice"),
    ],
)
def test_a_bad_file_is_refused_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "en.yaml", text)
    with pytest.raises(CrisisLanguageError) as error:
        CrisisLanguage.load(tmp_path)
    assert message in str(error.value)
    if "no crisis patterns" not in message:
        assert str(error.value).startswith(str(path))


@pytest.mark.parametrize(("written", "read"), [("tonite", "tonight"), ("2moro", "tomorrow"), ("voi", "voy")])
def test_a_pattern_word_that_every_message_reads_as_another_is_refused(tmp_path: Path, written: str, read: str) -> None:
    """A message's "tonite" is read "tonight", unless a pattern needs "tonite": then every other pattern's "tonight"
    stopped hearing it ("end it tonite" went unheard when a new pattern listed "tonite" beside "tonight")."""
    path = write(tmp_path, "en.yaml", GOOD + f"  texted:\n    - 'end it ({read}|{written})'\n")
    with pytest.raises(CrisisLanguageError) as error:
        CrisisLanguage.load(tmp_path)
    assert str(error.value).startswith(f"{path}: crisis.texted: pattern '")
    assert f"'{written}' is read as '{read}'" in str(error.value)


def test_a_word_group_may_end_the_message() -> None:
    language = CrisisLanguage.from_yaml(
        {"en.yaml": "words:\n  end: [now, $]\ncrisis:\n  t:\n    - 'want to die {end}'\n"}
    )
    assert language.matches("i want to die") and language.matches("want to die now")
    assert not language.matches("want to die soon")


def test_a_pattern_tried_before_the_exceptions_is_heard_where_an_exception_would_blank_its_words() -> None:
    language = CrisisLanguage.from_yaml(
        {
            "en.yaml": "crisis:\n  wish:\n    - 'wants to die'\n"
            "crisis_before_exceptions:\n  carer:\n    - 'daughter here ~4 she wants to die'\n"
            "not_crisis:\n  news:\n    - 'she wants to die'\n"
        }
    )
    assert not language.matches("my mum says she wants to die")
    finding = language.finding("her daughter here, mum says she wants to die")
    assert finding is not None and finding.pattern.section == "crisis_before_exceptions"


@pytest.mark.parametrize(
    ("text", "follows_up"),
    [
        ("already took them", True),
        ("it's done", True),
        ("tonight", True),
        ("I'm serious", True),
        ("with my pills", True),
        ("look after the dog", True),
        ("ya me las tomé", True),
        ("esta noche", True),
        ("lo digo en serio", True),
        ("no es broma", True),
        ("not tonight", False),
        ("see you tonight", False),
        # Answers to the care team, and denials, however soon after.
        ("I haven't taken them", False),
        ("no me las he tomado", False),
        ("I'm not going to do it tonight", False),
        ("I did it, I rang the crisis line like you said", False),
        ("ya lo hice, llamé al 024", False),
        ("tomorrow", False),
        ("mañana", False),
        ("thank you for everything", False),
        ("can I take ibuprofen with the gabapentin?", False),
        ("ok thanks", False),
        ("I'm fine now, sorry", False),
        ("thanks for everything, I feel safer now", False),
        ("my hand is purple again", False),
        ("vale, gracias", False),
        # Read a second way, as crisis words are: digits and signs for letters, letters spelt out.
        ("t0night", True),
        ("d o n e", True),
        ("alr3ady t00k th3m", True),
        ("e s t a  n o c h e", True),
        ("see you t0night", False),
        ("b12 tonight?", False),
    ],
)
def test_words_that_follow_up_a_crisis_are_read_apart_from_the_crisis_patterns(
    language: CrisisLanguage, text: str, follows_up: bool
) -> None:
    """A follow_up pattern alone makes no crisis: only just after one (bot/care_team/intake.py, FOLLOW_UP)."""
    assert language.follows_up(text) is follows_up
    assert not language.matches(text)


def test_yaml_words_such_as_no_and_off_stay_words() -> None:
    # YAML 1.1 would read these as false: the loader keeps every value as text.
    language = CrisisLanguage.from_yaml(
        {"es.yaml": "words:\n  neg: [no, off, yes, on]\ncrisis:\n  t:\n    - '{neg} vivir'\n"}
    )
    assert language.matches("ya no vivir") and language.matches("off vivir")


# -- words typed without their spaces, as in a hashtag or a hurried message


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I want to killmyself", True),
        ("iwanttodie", True),
        ("Iwant to die tonight", True),
        ("wannadie", True),
        ("going to end mylife", True),
        ("quieromorir", True),
        ("mequieromatar", True),
        ("noquierovivir", True),
        ("yanoquiero vivir", True),
        ("i would never killmyself", False),
        ("iwant to die my hair", False),
        ("iwant to go home", False),
        ("noquiero vivir en esta ciudad", False),
    ],
)
def test_words_run_together_are_read(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("i want to k!ll myself", True),
        ("I want to k*ll myself", True),
        ("I want to ki11 myself", True),
        ("i wanna d!e tonight", True),
        ("I want to d!e my hair", False),
    ],
)
def test_a_letter_typed_as_a_sign_or_a_digit_is_read(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("no quiero vibir", True),
        ("ya no kiero bibir", True),
        ("me qiero matar", True),
        ("quiero morri", True),
        ("i wnat to die", True),
        ("no quiero vibir en esta ciudad", False),
        ("i wnat to die my hair", False),
    ],
)
def test_common_misspellings_are_read(language: CrisisLanguage, text: str, crisis: bool) -> None:
    """b for v in Spanish ("bibir"), a letter dropped or two swapped ("qiero", "morri", "wnat")."""
    assert language.matches(text) is crisis


# -- letters in disguise: another script's letters drawn as Latin ones, small capitals, letters in boxes or
# flags, letters typed as digits or signs anywhere in a phrase, words spelt out a letter at a time


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("i want to k\u0456ll mys\u0435lf", True),  # Cyrillic i and e
        ("\u0456 w\u0430nt t\u043e d\u0456e", True),  # Cyrillic i, a, o
        ("I WANT TO KILL MYS\u0415LF", True),  # Cyrillic E
        ("i want to \u03baill myself", True),  # Greek kappa
        ("quiero m\u043er\u0456r", True),
        ("i want to k\u0131ll myself", True),  # dotless i
        ("i want to \u1d05\u026a\u1d07", True),  # small capitals d, i, e
        ("i want to \U0001f173\U0001f178\U0001f174", True),  # 🅳🅸🅴
        ("i want to \u1d4f\u1da6\u02e1\u02e1 \u1d50\u02b8\u02e2\u1d49\u02e1\u1da0", True),  # "tiny text": superscripts
        ("i want to k1ll mys3lf", True),
        ("su1c1d3 is all i think about", True),
        ("i want to kiII myself", True),  # capital I for l
        ("I'd kiII for a coffee", False),
        ("my iPhone and McIntosh apple", False),
        ("\u0456 would never k\u0456ll mys\u0435lf", False),
        ("Спасибо, боль 5 из 10", False),  # Russian is read, and is not English
        ("took 2x500mg at 4am, Vitamin B12 and D3", False),
        ("I'd k1ll for a coffee", False),
    ],
)
def test_letters_that_look_latin_or_are_typed_as_digits_are_read(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("k.i.l.l m.y.s.e.l.f", True),
        ("i want to d i e", True),
        ("i w a n t  t o  d i e", True),  # wider spaces between the words than between the letters
        ("I want to d*i*e tonight", True),
        ("i want to d_i_e", True),
        ("i want to k\U0001f64fi\U0001f64fl\U0001f64fl myself", True),  # an emoji between the letters
        ("quiero m.o.r.i.r", True),
        ("me quiero m a t a r", True),
        ("i want to d i e t", False),
        ("i l o v e y o u", False),
        ("r.i.p. grandad, the funeral is on friday", False),
        ("k i l l i n g  m y s e l f  l a u g h i n g", False),
    ],
)
def test_words_spelt_out_a_letter_at_a_time_are_read(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # A word of one letter before the spelling is not its first letter: "voy a m a t a r" spells "matar".
        ("me voy a m a t a r", True),
        ("voy a s u i c i d a r m e", True),
        ("quiero a h o r c a r m e", True),
        ("i wanna k i l l myself, i d i e inside", True),
        ("a b c d exercises done", False),
        ("voy a m a n d a r la foto", False),
    ],
)
def test_a_word_of_one_letter_before_a_spelling_is_left_out_of_it(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # A vowel hidden behind a star is read as the one that makes a crisis word: patients mask the word they fear.
        ("quiero m*rirme ya", True),
        ("me voy a m*tar esta noche", True),
        ("quiero ah*rcarme", True),
        ("me quiero qu*tar la vida", True),
        ("gonna h*ng myself", True),
        ("i want to k*ll mys*lf", True),
        ("this is sh*t, i want to d*e", True),
        # A star hides a swear far more often: "sh*t myself" is no shot, "h*ll" no hall.
        ("I nearly sh*t myself laughing", False),
        ("what the h*ll is this pain, 8/10", False),
        ("m*erda de dolor, 8/10", False),
        ("la p*ta madre que dolor", False),
    ],
)
def test_a_vowel_hidden_behind_a_star_is_read(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Pain 6 today. " * 300 + "honestly i want to k.i.l.l m.y.s.e.l.f tonight", "k.i.l.l m.y.s.e.l.f"),
        ("Pain 6 today. " * 300 + "i want to k1ll mys3lf", "k1ll mys3lf"),
        ("Pain 6 today. " * 300 + "i want to k\u0456ll mys\u0435lf", "k\u0456ll mys\u0435lf"),
        ("Pain 6 today. " * 300 + "honestly i want to 💀💀 tonight", "want to 💀💀"),
        ("Pain 6 today. " * 300 + "i want to ki ll myself", "ki ll myself"),
        ("Dolor 6 hoy. " * 300 + "quiero m*rirme ya", "quiero m*rirme"),
        ("Dolor 6 hoy. " * 300 + "me voy a m a t a r", "me voy a m a t a r"),
    ],
)
def test_the_span_of_words_in_disguise_is_where_they_were_written(
    language: CrisisLanguage, text: str, shown: str
) -> None:
    """A long message's card shows the passage around its crisis words: found where they were written."""
    found = language.finding(text)
    assert found is not None
    where = language.span(text, found)
    assert where is not None and text[where[0] : where[1]] == shown


# -- tenses and moods that still speak of the patient: thoughts "a lot" about it, near attempts, a plan held
# back by one thing, a day decided; self-harm "on purpose" that a figure of speech had taken for an accident


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("been thinking a lot about ending things lately", True),
        ("i have been thinking so much about ending it", True),
        ("last night I nearly ended it", True),
        ("I came so close to ending it all on Sunday", True),
        ("I almost took all my pills last night", True),
        ("I'd end it if it weren't for my dog", True),
        ("i would end it all if i had the courage", True),
        ("i've decided today is the day", True),
        ("i burned myself on purpose", True),
        ("I burnt myself on purpose again", True),
        ("voy a acabar con esto esta noche", True),
        ("anoche casi acabo con todo", True),
        ("I nearly ended it with him last night", False),
        ("I nearly finished it before the deadline", False),
        ("i almost took all my pills twice, the pharmacy label is confusing", False),
        ("i decided today is the day i start walking again", False),
        ("i burned myself on the oven", False),
        ("voy a acabar con esto esta noche y me voy a dormir", False),
        ("casi acabo con todo el trabajo", False),
    ],
)
def test_thoughts_near_attempts_and_plans_in_any_tense_are_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


# -- not safe with oneself, and what pushes one to it: a classic question of a crisis assessment


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("i can't keep myself safe tonight", True),
        ("I'm not safe", True),
        ("I don't trust myself with my meds anymore", True),
        ("i asked my mum to lock away my tablets so i dont do anything", True),
        ("no sé si podré mantenerme a salvo esta noche", True),
        ("no me siento segura conmigo misma", True),
        ("mi marido ha escondido mis pastillas por si hago una tontería", True),
        ("something keeps telling me to end it", True),
        ("el dolor hace que quiera acabar con todo", True),
        ("im not safe to drive with this hand", False),
        ("I cannot keep myself safe from falls", False),
        ("my dad locked away the knives so i dont cut myself cooking", False),
        ("no puedo estar segura de la dosis", False),
        ("mi marido ha escondido mis pastillas por si me las tomo dos veces", False),
        ("my friend keeps telling me to end it with him", False),
        ("el dolor hace que quiera acabar con todo el papeleo", False),
        # A painful limb's everyday safety: grip, driving, ice, a double dose.
        ("I don't trust myself with the car since the pain in my right foot", False),
        ("I don't trust myself with knives, my hands shake too much", False),
        ("I don't trust myself around knives since the CRPS in my hand", False),
        ("I keep my pills locked up so I don't take them twice", False),
        ("I almost took all my pills this morning then realised I'd already had them", False),
        ("I can't stay safe tonight, the ice outside is terrible", False),
        ("I can't be safe today, the roads are icy", False),
        ("Im not safe anymore with this knee", False),
        ("no puedo mantenerme a salvo en el hielo", False),
        ("no puedo estar a salvo en casa con el suelo mojado", False),
        ("me quitaron los cuchillos por si me hago daño cocinando", False),
        ("I don't trust myself around knives tonight", True),
        ("I almost took all my pills last night, I already wrote the letter", True),
        ("me quitaron los cuchillos por si hago una tontería", True),
    ],
)
def test_not_being_safe_with_oneself_is_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


# -- the same plan said in Spanish as in English: pills saved up to take together, a rope made ready


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("he guardado pastillas para tomarlas todas", True),
        ("estoy guardando mis pastillas para tomarlas todas juntas", True),
        ("estoy acumulando pastillas", True),
        ("tengo guardadas muchas pastillas", True),
        ("la cuerda ya está lista", True),
        ("the rope is ready", True),
        ("the rope is ready for the climbing class", False),
        ("la cuerda del tendedero está atada", False),
        ("estoy acumulando puntos en la farmacia", False),
    ],
)
def test_means_saved_up_or_made_ready_are_heard_in_both_languages(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


# -- poison and household chemicals swallowed: a means the pill patterns do not name


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I drank bleach", True),
        ("i want to drink antifreeze", True),
        ("drank a cup of bleach last night", True),
        ("ive taken rat poison", True),
        ("me bebí la lejía", True),
        ("quiero tomar veneno", True),
        ("me voy a tomar el matarratas", True),
        ("my toddler drank some bleach, we are at A&E", False),
        ("I'd rather drink bleach than go to that meeting", False),
        ("I took the weedkiller to the allotment", False),
        ("spilled bleach on my good hand and it stings", False),
        ("mi hijo se bebió la lejía sin querer, estamos en urgencias", False),
        ("prefiero beberme la lejía que ir a esa reunión", False),
        ("puse matarratas para los ratones", False),
        ("tomo dióxido de cloro para el dolor", False),
    ],
)
def test_poison_swallowed_or_about_to_be_is_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


# -- wishing to be killed by someone or something else


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I wish I would get hit by a bus", True),
        ("I want to get hit by a car", True),
        ("I wish a truck would run me over", True),
        ("someone please kill me", True),
        ("I want to be killed", True),
        ("quiero que me maten", True),
        ("que alguien me mate por favor", True),
        ("mátenme por favor", True),
        ("I need to get my flu shot", False),
        ("I want to be put down for the earlier appointment", False),
        ("please kill me now lol this queue", False),
        ("mum will kill me if I miss the appointment", False),
        ("que me maten si miento", False),
        ("que alguien me mate el mosquito", False),
        ("casi me atropella un coche", False),
    ],
)
def test_wishing_to_be_killed_by_someone_or_something_else_is_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


# -- Spanish as it is written across Latin America and Spain: the pronoun before the verb of intent ("me voy a
# dar un tiro"), the dawn one does not want to see, the grave, the dead waiting in heaven, the city's buses


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("me voy a dar un tiro", True),
        ("me quiero pegar un balazo", True),
        ("me quiero tomar un frasco de pastillas", True),
        ("no quiero amanecer mañana", True),
        ("ojalá nunca hubiera nacido", True),
        ("estaría mejor en el cementerio", True),
        ("me quiero ir con mi mamá al cielo", True),
        ("me quiero ir con mi esposo que ya murió", True),
        ("me voy a tirar abajo de un colectivo", True),
        ("me abrí las venas", True),
        ("qué sentido tiene vivir así", True),
        ("me voy a dar un tiro de pelota en el parque", False),
        ("me voy a tomar una caja de galletas", False),
        ("no quiero amanecer con dolor otra vez", False),
        ("mejor en el cementerio no hay cobertura", False),
        ("me quiero ir con mi mamá al cine", False),
        ("quiero irme al otro lado de la ciudad", False),
        ("me voy a tomar el colectivo", False),
        ("qué sentido tiene seguir con la fisio", False),
        ("me abrí una herida al caerme", False),
    ],
)
def test_spanish_of_latin_america_and_spain_is_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


# -- slang verbs and the shapes a hurried thumb gives words: "rope", "offing myself", "self-deletion", a letter
# dropped from "kill", "die" mistyped at the end, "to" joined to the verb after it


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("gonna rope tonight", True),
        ("i want to rope", True),
        ("thinking about offing myself", True),
        ("I'm thinking about self-deletion", True),
        ("I want to kll myself", True),
        ("i want to dei", True),
        ("I want to dye", True),
        ("i want todie", True),
        ("going tokill myself", True),
        ("Life's not worth it anymore", True),
        ("I roped myself into helping at the school fair", False),
        ("gonna rope my husband in to help with the garden", False),
        ("time to rope off the garden", False),
        ("I want to dye my hair purple", False),
        ("how todie my hair", False),
        ("life's not worth it without a cup of tea in the morning", False),
    ],
)
def test_slang_verbs_and_hurried_spellings_are_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


# -- dying said in slang, in English and in the Spanish of Spain and Latin America


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I hope I croak in my sleep", True),
        ("I just want to give up the ghost", True),
        ("I hope I snuff it tonight", True),
        ("quiero estirar la pata", True),
        ("ya quiero colgar los tenis", True),
        ("me quiero petatear", True),
        ("ojalá la palme esta noche", True),
        ("me voy a dar cuello", True),
        ("I want this old car to bite the dust", False),
        ("my voice is croaky, I want to croak like a frog for the kids", False),
        ("my kettle has given up the ghost", False),
        ("el perro estiró la pata ayer, estoy triste", False),
        ("ojalá la palme el Madrid", False),
        ("me quiero ir para el otro lado de la calle", False),
    ],
)
def test_dying_said_in_slang_is_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


# -- English and Spanish mixed in one sentence, as bilingual patients write


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I want to morir", True),
        ("i just want to morirme", True),
        ("I don't want to vivir anymore", True),
        ("quiero die", True),
        ("ya no quiero live", True),
        ("me quiero kill", True),
        ("I want to vivir con mi hija", False),
        ("I want to morir de risa", False),
        ("quiero die my hair", False),
        ("no quiero live in London", False),
        ("me quiero kill the time", False),
    ],
)
def test_english_and_spanish_mixed_in_one_sentence_are_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


# -- wanting to be with the dead again in heaven


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I want to see my son again in heaven", True),
        ("I want to hug my husband again in heaven", True),
        ("I can't wait to see my mum in heaven, hopefully soon", True),
        ("I want to see my son again next week", False),
        ("my mum is in heaven now, I miss her", False),
        ("I hope to see my mum in heaven one day, when my time comes", False),
        ("I want to see my dad again in heaven one day", False),
    ],
)
def test_wanting_to_see_the_dead_again_in_heaven_is_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


# -- not wanting to exist, said without dying


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I want to unexist", True),
        ("I want to stop being", True),
        ("I just want to not be", True),
        ("I wish I could delete myself", True),
        ("I want to be erased from existence", True),
        ("I want everything to go black forever", True),
        ("quiero dejar de ser", True),
        ("quiero borrarme", True),
        ("me quiero eliminar", True),
        ("I want to delete myself from the group chat", False),
        ("I want to stop being so negative", False),
        ("I want my data to be erased", False),
        ("I want this pain to vanish forever", False),
        ("I want to not be in pain anymore", False),
        ("quiero dejar de ser tan negativa", False),
        ("quiero borrarme del grupo de whatsapp", False),
        ("me quiero borrar de la lista de espera", False),
    ],
)
def test_not_wanting_to_exist_said_without_dying_is_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


# -- goodbyes and last words in Spanish, heard as they are in English


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("gracias por todo, adiós", True),
        ("ya no me van a ver más", True),
        ("esta es la última vez que me escuchan", True),
        ("ya no doy más con mi vida", True),
        ("me estoy despidiendo", True),
        ("ya hice mi testamento, estoy en paz", True),
        ("no puedo con mi vida", True),
        ("gracias por todo, nos vemos el lunes", False),
        ("adiós y gracias por todo, hasta la semana que viene", False),
        ("ya no me van a ver en la clínica porque me mudo", False),
        ("esta es la última vez que me escuchan quejarme, lo prometo", False),
        ("me estoy despidiendo de mis compañeros de trabajo", False),
        ("hice el testamento con el notario, ya estoy tranquila por los niños", False),
        ("no doy más con mi vida laboral", False),
        ("no puedo con mi vida de cansancio", False),
    ],
)
def test_goodbyes_and_last_words_in_spanish_are_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


# -- the words of those who self-harm: "sh", a relapse wanted, how deep


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I sh'd last night", True),
        ("i relapsed on sh", True),
        ("gonna sh tonight", True),
        ("I want to sh so bad", True),
        ("I've been sh-ing again", True),
        ("I'm 100 days sh free and I want to relapse", True),
        ("the urge to relapse is so strong", True),
        ("i hit styro last night", True),
        ("recaí en cortarme", True),
        ("tuve una recaída con las autolesiones", True),
        ("I think I've relapsed, the CRPS is back in my foot", False),
        ("worried I might relapse into a flare", False),
        ("oh sh*t I forgot my tablets", False),
        ("I did sh*t all today", False),
        ("the shed roof is leaking", False),
        ("I cut the beans for dinner", False),
        ("recaí del CRPS en la otra mano", False),
        ("hurting myself again", True),
        ("burning myself every night", True),
        ("burning myself with cigs", True),
        ("otra vez haciéndome daño", True),
        ("de nuevo cortándome", True),
        ("hurting myself again on the stairs", False),
        ("otra vez haciéndome daño en la rodilla", False),
        ("de nuevo cortándome el pelo", False),
    ],
)
def test_the_words_of_those_who_self_harm_are_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


# -- at the end of one's strength and wanting out


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I can't do this anymore, I want out", True),
        ("cant take it anymore i just want out now", True),
        ("no aguanto más, me quiero ir", True),
        ("I can't do this job anymore, I want out of the contract", False),
        ("I can't do this anymore, I want out of this marriage", False),
        ("no aguanto más, me quiero ir a casa", False),
        ("no puedo más con esta espera, me voy a ir de la consulta", False),
    ],
)
def test_wanting_out_at_the_end_of_ones_strength_is_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


# -- ordinary days that read like crisis words: a packet taken on holiday, a leg rested, sleep for tiredness


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I took the whole packet of ibuprofen with me on holiday", False),
        ("I want to rest my leg forever lol", False),
        ("quiero dormir para siempre de lo cansada que estoy", False),
        ("I took the whole packet of ibuprofen", True),
        ("I swallowed the whole packet of ibuprofen and went to bed", True),
        ("I want to rest forever", True),
        ("quiero dormir para siempre", True),
        # What the exceptions above must not hide: a head or a body is not a limb rested, "back to bed" is
        # not where a packet was taken, and tired of living is not tired.
        ("I want to rest my head forever", True),
        ("I want to rest my weary body forever", True),
        ("I took a whole packet of paracetamol, back to bed", True),
        ("quiero dormir para siempre de lo cansada que estoy de vivir", True),
        # "shd" is also texting for "should"; a CRPS relapse after an infusion is feared, not wanted.
        ("I shd go to bed early", False),
        ("u shd see the swelling", False),
        ("I really don't want to relapse after the infusion", False),
        ("I sh'd last night", True),
        # Being knocked out by a medicine, run to hospital, shot a text: errands, not being killed.
        ("I hope the amitriptyline will knock me out tonight", False),
        ("I wish someone would run me to the hospital tomorrow", False),
        ("please shoot me a text when the appointment is confirmed", False),
        ("I wish a truck would run me over", True),
        ("I wish someone would shoot me", True),
        # Going to A&E at the end of one's strength, a sister abroad: not leaving this world.
        ("no aguanto más el dolor, me voy ya a urgencias", False),
        ("no puedo más, me voy ya a casa", False),
        ("no aguanto más, me voy ya", True),
        ("cant wait to see my sister on the other side of the world", False),
        ("I can't wait to see my son again in heaven", True),
    ],
)
def test_ordinary_days_that_read_like_crisis_words_stay_ordinary(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


# -- robustness


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_answered_without_an_error(text: str) -> None:
    assert crisis_language().matches(text) in (True, False)  # hypothesis calls it outside pytest's fixtures


def long_notes() -> Iterator[str]:
    ordinary = [m.text for m in read_corpus() if not m.crisis]
    note = ""
    for text in ordinary * 10:
        note += text + ". "
        if len(note) >= 4000:
            yield note[:4000]
            note = ""


def test_crisis_words_at_the_end_of_a_long_note_are_heard(language: CrisisLanguage) -> None:
    # How fast a long note is read is measured by bench/crisis_language.py.
    for note in list(long_notes())[:5]:
        assert not language.matches(note)
        assert language.matches(note + " and i want to kill myself")


# -- a wish said in the negative: "I don't want to get hit by a car" is a fear, not a wish; "I don't want to
# live" is still a crisis, and a "No," that answers a question does not turn a Spanish wish into a denial


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I don't want to get hit by a car on my crutches", False),
        ("I really don't want to be run over on these crutches", False),
        ("I would never want to be killed by a bus", False),
        ("I wouldn't wish to get run over", False),
        ("I don't want someone to kill me", False),
        ("I don't want to croak before my grandson's wedding", False),
        ("I dont want to disappear", False),
        ("I don't want to see my dad again in heaven yet", False),
        ("no quiero que me atropelle un coche con las muletas", False),
        ("no quiero que me maten", False),
        # The neighbours no negative may hide.
        ("I want to get hit by a car", True),
        ("I don't want to get hit by a car, I want to get hit by a train", True),
        ("I don't want to live", True),
        ("I don't want to be alive anymore", True),
        ("I don't want to wake up", True),
        ("I want someone to kill me", True),
        ("I just want to croak", True),
        ("quiero que me atropelle un coche", True),
        ("quiero que me maten", True),
        ("ya no quiero vivir", True),
        # "No," answering a question, then the wish: Spanish needs no "I" between them.
        ("No, quiero que me maten", True),
        ("¿Estás bien? No. Quiero morirme", True),
        ("no. quiero matarme", True),
        ("¿Mejor hoy? No, quiero que me atropelle un coche", True),
        ("No, no quiero morir", False),
        ("No, no, quiero que me atropelle un coche", True),
        ("No no no, quiero morirme", True),
        ("No, no, no quiero morir", False),
        ("Hoy no, quiero morir de risa con la peli", False),
        # A negation that ends the sentence or the clause before the wish answers a question: it denies nothing.
        ("Am I ok? Not really, wanna get hit by a bus", True),
        ("Am I ok? Not really. Want to get hit by a car", True),
        ("I'm not. Wanna get run over", True),
        ("I'm not, wanna get hit by a train", True),
        ("No. I want to get hit by a bus", True),
        ("Nope! wanna get run over", True),
        ("Not today, I want to disappear", True),
        ("Honestly? not great: want to disappear", True),
        ("not really. want someone to kill me", True),
        ("¿Estás mejor? Pues no, quiero que me atropelle un coche", True),
        ("¿Estás bien? La verdad es que no, quiero que me maten", True),
        ("creo que no, quiero que me atropelle un tren", True),
        ("¿Mejor? Qué va, no. Quiero que me maten", True),
        ("¿Bien? No mucho; quiero que me atropelle un coche", True),
        # A bare "not" opening the message answers too; "never wanted it more" says the wish more strongly.
        ("Not really want to get hit by a car tbh", True),
        ("Not really wanna disappear", True),
        ("Never wanted to get hit by a car more than today", True),
        # The negation in the wish's own clause still denies it.
        ("I do not really want to get hit by a car", False),
        ("I'm not wanting to get hit by a car", False),
        ("I'd not want to get run over", False),
        ("dont wanna get hit by a bus", False),
        ("I no longer wish to disappear", False),
        ("Am I ok? Yes, I don't want to get hit by a car", False),
        ("¿Estás bien? Sí, no quiero que me maten", False),
    ],
)
def test_a_wish_said_in_the_negative_is_a_fear_and_an_answering_no_is_not_a_denial(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


# -- everyday words that read like crisis words, each beside the crisis phrasing no exception may hide


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # Poison to a body or a condition; cleaning products; going down the road; beans for tea.
        ("coffee is poison for my CRPS", False),
        ("I drink diet coke it's poison", False),
        ("went down the road for bleach", False),
        ("I'm so down, cleaning with bleach today", False),
        ("took disinfectant wipes to the kitchen", False),
        ("took disinfectant wipes to work", False),
        ("down to beans on toast", False),
        ("we are down to beans this week", False),
        ("es veneno para mi estómago", False),
        ("tomo café y es veneno para mi estómago", False),
        ("agua con cloro para limpiar", False),
        ("I drank bleach, it's poison", True),
        ("i want to drink poison", True),
        ("down the bleach", True),
        ("I'm going to down a bottle of bleach", True),
        ("ive taken disinfectant", True),
        ("cut down to beans last night", True),
        ("went to beans on my thigh", True),
        ("me tomé agua con cloro", True),
        ("quiero tomar veneno", True),
        # Removed from a situation, a burden with the chores, Scotland up there.
        ("I need to remove myself from the situation", False),
        ("I want to cease to be a burden on my husband with the housework", False),
        ("I want to be with my sister up there in scotland", False),
        ("I want to remove myself", True),
        ("I want to remove myself from this cruel world", True),
        ("I want to remove myself from everyone's lives", True),
        ("I want to cease to be", True),
        ("I want to cease to be a burden to everyone", True),  # "cease to be" and a burden: both readings alert
        ("I want to be with my mum up there", True),
        ("I want to be with my mum up there in heaven", True),
        ("I want to be with him up there for eternity", True),
        # Less time in bed; a last day at work; a return in January; a live stream and a film.
        ("quiero dejar de estar más tiempo en la cama", False),
        ("quiero dejar de estar", True),
        ("quiero dejar de estar más", True),
        ("hoy es mi último día en la oficina, me estoy despidiendo de todos", False),
        ("me jubilo el viernes, me estoy despidiendo de todos", False),
        ("it's my last day at work, I'm saying goodbye to everyone", False),
        ("me estoy despidiendo de todos", True),
        ("me estoy despidiendo de todos, hoy es mi último día", True),
        ("I'm saying goodbye to everyone", True),
        ("no me van a ver más por la clínica hasta enero", False),
        ("ya no me van a ver más, vuelvo en enero", False),
        ("ya no me van a ver más", True),
        ("ya no me van a ver más, hasta siempre", True),
        ("no quiero perderme el live", False),
        ("quiero ver Die Hard", False),
        ("I want to watch Die Hard tonight", False),
        ("quiero die", True),
        ("ya no quiero live", True),
        # A will: with the solicitor, for the children or before an operation it is ordinary; at peace, or said
        # alone with nothing else, it is affairs put in order and alerts.
        ("hice mi testamento con el abogado", False),
        ("hice mi testamento, estoy tranquila por los niños", False),
        ("I made my will with the solicitor, just in case", False),
        ("hice mi testamento", True),
        ("ya hice mi testamento, estoy en paz", True),
        ("I made my will", True),
        ("I've made my will, I'm at peace now", True),
        # The reason stands right after the will: letters, goodbyes and peace said after it are still heard.
        ("made my will today with the solicitor", False),
        ("I made my will with my husband, we feel at peace now it's done", False),
        ("I made my will last week and the physio says I'm ready to go back to work", False),
        ("made a will today, everyone should have one", False),
        ("hice testamento hoy con el notario", False),
        ("Made my will, letters to all my children, just in case", True),
        ("I've made my will and left letters for everyone in case", True),
        ("made my will, wrote letters to everyone, the house goes to my son", True),
        ("made my will. Letters to everyone. Just in case", True),
        ("Made my will. Just in case. I'm ready to go now", True),
        ("I've made my will, the house goes to Tom, I'm at peace now", True),
        ("hice mi testamento, cartas para todos mis hijos, por si acaso", True),
        ("hice mi testamento y dejé cartas para todos por si acaso", True),
        ("hice mi testamento, la casa es para Tomás, estoy en paz", True),
    ],
)
def test_everyday_words_stay_ordinary_beside_the_crisis_phrasings_they_resemble(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


# -- kinds still missed: an attempt told after it, a time set, arrangements for after, oneself in the third
# person, slang, and the Spanish of the Americas; each beside the ordinary message it resembles


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I took them all last night", True),
        ("I took all my pills last night", True),
        ("I OD'd last night", True),
        ("i OD'd on my meds", True),
        ("me tomé todas las pastillas anoche", True),
        ("anoche me tomé todas las pastillas", True),
        ("me las tomé todas juntas", True),
        ("I took them all to the vet last night", False),
        ("I took all my pills this morning", False),
        ("me tomé todas las pastillas de la mañana", False),
        ("esta noche acabo con todo", True),
        ("esta noche acabo con todo el papeleo", False),
        ("I won't be here tomorrow", True),
        ("I won't be here tomorrow, I'm at my mum's", False),
        ("everyone will be better off soon", True),
        ("there's no point anymore", True),
        ("when i'm gone look after the cat", True),
        ("when I'm gone for the weekend the dog goes to my sister", False),
        ("perdón por todo, los quiero", True),
        ("she wants to die and she is me", True),
        ("your patient wants to kill herself", True),
        ("my friend says she wants to die", False),
        ("i'm going to yeet myself off a bridge", True),
        ("vos no sabés las ganas que tengo de morirme", True),
    ],
)
def test_attempts_told_after_times_set_and_arrangements_for_after_are_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


# -- emoji typed for a crisis word, and a word split in two by a space


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("i want to 💀", True),
        ("i want to💀💀💀", True),
        ("I wish I was ⚰️", True),
        ("gonna 🪢 tonight", True),
        ("i'm going to 🔫 myself", True),
        ("i want to 🔪 my wrists", True),
        ("took all my 💊 last night", True),
        ("lol this queue 💀💀", False),
        ("I'm 💀 that was so funny", False),
        ("the physio said I'd be fine 💀", False),
        ("cutting veg 🔪 for dinner", False),
        ("took my 💊 this morning", False),
        ("ki ll myself", True),
        ("i want to ki-ll myself", True),
        ("mur der myself", True),
        ("thinking about sui-cide", True),
        ("quiero mo rir", True),
        ("me quiero ma tar", True),
        # A half that is a pattern word only as a piece of a hidden-letter spelling ("sui" of "sui*ide", "cid*" of
        # "s*icide") is no word of its own: dictation splits "suicidio" as "sui cidio".
        ("estoy pensando en el sui cidio", True),
        ("thoughts of sui cidal stuff again", True),
        # A first letter split off by dictation: "a cabar", "a horcarme".
        ("voy a a cabar con mi vida", True),
        ("me voy a a horcar esta noche", True),
        ("going to take all my gaba pentin tonight", True),
        ("quiero sui cidarme", True),
        ("quiero a cabar con mi vida", True),
        ("me quiero a horcar", True),
        ("quiero qui tarme la vida", True),
        ("me voy a tomar todas las pre gabalinas", True),
        ("me quiero a ventar del puente", True),
        ("quiero sui cidarme ya", True),
        ("me quiero sui cidar", True),
        ("quiero ma tarme esta noche", True),
        ("estoy pensando en a horcarme", True),
        ("me voy a tomar todas las gaba pentinas", True),
        ("he pensado en el sui cidio muchas veces esta semana", True),
        ("a cabar de llegar del hospital", False),
        # A split-off letter joins only into a word the patterns spell out, not into any word with a crisis word's
        # stem: "a horcajadas" (astride) is no "ahorcar". Nor a half that is a word of another language:
        # "sua cidade" is Portuguese for "your city".
        ("me siento a horcajadas en la silla para no apoyar el pie", False),
        ("mi nieta se me sube a horcajadas y me duele la pierna", False),
        ("eu moro na sua cidade", False),
        ("sui cidade natal es Lisboa", False),
        ("a lone walk on the beach today", False),
        ("I want to watch a live show", False),
        ("some one please bring my tablets", False),
        ("to day the pain is a 7", False),
    ],
)
def test_emoji_for_words_and_words_split_in_two_are_read(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("friday is the day i end it", True),
        ("friday is the day i start my new job", False),
        ("me quiero mtar", True),
        ("quiero mtarme", True),
        ("tu paciente quiere morirse", True),
        ("ya no quiero estar más", True),
        ("ya no quiero estar", True),
        ("ya no quiero estar más en este hospital", False),
        ("no quiero estar más tiempo esperando", False),
        ("no quiero estar sola", False),
        ("hurting myself helps", True),
        ("cutting helps", True),
        ("scratching myself helps the itch", False),
        ("cutting my nails helps", False),
        ("gonna drink myself to death", True),
        ("i've said my goodbyes", True),
        ("I've said my goodbyes to the old house", False),
    ],
)
def test_a_day_named_goodbyes_said_and_what_self_harm_does_are_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("me voy a dar piso", True),
        ("quiero chupar faros", True),
        ("me voy para siempre, cuiden a mis hijos", True),
        ("me voy para siempre a vivir a Valencia", False),
        ("ya no voy a molestar más a nadie", True),
        ("ya no voy a molestar más a nadie con mis quejas", False),
        ("i'm leaving forever, look after my kids", True),
        ("I'm leaving for good to live with my sister", False),
        ("I won't bother anyone anymore", True),
        ("sorry, I won't bother you again", False),
        ("I won't be here tomorrow", True),
        ("I won't be here next week, I'm on holiday", False),
    ],
)
def test_leaving_for_good_and_mexican_slang_for_dying_are_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("this pain makes you want to kill yourself", True),
        ("I don't see myself being around next year", True),
        ("I don't see myself being around for the party, I'll be at work", False),
        ("no me veo aquí el año que viene", True),
        ("no me veo aquí el año que viene, me mudo a Madrid", False),
        ("I've been researching methods", True),
        ("I've been researching methods of pain relief", False),
        ("my family would be better off", True),
        ("my family would be better off with a bigger house", False),
        ("me voy a tirar", True),
        ("me voy a tirar un rato en el sofá", False),
    ],
)
def test_oneself_as_you_methods_looked_up_and_sentences_left_unfinished_are_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("planning to take everything in my med box after my wife goes to bed", True),
        ("I'm going to swallow whatever is in the bathroom cabinet", True),
        ("me voy a tomar todo lo del botiquín", True),
        ("quiero tomarme todo lo que hay en el botiquín", True),
        ("I'm going to take everything in my med box to the pharmacy for disposal", False),
        ("voy a tomar todo el botiquín al médico", False),
    ],
)
def test_everything_a_medicine_box_holds_is_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("i want a toaster bath", True),
        ("i want to commit neck rope", True),
        ("i'm going to commit not alive", True),
        ("me rajé los brazos", True),
        ("me rajé, no fui a la fiesta", False),
        ("i bought a new toaster and had a bath", False),
    ],
)
def test_internet_slang_and_slashing_oneself_are_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I'm not suicidal anymore, I'm just going to do it", True),
        ("I'm not suicidal, I'm going to do my exercises", False),
        ("no me importaría morirme", True),  # not a denial: "no me" then another verb
        ("no me importaría morirme de risa", False),
        ("no quiero morirme", False),
        ("ya no le tengo miedo a la muerte", True),
        ("ya no me da miedo morir", True),
        ("I'm not going to make it to christmas", True),
        ("I'm not going to make it to the christmas party", False),
        ("no voy a llegar a navidad", True),
        ("no voy a llegar a navidad con el presupuesto", False),
    ],
)
def test_a_denial_does_not_swallow_what_follows_it(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I've planned my funeral", True),
        ("my funeral playlist is ready", True),
        ("he organizado mi funeral", True),
        ("gracias por todo, han sido muy buenos conmigo, adiós", True),
        ("I've planned my funeral with the co-op funeral plan", False),
        ("gracias por todo, nos vemos el lunes, adiós", False),
    ],
)
def test_a_funeral_planned_and_praise_before_goodbye_are_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


# -- a hurried thumb: two letters swapped, a letter dropped from a long word


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("i want to kill msyelf", True),
        ("i want to end my lfe", True),
        ("i want to end my lief", True),
        ("ya no quiero vivr", True),
        ("i wish i was ded", True),
        ("quiero moir", True),
        ("feeling suicdial", True),
        ("im ded lol that meme", False),
        ("I took the tables outside", False),  # a word of its own is never read as a slip
        ("me quiero atar los zapatos", False),
        ("es mi edad, me duele todo", False),
    ],
)
def test_letters_swapped_or_dropped_in_a_crisis_word_are_read(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


def test_a_slipped_word_is_shown_where_it_was_written(language: CrisisLanguage) -> None:
    text = "Pain 6 today. " * 300 + "i want to kill msyelf tonight"
    found = language.finding(text)
    assert found is not None
    where = language.span(text, found)
    assert where is not None and text[where[0] : where[1]] == "kill msyelf"


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I want to cortarme", True),
        ("I want to cortarme el pelo", False),
        ("María quiere morir. Soy María.", True),
        ("tried to end it in 2019", True),
        ("I tried to end it with him in 2019", False),
        ("si desaparezco nadie se daría cuenta", True),
        ("I see no way out", True),
        ("I can't see a way out of this pain", True),
        ("there's no way out of this contract", False),
        ("no veo salida", True),
        ("no hay salida de emergencia en este edificio", False),
        ("no veo otra salida que la operación", False),
    ],
)
def test_no_way_out_an_attempt_years_ago_and_oneself_named_are_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("thinking bout ending it", True),
        ("wanna b dead", True),
        ("want 2 b ded", True),
        ("cant do it no more, ending it 2nite", True),
        ("gonna end it 2moro", True),
        ("tonight i end it", True),
        ("i end it tonight", True),
        ("me re quiero matar", True),
        ("q me lleve la muerte", True),
        ("tonight i end it with him", False),
        ("i'm ending it on friday with my boyfriend", False),
        ("que me lleve dios a casa de mi madre", False),
        ("I took 2 tablets tonite, pain 6", False),
    ],
)
def test_texting_shorthand_and_a_time_set_without_a_subject_are_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I keep hearing 'kill yourself' in my head", True),
        ("una voz me dice que me tire", True),
        ("my daughter heard someone say kill yourself at school, she was upset", False),
        ("mi madre me dice que me tire a la piscina", False),
    ],
)
def test_a_voice_that_says_to_do_it_is_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


# -- the means in place, told as it is


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I stood on the chair with the rope", True),
        ("I sat in the car with the engine running", True),
        ("I'm sitting in the garage with the engine running", True),
        ("I put the hose in the window", True),
        ("I'm filling the bath and taking the hairdryer", True),
        ("I've got the razor blades out", True),
        ("the knife is on my wrist", True),
        ("I'm on the bridge railing", True),
        ("tengo el cuchillo en la muñeca", True),
        ("tengo las pastillas en la mano", True),
        ("I stood on the chair with the tape measure to hang the curtains", False),
        ("I sat in the car with the engine running to warm it up", False),
        ("the hose in the window of the greenhouse", False),
        ("I've got the razor blades out for shaving my legs", False),
        ("i took the blade out of the craft knife to change it", False),
        ("I put the knife on my chopping board", False),
        ("tengo las pastillas en la mano para tomármelas con el desayuno", False),
    ],
)
def test_the_means_in_place_are_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


# -- dying met with indifference or welcome


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I wouldn't mind getting run over", True),
        ("I don't care if I get hit by a car", True),
        ("wouldn't mind if a bus hit me tbh", True),
        ("I wouldn't mind getting knocked down by a bus", True),
        ("I wouldn't mind if the cancer took me", True),
        ("I don't care if the crps kills me", True),
        ("it wouldn't bother me if I died", True),
        ("if a car hit me I wouldn't even be sad", True),
        ("if I died in my sleep I'd be grateful", True),
        ("if I didn't wake up tomorrow that would be ok", True),
        ("if something happened to me it would be a relief", True),
        ("I'd be ok with not waking up", True),
        ("I'm fine with dying", True),
        ("i am at peace with dying now, it would be a relief", True),
        ("I wouldn't fight it if I got sick", True),
        ("if i get covid i'm not going to fight it", True),
        ("i'd let the cancer take me", True),
        ("me daría igual que me atropellara un coche", True),
        ("no me importaría que me atropellara un coche", True),
        ("no me importaría que me pasara algo", True),
        ("no me importa si me muero", True),
        ("me alegraría no despertar", True),
        ("que me pille un camión y ya", True),
        ("a ver si me atropella un coche", True),
        ("I wouldn't mind getting a lift to the clinic", False),
        ("I don't care if I get wet in the rain", False),
        ("I wouldn't mind if the physio came earlier", False),
        ("I wouldn't mind if the bus took me straight to the door", False),
        ("I don't care if the bus gets me there late", False),
        ("I don't care if I get killed at bingo tonight lol", False),
        ("I wouldn't mind getting knocked down a peg", False),
        ("it wouldn't bother me if I died my hair pink", False),
        ("if something happened to me who would look after the dog", False),
        ("I'm ok with dying my hair again", False),
        ("I'm fine with death being part of life, my nan is 98", False),
        ("I'm at peace with dying when my time comes", False),
        ("I'd be happy if I never woke up at 4am again", False),
        ("if I get covid I won't fight it with antibiotics unless the GP says", False),
        ("if I get the flu I won't treat it, just rest", False),
        ("I don't care if the pain kills me, I'm going to the wedding", False),
        ("me daría igual que cambiaran la cita", False),
        ("me daría igual que me pillara la lluvia", False),
        ("no me importaría que me llevara mi hermano al hospital", False),
        ("a ver si me pilla el autobús a tiempo", False),
        ("no quiero que me pille un coche y ya está, cuidado con las muletas", False),
        ("tengo miedo de que me atropelle un coche con las muletas", False),
        ("me alegraría no despertarme con dolor mañana", False),
    ],
)
def test_dying_met_with_indifference_or_welcome_is_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


# -- heaven one day, and an overdose of what is no drug


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I'd love to go to heaven one day", False),
        ("I hope to be with Jesus in heaven one day when it's my time", False),
        ("I want to go to heaven when my time comes", False),
        ("I'd like to be with God one day, but not yet", False),
        ("me encantaría ir al cielo algún día", False),
        ("quiero ir al cielo cuando me muera", False),
        ("me gustaría estar con Dios algún día, pero todavía no", False),
        ("I'd love to go to heaven one day soon", True),
        ("I'd love to go to heaven now", True),
        ("I want to go to heaven", True),
        ("I feel like its my time now", True),
        ("quiero irme al cielo ya", True),
        ("me encantaría ir al cielo algún día de estos", True),
        ("an overdose of sugar at the party", False),
        ("the kids had a sugar overdose at the party", False),
        ("had an overdose of sun yesterday", False),
        ("TV overdose this weekend, binge watched the lot", False),
        ("the leaflet says overdose can cause liver damage", False),
        ("Overdose is a song I like", False),
        ("una sobredosis de azúcar en la fiesta", False),
        ("el prospecto dice que la sobredosis daña el hígado", False),
        ("I took an overdose last night", True),
        ("i took a paracetamol overdose", True),
        ("overdosed on my amitriptyline", True),
        ("gonna take a caffeine overdose", True),
        ("me tomé una sobredosis de paracetamol", True),
    ],
)
def test_heaven_one_day_and_an_overdose_of_sugar_stay_ordinary(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


# -- someone else's wish and "me too", screening questions answered, texting initials


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("my friend said she wants to die and honestly so do I", True),
        ("my friend said she wants to die, me too", True),
        ("mi amiga dice que se quiere morir y yo también", True),
        ("mi amiga dice que se quiere morir y yo igual", True),
        ("my friend said she wants to die", False),
        ("my sister told me she wants to kill herself, what should I do", False),
        ("mi amiga dice que se quiere morir y yo estoy asustada", False),
        ("I've been having thoughts about how I might do it", True),
        ("I've had thoughts of hurting myself", True),
        ("I have some intention of acting on these thoughts", True),
        ("i'm going to act on the urges tonight", True),
        ("I'm going to act on these thoughts about my diet", False),
        ("I will act on it", False),
        ("I gave away my valuables", True),
        ("I've got a plan and I know when", True),
        ("I held the pills in my hand but changed my mind", True),
        ("my husband stopped me before I could do it", True),
        ("I thought about how I would do it with the new splint", False),
        ("I've been thinking about how I might do it better next time, the stairs I mean", False),
        ("I gave away my valuables to charity", False),
        ("I've got a plan for the garden and I know when to plant the bulbs", False),
        ("I had the pills in my hand and dropped them on the floor", False),
        ("the physio stopped me before I could do it wrong", False),
        ("my husband stopped me before I could jump the queue", False),
        ("idw be alive anymore", True),
        ("idwtl anymore", True),
        ("i want to ctb", True),
        ("ctb tonight", True),
        ("idw be here at 8am for the bloods", False),
        ("the CTB clinic called", False),
    ],
)
def test_a_wish_shared_screening_answers_and_texting_initials_are_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


# -- safety that cannot be promised, treatment stopped so as to die, and doubts about wanting to live


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I can't promise I'll be safe tonight", True),
        ("I'm not safe around my pills tonight", True),
        ("I'm scared I'll do something tonight", True),
        ("no puedo prometer que estaré a salvo esta noche", True),
        ("tengo miedo de hacer una tontería esta noche", True),
        ("I can't promise I'll be safe to drive tomorrow", False),
        ("I can't promise I'll be ok for the appointment", False),
        ("I'm scared I'll do something wrong at the appointment", False),
        ("I'm not safe around the stairs", False),
        ("no puedo prometer que estaré bien para la cita", False),
        ("tengo miedo de hacer algo mal en la cita", False),
        ("I stopped eating so I'll die", True),
        ("I've stopped taking my heart meds on purpose so it stops", True),
        ("I'm going to stop my insulin and let it happen", True),
        ("I stopped taking my insulin so I don't wake up", True),
        ("I haven't eaten in days and I don't plan to, I want to waste away", True),
        ("dejé de comer para morirme", True),
        ("voy a dejar la insulina para morirme", True),
        ("I stopped eating sugar so I'd lose weight", False),
        ("I stopped taking the pregabalin so the dizziness stops", False),
        ("I stopped my insulin pump for an hour so it stops beeping", False),
        ("dejé de comer azúcar para adelgazar", False),
        ("dejé de tomar las pastillas hasta que pase el mareo", False),
        ("idk if i wanna be alive anymore", True),
        ("I'm a burden to my family and it'd be kinder to take myself out of the picture", True),
        ("I want this to be the death of me", True),
        ("this CRPS will be the death of me lol", False),
    ],
)
def test_safety_not_promised_and_treatment_stopped_to_die_are_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("omg I want to die, so embarrassing", False),
        ("me quiero morir, qué vergüenza", False),
        ("me quito de en medio para que pase el carro", False),
        ("omg I want to die, so embarrassing, he saw everything. no but really I want to die", True),
        ("me quiero morir, no aguanto más", True),
        ("me quiero quitar de en medio", True),
    ],
)
def test_embarrassment_and_stepping_aside_stay_ordinary(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("si me pasara algo sería un alivio", True),
        ("si me muriera mientras duermo lo agradecería", True),
        ("si no despertara mañana estaría bien", True),
        ("si me atropella un coche mejor", True),
        ("Si me muero en la operación, mejor.", True),
        ("a mí me da igual si me atropella un coche", True),
        ("me da igual si mañana no despierto", True),
        ("me da igual si me mata un camión", True),
        ("si me diera cáncer no lucharía", True),
        ("si me pongo enferma no voy a luchar", True),
        ("estoy en paz con la idea de morirme", True),
        ("me parece bien morirme", True),
        ("si me pasara algo, ¿quién cuidaría del perro?", False),
        ("si me pasara algo, mejor que lo sepa mi hija", False),
        ("si me pasa algo en la operación, mejor avisar a mi hermana", False),
        ("si me muero en la operación, mejor que lo sepa mi hija", False),
        ("si no despierto a tiempo mejor que me llames", False),
        ("me da igual si me pasa algo de frío, voy a salir", False),
        ("me da igual si me mata la fisio con los ejercicios jaja", False),
        ("si me muero de hambre mejor pido pizza", False),
        ("si me pongo enferma no voy a la fiesta", False),
        ("estoy en paz con la idea de morirme algún día, como todos", False),
    ],
)
def test_dying_met_with_indifference_is_heard_in_spanish_either_way_round(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I want to die, so embarrassing to be such a burden", True),
        ("i just want to die, so embarrassing, i am a burden", True),
        ("I want to die, im mortified by what a burden i am", True),
        ("i want to die, how embarrassing that i cant even do that right", True),
        ("quiero morirme, qué vergüenza ser una carga", True),
        ("me quiero morir, qué vergüenza, soy una carga", True),
        ("i want to go to heaven in the end tonight", True),
        ("I want to go to heaven eventually, tonight", True),
        ("i want to go to heaven, not yet but soon", True),
        ("quiero ir al cielo algún día, esta noche", True),
        ("quiero ir al cielo, pero todavía no, pero pronto", True),
        ("overdose on sweets and all my pills tonight", True),
        ("voy a tomar una sobredosis de azúcar y de todas mis pastillas", True),
        ("una sobredosis de azúcar y pastillas", True),
        ("an overdose would be fatal and thats what i want", True),
        ("omg I want to die, so embarrassing lol", False),
        ("I'd love to go to heaven one day, when my time comes", False),
        ("quiero ir al cielo algún día, cuando Dios quiera", False),
        ("had a sugar overdose at the party", False),
        ("overdose can cause liver damage", False),
    ],
)
def test_an_ordinary_phrase_beside_crisis_words_does_not_excuse_them(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """An ordinary reading (embarrassment, faith's "one day", an overdose of sugar) blanks only its own
    words; a wish after it, a burden, "tonight", pills "and" sugar must still be heard."""
    assert language.matches(text) is crisis


# -- families found with the fifth held-out set: each heard in several phrasings, its ordinary neighbours quiet


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I wish I'd died in that crash", True),
        ("i wish i had died on the operating table", True),
        ("sometimes i wish i had died when i had sepsis", True),
        ("i wish i hadnt survived the accident", True),
        ("why did the paramedics bring me back", True),
        ("why didnt they just let me go", True),
        ("wish i'd dyed in that crash", True),
        ("i wish i had dyed it red", False),
        ("ojalá me hubiera muerto en el accidente", True),
        ("debí morirme en ese accidente", True),
        ("tendría que haberme muerto en la operación", True),
        ("¿por qué me reanimaron?", True),
        ("i wish i had died my roots last week", False),
        ("i should have died my hair darker", False),
        ("wish i'd died laughing at that", False),
        ("my dad died in the accident when i was 10", False),
        ("why did they save me a seat at the back", False),
        ("ojalá me hubiera muerto de risa", False),
        ("por qué me salvaron el pie y no la mano", False),
    ],
)
def test_wishing_one_had_died_when_one_nearly_did_is_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("i dont trust myself tonight", True),
        ("honestly i dont trust myself right now", True),
        ("i cant trust myself anymore", True),
        ("I don't feel safe in my own head tonight", True),
        ("tengo miedo de hacerme daño", True),
        ("tengo miedo de hacerme daño esta noche", True),
        ("no me siento segura en mi propia cabeza", True),
        ("tengo miedo de hacerme daño otra vez, ya me corté la semana pasada", True),
        ("i dont trust myself to drive tonight", False),
        ("i dont trust myself on the stairs anymore", False),
        ("dont trust myself with chocolate in the house", False),
        ("tengo miedo de hacerme daño al andar", False),
        ("me da miedo hacerme daño con las muletas", False),
        ("tengo miedo de hacerme daño otra vez al caminar", False),
    ],
)
def test_not_trusting_oneself_tonight_is_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    """Fear of one's own acts, said without the act; a painful limb's fear of being hurt again stays ordinary."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("if the ketamine doesnt work this time im done", True),
        ("this infusion is my last chance after that im done", True),
        ("if this doesn't work I'm checking out", True),
        ("if this last infusion doesnt help im done. really done", True),
        ("ive had enough. if the nerve block fails thats the end of me, i mean it", True),
        ("si la ketamina no funciona hasta aquí llegué", True),
        ("es mi última oportunidad, si falla me despido", True),
        ("if the ketamine doesnt work im done with this clinic", False),
        ("the infusion is my last chance before they try the spinal stimulator", False),
        ("if the physio doesnt work i'm done for the week", False),
        ("if the tens machine doesnt help im going to check out the pain clinic in leeds", False),
        ("si la ketamina no funciona se acabó el tratamiento", False),
        ("si la infusión no funciona, hasta aquí llegué con este médico", False),
        ("the pain clinic was my last chance. it failed. im done, goodbye", True),
        ("the boiler failed again, its gone for good this time", False),
        ("my last chance to book the holiday, after that its gone", False),
    ],
)
def test_a_treatment_as_the_last_chance_and_then_nothing_is_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """Decision: "if the ketamine doesn't work I'm done", said with nothing after it, alerts; done with a clinic,
    a treatment or the week does not."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("i think i took too much on purpose", True),
        ("i took double my pregabalin on purpose", True),
        ("downed a bottle of pills", True),
        ("took all my pregabalin with vodka", True),
        ("i mixed all my pills with alcohol", True),
        ("its too late ive taken them all", True),
        ("too late, i've done it", True),
        ("i've taken loads of my morphine", True),
        ("i have taken everything in the cupboard", True),
        ("will it kill me if i take all my tramadol", True),
        ("would 40 amitriptyline kill me if i took them", True),
        ("me tomé el doble de tramadol aposta", True),
        ("ya es tarde, me las he tomado todas", True),
        ("took double my pregabalin by mistake", False),
        ("took double the dose on purpose because the pain was unbearable, was that wrong", False),
        ("took my pills with a glass of wine, is that ok", False),
        ("downed a bottle of water with my tablets", False),
        ("too late to cancel now, ive taken the morning off work", False),
        ("its too late, i took the last appointment", False),
        ("would my pills interact if i took them with wine", False),
        ("me tomé el doble sin querer", False),
        ("i took double my pregabalin on purpose last week after speaking to my gp, she said it was fine", False),
        ("its too late, ive taken them to the pharmacy", False),
        ("ya es tarde, ya me las tomé por la mañana", False),
    ],
)
def test_overdoses_told_in_other_words_are_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    """A deliberate double dose for the pain is unsafe but no crisis: it is left to the care team's ordinary
    reading."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("been having dark thoughts", True),
        ("having really dark thoughts again", True),
        ("dark thoughts again tonight", True),
        ("im in a very dark place right now", True),
        ("pensamientos oscuros otra vez", True),
        ("estoy en un lugar muy oscuro", True),
        ("had some dark thoughts about my job interview, nervous", False),
        ("dark chocolate again tonight", False),
        ("in a dark place? no, im ok, just tired", False),
        ("the garage is a dark place, i keep the wheelchair there", False),
        ("pensamientos oscuros sobre el trabajo", False),
        ("estoy en un lugar oscuro del jardín", False),
    ],
)
def test_dark_thoughts_and_a_dark_place_are_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("sometimes i wish i wasnt here", True),
        ("i wish i wasnt alive", True),
        ("sometimes i think about just not being here", True),
        ("honestly whats the point of me anymore", True),
        ("the only way the pain will stop is if im dead", True),
        ("theres only one way out of this pain", True),
        ("im ending things tonight", True),
        ("cant wait to be dead honestly", True),
        ("counting down the days until im dead", True),
        ("same as before my attempt", True),
        ("me siento igual que antes de mi intento", True),
        ("quisiera no amanecer", True),
        ("quiero estar con mi esposo en el cielo", True),
        ("i wish i wasnt here at the hospital again", False),
        ("i wish i wasnt here now, the waiting room is so cold", False),
        ("whats the point of me going to physio", False),
        ("the only way out of the car park is by the hospital", False),
        ("i am ending things with my physio, she is useless", False),
        ("counting down the days till i go on holiday", False),
    ],
)
def test_passive_wishes_said_plainly_are_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("thinkin bout endin it", True),
        ("thinkin of endin it all tonite", True),
        ("i jus want 2 dye", True),
        ("i dont wanna b here n e more", True),
        ("i dont want 2 b here anymore", True),
        ("im takin all my pills tonight", True),
        ("ya no kiero estar aki", True),
        ("ya no kiero estar aca", True),
        ("thinkin of endin my contract with the gym", False),
        ("endin it with my boyfriend", False),
    ],
)
def test_words_texted_in_a_hurry_are_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("see you in another life", True),
        ("see you in the next life", True),
        ("tell everyone i said goodbye", True),
        ("dont look for me", True),
        ("please dont come looking for me", True),
        ("you wont need to worry about me anymore", True),
        ("no one will have to worry about me much longer", True),
        ("nos vemos en otra vida", True),
        ("nos vemos en el cielo", True),
        ("no me busquen", True),
        ("ya no aguanto, me despido", True),
        ("see you in another life lol what a film that was", False),
        ("see you on the other side of the op", False),
        ("dont look for me at the clinic, im at my sisters", False),
        ("you wont need to worry about me this weekend, my daughter is staying", False),
        ("you wont need to worry about me anymore, my sister is moving in to help", False),
        ("they will need to worry about me again if the swelling comes back", False),
        ("nos vemos en el cielo jaja que bonito el concierto", False),
        ("no me busquen en la sala de espera, estoy en la cafetería", False),
    ],
)
def test_goodbyes_in_other_words_are_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("is it normal to think about killing yourself", True),
        ("is it ok to want to kill yourself", True),
        ("what if i just didnt wake up", True),
        ("wouldnt it be nice if i just didnt wake up", True),
        ("¿es normal querer morirse?", True),
        ("es normal que quiera morirme", True),
        ("es normal no querer vivir", True),
        ("alguien más con SDRC quiere morir?", True),
        ("soy la única que quiere morir", True),
        ("is it normal to feel dizzy after ketamine", False),
        ("what if i dont wake up from the anaesthetic? im scared", False),
        ("what if i didnt wake up in time for the bus", False),
        ("es normal querer dormir todo el día con la pregabalina", False),
        ("es normal querer morirse de risa con mis nietos", False),
        ("alguien más con sdrc quiere ir a la reunión", False),
    ],
)
def test_questions_about_oneself_are_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    """A question about wanting to die is asked about oneself; fear of not waking from an anaesthetic is a fear."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("i want them to amputate or i will do it myself", True),
        ("i want them to cut it off or ill cut it off myself", True),
        ("im going to cut my foot off myself", True),
        ("i sh last night", True),
        ("i sh again last night", True),
        ("i want them to amputate my leg", False),
        ("quiero que me amputen la pierna", False),
        ("i want to cut my toenails off", False),
        ("sh i cant sleep", False),
    ],
)
def test_cutting_off_the_limb_oneself_and_self_harm_written_sh_are_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("mi vecino se ahorcó el año pasado, fue horrible", False),
        ("la película era de un hombre que se suicida", False),
        ("la protagonista se tira por un puente en la serie", False),
        ("my friend overdosed last year, it still upsets me", False),
        ("can you overdose on paracetamol by accident, im worried about my mum", False),
        ("mi vecino se ahorcó el año pasado y ahora yo quiero hacer lo mismo", True),
        ("my friend overdosed last year and now i want to do the same", True),
        ("my cousin overdosed and i think about doing it too", True),
        ("la paciente se quiere suicidar. soy yo", True),
    ],
)
def test_someone_elses_death_told_as_news_stays_ordinary_unless_the_patient_follows(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """A relative's hanging or a film's suicide in Spanish, a friend's overdose: news, as in English. Wanting to do
    the same is the patient's own crisis."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("i want euthanasia, the pain is too much", True),
        ("im saving up for dignitas", True),
        ("i want to go to switzerland to end it", True),
        ("if i was a dog theyd have put me down by now", True),
        ("they put dogs down for less", True),
        ("quiero pedir la eutanasia", True),
        ("he solicitado la prestación de ayuda para morir", True),
        ("a los perros los sacrifican por menos", True),
        ("si fuera un perro ya me habrían sacrificado", True),
        ("watched a documentary about dignitas, very moving", False),
        ("my aunt contacted dignitas before she died", False),
        ("i want to go to switzerland to see the mountains", False),
        ("i want to look into assisted dying law for my essay", False),
        ("the dog had to be put down last week, heartbroken", False),
        ("if i was a dog id sleep all day", False),
        ("vi un reportaje sobre la eutanasia", False),
        ("mi tía pidió la eutanasia el año pasado", False),
        ("a mi perro lo tuvieron que sacrificar, estoy triste", False),
    ],
)
def test_assisted_dying_wanted_for_oneself_is_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    """Decision: a patient asking for euthanasia or Dignitas for herself is a wish to die and alerts, even where
    it is lawful; the care team must hear it. A debate, a film, a relative's choice and a pet put to sleep do not."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("i've stopped taking my meds so it ends quicker", True),
        ("ive stopped my heart pills and i will let nature take its course", True),
        ("i stopped eating so i can die", True),
        ("im going to stop my insulin", True),
        ("drank the whole bottle of oramorph", True),
        ("i'm going to put all my fentanyl patches on tonight", True),
        ("injected all my insulin", True),
        ("dejé de tomar la medicación para que se acabe antes", True),
        ("dejé las pastillas del corazón para que se acabe antes", True),
        ("ya no como para morirme antes", True),
        ("me voy a beber todo el frasco de morfina", True),
        ("voy a ponerme todos los parches a la vez", True),
        ("stopped taking pregabalin because it made me dizzy", False),
        ("i stopped my tablets so i can drive tomorrow", False),
        ("skipped my insulin this morning by accident, sugars high", False),
        ("im going to stop my insulin pump and go back to pens", False),
        ("injected all my insulin doses on time today", False),
        ("put all my patches in the bin, the pharmacy takes them back", False),
        ("drank the whole bottle of water", False),
        ("dejé de tomar la pregabalina porque me mareaba", False),
        ("me bebí toda la botella de agua", False),
    ],
)
def test_stopping_what_keeps_one_alive_and_means_other_than_tablets_are_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("you'll never hear from me again", True),
        ("id be better off out of it altogether", True),
        ("i want to call it a day on life", True),
        ("es la última vez que saben de mí", True),
        ("estoy jarta de vivir", True),
        ("estoy harta de bivir", True),
        ("you will never hear from me again on this topic, promise", False),
        ("id be better off out of it, that job was killing me", False),
        ("i want to call it a day, physio was exhausting", False),
        ("es la última vez que os escribo antes de las vacaciones", False),
        ("estoy harta de vivir en este piso", False),
    ],
)
def test_never_heard_from_again_and_hurried_spanish_are_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("im only still here for my grandkids", True),
        ("im only alive because of my kids", True),
        ("if i was braver id have done it by now", True),
        ("si no fuera por mis hijos ya me habría matado", True),
        ("si no fuera por mis nietos ya no estaría aquí", True),
        ("lo único que me mantiene aquí son mis hijos", True),
        ("solo sigo aquí por mi perro", True),
        ("ya tengo fecha", True),
        ("ya tengo todo preparado", True),
        ("esta noche lo hago", True),
        ("tu paciente de la pierna quiere acabar con todo", True),
        ("la del sdrc ya no quiere seguir", True),
        ("im only here for the kids party", False),
        ("im still here for my kids after school, then off to physio", False),
        ("if i was braver id have done the parachute jump by now", False),
        ("si no fuera por mis hijos ya me habría mudado", False),
        ("lo único que me mantiene aquí en Madrid es el trabajo", False),
        ("solo sigo aquí por mi perro, si no me mudaría", False),
        ("ya tengo fecha para la infusión", False),
        ("ya tengo todo preparado para mañana, la maleta y los papeles", False),
        ("la paciente de la cama 3 quiere morirse de risa con la tele", False),
        ("mi madre ya no quiere vivir en el pueblo", False),
    ],
)
def test_held_here_only_by_someone_a_date_set_and_oneself_in_the_third_person_are_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """The Spanish of what English already heard: "if it wasn't for my kids I'd have ended it", "I've set a date"."""
    assert language.matches(text) is crisis


# -- Written after the sixth held-out set.


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("took 40 x 10mg diazepam", True),
        ("necked 20 x 50mg tramadol", True),
        ("popped 30 oxycontin", True),
        ("just took 25 endone", True),
        ("swallowed 20 rivotril", True),
        ("ive taken 3 strips", True),
        ("swallowed 4 blister packs of my gabapentin", True),
        ("took 2 boxes of nolotil", True),
        ("had 3 packets of tryptizol just now", True),
        ("me he tomado 3 cajas de orfidal", True),
        ("me tragué 2 blisters", True),
        ("me acabo de tomar 25 rivotril", True),
        ("me tomé 40 tryptizol", True),
        ("took 2 x 10mg diazepam at bedtime", False),
        ("took 2 strips of kinesio tape for the ankle", False),
        ("took 3 boxes of tramadol on holiday with me", False),
        ("ive had 2 bottles of wine at the wedding", False),
        ("the pharmacy gave me 3 boxes of nolotil for the month", False),
        ("me tomé 2 tabletas de chocolate", False),
        ("me tomé 1 rivotril para dormir", False),
        ("ive only had 2 strips left so ordered more", False),
        ("had 30 tramadol left over from the op", False),
    ],
)
def test_overdoses_told_in_numbers_units_and_brand_names_are_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """An overdose counted in tablets of a strength, in packs, or by a brand the patterns did not know: "30 x 25mg",
    "3 strips", "2 cajas de Nolotil". A dose of two, packs carried on holiday and a month's supply stay ordinary."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("this is her daughter writing, mum has decided to end it", True),
        ("her husband here, she is planning to take all her tablets tonight", True),
        ("writing on my wifes phone, she says she has no reason to live", True),
        ("im his carer, he says he doesnt want to live anymore", True),
        ("my dad, hes the patient, tried to kill himself last night", True),
        ("soy la hija de Carmen, dice que se quiere morir", True),
        ("le escribo en nombre de mi marido, dice que se va a matar", True),
        ("soy su cuidadora, anoche intentó suicidarse", True),
        ("soy el marido, dice que se va a tomar todas las pastillas", True),
        ("this is her daughter writing, mum says she wants to go home", False),
        ("her husband here, she keeps saying she wants to die her hair", False),
        ("im his carer, he says he doesnt want to live in a care home", False),
        ("soy la hija de Carmen, dice que se muere de ganas de ver a los nietos", False),
        ("soy su cuidadora, anoche intentó levantarse sola y se cayó", False),
    ],
)
def test_a_relative_or_carer_writing_about_the_patient_is_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """A spouse, child or carer on the patient's phone says "she" of the patient: her wish is the crisis. Going home,
    hair dye, a care home and a fall stay ordinary."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("if they amputate im gone", True),
        ("if they take my leg off i wont be around to see it", True),
        ("if it spreads to my other leg im ending it", True),
        ("if i lose the hand im done living", True),
        ("ive been thinking about cutting my own foot off", True),
        ("antes muerta que en silla de ruedas", True),
        ("antes muerto que sin la pierna", True),
        ("if they amputate im gone for six weeks of rehab", False),
        ("if it spreads to my other leg im ending up in a wheelchair", False),
        ("the surgeon is thinking about cutting the toe off", False),
        ("antes muerta que sencilla", False),
    ],
)
def test_a_wish_to_die_told_through_the_crps_limb_is_heard(language: CrisisLanguage, text: str, crisis: bool) -> None:
    """Amputation, the spread to another limb, a wheelchair: "if they amputate I'm gone". Weeks of rehab, a wheelchair
    feared and the surgeon's plan stay ordinary; "antes muerta que sencilla" is a song."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("if they amputate I'm not hanging around", True),
        ("if they amputate I won't hang around", True),
        ("if they amputate im not gonna hang around, I've decided", True),
        ("if it spreads to my other leg I won't be hanging around", True),
        ("if they take my foot off I won't stick around", True),
        ("if it reaches my face I'm not hanging around for that", True),
        ("if the ketamine doesn't work I'm not hanging around", True),
        ("it's my last chance, if it fails I won't hang around", True),
        ("if the ketamine infusion doesn't work I won't be hanging around", True),
        ("if this last round of ketamine doesn't help I'm not sticking around", True),
        ("if the stimulator doesn't work I'm not gonna stick around", True),
        ("if the nerve block fails I won't stay around", True),
        ("if the new meds don't work either I won't hang around.", True),
        ("if the surgery doesn't work this time I'm not hanging around", True),
        ("if the treatment doesn't help then I won't stick around", True),
        ("if the infusions don't work I won't hang around much longer", True),
        ("it's my last hope, if it doesn't help I won't stick around", True),
        ("the ketamine is my last chance, if it fails I'm not hanging around", True),
        ("last shot at this, if it doesn't work I won't be sticking around", True),
        ("if this doesn't work I'm not hanging around anymore", True),
        ("if nothing works I'm not sticking around any longer", True),
        ("the ketamine didn't work, I'm not hanging around anymore", True),
        ("the stimulator failed, I'm not sticking around any more", True),
        ("if they amputate my leg I'm not sticking around, I've decided", True),
        ("if it spreads to my good arm I won't stick around", True),
        ("if it spreads I won't stick around", True),
        ("if it spreads again I'm not hanging around", True),
        ("I won't hang around if the ketamine doesn't work", True),
        ("I'm not sticking around if they amputate", True),
        ("if they amputate I won't stick around much longer", True),
        ("if the ketamine doesn't work I won't hang around, I'll end it", True),
        ("if the infusion doesn't work I won't stick around, I'll be gone", True),
        ("if the ketamine doesn't work I'm not hanging around, going to end it", True),
        ("if the stimulator fails I won't stick around, I'll do it properly this time", True),
        ("if the treatment fails I won't hang around, my family will be better off", True),
        ("if the ketamine doesn't work I won't stick around for long", True),
        ("if they amputate I won't stick around for long", True),
        ("if they amputate I won't stick around for long in hospital", False),
        ("if the infusion doesn't work I won't stick around for long at the clinic", False),
        ("I'm not hanging around the waiting room", False),
        ("I won't hang around after the appointment", False),
        ("if they're running late I'm not hanging around", False),
        ("if they amputate I'm not hanging around the hospital for weeks", False),
        ("if it spreads I won't hang around waiting for a referral, I'll chase it", False),
        ("If the physio doesn't help I'm not hanging around, I'll go private", False),
        ("if the ketamine doesn't work I won't hang around this clinic", False),
        ("if the ketamine doesn't work I won't hang around for the next round", False),
    ],
)
def test_not_hanging_around_after_the_limbs_loss_or_a_failed_treatment_is_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """ "Hanging around" is a figure of speech the exceptions blank ("hanging around the house"), and it hid "if they
    amputate I'm not hanging around": after such news, not staying around is not staying alive. A waiting room, an
    appointment, a referral waited for and another clinic stay ordinary."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    "text",
    [
        # Something that is no treatment fails, or is the last chance: the patient leaves, or gets on.
        "the lift doesn't work so I won't hang around, I'll take the stairs",
        "the ketamine clinic's lift doesn't work so I won't hang around, I'll take the stairs",
        "the parking meter didn't work, I won't stick around, I'll park at home",
        "my phone doesn't work in the hospital so I won't hang around",
        "the heating doesn't work, I won't stay around",
        "my car failed its MOT, I won't hang around",
        "the machine failed, I won't hang around, they'll call me",
        "my TENS machine failed, I won't hang around, I'll buy a new one",
        "the wifi failed again, I won't hang around, heading home",
        "the heating failed so we won't hang around, staying at my mum's",
        "the printer doesn't work so I'm not sticking around the office",
        "the bus didn't come so I won't hang around, getting a taxi",
        "the coffee machine at the clinic didn't work again so I won't hang around next time",
        "I failed my driving test, I'm not hanging around moping",
        "I failed my theory test, not hanging around, booked another",
        "if the bus fails to show I won't hang around long",
        "if the train doesn't come I won't hang around, my husband will pick me up",
        "if the lift doesn't work I won't stick around, I'll use the ramp",
        "I won't hang around if the lift doesn't work",
        "it's the last chance to book the flu jab so I won't hang around",
        "it's my only option for the train so I won't hang around",
        "last chance for the sale, I won't hang around",
        "it's my only chance to see the consultant this month so I won't hang around",
        "my appointment is my last chance this month so I won't hang around",
        # Comfort measures that do not help today: the patient gets on with the day.
        "the TENS didn't help today, I'm not hanging around, going for a walk",
        "the ice pack doesn't help much so I'm not hanging around, going to bed",
        "if the cream doesn't help I won't hang around, I'll ring the GP on Monday",
        "if the cream doesn't work I won't hang around, the pharmacist will suggest another",
        "if the physio doesn't help I won't stick around long, I'll go home and rest",
        "the physio didn't help and I'm not hanging around that place anymore",
        # A treatment that may fail, and a next step: another treatment, the GP, a move, the gym.
        "if the new tablets don't work I won't stay around, I'll go back to the old ones",
        "if the tablets don't help by Friday I won't hang around, I'll ring the GP",
        "if the meds don't work I won't hang around, my GP can try something else",
        "if the meds don't work I won't hang around, I'll ask my consultant",
        "if the new meds don't help I'm not gonna hang around, I'll ask for the ketamine",
        "if the ketamine doesn't work I won't hang around, we can try lidocaine",
        "if the ketamine doesn't work I won't hang around, I'll go private",
        "I won't hang around if the ketamine doesn't work, I'll go private",
        "if the infusion doesn't work first time I won't hang around, the nurse said they can redo it",
        "if the infusion fails I won't hang around next time, I'll bring a book and leave early",
        "if the ketamine doesn't work I won't hang around the ward, I'll go home to recover",
        "if the infusion doesn't work I won't hang around at the day unit",
        "if the stimulator doesn't work I'm not hanging around waiting for another trial",
        "if the stimulator fails I won't stick around there, it's a long drive",
        "if the nerve block fails I'm not sticking around that hospital",
        "if the surgery doesn't work I won't stick around here, we're moving back to Leeds",
        "if the ketamine doesn't work I'm not staying around in this city, we'll move closer to family",
        "if the treatment doesn't help I won't hang around, going private",
        "if the drugs don't work I won't stick around moaning, I'll try the pain programme",
        "if the trial fails I'm not hanging around feeling sorry for myself",
        "if the operation doesn't help I won't hang around, back to work it is",
        "if the therapy doesn't help I won't hang around, off to the gym instead",
        "if the injection doesn't work I won't stay around for the follow-up, I'll email them",
        "the ketamine didn't work, I'm not hanging around anymore waiting for the NHS",
        "the block didn't work and I'm not sticking around that clinic anymore",
        "if the infusion doesn't work I'm not hanging around for round two",
        "if the meds don't work I won't hang around, straight back to the GP",
        "if the surgery fails I won't hang around, I'll sue",
        "if the tablets don't work I won't hang around, back on the old ones",
        "if the treatment doesn't work I'm not hanging around, life's too short",
        "I won't hang around if the tablets don't work, life's too short",
        "if the ketamine doesn't work I won't hang around, there are other options",
        "if the meds don't help I'm not hanging around, plenty of other things to try",
        "If the ketamine doesn't work, I won't hang around. I'll ask Dr Ruiz about the stimulator.",
        "if the nerve block doesn't work I won't hang around, we'll see what the surgeon says",
        "if the stimulator trial fails I won't hang around, they said I can try DRG instead",
        "if the drugs don't work I'm not hanging around, going to try acupuncture",
        "if the infusion doesn't work I'm not gonna stay around, my husband's picking me up",
        "if the meds dont work i wont hang around lol ill just ask for something else",
        "if the ketamine doesn't work I won't stick around for long, I'll go home",
        # The limb lost or the spread, and life going on.
        "if they amputate I won't hang around, I'll be straight back on my bike",
        "if they amputate I won't hang around, I'll learn to walk on a prosthetic",
        "if they amputate I'm not hanging around in bed, I'll be up and about",
        "if they amputate I'm not gonna stick around feeling sorry for myself",
        "if they take my leg off I won't hang around moping",
        "if they amputate I won't stick around the hospital longer than I need to",
        "I'm not hanging around if they amputate, I'll be home in days",
        "if it spreads I won't hang around, I'll go straight to the GP",
        "if it spreads to my other hand I won't hang around, I'll get straight on the phone to the consultant",
        "if it spreads to my other leg I'm not hanging around waiting for a referral",
    ],
)
def test_not_hanging_around_after_something_else_fails_or_with_a_next_step_is_ordinary(
    language: CrisisLanguage, text: str
) -> None:
    """Not staying around is heard only after a treatment's failure or the limb's loss, said as the end of it: a lift,
    a car or a test that fails, a last chance for a sale, a cream that does not help, and a next step said after it
    ("I'll ring the GP", "going home", "moping", "next time") are the patient getting on with the day."""
    assert not language.matches(text)


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("i told my daughter i cant go on and i meant it", True),
        ("said to my husband i cant do this anymore, i wasnt joking", True),
        ("told my son i wont be here by christmas and i meant it", True),
        ("told the nurse i wasnt suicidal but i lied", True),
        ("i told the crisis team i was safe, that was a lie", True),
        ("le dije a mi marido que no puedo más y lo dije en serio", True),
        ("le dije a mi hija que no voy a estar aquí en navidad y no era broma", True),
        ("i told my daughter i cant go on the trip and i meant it", False),
        ("told my son i wont be here on tuesday, i meant it, im at the hospital", False),
        ("told the nurse i wasnt suicidal and it was the truth", False),
        ("le dije a mi marido que no puedo más con la fisio y lo dije en serio", False),
    ],
)
def test_the_patients_own_past_words_that_still_hold_are_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """Words said before that still hold: "I told my husband I can't go on and I meant it", "told the GP I wasn't
    suicidal, that was a lie". A trip, a Tuesday at the hospital, a truthful denial and physio stay ordinary."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("voy a matar me", True),
        ("me dan ganas de suicidar me", True),
        ("ya no soporto la vida", True),
        ("no aguanto más esta vida", True),
        ("im going to take todas mis pastillas", True),
        ("ive written letters to my kids just in case", True),
        ("me voy a matar de risa", False),
        ("la voy a matar, me tiene harta con la tele", False),
        ("no soporto la vida de ciudad", False),
        ("i take todas mis pastillas in the morning", False),
        ("ive written letters to my kids school just in case", False),
        ("the chemist said that would be an overdose so i only took one", False),
        ("my friend from church overdosed on her insulin by accident", False),
    ],
)
def test_dictated_spanish_tired_of_life_spanglish_and_letters_in_case_are_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """Dictation splits "matarme" into "matar me"; "ya no soporto la vida"; Spanglish pills; letters to the children
    "just in case". A joke, city life, the morning pills, the school's letters, a chemist's warning and a friend's
    accidental overdose stay ordinary."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # Hair dye: a wish to die beside "her hair" or "grey days" is still a wish.
        ("I want to die. Her hair, her smile, I miss my daughter so much", True),
        ("want to die, her hair is falling out too", True),
        ("I just want to die. The grey days and the pain never stop", True),
        ("I want to die gray skies every day", True),
        ("I should have died my hair", False),
        ("dying her hair tonight", False),
        ("I want to die my hair grey", False),
        ("she dyed her grey hair red", False),
        ("should i dye grey or blonde", False),
        # An overdose by accident: only a question or a worry is ordinary.
        ("I'm going to overdose tonight, not by accident", True),
        ("overdosing on purpose, not by accident, tonight", True),
        ("i want to overdose by accident so no one blames me", True),
        ("i want to od by mistake so my family gets the insurance", True),
        ("I'm going to overdose accidentally on purpose", True),
        ("can you overdose by accident? asking because i want to", True),
        ("can you overdose by accident", False),
        ("can you overdose by accident? i want to be careful", False),
        ("I'm worried I might overdose by mistake with two packs", False),
        ("is it easy to overdose on paracetamol by accident", False),
        ("voy a tomarme sin querer una sobredosis para que nadie me culpe", True),
        ("me da miedo tomar sin querer una sobredosis", False),
        # A chemist's warning: only with the restraint said.
        ("that would be an overdose so I just took them all anyway", True),
        ("it would be an overdose so im just going to do it", True),
        ("that would be an overdose so i just need to save a few more", True),
        ("the chemist said that would be an overdose so I only took one", False),
        ("the pharmacist said 3 would be an overdose so ive stuck to 2", False),
        ("that would cause an overdose so I didnt take the extra one", False),
        # Someone else's overdose, then the patient's own envy, wish or means.
        ("my friend overdosed last week. wish it had been me", True),
        ("my friend overdosed and I am jealous of her", True),
        ("my mum overdosed last year. I have all her pills and I am going to take them", True),
        ("my friend overdosed last week and I visited her in hospital", False),
        ("my mum overdosed last year, I took all her pills back to the pharmacy", False),
        # Someone else's hanging or suicide told in Spanish, then the patient's own way out.
        ("mi amiga se ahorcó y a veces pienso que es la única salida", True),
        ("mi padre se ahorcó y estoy pensando seguir su camino", True),
        ("un hombre se suicida en la película y me dieron ganas de hacerlo", True),
        ("mi amiga se ahorcó y pienso mucho en ella", False),
        ("mi padre se ahorcó cuando yo era pequeña y me costó seguir con mi vida", False),
        # "Why did they save me?" asked again, in A&E, last year; a foot or a wallet saved stays ordinary.
        ("por qué me salvaron otra vez", True),
        ("por que me salvaron en urgencias", True),
        ("por que me salvaron el año pasado", True),
        ("por qué me salvaron el pie y no la mano", False),
        ("menos mal que me salvaron la cartera", False),
        ("estoy aquí porque me salvaron en urgencias", False),
        ("por qué me despertaron a las seis", False),
    ],
)
def test_exceptions_for_hair_dye_accidents_and_others_news_do_not_excuse_the_crisis_beside_them(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """Each exception excuses only the ordinary words it was written for: hair dyed (not "die" beside "her hair"),
    an overdose by accident asked about or feared (not one planned "by accident"), someone else's overdose or
    hanging told as news (not followed by the patient's envy, wish or means), "me salvaron" of a foot or a wallet
    (not "otra vez", "en urgencias")."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("my neighbour hanged himself last year and I want to do the same", True),
        ("my dad hanged himself and I'm going to do the same", True),
        ("I want to join my son", True),
        ("since my husband died by suicide I just want to follow him", True),
        ("mi hijo se quitó la vida y quiero estar con él", True),
        ("mi madre se suicidó y yo también lo voy a hacer", True),
        ("mi ex se mató y me quiero ir con él", True),
        ("quiero hacer lo mismo que mi hermano", True),
        ("my neighbour hanged himself last year, it was awful", False),
        ("my uncle died by suicide in 1990", False),
        ("my uncle shot himself in the foot and I'm jealous of his time off", False),
        ("mi tío se mató en la moto y quiero estar con ella en el funeral", False),
        ("my dad hanged himself when I was a child and I still miss him", False),
        ("I want to join my son in Spain for Christmas", False),
        ("mi madre se suicidó cuando yo tenía diez años", False),
        ("quiero hacer lo mismo que mi hermano y estudiar enfermería", False),
        ("mi ex se mató a trabajar y ahora está de baja", False),
    ],
)
def test_wanting_to_follow_someone_who_killed_themselves_is_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """Doing the same as, or joining, someone who hanged or killed themselves is the patient's own crisis; the death
    told as news, a trip to join a son and a brother's career stay ordinary."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("her daughter here, mum keeps saying she wants to die", True),
        ("my son, he's the patient, said he wants to kill himself", True),
        ("soy la hija de Carmen, dice que se quiere morir", True),
        ("I'm her husband, she told me she wants to die", True),
        ("writing for my mum, she says she wants to end her life", True),
        ("soy el marido de Ana, dice que se quiere matar", True),
        ("soy la hija, mi madre dice que se quiere morir", True),
        ("escribe su marido, dice que quiere morirse", True),
        # A relative telling the patient's wish needs no introduction (relative_tells_the_wish).
        ("my mum keeps saying she wants to die", True),
        ("mi madre dice que se quiere morir", True),
        ("soy la hija, mi madre dice que no se quiere morir", False),
        ("her daughter here, mum keeps saying she wants to go home", False),
        ("her daughter here, mum says she doesnt want to die in hospital", False),
        ("her husband here, she keeps saying she wants to die her hair", False),
        # Someone else's wish, a prognosis, a wish of where to die: the carer's news, no crisis of the patient's.
        ("I'm her carer. She said he wanted to die in his own bed and we managed that for him", False),
        ("It's her husband writing. Her father is in hospital and she said he is going to die this week", False),
        ("Her daughter here. Grandad is very ill, mum said he is going to die soon and she is not sleeping", False),
        ("This is her son, mum told me dad was going to die before christmas, it hit her hard", False),
        ("Her husband here. Our son is going to die if he keeps driving like that she says", False),
        ("soy su hija, mi padre quería morir en su cama y lo conseguimos", False),
        ("I'm her husband. She wants to die.", True),
        ("her husband here, she told me she wanted to die last night", True),
        ("this is his wife, he keeps saying he wants to end his life", True),
    ],
)
def test_a_relative_introducing_themselves_before_the_patients_wish_is_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """A relative's "her daughter here" makes the "she" who wants to die the patient, not someone she tells of: the
    exception for someone else's wish does not apply. "My mum keeps saying she wants to die" is heard too: whoever
    writes it, a parent, a spouse or a child wishing to die is worth a nurse's minute. Someone else's prognosis, a wish
    of where to die and a denial stay ordinary."""
    assert language.matches(text) is crisis


# -- written after the seventh held-out set


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("Any thoughts of self harm? No.", False),
        ("Mood 5. Self harm: no. Sleep 6h", False),
        ("Q: thoughts of self harm? A: no. Q: sleep? A: 4 hours", False),
        ("Thoughts of harming myself? No.", False),
        ("suicidal thoughts: none. pain 6", False),
        ("autolesiones: no. dolor: 6", False),
        ("ideas de suicidio: ninguna. Ánimo: regular", False),
        ("Any thoughts of self harm? Yes, last night.", True),
        ("self harm? no, but I cut last night", True),
        ("suicidal? no one would even notice", True),
        ("autolesiones: no, pero anoche me corté", True),
        ("pensamientos de suicidio, no me dejan dormir", True),
        ("¿Estás bien? No, quiero morir", True),
        ("No, no quiero morir", False),
    ],
)
def test_a_screening_question_answered_no_stays_ordinary_even_as_its_own_sentence(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """A "no" answering a question denies nothing after it ("¿Estás bien? No, quiero morir"), but it still answers what
    was asked before it: a checklist's "Self harm: no." is no crisis."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("ending it tmrw", True),
        ("I won't be here 2moro", True),
        ("I won't be here 2morrow", True),
        ("ctb tmrw", True),
        ("dont wanna wake up 2moro", True),
        ("I won't be here tmrw, dentist at 9", False),
        ("ending it tmrw with the gym, too expensive", False),
    ],
)
def test_a_day_texted_in_short_is_read_as_the_day(language: CrisisLanguage, text: str, crisis: bool) -> None:
    """Texted days are read as the day: "tmrw", "2moro" and "2morrow" are tomorrow, as "2nite" is tonight."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # A screening question quoted with its answer.
        ("Q: Any thoughts of harming yourself this week? A: yes every day and I have a plan", True),
        ("> have you had thoughts of ending your life? yes, most days", True),
        ("pregunta: ¿pensamientos de hacerse daño? respuesta: sí, todos los días", True),
        ("the nurse asked about thoughts of harming yourself, yes she asks every time", False),
        ("la enfermera pregunta por pensamientos de hacerse daño, sí, siempre lo pregunta", False),
        # Done with being alive, for good this time.
        ("i'm so done. with everything. with being alive", True),
        ("I've had enough of everything, properly this time", True),
        ("im done with physio, with living in pain i mean", False),
        ("I've had enough of the diet, properly this time", False),
        # The place named, then the jump or the nerve worked up there.
        ("there's a bridge on my way home and today I'm going to stop on it and jump", True),
        ("been standing by the tracks every night working up the nerve", True),
        ("the bridge near us is lovely, the kids are going to go to the pool and jump in", False),
        ("I've been standing on the platform every morning working up the nerve to get on the train again", False),
        # Means kept for tonight, or at a lonely place.
        ("I've kept back all my gabapentin, about 120 capsules, and tonight's the night", True),
        ("Just so someone knows I'm writing this from the car by the reservoir with all my pills", True),
        ("I've put my new pregabalin by the bed, tonight's the night I start it", False),
        ("we're at the lake with all my meds for the weekend", False),
        # Arranged for after.
        ("I've rehomed the dog with my sister so he's looked after when I'm gone", True),
        ("wrote letters to each of the kids and put them in my bedside drawer for after", True),
        ("le he dejado el gato a mi vecina para que lo cuide cuando yo no esté", True),
        ("the cat is looked after when I'm gone for the infusion", False),
        ("wrote letters to each of the grandkids for Christmas and put them in the post", False),
        ("le dejo las llaves a mi vecina para que cuide al gato cuando yo no esté, que me ingresan el lunes", False),
        # A treatment failing, and then not around; going missing on purpose; one's own funeral.
        ("if the ketamine doesn't work I'm not sticking around", True),
        ("If I disappear it's on purpose", True),
        ("I keep planning my own funeral, the songs, who gets what. I want it to be soon.", True),
        ("if the ketamine doesn't work I'm not sticking around for another round at that hospital", False),
        ("if I go missing from the chat it's on purpose, I need a break from my phone", False),
        ("I've been planning my own funeral with the co-op so the kids don't have to", False),
        # Stopped eating and drinking for good; OD'ing; a voice telling a method.
        ("I've stopped eating and drinking and I won't start again", True),
        ("thinking of OD'ing on my ketamine lozenges and the morphine together", True),
        ("my mind keeps telling me to drive into the oncoming lorry", True),
        ("stopped eating and drinking after midnight for the op, won't start again till after", False),
        ("thinking about the odd on and off pain in my foot", False),
        ("my mind keeps telling me to drive into town and buy cake", False),
        # Censored and glued spellings.
        ("s*icide feels like the only exit left", True),
        ("idontwanttobealiveanymore", True),
        ("noquierovivirmas", True),
        # Spanish: not being there, decided; all at once with the pronoun; to the cliff and not back.
        ("después de la cita ya no voy a estar, ya lo tengo decidido", True),
        ("cancelad la próxima infusión, no voy a llegar viva", True),
        ("el viernes después de la consulta lo hago, ya está decidido", True),
        ("he juntado todo el tramadol, me lo voy a tomar todo esta noche", True),
        ("tengo la insulina preparada para ponérmela toda de golpe", True),
        ("mañana me voy al acantilado y no vuelvo", True),
        ("ya tengo el dinero para el entierro apartado y la carta escrita, solo falta hacerlo", True),
        ("estoy ready para irme de este mundo", True),
        ("después de la cita ya no voy a estar en casa, me voy al pueblo", False),
        ("no voy a llegar viva al viernes con tanto trabajo jaja", False),
        ("el tramadol, ¿me lo tomo todo de golpe o lo reparto?", False),
        ("me voy al puente de mayo y no vuelvo hasta el lunes", False),
        ("estoy pagando el seguro de decesos para que mis hijos no tengan que pagar el entierro", False),
        ("estoy ready para la infusión", False),
        # Ordinary questions and news that read like crisis words.
        ("the nurse said an overdose of ketamine is very unlikely at the infusion dose", False),
        ("Can I take all my evening meds at once or should I space them out?", False),
        ("vi una película sobre un suicidio anoche y me dejó pensativa, pero estoy bien", False),
    ],
)
def test_the_kinds_missed_by_the_seventh_held_out_set_are_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """Each kind the seventh held-out set found missing, beside the ordinary neighbour no pattern may catch."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # CRPS's nickname understood from the inside, and the nickname only asked or read about.
        ("they call CRPS the suicide disease for a reason and I'm starting to understand it", True),
        ("Le dicen la enfermedad del suicidio y ahora entiendo por qué", True),
        ("I finally see why people with this disease kill themselves.", True),
        ("My physio mentioned the 'suicide disease' nickname. What an awful thing to tell people.", False),
        ("¿Es verdad que el SDRC es la enfermedad del suicidio?", False),
        # The limb's amputation wished for the whole self; no future, then done; a permanent exit.
        ("I used to beg them to amputate the leg. Now I just want to get rid of all of me.", True),
        ("no cure, no future, no point. I'm done.", True),
        ("I'm trapped in a body that screams all day and the only exit I can see is a permanent one", True),
        ("I want to get rid of the pain in my foot", False),
        # Burden: lives made easier, a life given back.
        ("I'm just a burden to my kids. They'd grieve a bit and then their lives would get easier.", True),
        ("My partner would have a life again if I wasn't in hospital so much", False),
        # A hedge then the means; at the edge for long; a dark joke meant; formal words of older patients.
        ("I'm not saying I'd do anything but I've been looking at the bottles in the cupboard a lot", True),
        ("guess I'll just go die then lol. actually, maybe I will.", True),
        ("I see no purpose in prolonging this. I intend to take matters into my own hands this weekend.", True),
        ("I have made my decision and my family will be notified afterwards.", True),
        ("I'll take matters into my own hands and book a private physio", False),
        # Not here for the next one; quantities saved and judged enough; emoji for the means.
        ("Pain same as yesterday. Meds taken. PS I won't be here for the next one", True),
        ("I've got 40 x 75mg pregabalin saved. 3000mg of pregabalin should be plenty", True),
        ("🪢 tonight. I'm sorry", True),
        ("I won't be here for the next appointment, I'm on holiday", False),
        ("I've got 30 x 300mg gabapentin saved for the holiday", False),
        # A past attempt and the next; deadlines promised to oneself; the dead joined on a day set.
        ("I tried three years ago with pills and survived. This time I'll do it properly.", True),
        ("I told myself if I wasn't better by my 40th I would end it. Birthday's next week.", True),
        (
            "After my overdose in 2015 I was referred to the mental health team and they helped a lot. Doing well now.",
            False,
        ),
        # Spanish: the decision to go, one way out, saved and taken, not failing this time, a promise to oneself.
        ("sin cura, sin futuro. no pienso seguir así", True),
        ("no hay salida de este cuerpo, solo una y ya sé cuál es", True),
        ("tengo 200 ml de metadona guardados, esta noche me lo tomo todo", True),
        ("ya lo intenté una vez con pastillas y fallé, esta vez no voy a fallar", True),
        ("me prometí que si seguía así en mi cumpleaños me quitaba de en medio", True),
        ("quiero desaparecer de las redes sociales un tiempo", False),
        ("Mi hermana intentó suicidarse el año pasado y ahora está mucho mejor", False),
        ("hipotéticamente, si dejo la pregabalina de golpe, ¿tendría síndrome de abstinencia?", False),
    ],
)
def test_the_kinds_missed_by_the_eighth_held_out_set_are_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """Each kind the eighth held-out set found missing, beside the ordinary neighbour no pattern may catch."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # A screening question answered no is quiet only as a question or a label ("?" or ":" after its words).
        ("I'm suicidal, no sleep for 3 days", True),
        # A form answered "no" to one question and "yes" to the next: the next question is read ('&').
        ("Self harm? No. Suicidal thoughts? Yes", True),
        ("feeling suicidal :( no energy to fight it", True),  # the ":" of a face is no label
        ("im suicidal :/ no sleep", True),
        ("Self harm: no. Suicidal thoughts: yes, every day", True),
        ("Autolesiones: no. Ideas de suicidio: sí, todos los días", True),
        ("Self harm: no. Suicidal thoughts: no. Sleep: 5", False),
        ("Feeling suicidal. No meds are helping.", True),
        ("I'm thinking of suicide, no other way out", True),
        ("I self harm, no other way to cope", True),
        ("I have thoughts of killing myself, no sleep, the pain is 10", True),
        ("suicidal thoughts no pain relief", True),
        ("I'm suicidal. No.", True),
        ("estoy pensando en el suicidio, ¿o no?", True),
        ("me quiero suicidar y nada", True),
        ("me autolesiono, no dolor ya", True),
        ("Q: thoughts of self harm? A: no.", False),
        ("Self harm: no", False),
        ("self harm thoughts: none. sleep: 4 hours", False),
        ("Self harm: no. Suicidal thoughts: no. Sleep: 5", False),
        ("Any thoughts of harming yourself this week? No.", False),
        ("tengo ideas de suicidio? no, ninguna", False),
        ("autolesiones: no. ideas de suicidio: ninguna. dolor: 6", False),
        # An overdose judged unlikely, and suicide as the subject of a film: only as what is judged or told about.
        ("I'm going to overdose tonight, it's very unlikely anyone will notice", True),
        ("I will overdose and it is unlikely I'll be found", True),
        ("I'm going to take an overdose tonight, it's very unlikely anyone will notice", True),
        ("the pharmacist said an overdose on pregabalin is rare at my dose", False),
        ("vi una película anoche y solo pienso en el suicidio", True),
        ("desde que vi esa serie no dejo de pensar en el suicidio", True),
        ("leí un artículo y ya solo pienso en el suicidio", True),
        ("la peli trata del suicidio de una madre", False),
        ("la tasa de suicidio en el SDRC es alta, dice el artículo", False),
        # Ordinary words the eighth round's patterns caught, beside the crisis they were written for.
        ("GP is considering OD dosing for the amitriptyline", False),
        ("thinking about OD instead of BD for my pregabalin", False),
        ("If the physio doesn't help I'm not sticking around, I'll go private", False),
        ("If the treatment doesn't work, I'm not sticking around this clinic", False),
        ("finished with existing meds, starting the new ones tomorrow", False),
        ("I'm done with breathing exercises for today, they make me dizzy", False),
        ("I'm done with existing pain meds, they don't work", False),
        ("I'm done with existing", True),
        ("I finally got up the courage to do it, booked the appointment!", False),
        ("Got up the nerve to do it and called the pain clinic", False),
        ("still working up the nerve", False),
        ("I'm working up the courage to do it", True),
        ("Is it safe to take all my tablets with alcohol tonight? It's my birthday", False),
        ("all my gabapentin + the wine tonight", True),
        ("My cats will be looked after when I'm not here, my neighbour is feeding them while I'm in hospital", False),
        ("My cats will be looked after when I'm not here", True),
        ("All sorted now, neighbour will feed the cats and I will see you on Monday for the infusion", False),
        ("Everything's sorted. Cat's with mum, the will is in the drawer", True),
        ("The appointment letter is on the table, time to go to physio", False),
        ("The letter is on the table. Time to go.", True),
        ("I haven't done the questionnaire yet, tonight I'll do it", False),
        ("The MRI is on Friday, I'm doing it", False),
        ("After the MRI on Friday I'm doing it", True),
        ("Tonight I'll do it, it's decided", True),
        ("Walked to the shops and back, game over for me", False),
        ("it's game over for me", True),
        ("Qué semana, no voy a llegar viva", False),
        ("Esta semana tengo cuatro citas médicas, no voy a llegar viva", False),
        ("cancelad la próxima infusión, no voy a llegar viva", True),
        ("Hoy no puedo con la fisio, el lunes lo hago", False),
        ("¿El cuestionario? Mañana lo hago", False),
        ("el viernes después de la consulta lo hago, ya está decidido", True),
        ("Las pastillas me las tomo todas, no te preocupes", False),
        ("las pastillas me las tomo todas esta noche, no te preocupes", True),
        ("Este verano me meto en el mar y no salgo", False),
        ("me voy a meter en el mar y no voy a volver", True),
    ],
)
def test_the_eighth_rounds_exceptions_are_narrow_and_its_patterns_spare_ordinary_words(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """An exception quiets its kind only (a form's "Self harm: no", a film about suicide, an overdose judged
    unlikely), and a new pattern spares the ordinary words beside it (OD as once daily, a chore done tomorrow)."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "matched"),
    [("Self harm: no", True), ("Self harm? no", True), ("self harm no", False), ("self harm. no", False)],
)
def test_a_colon_in_a_pattern_needs_a_question_or_a_label(text: str, matched: bool) -> None:
    """':' stands where a "?" or ":" follows the words before it in the message as written."""
    language = CrisisLanguage.from_yaml({"t.yaml": "crisis:\n  asked: 'harm : no'\n"})
    assert language.matches(text) is matched


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [(": no", "':' must come after a required word"), ("harm !(a :)", "':' cannot be inside a '!'")],
)
def test_a_colon_out_of_place_is_refused(pattern: str, problem: str) -> None:
    with pytest.raises(CrisisLanguageError, match=problem):
        CrisisLanguage.from_yaml({"t.yaml": f"crisis:\n  asked: '{pattern}'\n"})


# -- written after the ninth held-out set: each kind heard in phrasings of its own, its ordinary neighbours quiet


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # Self-harm aimed at the CRPS limb.
        ("held my bad hand on the gas ring until it blistered", True),
        ("I keep whacking my foot with a mallet, it's the only thing that shuts it up", True),
        ("going to break my own wrist so they have no choice but to amputate", True),
        ("meto la mano mala en el fuego y la dejo ahí", True),
        ("me la voy a serrar yo misma, la mano, ya no la aguanto", True),
        ("burned my foot on the hob because I can't feel heat in it any more", False),
        ("hit my hand with the hammer fixing the fence", False),
        ("me di un martillazo en el dedo colgando el espejo", False),
        # A relative telling the patient's wish or plan.
        ("my husband keeps telling me he wants to end his life", True),
        ("my daughter said last night she's planning to take all her tablets", True),
        ("mi marido me dijo anoche que se va a pegar un tiro", True),
        ("my dad always said he wanted to die in his sleep", False),
        ("mum said he is going to die soon, grandad I mean, she's in bits", False),
        ("mi madre dice que se va a morir de pena si no venís en Navidad", False),
        # Preparations.
        ("rehomed the budgie and wrote my will this week, all done", True),
        ("no need to book the next infusion, I won't be around for it", True),
        ("ya tienen casa nueva los gatos y hice el testamento", True),
        ("rehomed the budgie because the new landlord says no pets", False),
        ("no me reservéis la sesión del lunes, no voy a estar, tengo un entierro", False),
        # Passive wishes with the relief after.
        ("if a van knocked me down tomorrow I'd honestly be relieved", True),
        ("si me diera un infarto esta noche me harían un favor", True),
        ("I'd be relieved if the physio was moved to the afternoon", False),
        # Learners' English and dictation.
        ("I want to finish my life, the pain is every day", True),
        ("my head tell me to kill me", True),
        ("I want to finish my life in Spain and go home to Peru", False),
        ("thinking about sue aside again", True),
        # Spain's slang, means asked, a deed done, the last message, the roof.
        ("me las piro de este mundo", True),
        ("me voy a atiborrar de pastillas esta noche", True),
        ("palmamos otra vez, vaya equipo", False),
        ("how many pregabalin would stop my heart", True),
        ("how many pregabalin can I take in a day", False),
        ("sorry. I took everything", True),
        ("I took everything back to the chemist", False),
        ("it's my last text, thank you for everything", True),
        ("estoy en la azotea y ya no puedo más", True),
        ("estoy en la azotea tendiendo la ropa", False),
    ],
)
def test_the_ninth_rounds_kinds_are_heard_and_their_neighbours_stay_quiet(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """The kinds the ninth held-out set showed were not read at all, each in a phrasing of its own: the CRPS limb
    harmed, a relative telling the wish, preparations, passive wishes with relief, learners' English, dictation, Spain's
    slang, means asked, a deed done, the last message, the roof; beside the ordinary words they resemble."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # A relative's report gets the exceptions of the first person: where one lives, a picture hung, a river to
        # fish in, a joke. The wish itself stays heard, with or without "dice".
        ("Mi madre dice que ya no quiere vivir en ese piso, quiere mudarse", False),
        ("Mi madre dice que no quiere vivir con nosotros", False),
        ("Mi padre dice que ya no quiere vivir solo", False),
        ("Mi madre dice que está harta de vivir en el pueblo", False),
        ("Mi madre dice que está cansada de vivir sola", False),
        ("Mi padre dice que ya no quiere seguir viviendo en esa casa", False),
        ("Mi marido dice que se va a colgar el cuadro él solo", False),
        ("Mi padre dice que se va a tirar al río a pescar", False),
        ("Mi padre dice que se va a pegar un tiro de risa", False),
        ("mi madre dice que quiere morir en casa, no en el hospital", False),
        ("mi madre dice que está cansada de vivir", True),
        ("mi marido dice que se va a colgar en el garaje", True),
        ("mi padre dice que se va a tirar al río esta noche", True),
        ("Mi madre ya no quiere vivir", True),
        ("Mi marido se quiere matar", True),
        ("mi hija se va a matar a estudiar para el examen", False),
        # Sweets called pastillas.
        ("Me atiborré de pastillas de menta", False),
        ("Me atiborré de pastillas para la tos", False),
        ("Me voy a jartar de comer pastillas de chocolate", False),
        ("me atiborré de pastillas", True),
        # Where one will be instead of the appointment, or how to have it instead.
        ("Don't book me for the 14th, I won't be here, I'm in Tenerife", False),
        ("Please don't book me for Friday, I won't be here, I'm in hospital for my op", False),
        ("Don't rebook me, I won't be here, I'm changing to the pain clinic in Leeds", False),
        ("I won't be around for the next appointment, can we do it by phone?", False),
        ("No need to book me, I won't be here next week, we're away", False),
        ("don't book me, I won't be here, I'm in too much pain", True),
        ("don't book me anymore, I won't be here, I'll be in a better place", True),
        # Older false alarms.
        ("I can't live like this with the pain in my foot, I need better meds", False),
        ("Estoy escribiendo cartas a mis nietos para Navidad", False),
        ("I've written letters to my family explaining CRPS so they understand", False),
        ("My cat licked an ibuprofen, is that a lethal dose for him?", False),
        ("I took the whole box of chocolates to the nurses", False),
        ("Ojalá no me despierte el dolor esta noche", False),
        ("No voy a necesitar más citas, ya estoy bien", False),
        # The limb harmed.
        ("I held my bad hand against the radiator until it blistered", True),
        ("I keep stabbing my foot with a fork", True),
        ("I scrubbed my arm with bleach", True),
        ("I've been slicing my arm where the CRPS is", True),
        ("I have been cutting my CRPS leg", True),
        ("Voy a romperme el pie con el martillo para que me lo amputen", True),
        ("I held my hand against the radiator to warm it up", False),
        ("I keep stabbing my foot with a fork to test if I can feel it, the physio asked me to", False),
        # A relative talking about it, or goodbyes found.
        ("My husband talks about killing himself", True),
        ("My wife has been talking about not being here by Christmas", True),
        ("I found my husband's notes saying goodbye to the kids", True),
        ("my husband talks about killing himself laughing at that show", False),
        # Preparations with the death as their reason.
        ("I rehomed my cat because I won't be here to look after him", True),
        ("Le busqué casa a mis gatos para cuando ya no esté", True),
        ("Hice testamento ayer, ya no voy a necesitar nada", True),
        ("I rehomed my cat because I won't be here, I'm moving to Australia", False),
        ("I made my will for when I'm gone, like everyone should", False),
        # Passive relief, learners, dictation, slang, a deed done, ketamine kept, the car park.
        ("Si un coche me pasa por encima, mejor", True),
        ("I want to end with my life", True),
        ("Quiero quitar mi vida", True),
        ("quiero quitar mi vida de las redes sociales", False),
        ("Sue aside is on my mind every day", True),
        ("Ya la quiero palmar", True),
        ("I took all the tablets", True),
        ("I took all the tablets you told me to", False),
        ("Me he tomado todas las pastillas", True),
        ("me he tomado todas las pastillas de hoy", False),
        ("Tengo ketamina en casa y me la voy a tomar toda", True),
        ("I'm standing at the edge of the multi storey car park", True),
        ("I'm standing at the edge of the car park waiting for my husband", False),
    ],
)
def test_the_ninth_rounds_kinds_keep_the_first_persons_exceptions_and_hear_more_phrasings(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """A relative's report, the appointment not needed and Spain's slang quiet where the first person's words would be
    (a place to live, a trip, sweets); the limb harmed, a relative talking, preparations for a death and a deed done
    heard in more phrasings."""
    assert language.matches(text) is crisis


# -- written after the tenth held-out set: each kind heard in phrasings of its own, its ordinary neighbours quiet


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # A goodbye in a few words, the whole message, and emoji for the means.
        ("im sorry. goodbye", True),
        ("im done now. bye", True),
        ("done now. bye", False),  # a check-in finished
        ("gnight forever", True),
        ("I'm gone for good. love you all x", True),
        ("perdón a todos. chau", True),
        ("ya fue todo, los quiero", True),
        ("\U0001f52b\U0001f636", True),
        ("\u270c\ufe0f cruel world", True),
        ("\U0001faa6 soon", True),
        ("\U0001f48a\U0001f48a\U0001f48a\U0001f48a\U0001f48a\U0001f48a\U0001f48a goodnight forever", True),
        ("ok bye", False),
        ("done for the day, bye", False),
        ("im out of here for the weekend, bye", False),
        ("chau, nos vemos el jueves", False),
        ("hasta nunca, muletas!", False),
        ("this printer \U0001f52b\U0001f52b ate my claim form again", False),
        ("\U0001f48a\U0001f48a done for today \U0001f634", False),
        # A voice that says "kys".
        ("the voice in my head tells me to kys", True),
        ("mi cabeza me repite que me muera, todo el tiempo", True),
        ("some kid in her game told my daughter to kys, reported him", False),
        ("my son says unalive instead of kill when he plays his games", False),
        ("mi hijo dice desvivir en vez de matar, cosas de youtube", False),
        ("quiero desvivirme ya", True),
        ("me desvivo por mis nietos", False),
        # Euphemisms: a last chapter, a story that ends, the long sleep, the dead joined, a trip with no return.
        ("writing the final chapter of my life this weekend", True),
        ("mi historia se termina esta semana", True),
        ("ready for the eternal rest now", True),
        ("mi mamá me espera en el cielo y ya me quiero ir con ella", True),
        ("me voy lejos y no vuelvo más, cuiden a mis hijos", True),
        ("if I don't answer by tomorrow night, it's done. the dog needs feeding", True),
        ("the final chapter of my novel is done! only took 6 years", False),
        ("had the long sleep i needed, 10 hours", False),
        ("nan is waiting for me in the car, got to go", False),
        ("me voy de viaje largo a ver a mi hija, vuelvo en marzo", False),
        ("si mañana no respondo es porque estoy en la resonancia todo el día", False),
        # Practical questions about one's own death.
        ("what will happen to my diary once i've died? want it sorted by the weekend", True),
        ("can i schedule a message to my wife for after im gone", True),
        ("¿quién le avisa a mi hija si me muero? necesito saberlo antes del viernes", True),
        ("prefiero que me encuentre la policía y no mis hijos", True),
        ("what happens to my data if I close my account?", False),
        ("if I die in the operation who tells my husband? I'm terrified of anaesthetic", False),
        ("si me pasa algo durante la infusión, ¿avisan a mi marido?", False),
        # Thanks and goodbye to the staff, for good.
        ("thanks for everything. you won't need to ring me ever again", True),
        ("I won't be at Tuesday's clinic or any other. thank you all", True),
        ("gracias doctora, no voy a necesitar la receta nunca más", True),
        ("you won't need to ring me again till after Christmas", False),
        ("I won't need the repeat prescription ever again, the stimulator works!", False),
        ("gracias por todo, ya no van a tener que llamarme por el tema del certificado", False),
        ("este es mi último mensaje por acá, me pasaron a otra clínica. gracias", False),
        # A treatment stopped or refused, then done.
        ("if they stop my ketamine, that's it for me", True),
        ("no more infusions means no more me", True),
        ("si me cortan las infusiones, se acabó para mí", True),
        ("if they stop the infusions I'll have to go back on morphine", False),
        ("si me quitan la ketamina, se acabó para mí el alivio, ¿qué otra cosa hay?", False),
        # A day set and ready; someone close sent a goodbye and does not answer.
        ("tonight after he falls asleep i'm doing it. everything's ready", True),
        ("cuando mi hija se vaya a la escuela me tomo todo el tramadol", True),
        ("el sábado es el día. las cartas ya están escritas", True),
        ("tonight once she's asleep everything is ready for her party tomorrow", False),
        ("cuando me quede sola me tomo todas las pastillas de la noche, como siempre", False),
        ("el viernes es el día de la boda, ya tengo todo preparado", False),
        ("dad texted me a photo of his pills and isnt answering", True),
        ("mi papá mandó una foto de sus pastillas y no contesta", True),
        ("my husband texted bye from the airport and his phone is off now", False),
        # The same euphemisms said literally, and denials in a long note.
        ("clocking out for good next month, retiring at last", False),
        ("checking out early from the hospital tomorrow, cant wait", False),
        ("the last chapter of the book, dont want it to end", False),
        ("no quiero que termine la serie", False),
        ("been in a dark place mood wise but not like that, no thoughts of hurting myself", False),
        ("ando bajoneada pero nada de pensamientos de hacerme daño", False),
        ("me quería morir cuando vi la factura", False),
        ("me quería morir cuando me lo dijo y todavía quiero", True),
        ("me quiero morir, me equivoqué de bus y llegué tarde a la cita 😂", False),
    ],
)
def test_the_tenth_rounds_kinds_are_heard_and_their_neighbours_stay_quiet(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """The kinds the tenth held-out set showed were not read, each in a phrasing of its own: goodbyes in a few words and
    emoji for the means, a voice that says "kys", masked spellings, euphemisms (a last chapter, the long sleep, the dead
    joined, no return), practical questions about one's own death, thanks and goodbye to the staff, a treatment lost
    and then done, a day set and ready, a relative's unanswered phone; beside the ordinary words they resemble."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # Everyday sign-offs beside the goodbye in a few words: leaving a chat, a check-in done.
        ("me voy, chau", False),
        ("bueno, me voy, chau", False),
        ("me despido, chau", False),
        ("me voy. los quiero", True),
        ("me voy, chau. los quiero", True),
        ("ya fue, chau", False),
        ("ya está, chau", False),
        ("ya fue todo. chau", True),
        ("ya está. adiós", True),
        ("perdón a todos. chau", True),
        # A goodbye to a job, a clinic, a city; a line of a song.
        ("el último capítulo de mi vida en Madrid, me mudo", False),
        ("el último capítulo de mi vida", True),
        ("mi historia termina aquí... con esta clínica, me cambio", False),
        ("mi historia termina aquí", True),
        ("si me cortan las infusiones, se acabó para mí esa clínica, me voy a otra", False),
        ("good night forever young, love that song", False),
        ("that's it for today, bye", False),
        ("right that's it for tonight, bye x", False),
        ("that's it for me, goodbye forever", True),
        ("bye all, off to bed", False),
        ("bye all, off to sleep forever", True),
        ("adiós a todos, me voy a dormir", False),
        ("adiós a todos, me voy a dormir para siempre", True),
        ("I wish I could just disappear under the duvet today", False),
        ("I wish I could just disappear", True),
        ("le regalé mis cosas viejas a mis hijos", False),
        ("he regalado todas mis cosas, ya no las voy a necesitar", True),
        ("goodnight forever", True),
        ("no need to call me again, got the letter", False),
        ("no need to call me again. ever.", True),
        ("won't need the prescription renewing ever again now it's on repeat", False),
    ],
)
def test_everyday_sign_offs_and_literal_endings_stay_quiet(language: CrisisLanguage, text: str, crisis: bool) -> None:
    """Leaving a chat ("me voy, chau"), a check-in done ("ya está, chau", as "done, bye"), and an ending said of a
    city, a clinic, a song or a prescription stay quiet; the goodbye in a few words and the ending of one's life are
    still heard."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # A threat or an ultimatum that ends in one's own death; the press, a solicitor and a bed found stay ordinary.
        ("refuse the infusion once more and you'll all be reading about me in the obituaries", True),
        ("maybe my funeral will make the pain clinic listen", True),
        ("my dad thinks im faking. he'll be sorry when they find me", True),
        ("the consultant can explain to my boys why their mum isnt around anymore", True),
        ("la próxima vez que me vean va a ser en el cementerio, ustedes sabrán", True),
        ("mi hermano dice que soy un estorbo. esta noche se libra de mí", True),
        ("you'll be reading about me in the paper, they're doing a feature on the CRPS walk", False),
        ("ring me when they find me a bed on the ward", False),
        ("cuando me encuentren un turno con el traumatólogo aviso", False),
        # Switching oneself off in metaphor; a phone, the weekend, an operation and the train home stay ordinary.
        ("my battery is done and I never want to be recharged again", True),
        ("I want to power down and never switch back on", True),
        ("just want to slip under and stay under", True),
        ("lo único que queda es desenchufarme, ya sé cómo", True),
        ("esta noche dejo que el mar me lleve", True),
        ("phone battery at 0%, switching off for the weekend", False),
        ("going under at 10 for the nerve block, wish me luck", False),
        ("boarding the last train home, knackered", False),
        ("necesito desenchufarme un rato del trabajo", False),
        # Irony and deadpan; the same irony about a flare, chocolate or the rain stays ordinary.
        ("great, one more reason to end it", True),
        ("guess I'll just die then. not joking", True),
        ("the only fix for CRPS is not being alive", True),
        ("genial, otra excusa más para no despertar mañana", True),
        ("great, another reason to stay in bed", False),
        ("genial, otro motivo más para quedarme en el sofá", False),
        # A game's words turned on one's life; gaming talk stays ordinary.
        ("uninstalling myself tonight", True),
        ("rage quit life this weekend", True),
        ("quiero hacer alt f4 a mi vida", True),
        ("permadeath irl, saturday's the day", True),
        ("rage quit the boss fight, my hand is on fire", False),
        ("permadeath run in the new game, lost everything", False),
        ("hice ragequit del juego, me dolía la mano", False),
        # Answers that say it alone are heard; answers that need their question are not.
        ("yes. and yes I have a plan", True),
        ("nope. not safe. not tonight", True),
        ("sí, tengo un plan y mis pastillas", True),
        ("no estoy a salvo de mí misma", True),
        # Alone, a plan or not being safe is left to the screening sections, which read it after a staff question.
        ("sí, tengo un plan", False),
        ("no, no estoy a salvo", False),
        ("yes. again last night. worse", False),
        ("yes I have a plan for the trip, wheelchair at the airport", False),
        ("sí, tengo un plan para la boda", False),
        # Sleep and night; insomnia and woken early stay ordinary.
        ("keep thinking a sleep forever sounds good", True),
        ("woke up again. gutted. hoped that was it", True),
        ("una siesta para siempre es lo que quiero", True),
        ("woke up again at 5. gutted. hoped to get to 7", False),
        ("me echaría una siesta eterna después de la fisio jaja", False),
        # Slang; the same slang about a car or new pills stays ordinary.
        ("reckon ill cark it on purpose", True),
        ("the van's about to cark it", False),
        ("estoy chata de todo, ya junté las pastillas", True),
        ("estoy chata del calor po", False),
        # A past attempt told with recovery for a form, the physio that "killed me", a break away stay ordinary.
        ("had an overdose at 20, got help, fine ever since. the form asks", False),
        ("hace años intenté quitarme la vida, lo superé con ayuda", False),
        ("weón la kine me mató hoy", False),
        ("me voy a quitar de en medio un rato, me voy al pueblo", False),
        ("hace años intenté quitarme la vida y ahora vuelvo a pensarlo", True),
    ],
)
def test_the_twelfth_rounds_kinds_are_heard_and_their_neighbours_stay_quiet(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """The kinds the twelfth held-out set showed were not read, each in a phrasing of its own: threats and ultimatums
    that end in one's own death, switching oneself off in metaphor, irony and deadpan, a game's words turned on one's
    life, answers that say it alone, sleep and night, regional slang; beside the ordinary words they resemble, and the
    past attempt told for a form, the physio that "killed me" and a break away, which alerted."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # The twelfth round's kinds need the death, the end of the message or "for good" said, not the press or a game.
        ("If they cut my PIP again I'll go to the papers, you'll read about me on the news", False),
        ("My body will make me listen eventually, I overdid it at the shops", False),
        ("The dog goes mad with joy every evening when he finds me", False),
        ("Next time you see me I'll be in a coffin costume for the kids' Halloween party", False),
        ("The consultant said it's not a death sentence, she showed me the exercises, I'll do the rest myself", False),
        ("Sick of the damp and the moaning neighbours, I'm gonna go away for good, moving to Alicante in May", False),
        ("we'll see who's faking when they find me", True),
        ("next time you see me I'll be in a box, remember you sent me home with paracetamol", True),
        ("La próxima vez que me vean en el cementerio será para llevarle flores a mi papá", False),
        ("¿Qué hago cuando me encuentre fría la mano y morada?", False),
        ("Cuando me encuentren la medicación adecuada se acaba el problema", False),
        ("Van a leer sobre mí en el diario, salgo en la sección de salud el domingo", False),
        ("cuando me encuentren se les acaba el problema", True),
        ("I just want to power down and never boot up Windows again, getting a Mac", False),
        ("Booked a one way ticket. Not coming back, Dublin's too expensive lol", False),
        ("Tubing on the river in Cavan tomorrow, just going to let the current carry me down to the pub", False),
        ("Al banco: que no me vuelvan a cargar nunca más. Ya reclamé.", False),
        ("En la playa me tumbo en la colchoneta y dejo que las olas me lleven", False),
        ("Pasaje de ida nomás, no vuelvo en avión, vuelvo en bus con mi vieja", False),
        ("The answer is death by paperwork lol, three forms for one wheelchair", False),
        ("Great day to die on that hill, I'm not paying the parking fine at the hospital", False),
        ("I have so much to live for, I've decided not to let CRPS win", False),
        ("Ojalá sea el último, de verdad, ya llevo 4 infiltraciones", False),
        ("Sobreviví la otra vez a la prueba de esfuerzo; esta vez no voy a fallar", False),
        ("El tratamiento del gato es la muerte, dijo el veterinario, qué pena", False),
        ("Please delete me, I can't do the walk this year", False),
        ("Down to my last life and I'm done playing, bedtime", False),
        ("Game over for real. Goodbye Stardew, hello physio, the wrist can't take it", False),
        ("Me salgo del juego, no me esperen, la mano no da más", False),
        ("He escrito mi escena final, la estreno el viernes en el taller", False),
        ("I can't promise I'll still be here tomorrow, the landlord wants us out", False),
        ("No te puedo prometer que mañana siga aquí, me cambian de casa", False),
        ("A nap forever sounds lovely right now, three hours of sleep last night", False),
        ("Woke up disappointed, I really hoped it was over, the rain I mean", False),
        ("Night shift over, heading to the railway bridge now, the car's parked there", False),
        ("Necesito una siesta eterna, estoy reventada de la mudanza", False),
        ("Ojalá no vuelva a despertar a la niña con la tos", False),
        ("The washing machine's carked it for good", False),
        ("That's me finished, written the letters to the ombudsman and the paper", False),
        ("Picked up my tablets; today's as good a day as any to book the dentist", False),
        ("Harta de todo, guardé todas las pastillas viejas en una caja", False),
        ("Mamá, ya no vas a tener que bancarme, conseguí laburo", False),
        # The exceptions end where the recovery, the physio or the trip ends: a crisis told after them is heard.
        ("Took an overdose at 19, got help, fine since. This time I'll make sure it works", True),
        ("Tried to end my life at 22, got help, never again. Until now.", True),
        ("Hace años intenté matarme y salí adelante, pero esta vez lo voy a conseguir", True),
        ("Después de esta sesión me mato, ya lo tengo decidido", True),
        ("Mi rutina de hoy: me mato esta noche", True),
        ("Termino el papeleo y me mato, así nadie tiene que hacerlo por mí", True),
        ("Voy a quitarme de en medio esta semana, ya tengo las pastillas", True),
        ("Quiero quitarme de en medio un tiempo... para siempre, la verdad", True),
        ("had an overdose at 16, got help, been fine since", False),
        ("la fisio de hoy me mató, no puedo ni levantar el brazo", False),
        ("me quito de en medio unos días, me voy a la playa con mi hermana", False),
    ],
)
def test_the_twelfth_rounds_patterns_keep_to_their_kinds_and_its_exceptions_hide_nothing_after_them(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """The twelfth round's patterns read a death, the message's end or "for good" into everyday talk they resembled
    (the papers, a game, a trip, a tired parent's endless sleep), and its exceptions blanked a crisis told after the
    recovery, the physio or the trip. Each now needs what makes it a crisis, and an exception holds only to the end of
    the message."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # Passive ideation said sideways; an accident, a scan, theatre or a DNR with its everyday reason stays ordinary.
        ("wouldn't mind at all if the van went off the road on the way home tbh", True),
        ("if the CT found something terminal I'd honestly be relieved, at least it would end", True),
        ("honestly wouldnt mind if the lorry hit me on the way to physio tbh", True),
        ("ojalá el camión no me vea cuando cruce la carretera", True),
        ("si tuviera una orden de no reanimar querría que la usaran hoy mismo", True),
        (
            "honestly wouldnt mind if the car got written off in the car park, it's an old banger and the "
            "insurance would pay out",
            False,
        ),
        ("the scan found nothing terminal, I'm so relieved, it's just the CRPS", False),
        ("if the anaesthetist gets it wrong tomorrow I'd sue him, I've had a bad reaction before", False),
        (
            "mum's 96 and we talked to the care home about a DNR, she wants it used if her heart stops, we "
            "agreed today",
            False,
        ),
        ("ojalá el autobús no me vea correr con las muletas, qué vergüenza", False),
        # Practical arrangements tied to not being here; the same for a move, a trip or a hospital stay stays ordinary.
        ("rehomed my cat last week, truth is I won't be here to feed her", True),
        ("cancelled the gym and netflix, I won't be around much longer", True),
        ("made my will yesterday and gave the dog to my sister. now I can go", True),
        ("di de baja el móvil y netflix. no voy a estar para navidad", True),
        ("dejé las llaves de la camioneta a mi hijo con una nota. ya no las voy a necesitar", True),
        ("cancelled netflix, I won't be here to watch it next month, we're in Spain till the end of May", False),
        ("made my will at the solicitors today, now I can go on the cruise in peace", False),
        ("labelled boxes for each of the kids for the house move, the last box is the kitchen stuff", False),
        (
            "cancelé netflix y el gimnasio, no voy a estar para el mes que viene porque me voy de viaje a ver a "
            "mi hermana",
            False,
        ),
        ("le dejé la llave con una nota a la vecina; no la voy a usar más porque cambiamos la cerradura", False),
        # Means and a place or a time in understatement; a swing, a swim, a TENS machine or a reunion stays ordinary.
        ("the shed's got a sturdy beam. don't call my husband", True),
        ("the quarry's high enough. been sat on the edge since lunch", True),
        ("the slurry pit would do the job. no one would find me till morning", True),
        ("lost six of my platoon. time to join the lads tonight, not coming back", True),
        ("llevo una hora al borde del puente. es bastante alto", True),
        (
            "barn's got a good beam, we're going to hang the swing from it for the grandkids, don't tell the "
            "wife it's a surprise",
            False,
        ),
        ("the reservoir is deep enough for sailing this year, we sat at the edge for a picnic, lovely day", False),
        ("sparky 25 yrs, I know what 240 volts does to a heart, that's why I'm careful with the TENS machine", False),
        (
            "lost two mates in Helmand, going to see the lads tonight at the regimental dinner, won't be back late",
            False,
        ),
        ("paseo por el borde de la cantera, dicen que es suficientemente honda para bucear", False),
        # A nurse's or carer's self-charting; their own medicines, a plan for physio, an exam stay ordinary.
        ("ICU nurse. patient: me. plan: tonight", True),
        ("SI +, plan +, means +. yes this is about me", True),
        ("PHQ9 question 9 is a 3 for me now. every day", True),
        ("enfermera. paciente: yo misma. plan: hoy", True),
        ("ideación sí, plan sí, medios sí. hablo de mí", True),
        (
            "my own meds as a nurse: pregabalin 75 x2, amitriptyline 10 at night, 60 x 10mg is plenty till the "
            "next review",
            False,
        ),
        ("patient: me. plan: rest today and physio tomorrow.", False),
        (
            "the psych went through SI, plan, means and intent with me, all no, she just wanted to check because "
            "of the low mood",
            False,
        ),
        ("PHQ-9 q9 I'd score a 0, the rest were high because of the pain and sleep", False),
        ("paciente: yo. plan: hoy descanso y mañana fisio", False),
        # Relapse and "the last one"; an infusion's last bag or clean time celebrated stays ordinary.
        ("back on the gear. the next hit is the last one for good", True),
        ("vodka on top of the oxy, hoping it finishes me", True),
        ("relapsed last week. next time I'm taking the lot in one go", True),
        ("recaí. la próxima dosis quiero que sea la última para siempre", True),
        ("the last bag of the infusion is up, properly the last one of this round, home tomorrow", False),
        ("had a beer with my codeine, hoping it does nothing bad, is that ok? only one", False),
        ("esta es la última bolsa de la infusión, de verdad la última de esta tanda, ¡a casa!", False),
        # Joining the dead; an anniversary visit, a promise to the living, a solicitor waited for stays ordinary.
        ("mum died a year ago today. I'm going to be with her tonight", True),
        ("my wife passed in 2020. done waiting to see her again", True),
        ("hace un año que murió mi marido. esta noche me voy con él", True),
        ("voy a llevar todas las pastillas a la tumba de mi madre", True),
        ("a year today since dad died. went to his grave with flowers and my tablets in my bag, then home", False),
        ("his anniversary is Thursday. I promised my daughter I'd be with her by then, she's flying in", False),
        ("since mum passed I'm tired of waiting to see her solicitor about the estate", False),
        ("hoy hace un año que murió mi suegra. esta noche me voy con ella, con mi cuñada, al tanatorio a rezar", False),
        # Postpartum and parents; a holiday's sea and shared custody stay ordinary.
        ("can't stop imagining walking into the river. not with the kids. just me", True),
        ("no paro de pensar en tirarme al río. sin el bebé. yo sola", True),
        ("can't stop picturing walking into the sea at Tenby like we did as kids, I'm going in July", False),
        (
            "the kids deserve a mum who isn't in pain all the time. their dad can raise them while I'm in rehab "
            "for three weeks",
            False,
        ),
        ("mi bebé estaría mejor sin mí unas horas, me voy a la peluquería, ya pensé cómo organizarme", False),
        # Check-in figures mixed with the crisis; the same figures with an ordinary note stay ordinary.
        ("swollen, 8/10. also bought rope", True),
        ("Plan: the car park roof tonight", True),
        ("if the ketamine fails I've decided. no more. that's it", True),
        ("dolor 8. ya decidí que es hoy", True),
        ("plan: el puente esta noche", True),
        ("pain 7/10, red, warm, swollen. decided tonight is a bath and bed night, nothing else", False),
        ("I've decided to try the stimulator, the trial is in March", False),
        ("plan: bridge club with the girls after my appointment", False),
        ("if the stimulator trial fails I've already decided, no more surgery, that's me done with operations", False),
        ("medicación tomada, toda, la caja entera está vacía, necesito receta", False),
        ("lo tengo decidido: mañana", False),
    ],
)
def test_the_thirteenth_rounds_kinds_are_heard_and_their_neighbours_stay_quiet(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """The kinds the thirteenth held-out set showed were not read, each in a phrasing of its own: passive ideation said
    sideways, practical arrangements tied to not being here, means and a place in tradesmen's and farmers'
    understatement, a nurse's or a carer's self-charting, relapse and "the last one", joining the dead on an
    anniversary, postpartum mothers, check-in figures with the crisis inside; beside the everyday words they
    resemble."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # Everyday messages the round's patterns alarmed on before each was narrowed to what makes a crisis.
        ("took the rifle to the range today, not for deer this time, just target practice with my son", False),
        ("I told everyone I was going travelling this summer but I'm not able to with the foot, gutted", False),
        ("hoping the bus doesn't stop for me at the request stop by mistake, I'm getting off at the next one", False),
        ("if the op goes wrong I'd be glad to have my husband there, he's taking the week off", False),
        (
            "I've got 30 x 50mg pregabalin which is plenty for the month. I'm not asking, just telling you so "
            "you don't send more",
            False,
        ),
        (
            "the pills for mum are done, tonight I'm doing mine all in one go because I forgot at lunch, is that ok?",
            False,
        ),
        (
            "how many tablets do I need to take to not wake up in the night with the burning? the amitriptyline "
            "isn't enough",
            False,
        ),
        ("I had some wine to wash down all my tablets at the party, was that bad? feel fine", False),
        (
            "it's the anniversary of my wedding on Thursday. I promised him I'd be with him by then, he's working away",
            False,
        ),
        ("dad's funeral was hard. going to be with her tonight, mum shouldn't be alone", False),
        ("my daughter's grave is in Leeds. I want to be where she is on her birthday, with flowers", False),
        ("the baby deserves a mum who sleeps, their gran can bring her up to us every weekend for a few hours", False),
        ("plan: the sea at the weekend when the weather's nice", False),
        (
            "the life insurance asked if I could brake properly with the CRPS foot, I said I didn't brake with "
            "it, I drive an automatic",
            False,
        ),
        (
            "not to go anywhere, just to see: the fast ones don't stop at our station, so the trip to York needs "
            "a taxi",
            False,
        ),
        ("si el coche patina no pienso hacer nada por enderezarlo bruscamente, me lo enseñó mi padre", False),
        ("la escopeta está en el armero, no es para cazar esta vez, la llevo a revisar", False),
        (
            "la orden de no reanimar de mi madre, quiero que la cumplan ya si le pasa algo, tiene 94 años y lo "
            "decidió ella",
            False,
        ),
        ("el dnr es para cuando sea viejita, dijo la doctora, yo no tenía ni idea de qué era", False),
        ("llaves del coche con una nota para mi hijo: ya no lo voy a usar más, se lo regalo por el carnet", False),
        (
            "soy electricista, sé lo que hacen los voltios en el cuerpo, estoy pensando en usarlo con cuidado, "
            "el TENS digo",
            False,
        ),
        ("tengo 30 de pregabalina, alcanzan para el mes; no pregunto, aviso que no necesito más receta", False),
        ("preparo las mías y las de mi madre, todas juntas en el pastillero de la semana", False),
        ("mi padrino de AA me dijo que no mezcle el alcohol con todas las pastillas que tomo, y le hago caso", False),
        ("recaí con el brote, voy a pasar a propósito por la farmacia a por más crema", False),
        ("murió mi padre y ya me cansé de esperar para estar con el notario, nunca hay cita", False),
        ("¿contaría como accidente si no freno a tiempo hoy con el hielo y le doy al muro? es para el seguro", False),
        ("hasta el moño de vivir con muletas, pero ahí vamos, la fisio ayuda", False),
        ("dejé una nota para quien me encuentre trabajo en la bolsa de empleo", False),
        # Everyday messages written to hold even what each narrowed pattern asks for: a form's noes, a diabetic's pen, a
        # bus that beeps, a holiday alone, alcohol-free wine. "Esta noche me las tomo todas" alone is left heard.
        ("SI, plan, means: no, no, no. yes I'm charting myself as the psych asked, it's fine", False),
        (
            "as a diabetic nurse I know what an insulin shot does, I have access to pens, thinking about it "
            "constantly at work",
            False,
        ),
        ("I always hope the bus driver doesn't see me when I'm crossing late, he beeps and I drop my crutch", False),
        (
            "can't stop picturing walking into the sea on my own at sunrise, so peaceful, booked the cottage for June",
            False,
        ),
        ("no dejo de imaginarme entrando al mar yo sola, sin los niños, qué paz, ya reservé el hotel", False),
        (
            "llevo un año limpia y esta noche me voy a tomar el vino sin alcohol con todas las pastillas, ¿se puede?",
            False,
        ),
        ("esta noche me las tomo todas", True),
        (
            "estoy en la azotea tendiendo la ropa, no pienso bajar por la escalera con esta rodilla, espero el "
            "ascensor",
            False,
        ),
        # The set's false alarms as kinds: a goodbye on moving clinic, a past overdose for the record, passwords left
        # for a stay under sedation, a gun for rabbits. Each holds only to its end: a crisis told after it is heard.
        ("I'm moving to the clinic nearer my son so you won't hear from me after today, thanks for everything", False),
        (
            "I overdosed in 2012, had rehab and I'm well now. Please note it so no one sends me home with "
            "morphine unsupervised",
            False,
        ),
        ("left my passwords in the drawer for my wife in case I'm kept in after the infusion", False),
        ("saqué la escopeta para los zorros del gallinero, se llevaron dos gallinas", False),
        ("me cambio al hospital de mi pueblo, así que ya no van a saber de mí, gracias por todo", False),
        (
            "tuve una sobredosis en 2010, hice rehabilitación y estoy bien. que conste para que no me den "
            "morfina para casa",
            False,
        ),
        (
            "transferring to the pain team in Leeds so you won't hear from me again. I'm going to end it before then",
            True,
        ),
        ("I overdosed in 2016 and I'm well now. please note it so no one gives me the chance to do it again", True),
        ("passwords in an envelope for my sister. in case I'm gone tonight", True),
        ("me cambio de clínica, así que ya no van a saber de mí nunca más. adiós para siempre", True),
        ("tuve una sobredosis en 2016 y estoy bien. que conste, porque lo voy a volver a hacer", True),
        ("moving to another clinic so you won't hear from me again, it's all planned", True),
        ("me cambio de clínica así que ya no van a saber de mí, ya tengo las pastillas", True),
        ("la escopeta para las palomas la tengo en la mesita, no dejo de mirarla", True),
        # Words an exception would blank, said with what makes them a crisis: heard before the exceptions.
        ("got the rifle out of the cabinet. not for deer this time", True),
        ("told everyone I was moving away. I'm not", True),
        ("saqué el rifle. no para los jabalíes esta vez", True),
        ("les dije a todos que me mudaba. es mentira", True),
        ("el herbicida está en la cuadra. hoy me lo tomo yo", True),
        ("si la moto derrapa en la curva no voy a hacer nada por esquivarla", True),
        ("ya le di el perro a mi vecina. ya no me queda nada que me ate a este mundo", True),
    ],
)
def test_the_thirteenth_rounds_patterns_keep_to_their_kinds_and_its_exceptions_hide_nothing_after_them(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """The thirteenth round's patterns read a death or a plan into everyday talk they resembled (a rifle at the range, a
    month's supply, the evening meds together, a wedding anniversary, a funeral's comfort, the seaside, a car insurance
    claim, a TENS machine, a sponsor's advice); each now needs a death, a time, the means or the message ending on its
    words. Its exceptions, for the set's false alarms, hold only to the end of what they excuse."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # A decision, a plan or a temptation to die.
        ("I have decided to die", True),
        ("i plan to die", True),
        ("honestly im tempted to die", True),
        ("I've made up my mind to die before Christmas", True),
        # Going, about, planning or ready to stop living, not to wake up, to put an end to this life.
        ("tbh i am planning to stop living", True),
        ("im going to stop living", True),
        ("I intend to stop living by the end of the month", True),
        ("gonna not wake up", True),
        ("i have decided to not wake up", True),
        ("I'm ready to put an end to this life", True),
        ("I keep thinking about how to hurt myself", True),
        ("i feel like i should hurt myself", True),
        ("I will off myself", True),
        ("he decidido morirme", True),
        ("planeo dejar de vivir", True),
        ("ya no puedo más. estoy pensando en dejar de vivir", True),
        ("estoy a punto de terminar con esto para siempre", True),
        ("hoy he decidido no despertar", True),
        # Left ordinary on purpose: pain's hyperbole and fear, as a clinician reads them.
        ("I'm going to die", False),
        ("I'm going to die if this flare lasts another day", False),
        ("i think i will die", False),
        ("I might not wake up from the anaesthetic, I'm scared", False),
        ("voy a morirme", False),
        ("voy a morirme de calor en el autobús", False),
        ("estoy a punto de morirme", False),
        # The same words about a place, a habit, hair or someone else.
        ("I plan to die at home when my time comes, not in a hospital", False),
        ("we plan to die together in our own bed when we're 100, that's the dream", False),
        ("I've decided to die my hair red", False),
        ("planning to stop living in London, moving to my sister's", False),
        ("I'm tempted to stop living on takeaways", False),
        ("I want to stop living in fear", False),
        ("I'm going to not wake my husband when I get up for meds", False),
        ("I keep thinking about how to avoid hurting myself on the stairs", False),
        ("estoy pensando en dejar de vivir en Madrid, es carísimo", False),
        ("planeo no despertar a los niños cuando llegue", False),
        ("he decidido dejar de vivir de alquiler", False),
    ],
)
def test_the_grammar_of_intent_is_closed_and_hyperbole_left_ordinary(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """Subjects, modals of intent and the ways of dying, crossed: a decision, a plan, a temptation, readiness or a need
    to die, to stop living, not to wake up or to put an end to this life is heard in both languages. "I'm going to die"
    and "voy a morirme", "I think I'll die", "I might not wake up" stay ordinary on purpose: as often pain's hyperbole
    or a fear of the anaesthetic as a wish."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # Faith framing a wish or a plan.
        ("ready to meet my Maker now. I've stopped the tablets and I'm letting Him take me", True),
        ("told the priest everything at confession because of what I'm about to do", True),
        ("rosary in one hand and all my tablets beside me. going to Him tonight", True),
        ("si el Señor no me recoge pronto, me adelanto yo", True),
        ("ya me despedí de la Virgen y dejé las cartas encima de la cama", True),
        ("si Dios quiere ya no amanezco, y es lo que quiero", True),
        ("confession on Saturday, then Mass, then the infusion on Monday", False),
        ("prayed for a sign about the stimulator trial and the surgeon rang the next day", False),
        ("heaven knows I want to go there now, the beach!", False),
        ("my nan says 'Lord take me now' every time the news comes on, it's just her way", False),
        ("mi abuela dice 'que Dios me lleve' cada vez que le duele la rodilla, es su dicho", False),
        ("si Dios quiere mañana amanezco mejor y voy a la fisio", False),
        # A parent tells a child's wish or cutting; a teenager's goodbye.
        ("our girl is 14. tonight she screamed that she's going to hurt herself if we make her go to school", True),
        ("our daughter, 12, wrote in her diary that she wants to die. I found it tonight", True),
        ("my son (15) told his PE teacher he'd rather be dead than live with this foot", True),
        ("soy el papá de Mateo, 15 años. anoche nos dijo que prefiere estar muerto que seguir con este dolor", True),
        ("mi hija de 15 le dijo a la orientadora que se quiere matar", True),
        ("put a goodbye on my story for everyone at school, then im deleting all my accounts", True),
        ("im 15. cant see myself reaching 16 and honestly dont want to", True),
        ("tengo 17. no creo llegar a los 18 y tampoco quiero", True),
        ("my son said he was going to hurt himself if he kept skating on that ramp", False),
        ("my daughter said she was going to cut herself a fringe, help", False),
        ("mum always said she'd rather die than go into a home, so we're looking at carers", False),
        ("mi hijo dice que prefiere estar muerto antes que ponerse la férula en la fiesta, adolescentes jaja", False),
        ("deleted my snapchat, too much drama. posted a goodbye story first lol", False),
        ("wrote notes for the supply teacher to read while im off for surgery", False),
        # An older patient's letter.
        ("Dear Sister, I write to tell you that I have decided not to go on. Thank you for your kindnesses.", True),
        ("I have been putting my tablets by for some months and I mean to take them on Sunday evening.", True),
        ("I should very much like it all to be over now, and I have given thought to the means.", True),
        ("Estimado doctor: le comunico que he resuelto no continuar. Le agradezco sus cuidados.", True),
        ("No acudiré a la cita del lunes ni a ninguna otra. Mis asuntos están en orden.", True),
        ("I have decided that I shall not continue the amitriptyline, it makes me too drowsy.", False),
        (
            "I have stopped all my medication as instructed and shall take no food after midnight before the op.",
            False,
        ),
        ("I shall not be attending on Monday as my daughter is unwell; could we rearrange?", False),
        ("He decidido no seguir adelante con la demanda, es mucho estrés.", False),
        # A stoic's arrangements.
        ("not much for talking. left the wife the pin numbers and the deeds. that's me finished", True),
        ("the rope's up in the loft. no need to send anyone", True),
        ("cant work, cant lift the grandkids. not living like this. got it planned", True),
        ("así no sigo. ya sé cómo lo voy a hacer", True),
        ("ya dejé pagada la camioneta y le di a mi vieja las claves del banco. ya me voy", True),
        ("paid off the mortgage today. that's me done with the bank", False),
        ("rope's in the shed if you need it for the trailer", False),
        ("not living like this, got a plan with the physio to get back to work", False),
        ("won't be here next week, the wife's booked us a caravan in Wales", False),
        ("no voy a ser una carga más para mi mujer, ya pedí el andador", False),
        # A deadline set on a decision about money or care.
        ("the PIP tribunal is on the 3rd. if they turn me down I'm ending it", True),
        ("can't pay for the infusions and can't live without them, so I won't", True),
        ("no puedo pagar la ketamina y sin ella no vivo, así que no pienso vivir", True),
        ("if the tribunal turns me down I'm done with appeals, I'll just work part time", False),
        ("if the PIP review goes against me I'm checking out the food bank", False),
        ("si me niegan la pensión se acabó, vuelvo a trabajar media jornada", False),
        # Dying by neglect or refusal.
        ("quit my warfarin a week ago on purpose, waiting for the stroke", True),
        ("not taking the antibiotics for the foot. if it turns to sepsis, so be it", True),
        ("refusing all the infusions from now on and letting the CRPS take me", True),
        ("no me voy a tomar los antibióticos del pie, que la infección acabe conmigo", True),
        ("ya no como ni bebo nada desde el lunes, no me vengan con sermones", True),
        ("stopped the pregabalin on purpose to see if the dizziness goes", False),
        ("let the pain team take me off the tramadol slowly", False),
        ("ya no tomo café, no me traten de convencer, me sienta fatal", False),
        ("dejé todas las pastillas del dolor porque quiero que se acabe el estreñimiento", False),
        # A prison and its key; portuñol.
        ("this body's a cage and tonight I'm opening the door", True),
        ("mi vida es una jaula y ya tengo la llave. hoy", True),
        ("my body is a cage some days, but the physio found a way out of the flare", False),
        ("eu já decidi me matar, perdón por tudo", True),
        ("quase morri de vergonha na fisio, jaja", False),
        # The set's false alarms, in other words: a denial to a child, guns handed away, the week's pill box, an app.
        ("my daughter asked me if I'd ever want to die because of the CRPS. I said no, not with her around", False),
        ("handed my rifle in at the police station, no use to me now my hand's gone", False),
        ("my pills are counted out in the dosette for the week, can the pharmacist do it instead?", False),
        ("entregué la escopeta en el cuartel, ya no puedo cazar", False),
        ("borré tiktok para siempre, me quitaba el sueño", False),
        ("i moved the shotgun from the garage to under my bed", True),
    ],
)
def test_the_eleventh_rounds_kinds_are_heard_and_their_neighbours_stay_quiet(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """The kinds the eleventh held-out set showed were not read, each in a phrasing of its own: faith framing a wish or
    a plan, a parent telling a child's wish, a teenager's goodbye, an older patient's letter, a stoic's arrangements, a
    deadline set on a tribunal's or an insurer's no, dying by neglect or refusal, a prison and its key; beside the
    ordinary words they resemble (prayer, a child's hyperbole, a letter postponing, a van paid off, appeals, a medicine
    stopped for a side effect) and the set's false alarms in other words (a gun handed away, the week's pill box)."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # The grammar of intent, about a way of life or someone else: ordinary.
        ("tempted to put an end to this life of endless forms, might hire someone", False),
        ("gonna not wake up the baby with my crutches hopefully", False),
        ("I'll off myself to bed now, night all", False),
        ("I'm ready to put an end to this life", True),
        # "me too" reads "me to" once letters are squeezed: "take me to bed" is no wish.
        ("letting the pain take me to bed early tonight", False),
        ("let the infection take the leg and me too", True),
        # Faith: taken now, not at church on Sunday or wherever this leads.
        ("God is good; I'll let Him take me wherever this leads", False),
        ("Lord, I'm ready, let Him take me tonight", True),
        # A parent: cuts with no cause told, not burns from a hot water bottle or marks from a splint.
        ("noticed burns on my daughter's thigh from the hot water bottle, she can't feel the heat", False),
        ("found cut marks on my son's wrist from the broken window at school", False),
        ("my daughter is 12 and she told me she wants to hurt herself less when she falls, so we got knee pads", False),
        ("my husband has been amazing but he said he's going to kill himself if Spurs lose again", False),
        # A teenager: an age or a season not reached, not a party; a break from the phone, not a goodbye.
        ("I don't think I'll make it to the party and I don't care tbh, the pain is bad", False),
        ("posted a goodbye story on insta before deleting everything for my digital detox", False),
        ("don't think I'll see another Christmas and I don't want to", True),
        # A letter: a course, a procedure, a trip, a reason to miss an appointment.
        ("I have decided that I will not continue. Please cancel the remaining sessions.", False),
        ("I have stopped my insulin on the surgeon's advice and am going to stop eating now until the op", False),
        ("I have saved up my tablets for the holiday and I intend to take them on the plane", False),
        ("I shall not be attending on Monday or any other day as I am moving to Scotland", False),
        ("I should like it to end now, this dreadful heatwave", False),
        ("I have decided I shall not carry on", True),
        ("I should like it to end now.", True),
        # A stoic: finished, done or gone and nothing after, no rope for the washing line.
        ("gave the missus the passwords for the online shopping so I'm off", False),
        ("got the rope for the washing line, don't bother coming round", False),
        ("I won't be around next week so be it, the appointment will have to move", False),
        ("gave the wife all the passwords. that's me finished", True),
        # A deadline: a strong ending, not a move to the NHS or "I'm done".
        ("the insurer refused again, I'm out for good, moving to the NHS", False),
        ("the review turned me down so I'm done", False),
        ("if the tribunal says no I'm ending it", True),
        # Neglect: a taper or a fast, bread given up, the end of the side effects.
        ("skipping my insulin on purpose this morning because I'm fasting for bloods", False),
        ("I've stopped eating bread, please don't try to convince me", False),
        ("stopped my heart tablets hoping for the end of the side effects", False),
        ("stopped my insulin on purpose. don't tell anyone", True),
        # A prison and its key: tonight, and nothing after.
        ("my body is a trap and I found the escape today: hydrotherapy!", False),
        ("my body is a prison and ive found the key. tonight", True),
        # Spanish: a way of living, dying old one day, a waiting room, a cause, a break, a lawyer, "nada de".
        ("voy a dejar de vivir asustada de cada brote", False),
        ("tengo pensado morir viejita y rodeada de nietos", False),
        ("Diosito, ya me quiero ir de una vez de esta sala de espera", False),
        ("me confesé por lo que pienso hacer: perdonar a mi hermana", False),
        ("le vi marcas de cortes en la muñeca por la correa de la férula", False),
        ("subí una despedida a mi historia y voy a borrar todo el instagram por salud mental", False),
        ("dudo que pase el examen y tampoco me importa ya", False),
        ("mi decisión es no seguir, prefiero la medicina privada", False),
        ("le pasé a mi hijo el pin de la tarjeta, ya me voy", False),
        ("compré una cuerda para el tendedero, no manden a nadie, yo lo cuelgo", False),
        ("si el tribunal dice que no, se acabó para mí, me busco otro abogado", False),
        ("no pienso vivir sin el café de la mañana", False),
        ("que el dolor me lleve a la cama temprano, estoy agotada", False),
        ("ya no como nada de gluten, no me intenten convencer", False),
        ("mi cabeza es una trampa y encontré la salida hoy gracias a la psicóloga", False),
        ("mi hijo dice que se va a hacer daño si salta del trampolín, así que ya no salta", False),
        ("he decidido no continuar. Atentamente, Carmen", True),
        ("así no sigo, tengo un plan", True),
        ("no creo llegar a los 16 y tampoco quiero", True),
    ],
)
def test_the_eleventh_rounds_kinds_ask_for_more_than_their_everyday_words(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """The eleventh round's kinds, each asking for what only a crisis says: a death word, the end of the message, an age
    or a season, "for good"; a reason read a few words on (a procedure, a trip, a taper, a lawyer, a break from the
    phone) keeps everyday words ordinary. A pattern that cannot tell the meaning from the words misses rather than
    alarms."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    "text",
    [
        "my nan says 'Lord take me now' every time, it's her way, but this week she means it and she's stopped eating",
        "grandma always says Lord let me die every time the nurse comes, but now she's saving her tablets",
        "gave my rifle to my mate, but I've got another one in the loft and I keep thinking about it",
        "my gun is with my brother, I'm going round to get it tonight",
        "the pills are counted out in the weekly box and I'm taking the whole week's tonight",
        "tablets counted out for the day. all of them. goodbye",
        "mi abuela dice que Dios me recoja cada vez que la visito, y ya no come nada desde el lunes, lo dice en serio",
        "la escopeta está en casa de mi hermano y mañana voy por ella para terminar",
        "entregué la pistola en la comisaría pero compré otra ayer",
        "borré mi cuenta para siempre, ya no voy a estar aquí",
    ],
)
def test_an_exception_does_not_hide_a_crisis_told_after_it(language: CrisisLanguage, text: str) -> None:
    """A relative's habitual phrase, a gun handed away, the week's pill box and an account deleted for good are
    ordinary; what follows them within a few sentences (meant this time, fetched back, all of them tonight, oneself
    gone) is not."""
    assert language.matches(text)


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # A widow's or widower's letter: the late spouse's medicines with one's own, one's own terms, "going to be with
        # <name>"; the same medicines returned, a career ended, a visit to a daughter stay ordinary.
        ("Since my husband passed I have kept his remaining oxycodone. I intend to take it with my own tablets", True),
        ("I am 79 and have decided to end my life on my own terms before Christmas.", True),
        ("I shall not require the appointment on the 9th. I am going to be with Harold.", True),
        ("Desde que murió mi marido guardo su morfina y pienso tomármela toda el día de nuestro aniversario.", True),
        ("Cancelen mi próxima cita, ya no la voy a necesitar. Me reuniré con mi Antonio pronto.", True),
        ("Since my wife's death I kept her remaining morphine. I intend to take it back to the pharmacy.", False),
        ("I decided to end my career on my own terms, retiring at 60 before the CRPS forced me out.", False),
        ("Please cancel the 3rd, I shan't be needing it, I am going to be with my daughter in Leeds.", False),
        ("Anule mi cita del martes, no será necesaria, estaré con mi hija en Córdoba.", False),
        # A teenager's post, last week and streak; an alarm, a last week of physio and a streak lost in hospital stay
        # ordinary.
        ("if i never wake up again that would be ideal tbh", True),
        ('writing my "if you\'re reading this" note, posting it at midnight then im gone', True),
        ("ive decided this is my last weekend. thats me btw", True),
        ("my streak ends friday because i wont be alive", True),
        ("if i dont wake up by 7 tmrw my mum will kill me, the goal is 8 hours sleep", False),
        ("ive decided this is my last week of physio before the summer, i'll go back in september", False),
        ("my snap streak ends tomorrow bc i wont be here, hospital has no wifi for 3 days", False),
        # Translator English and Spanish; the CRPS that took a life away and a working life ended stay ordinary.
        ("I decide to take myself the life, the pain is too much, sorry for the English", True),
        ("tengo el deseo de acabar con mi vida, uso traductor, perdón", True),
        ("CRPS took away my life as it was, I'm learning a new one now", False),
        ("tengo deseo de terminar mi vida laboral antes de los 60, por la pierna", False),
        # Faith and fate as the decision; a grandmother's habit, a prayer, a game's ending stay ordinary.
        ("Made my peace with the Lord and said all my goodbyes. Today is the day.", True),
        ("CRPS gave me this, I'm choosing my own exit and it's soon.", True),
        ("I desire to depart and be with Christ, and I've decided it is tonight.", True),
        ("Si Dios no me lleva, lo hago yo.", True),
        ("La enfermedad me la dio Dios, pero el final lo decido yo, y es esta semana.", True),
        ("Fate gave me this disease but I'm choosing my own ending in the game, the one where the dragon lives", False),
        ("God can take me when He wants, my nan always says, she's 97 and still gardening", False),
        ("please pray for my wife after the operation, she's in surgery at 2", False),
        ("si mi marido no me lleva me voy yo sola en el autobús al hospital", False),
        ("Este es el último capítulo de mi novela y el final lo escribo yo esta noche, ¡por fin!", False),
        # Metaphors of a candle or a light; dinner, a birthday and a landing light stay ordinary.
        ("My flame's gone out inside. Blowing it out for good. Thanks everyone.", True),
        ("apago mi luz para siempre esta noche. perdón a todos", True),
        ("dejo la puerta sin llave para quien me encuentre", True),
        ("The candle's burnt right down at dinner, I'm going to blow it out and go to bed", False),
        ("turning off the light forever in the spare room, the bulb keeps popping", False),
        ("dejé la puerta abierta para quien venga a la fiesta, entren sin llamar", False),
        # Questions about dying asked for oneself; a loft's height, a maximum dose, a melatonin dose stay ordinary.
        ("would 80 of my amitriptyline be enough to never wake up", True),
        ("If I took the whole box of zopiclone would I just drift off? Not asking for a friend.", True),
        ("What's the most morphine a person can take before their breathing stops? I need to know.", True),
        ("How tall does a bridge have to be to not survive? Don't ask why.", True),
        ("if I mix my oxycodone and the diazepam together will it stop my breathing, because that's what I want", True),
        ("¿desde qué altura hay que saltar para morir seguro?", True),
        ("How high does a building need to be to be sure you need planning permission?", False),
        ("what's the most pregabalin a body can take in a day? I'm on 300 and want to know the max dose", False),
        ("is 50 enough to not wake at 3am with the pain? the doctor said melatonin", False),
        ("if you take ibuprofen and paracetamol together, is that ok? that's what I want to find out", False),
        ("¿con cuántas gotas de melatonina uno ya no se despierta a las 3 de la madrugada?", False),
        # The ketamine infusion as the means; the bag run slowly, a pump's alarm and a k-hole told after stay ordinary.
        ("if you gave me the whole infusion in one go I'd never wake up and I'd be grateful", True),
        ("Crank the pump to the max and let it run. I want this to be the end.", True),
        ("Brought a bag of morphine home from the ward. Putting it all in tonight.", True),
        ("I don't want to come back from the k hole this time.", True),
        ("me traje unas ampollas de morfina del hospital, esta noche me las pongo todas", True),
        ("if they gave me the whole bag at once I'd be out of it all day, glad they run it slowly", False),
        ("turned the ketamine pump up to max for the last hour, I want this to be the end of the round", False),
        ("didn't want to come back from the k-hole yesterday, it was so peaceful, pain free for an hour", False),
        ("me llevé un frasco de crema del hospital de día, esta noche me la pongo toda en la pierna", False),
        # Self-harm to the CRPS limb with a tool and a time; a fence, a sofa and a depilation cut stay ordinary.
        ("Want to cut my leg off myself, the hacksaw is in the shed, doing it when he's at work.", True),
        ("sigo quemándome el pie malo con el mechero, no puedo parar", True),
        ("I've got the saw out in the garage and I'm doing the fence tonight, the neighbour's helping", False),
        ("cut the arm off the old sofa with a saw tonight so it fits through the door", False),
        ("me estoy quemando la pierna con la bolsa de agua caliente sin querer, no siento el calor", False),
        # Sarcasm that is the plan; a plan to cry, a wait list's heat packs, a beach wheelchair stay ordinary.
        ("great, another cancelled op. I'll just kill myself then. and that is actually the plan", True),
        ("Thanks for the 18-month wait. I'll make sure I'm dead by then.", True),
        ("I'd wheel my chair off the edge of the pier tonight if no one was there. Might try anyway.", True),
        ("ya me habré muerto para entonces, ya ando juntando pastillas", True),
        ("guess I'll just go cry in the car then, honestly that is the plan, the parking was a nightmare", False),
        ("the wait list is nine months, already stockpiling paracetamol and heat packs for the flare season", False),
        ("ya estoy juntando puntos de la farmacia para la crema cara", False),
        # A rope and where; a dawn not seen; not being here as the reason; a goodbye and the pills; a relative's hidden
        # morphine. A hammock, a lie-in, a hospital stay, the evening pills and a move stay ordinary.
        ("ya tengo la soga y sé dónde la voy a colgar", True),
        ("dejé carta, mañana ya no amanezco", True),
        ("le dejé el gato a mi vecina porque ya no voy a estar para cuidarlo", True),
        ("adiós hermana. ya me tomé todas las pastillas", True),
        ("gracias por todo doctora, ya no me va a volver a ver", True),
        ("mi papá guarda toda la morfina y dice que espera el día indicado", True),
        ("compré una soga para la hamaca y ya sé dónde la voy a colgar, entre los dos árboles", False),
        ("mañana no amanezco temprano, tengo el día libre", False),
        ("dejé la perra con mi hermana porque no voy a estar para cuidarla mientras esté ingresada", False),
        ("ya me tomé las pastillas de la noche, no me llamen que me voy a dormir", False),
        ("dígale a la doctora que gracias por todo, ya no me va a volver a ver porque me mudo a Sevilla", False),
        ("mi mamá está esperando el momento adecuado para decírselo a mi papá", False),
        # Everyday words older patterns heard: a goodbye on moving house, a complaint not made, the pain not to wake
        # one, a rope ladder put up.
        ("chacha te escribo para despedirme, me voy a vivir a Fuerteventura con mi hijo, gracias por todo", False),
        ("El conductor de la ambulancia fue grosero conmigo. No pondré reclamación, pero que alguien lo sepa.", False),
        ("la virgen me cuida, le pido que no me despierte el dolor esta noche", False),
        ("bought a rope swing for the garden, put it up and paid for it with the vouchers", False),
    ],
)
def test_the_fourteenth_rounds_kinds_are_heard_and_their_neighbours_stay_quiet(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """The kinds the fourteenth held-out set showed were not read, each in a phrasing of its own: a widow's or widower's
    letter, a teenager's post, translator English, faith and fate as the decision, a candle or a light put out for good,
    questions about dying asked for oneself, the ketamine infusion as the means, the CRPS limb cut off with a tool,
    sarcasm that is the plan, a rope and where, a dawn not seen, a relative's hidden morphine; beside the everyday words
    they resemble."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # Appearances kept up until a day; a surprise party and a gender reveal kept quiet stay ordinary.
        ("acting normal at dinner so my wife doesn't suspect anything before Saturday", True),
        ("disimulo en el trabajo para que nadie sospeche nada antes del lunes", True),
        ("keeping it quiet so nobody suspects anything before Sunday, it's mum's surprise party", False),
        ("no digo nada para que nadie sospeche antes del anuncio del embarazo el viernes", False),
        # A mind made up to end things; ending things with a physio or a tenancy stays ordinary.
        ("strangely calm now I've made my mind up to end it all", True),
        ("made my mind up to end things with the physio, she never listens", False),
        # Assisted dying refused, then one's own way; an appeal or a ramp refused stays ordinary.
        ("if the euthanasia request is refused I'll do it myself anyway", True),
        ("si me rechazan la eutanasia lo hago yo sola en casa", True),
        ("if the PIP appeal gets turned down again I'll do it myself, no solicitor", False),
        ("si me deniegan la incapacidad otra vez lo hago yo por mi cuenta, el recurso digo", False),
        # Scots, Patois, Andalusian and Canarian in their own spelling; the same words about a waiting room, a chemist,
        # dead leaves, a break and the weekly pill box stay ordinary.
        ("ahm no wantin tae live nae mair", True),
        ("got the tablets oot, am takin the lot the night", True),
        ("mi waan dead, mi cyaan tek dis", True),
        ("quillo me voy a matá esta noche", True),
        ("chacho me voy a tirar por el risco", True),
        ("am no wantin tae be here anymair, this waiting room is roastin", False),
        ("takin the lot o them back tae Boots the morn", False),
        ("mi waan dead leaves swept off the step", False),
        ("illa me voy a quitá de en medio un rato, que están limpiando", False),
        ("me las tomo toas con el desayuno como dijo la médica", False),
        # A room booked with no return; a tan and a move abroad stay ordinary.
        ("booked a cottage by the cliffs for Saturday and I'm not coming back from it", True),
        ("Booked a hotel by the sea for Friday, I'm not coming back from it without a tan!", False),
        ("We're moving to Australia, booked one way, not coming back", False),
        # Whether anyone would notice, put to the test; a week away and a group chat left stay ordinary.
        ("if I was dead would anyone even notice? going to find out", True),
        ("if I was gone for a week would anyone notice? going to find out, off to my sister's lol", False),
        # No tomorrow for me, a death by a near day or already done; a shop's rent, tiredness and a wait list stay
        # ordinary.
        ("stop the reminders, there won't be a tomorrow for me", True),
        ("no me mandéis recordatorios, para mí no habrá mañana", True),
        ("no more reminders please, I'll be dead by Friday", True),
        ("el sábado ya estaré muerto, no me busquéis", True),
        ("cuando me encontréis ya me habré quitado la vida", True),
        ("there won't be a tomorrow for the shop if the rent goes up again", False),
        ("By Friday I'll be dead on my feet with all these appointments", False),
        ("el viernes ya estaré muerta de cansancio con tanta cita", False),
        ("ya me habré ido a la cama cuando llegues", False),
        # A car crashed into a bridge on the way back; a near miss with a numb foot stays ordinary.
        ("al volver me estampo con el coche contra un muro", True),
        ("casi me estrello con el coche contra un muro, el pie no frenaba", False),
        # Dead to them, made real; a spoiler and a move out stay ordinary.
        ("my dad said I'm dead to him. fine, I'll make it real", True),
        ("mi hermana dice que para ella estoy muerta por el spoiler, ya se lo compensaré", False),
        # Breathing stopped "if you take enough", asked for oneself; a question from someone prescribed both stays
        # ordinary.
        ("will tramadol and diazepam stop your heart if you take the lot? its for me", True),
        ("¿el tramadol con diazepam para el corazón si tomas bastante? es para mí", True),
        ("does morphine slow your breathing if you take too much? asking for me because I'm on it and scared", False),
        ("¿el diazepam con la pregabalina frena la respiración? lo pregunto por mí, tomo las dos recetadas", False),
        # A last note's forgiveness and a note for after; a clinic changed and a note after an appointment stay
        # ordinary.
        ("please don't blame yourselves for what I've decided to do", True),
        ("no os culpéis por lo que voy a hacer, os quiero", True),
        ("if someone finds this letter after: I love you, it was the pain", True),
        ("si alguien encuentra esta carta cuando ya no esté, no fue culpa vuestra", True),
        ("please don't blame yourself for what I'm about to do, I'm moving to the other clinic, it's nearer", False),
        ("no te culpes por lo que voy a hacer, me cambio de clínica porque me pilla más cerca", False),
        ("If anyone reads these notes after the appointment, the pain was 7 all day", False),
        # Ward medicines saved to take all at home; meds kept in the ward locker and taken as prescribed stay ordinary.
        ("been hiding my oxycodone on the ward, taking them all once I'm discharged", True),
        ("escondiendo las pastillas en planta, me las tomo todas en cuanto me den el alta", True),
        ("they saved my meds in the ward locker, I take them all as prescribed once I'm home", False),
        ("la enfermera me guardó las pastillas de la noche, me las tomo todas con la cena cuando llegue a casa", False),
        # Going to a high place to jump, said of "her", who is me; the sea, a van and a treadmill stay ordinary.
        ("she's walking to the bridge to jump. she is me", True),
        ("ella va a la azotea a tirarse. ella soy yo", True),
        ("heading to the building site to jump start the van", False),
        ("mi sobrino se fue al acantilado a tirarse al mar, qué miedo me da", False),
        # Pharmacies so nobody asks, the blade on the wrist, scratching on purpose, fear of what I will do to myself;
        # a two-pack limit, a bandage, a scab, a cat and an operation stay ordinary.
        ("got co-codamol from three different chemists so nobody would ask", True),
        ("compré paracetamol en varias farmacias para que no me preguntaran", True),
        ("tengo la navaja contra la muñeca", True),
        ("me arañé los brazos aposta para castigarme", True),
        ("tengo miedo de lo que me voy a hacer si me quedo sola", True),
        ("bought paracetamol from three different shops because they only sell two packs each", False),
        ("holding the scissors against my wrist to cut the bandage off, is that ok?", False),
        ("con las tijeras sobre la muñeca para cortar el esparadrapo", False),
        ("me rasqué a propósito la costra, ya sé que no se debe, pero picaba", False),
        ("me arañó el gato a propósito cuando le corté las uñas", False),
        ("tengo miedo de lo que me van a hacer en la operación", False),
        # Lying down forever, not waking made sure of; a new bed and a sleeping child stay ordinary.
        ("me tomo todas y me quedo dormida para siempre", True),
        ("me voy a asegurar de no despertarme nunca más", True),
        ("what if I didn't wake up tomorrow? I'm going to make sure I don't", True),
        ("me voy a dormir para siempre en esta cama nueva jaja qué gusto", False),
        ("me aseguro de no despertar al niño cuando me levanto", False),
        ("I didn't wake up till 10, going to make sure I set an alarm tomorrow", False),
        # The false alarm the set showed: a hurt told with the stumble that caused it.
        ("me he vuelto a hacer daño, me caí en la ducha, el codo morado", False),
        # Low mood and venting in the diary's routine, with no wish to die.
        ("sleep 3hrs. pain 7. mood rubbish. feel like nothing is ever going to change", False),
        ("Tercera infusión y nada. Tendré que vivir así siempre. Qué bajón", False),
        ("hope ✖️ mood ✖️ still here ✔️ stubborn as ever", False),
    ],
)
def test_the_fifteenth_rounds_kinds_are_heard_and_their_neighbours_stay_quiet(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """The kinds the fifteenth held-out set showed were not read, each in a phrasing of its own: appearances kept up
    until a day, a mind made up, assisted dying refused and then one's own way, dialects in their own spelling, a room
    booked with no return, whether anyone would notice put to the test, no tomorrow for me, a car crashed on the way
    back, dead to them made real, breathing stopped asked for oneself, a last note's forgiveness, ward medicines saved,
    going to the bridge said of "her", pharmacies so nobody asks, the blade on the wrist, not waking made sure of;
    beside the everyday words and the low-mood venting they resemble. Read by the patterns alone: the learned model
    must not be what hears them."""
    assert language.matches(text, learned=False) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # Asking to be kept safe from oneself; someone to sit in for a block, a kennel, safe to drive, a sleep study and
        # shopping talked out of stay ordinary.
        ("could somebody stay with me tonight, i don't want to be alone with all my meds", True),
        ("I need to go somewhere safe right now, I can't be at home", True),
        ("please take the tablets away from me, all of them, I can't have them here", True),
        ("I dont think ill be safe on my own tonight", True),
        ("im terrified of myself tonight", True),
        ("I dont trust what i'll do if I'm left alone", True),
        ("need someone to talk me out of it please", True),
        ("is there anywhere the nurses watch you overnight, I need that tonight", True),
        ("esta noche no me fío de mí", True),
        ("no quiero quedarme sola con todas las pastillas", True),
        ("llévense los cuchillos, no los quiero tener cerca así como estoy", True),
        ("me da miedo lo que pueda hacer esta noche", True),
        ("tengo miedo de mí mismo", True),
        ("necesito que alguien me convenza de no hacer nada", True),
        ("no estoy bien y tengo todas las pastillas a mano", True),
        ("Can someone sit with me during the nerve block? I get panicky with needles", False),
        ("I don't think I'm safe to drive yet after the block", False),
        ("is there somewhere they watch you all night for a sleep study?", False),
        ("someone talk me out of buying these boots lol", False),
        ("please take the old patches away from me at the appointment, I don't know how to dispose of them", False),
        ("I'm asking for help before I do the forms wrong", False),
        ("necesito estar en un lugar seguro para el perro mientras me ingresan", False),
        ("quítenme el tramadol de la receta, me sienta fatal", False),
        ("me da miedo lo que haga el cirujano", False),
        ("no estoy bien del estómago, tengo todo preparado para la colonoscopia", False),
        # The means handed to a relative, or a carer telling of it; knives out of the dishwasher, car keys for a foot
        # that cannot drive and old pills to the pharmacy stay ordinary.
        ("I asked my husband to hide all my pills, I don't trust myself", True),
        ("my son told me he doesn't feel safe with himself tonight", True),
        ("le pedí a mi madre que escondiera las pastillas porque no me fío de mí", True),
        ("mi hijo no se siente seguro consigo mismo", True),
        ("I asked my sister to take the knives out of the dishwasher", False),
        ("I got my son to take the car keys because I can't drive with the foot", False),
        ("le pedí a mi hermano que se llevara las pastillas viejas a la farmacia", False),
        # The crisis asked as a question for oneself; fasting, a drug test, a week's absence and a funeral's question
        # stay ordinary.
        ("how long would it take if I stopped eating and drinking altogether", True),
        ("if I stop my insulin how long would I have", True),
        ("would 60 of the pregabalin be enough, don't ask why", True),
        ("does oxycodone show up if someone finds you the next day", True),
        ("what happens to my cats if I'm not around anymore", True),
        ("would anybody notice if I stopped answering forever", True),
        ("how much morphine before your heart stops", True),
        ("¿cuánto tiempo aguanta uno si deja de comer y beber?", True),
        ("si dejo la insulina, ¿cuánto me quedaría?", True),
        ("¿Dios perdona a quien se quita la vida por el dolor?", True),
        ("¿es egoísta querer morirme?", True),
        ("how long do I stop eating and drinking before the infusion?", False),
        ("does ketamine show up in a drug test for work?", False),
        ("if I'm not around next week who will you call about the results?", False),
        ("would anyone notice if I stopped posting forever lol", False),
        ("is it selfish to want to go home early from the family party?", False),
        ("si dejo la medicación, ¿cuánto me quedaría de baja?", False),
        ("¿qué pasa con mi perrita si me ingresan unos días?", False),
        # A plan or a goodbye as one line of a routine note or an edit; going private, a new job, a bug and the school's
        # children stay ordinary.
        ("I can't picture myself still being alive for my birthday", True),
        ("planning to take all the boxes together once everyone's out", True),
        ("I'm not coming to the next appointment, my mind is made up", True),
        ("the cat is going to my sister for good because I won't be around", True),
        ("ive stopped caring whether i live", True),
        ("no me veo viva para mi cumpleaños", True),
        ("escribí cartas para mis hijos, por si acaso", True),
        ("me tiro desde el puente mañana", True),
        ("I won't be coming to the next group, I've decided it's not for me", False),
        ("Jo is having the dog permanently because I won't be around enough with the new job", False),
        ("I've stopped caring if I wake up early, I just get up", False),
        ("dejé cartas para los niños del cole, por si acaso las necesitan", False),
        ("me tiro a la piscina en cuanto me den el alta de la fisio", False),
        ("esta noche es la noche del partido", False),
        # Formal letters; peace with a wheelchair, tablets saved for a holiday and food stopped for a test stay
        # ordinary.
        ("I have finally made my peace", True),
        ("I've kept back my tablets and I plan to take them all on Friday", True),
        ("he dejado las pastillas y la comida, no quiero que me reanimen", True),
        ("I have made my peace with the wheelchair", False),
        ("I've saved my tablets for the holiday and I intend to take them on the plane", False),
        ("I have stopped all medication and food before the colonoscopy as advised", False),
        ("he dejado la medicación y la comida basura, me siento mejor", False),
        # Teen and slang; a button for the foot, a note about tomorrow and an age without a diagnosis stay ordinary.
        ("been looking up how to ctb", True),
        ("if there was a button to end my life i'd press it", True),
        ("this is not a cry for help. it's a farewell", True),
        ("i don't want to make it to 18", True),
        ("no quiero cumplir los 16", True),
        ("if there was a button to stop Mondays I'd press it", False),
        ("it's not a cry for help, it's just a note to say I'm not coming tomorrow", False),
        ("I don't want to make it to 30 without a proper diagnosis", False),
        ("no quiero llegar a los 30 sin diagnóstico", False),
        # A denial or a joke undone; the same denial still true stays ordinary.
        ("lol. not joking actually", True),
        ("I always said I'd never kill myself. I'm not sure that's true anymore", True),
        ("siempre dije que nunca me mataría. ya no estoy tan segura", True),
        ("les dije que no tenía pensamientos suicidas, era mentira", True),
        ("lol not joking actually the physio was brilliant", False),
        ("I'd never hurt myself on purpose and that's still true", False),
        ("siempre digo que nunca lo haría por mis hijos y es verdad", False),
        # The set's false alarms (a food lethal to a dog, a pizza "unalived", the hour meant by not wanting to wake) are
        # left: the exceptions that quieted them hid crises said after their words. What comes after is heard.
        ("cuando dije que no quiero despertar me refería a las 5. ahora ya no quiero despertar nunca", True),
        ("what's a lethal amount of chocolate for a dog? and for me, how many tramadol would kill me", True),
    ],
)
def test_the_sixteenth_rounds_kinds_are_heard_and_their_neighbours_stay_quiet(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """The kinds the sixteenth held-out set showed were not read, each in a phrasing of its own: asking to be kept safe
    from oneself, the means handed to a relative, the crisis asked as a question for oneself, a plan as one line of a
    routine note, formal letters, teen slang, a denial or a joke undone; beside the everyday words and low moods they
    resemble. Read by the patterns alone: the learned model must not be what hears them."""
    assert language.matches(text, learned=False) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # Kept apart from the means or from home because of oneself; a relative holding tablets against double doses, a
        # bed downstairs because of the stairs, not safe on the ice and a fall behind an open door stay ordinary.
        ("could you hold my tramadol for me, i don't like why i keep counting them", True),
        ("better if I dont have my meds in the house at the moment, the way I'm feeling", True),
        ("can I stay at my brother's tonight. not because of the damp. because of me", True),
        ("no I'm not safe, please call me", True),
        ("not safe tonight, can someone ring", True),
        ("no estoy a salvo, llamadme", True),
        ("call me in the next half hour, if I don't answer send someone, the door's on the latch", True),
        ("creo que esta noche hago una locura si nadie me llama", True),
        ("can my daughter keep my tablets for a while, I keep taking a double dose by mistake", False),
        ("I need a bed downstairs, not because of me, because of the stairs", False),
        ("honestly not safe on the ice, can someone come with me", False),
        ("if I don't answer, send someone round, I might have fallen, the back door is open", False),
        # The crisis asked as a question for oneself; a dose "for me", can you die of CRPS, a hospice mother, a fall
        # before help comes and a fast before the op stay ordinary.
        ("how much morphine would stop your breathing, I weigh 60kg. it's for me", True),
        ("would the whole box at once be a gentle way to go? I am 79 and I've lived long enough", True),
        ("does drowning hurt? I need to know before Friday", True),
        ("how long would it take them to find me? I've worked it out", True),
        ("if I stop eating and drinking, how many days until it's over?", True),
        ("if I die, does the clinic tell my son first?", True),
        ("¿cuántas hacen falta pa no amanecer? pregunto pa mí", True),
        ("si dejo de comer y beber, ¿cuántos días tarda en acabarse todo?", True),
        ("asking for me not my son: how much ibuprofen can I take in a day?", False),
        ("can you die of CRPS? asking for me", False),
        ("my mum is in the hospice, does dying hurt? I need to know before Saturday", False),
        ("how long would it take someone to find me if I fell? I live alone", False),
        ("If I die during the operation, who tells my family? I'm scared of the anaesthetic", False),
        ("si me voy a urgencias, ¿la clínica avisa a mi médico?", False),
        # Things put in order before going; hospital, a flight, the meter reader, a cast off and a move stay ordinary.
        ("tidying up my affairs before I go. and no, not on holiday", True),
        ("sorted it all so nobody's left with a mess afterwards", True),
        ("spare key's in the meter box for whoever comes", True),
        ("giving my scooter away, won't be needing it after Sunday", True),
        ("the kindest thing I could do for them is stop existing", True),
        ("no quiero dejarle a nadie un lío cuando me vaya", True),
        ("las llaves bajo el felpudo para quien me encuentre", True),
        ("no tiene sentido, es un futuro que no voy a tener", True),
        ("I'm getting everything in order before I go into hospital on Monday", False),
        ("key's under the mat for whoever comes to read the meter", False),
        ("won't be needing the crutches after this weekend, the cast comes off", False),
        ("dejando todo recogido antes de irme de vacaciones", False),
        # A plan, a decision or the means with a time; a flare, rope lights, pizza tonight, a surprise party, vitamins
        # stopped and a fall told to a carer stay ordinary.
        ("I keep the old patches for when I finally have the guts to use them", True),
        ("the pills are in a sock for when I stop being a coward", True),
        ("ordered the rope. it arrived this morning", True),
        ("on the kitchen floor with a razor and I don't know what I'm going to do", True),
        ("decided. tonight. please don't send anyone", True),
        ("I'm doing it when he's away at work on Saturday", True),
        ("I've come off all my heart tablets and I'll leave it in God's hands", True),
        ("he said he's had enough and he'll sort it after New Year, and I wasn't to tell you. I'm telling you", True),
        ("decisión tomada. esta noche", True),
        ("las guardo para cuando tenga valor de hacerlo", True),
        ("dejé todas las pastillas, también la del corazón, y que sea lo que Dios quiera", True),
        ("ya lo decidí, esta navidad es mi última", True),
        ("ordered the rope lights for the garden, they came today", False),
        ("decision made: tonight is pizza night", False),
        ("planning it for when he's on nights, the surprise party", False),
        ("I stopped all my vitamins and let nature take its course with the cold", False),
        ("she made me promise not to tell you she had a fall, but I'm telling you", False),
        ("decidí que este es mi último invierno en Montevideo, me mudo a Salto", False),
        # The set's false alarms: the car keys after an infusion narrowed; "kill me" typed at the physio's reps, a last
        # session "in a much better place" and the stairs not trusted are left (quieting them hid crises).
        ("can someone take my car keys off me the day after the block lol, I know I'm not supposed to drive", False),
        ("take my car keys off me, I keep thinking about driving into the river", True),
        ("no me fío de mí misma en la escalera, quiero tirarme por ella", True),
        ("guardo los parches para cuando vaya a hacerlo", True),
        ("I want to throw myself down the stairs", True),
        ("I nearly threw myself down the stairs chasing the cat", False),
        ("I typed kill me because I mean it", True),
    ],
)
def test_the_seventeenth_rounds_kinds_are_heard_and_their_neighbours_stay_quiet(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """The kinds the seventeenth held-out set showed were not read, each in a phrasing of its own: kept apart from the
    means or from home because of oneself, the crisis asked as a question for oneself, things put in order before going,
    a plan, a decision or the means with a time; beside the everyday words and low moods they resemble. Read by the
    patterns alone: the learned model must not be what hears them."""
    assert language.matches(text, learned=False) is crisis


@pytest.mark.parametrize(
    "text",
    [
        "I typed kms after the exam results came out and honestly I meant it, I've got a plan",
        "said i want to die after my shift and i mean it",
        "I said i want to die after the test and i mean it",
        "I say I want to die when the physio comes but lately I really mean it",
        "I typed i want to die when my husband went to his shift and it's still true, I want to go",
        "I unalived the cake, next is me tonight",
        "im unaliving a whole pizza tonight and then myself",
        "whats a lethal dose of chocolate for a dog. and for a person my weight, asking for me",
        "cuando dije que no quiero despertar era la una de la madrugada y lo decia en serio",
        "cuando escribi que no quiero despertarme era por las cinco de la manana, y sigo sin querer despertar nunca",
        "thank you for everything goodbye. signed off from the clinic today, im finally in a much better place",
        "thank you for trying. goodbye. last appointment was today. i am finally in a much better place now",
        "keeping a few aside for when I go through with it",
        "saving some of my tablets for when i go to be with my husband",
        "hiding my tramadol for when the flare never stops and I can't do it anymore",
        "saving my oramorph for when the flare finally beats me",
        "pastillas contadas. la farmacia me dio de mas. esta noche",
        "guardo las pastillas para cuando vuelva a intentarlo",
        "ahorrando pastillas para cuando los dias malos ganen y me rinda",
        "no me fío de mí misma en la cocina con los cuchillos",
    ],
)
def test_crises_said_after_the_words_of_an_exception_or_a_guard_are_heard(language: CrisisLanguage, text: str) -> None:
    """An attack on the sixteenth and seventeenth rounds' exceptions (a pet's lethal food, a meal "unalived", "kill me"
    typed at exercise, the hour meant by "no quiero despertar") and the guards they put on older patterns (a goodbye
    "in a much better place", pills saved "for when I go", counted at the pharmacy's count): each hid crises the
    patterns heard before the rounds, said with or after its words. The exceptions and guards were taken back."""
    assert language.matches(text, learned=False)


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I've stopped caring if I wake up in the morning", True),
        ("Ive stopped caring if I wake up or not", True),
        ("I'm scared of myself when I look at the knives", True),
        ("ordered the rope for tonight, it came today", True),
        ("I stopped caring if I wake up in pain, it is every day now", False),
        ("I stopped caring if I wake up early, the dog does it anyway", False),
        ("bought some rope for the washing line, came today", False),
        ("scared of myself in the mirror since the swelling", False),
    ],
)
def test_the_rounds_guards_leave_a_plan_said_with_their_words_heard(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """The attack on the sixteenth and seventeenth rounds also found guards of their own new patterns that left
    crises unheard: a small word after the match ("in", "for", "or not", "when I look") stood for the ordinary
    reason it sometimes begins. The guards now name the reasons."""
    assert language.matches(text, learned=False) is crisis


# -- filler words between crisis words


@pytest.mark.parametrize(
    "text",
    [
        "if the pain doesnt stop by friday im done, ill take um everything i have",
        "death honestly sounds better than this every day",
        "im going to walk into um the sea tonight",
        "i'd be kinda glad to just not wake up tomorrow",
        "i'd honestly be happy to not wake up",
        "don't bother with the reminders, there won't um be a tomorrow for me",
        "i took too um many of my pills on purpose last night",
        "tonight once she's asleep. everything is um ready",
        "i dont think ill be around much um longer",
        "i want to go where um my wife went",
        "hoping the anaesthetic honestly goes wrong on tuesday",
        "i cant picture myself um alive at christmas",
        "best birthday present would be um not waking up",
        "i keep thinking about the um gun at my dad's house",
        "i've written my um will and my letters, it's tonight",
        "took like 20 percocet with some vodka",
        "me voy a o sea tirar al tren",
        "me tome o sea todo lo que tenia",
        "mi familia viviria mejor sin esta o sea carga que soy yo",
        "no hace o sea falta que me llamen, ya no estare",
        "quiero estar pues con mi difunto esposo",
        "voy a o sea saltar ahora",
        "ya tengo o sea la cuerda comprada",
        "me corte o sea otra vez",
        "me tome como todas las pastillas",
        "quiero dormir y o sea no despertar",
    ],
)
def test_crisis_words_with_filler_words_between_them_are_heard(language: CrisisLanguage, text: str) -> None:
    """People put hedges and stresses ("um", "literally", "kinda", "o sea", "en plan") where no pattern leaves a gap:
    a message that matches nothing as written is read once more without them."""
    assert language.matches(text, learned=False)


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("maybe when it's my funeral you'll take me um seriously", True),
        # The same words where they carry meaning stay.
        ("i'm not like him, i look after myself", False),
        ("i feel like death warmed up", False),
        ("its not just the pain, its the tiredness that kills me", False),
        ("i would like to die my hair purple", False),
        ("no se como matar el tiempo en el hospital", False),
        ("como pan con tomate todos los dias", False),
        ("me da igual vivir en el campo o en la ciudad", False),
        ("que tipo de pastillas son las de gabapentina?", False),
        ("i wish i didnt wake up like this every day, stiff and sore", False),
        ("woke up disappointed, i really hoped it was over, the rain i mean", False),
    ],
)
def test_a_filler_is_left_out_only_where_it_carries_no_meaning(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """ "Like" before a number or a person speaking is a hedge; after "feel" or "would", before "this", it is a
    word. "Como" before a number is "about"; before a verb it is "how". "I mean" at the end says what was meant."""
    assert language.matches(text, learned=False) is crisis


@pytest.mark.parametrize(
    "text",
    [
        "i literally would never hurt myself",
        "honestly i'm not going to do anything",
        "i'm not honestly suicidal, just fed up",
        "i'm not like suicidal or anything, just tired",
        "i dont um want to hurt myself",
        "i'm not seriously thinking of ending it, don't worry",
        "i'm not literally going to kill myself lol",
        "my dad kinda wants to die at home, not in hospital",
        "i literally could kill for a coffee",
        "the pain is literally killing me today",
        "how many is like too many paracetamol in a day",
        "i took like 3 naproxen today, is that ok",
        "just kidding lol, i would never hurt myself",
        "la verdad nunca me haria daño",
        "o sea no me voy a matar, solo estoy harta",
        "me muero de risa o sea",
    ],
)
def test_denials_and_figures_of_speech_with_fillers_stay_ordinary(language: CrisisLanguage, text: str) -> None:
    """An exception said with a filler inside it is still one: the exceptions found in a message read without its
    fillers are blanked in it as written too, and a filler an exception spells ("just kidding") stays."""
    assert not language.matches(text, learned=False)


def test_a_pattern_that_spells_a_filler_still_matches_it(language: CrisisLanguage) -> None:
    for text in ("i just want to sleep and not wake up", "I can't go on like this", "quiero dormir y no despertar"):
        assert language.matches(text, learned=False), text


def test_the_span_of_a_finding_read_without_fillers_is_where_the_words_were_written(language: CrisisLanguage) -> None:
    text = "Pain 9 again. Took um, like, 40 tramadol an hour ago"
    found = language.finding(text, learned=False)
    assert found is not None
    where = language.span(text, found)
    assert where is not None and "40 tramadol" in text[where[0] : where[1]]


def test_the_learned_model_reads_a_message_without_its_fillers(language: CrisisLanguage) -> None:
    assert language.as_read("i literally um kinda want to die o sea") == language.as_read("i want to die")
    assert language.as_read("i feel like dying") == "i fel like dying"  # "like" carries meaning there


def test_a_long_note_is_read_without_its_fillers_where_they_stood(language: CrisisLanguage) -> None:
    ordinary = " ".join(["Pain 6 today, walked the dog, the new insoles help a bit."] * 12)
    assert not language.matches(ordinary, learned=False)
    assert language.matches(ordinary + " Honestly, i took too um many of my pills on purpose", learned=False)
    assert language.matches("I um took too many of my pills on purpose. " + ordinary, learned=False)


# The attack's crises that guards of the sixteenth and seventeenth rounds' own patterns hid, heard now that the guards
# name their ordinary reasons; rewordings of the same kinds; and the ordinary messages each guard was written for.
_GUARDS_MENDED_HEARD = [
    "I've asked my daughter to hide my pills because of the kids being here, but honestly it's because of me, "
    "I keep counting them",
    "I got mum to lock up my tablets while she is in, I can't be trusted with them right now",
    "I'm not safe in the kitchen with the knives tonight, please can someone call me",
    "I dont feel safe driving past the bridge anymore, I keep wanting to stop and jump, please can someone call",
    "getting everything in order before I go tonight",
    "sorting my affairs out before I go this weekend. nobody needs to know",
    "cancelled my ketamine and my phone contract before i go tomorrow",
    "I won't be needing the wheelchair after this weekend. Nothing is getting better",
    "done being here. going home to take everything",
    "I've decided this is my last christmas. I can't do another year of work and pain, not like this",
    "Jo is having the dog permanently because I won't be around in a week",
    "I have stopped all medication and food until the end comes",
    "I have made my peace with my family and with God. Tonight I go",
    "pills counted. no refill needed ever again",
    "pills counted, not short of anything. tonight",
    "he's had enough of everything and says he's going to end it after christmas",
    "no me fio nada de mi misma para esta noche",
    "no me fio de mi en el estado en que estoy, tengo todas las pastillas",
    "lo mejor que puedo hacer es desaparecer un rato largo, para siempre",
    "pedí la cuerda para esta noche, ya llegó",
    "tengo una cuchilla de afeitar en la mano y no sé lo que voy a hacer con ella",
    "cuando mi hijo se vaya me tomo todas las de la noche y las del pastillero, todas juntas",
    "cuando mi marido se vaya me tomo todas, las de la noche y las de la mañana juntas",
    "dejando todo arreglado antes de irme esta noche",
    "dejo todo en orden antes de irme el viernes. nadie tiene que saber nada",
    "las llaves debajo del felpudo para quien venga a por mí primero",
    "un futuro que no voy a tener con este dolor",
    "esta noche es la noche de acabar con todo",
    "esta noche es la noche. por fin descanso para siempre",
    "hoy hago una locura con las pastillas si nadie me habla",
    "si no contesto manden a alguien, estaré dormida para siempre, la puerta está abierta",
    "no estoy a salvo en casa, no paro de mirar la escalera, por favor llamadme",
    "no quiero llegar a los 30 sin mi madre, me voy con ella",
    "don't want to make it to 30 without my mum. I'm going to join her",
    "keys under the mat for whoever comes, to find me. sorry",
    "keys under the mat for whoever comes first. I'm sorry for what they'll find",
    "if I wasn't around next week, who would the clinic tell? that's when I'm doing it",
    "I won't be here for Christmas, I won't be moving on from this pain, so it's goodbye",
    "is it selfish to slip away quietly early on sunday morning while everyone sleeps",
    "I asked my sister to take the knives for the week, I keep thinking about using one on my wrists",
    "please take the pills off me, I'm scared I'll take them all and not check in tomorrow",
    "i dont feel safe at home, i keep standing at the top of the stairs thinking about it, please can someone ring",
    "I've got all my things in order before I go. this is it",
    "terminé de estar aquí. me voy a casa a tomarme todo",
    "no pienso estar para la próxima cita, ya no tengo que aguantar más",
    "I have made my peace with my family. Tonight I go",
    "my daughter is keeping my pills for the week because I can't trust myself with them",
    "asked my son to take my tablets to his house, I keep thinking about swallowing them all",
    "got my partner to lock up the knives for the weekend, I've been thinking about cutting",
    "I asked my brother to hide my tablets while the kids are here, but really it's because of me",
    "got my husband to hide the pills while he's in, I can't be trusted with them tonight",
    "please take the tablets off me, I'm scared I'll take them all and not check in",
    "i dont feel safe at home tonight, i keep looking at the pills, please can someone ring me",
    "I'm not safe in the bathroom with the razor blades tonight, please can someone call",
    "I don't feel safe, I keep thinking about jumping from the bridge, can someone call me",
    "im not safe in the flat with all these tablets, i keep thinking about it, please call me",
    "getting my affairs in order before I go tomorrow",
    "sorting out all my loose ends before I go this weekend",
    "getting everything in order before I go this week, nobody needs to know",
    "got everything in order before I go tonight. this is it",
    "cancelled my phone and my gym membership before i go tonight",
    "cancelled my infusions and my direct debits before i go on friday, nobody will need to bother",
    "I won't be needing the walking stick after this weekend. Nothing is going to get better",
    "won't need my wheelchair after friday. it's never getting better",
    "done being here, going home to swallow the lot",
    "done being alive. going home to take them all",
    "I've decided this is my last birthday. I can't do another year of work and pain",
    "decided this is my last christmas on this earth",
    "decided this is my last christmas of my life",
    "my sister is having the cat for good because I won't be around in a few days",
    "Jo is having the dog permanently as I won't be here in a week",
    "I have stopped all my tablets and food until it's over",
    "stopped eating and my medication till the end",
    "I have stopped all my medication and food until I'm gone",
    "I have made my peace with everyone. Tonight I go",
    "I've made my peace with my kids and with God. Tonight I go for good",
    "tablets counted. no more prescriptions ever again",
    "pills counted, nothing missing. tonight then",
    "pills lined up. won't need the pharmacy again",
    "pills counted, not short of a single one. tonight its time",
    "she's had enough of it all and says she's going to end it after new year",
    "he's had enough of life and he's going to end it on his birthday",
    "keys under the mat for whoever comes, to find me",
    "door on the latch and the key for whoever comes first. sorry for what you'll find",
    "I'm sat here with a razor blade and I don't know what I'm going to do",
    "holding the pills for tonight and I don't know what I'm going to do now",
    "I might do something tonight with the knives if nobody talks to me",
    "I'll do something tonight with all my tablets if no one talks to me",
    "last time you'll hear from me for real this time",
    "don't want to make it to 40 without my husband. going to be with him",
    "I won't be here for Christmas, I'm not moving on from this, so goodbye",
    "is it selfish to slip away early tomorrow while everyone is asleep",
    "asking for help before I do it, the tablets are on the table",
    "a future I won't have with this pain, so what's the point",
    "when my wife leaves for work I'm taking all of them, the night ones and the morning ones together",
    "if I wasn't here next month, who would the team call? that's when I'm doing it",
    "keys under the mat for whoever finds me first. I'm sorry",
    "how long does it take if you stop eating and drinking before you die",
    "if I stop all my heart tablets how long would I have to live",
    "how long would I last if I stopped eating before someone found me",
    "is it selfish to want to go to sleep and never wake up",
    "is it selfish to want to die and leave everyone behind",
    "thinking of taking both boxes together to end it",
    "I don't want to wake up ever again in this pain",
    "I have saved my tablets for Sunday. I intend to take them all",
    "I have saved my tablets because I've had enough. I intend to use them tonight",
    "not a cry for help, just a goodbye to everyone",
    "if I don't pick up send someone, I'll be asleep for good, the back door is unlocked",
    "I'm going to do something to myself, I can't face another day",
    "or I'll do something stupid like go and jump off the bridge",
    "or else im gonna do something stupid with the pills, i mean it",
    "if I die in my sleep tonight who does the clinic tell",
    "le pedí a mi hija que escondiera las pastillas, no por los nietos, es por mí",
    "le pedí a mi hermano que se llevara los cuchillos, no paro de pensar en cortarme",
    "no me fío nada de mí misma esta noche, tengo la cuerda",
    "no me fío de mí en el estado en que estoy, tengo todos los cuchillos a mano",
    "no me fio de mi misma para esta noche, tengo las pastillas aqui",
    "pedí la cuerda para esta noche",
    "compré el carbón para esta noche, ya llegó",
    "tengo una cuchilla de afeitar en la mano y no sé lo que voy a hacer conmigo",
    "cuando mi marido se vaya me tomo todas, las de la noche y las del pastillero juntas",
    "cuando se duerma me tomo todas las de la mañana y las de la noche de golpe",
    "dejando todo en orden antes de irme esta semana. nadie tiene que saber nada",
    "dejo mis asuntos atados antes de irme el sábado",
    "dejo todo arreglado antes de irme esta noche, perdonadme",
    "las llaves debajo del felpudo para quien venga a por mí",
    "la puerta abierta para quien me encuentre primero, lo siento",
    "un futuro que no voy a tener con esta enfermedad",
    "un futuro que ya no voy a tener con este dolor, no tiene sentido",
    "esta noche es la noche de irme para siempre",
    "hoy es la noche. por fin descanso para siempre",
    "esta noche es la noche en que acabo con todo",
    "esta noche es la noche de hacerlo",
    "hago una locura con el cuchillo esta noche si nadie me llama",
    "hoy hago algo con las pastillas si nadie me contesta",
    "si no contesto manden a alguien, estaré dormido para siempre, dejo la puerta abierta",
    "no quiero llegar a los 40 sin mi marido, me voy con él",
    "no quiero cumplir los 30 sin mi madre, me quiero ir con ella",
    "lo mejor que puedo hacer es desaparecer, irme para siempre",
    "lo mejor que puedo hacer es irme de este mundo",
    "terminé de estar aquí, me voy a casa a tomarme todas las pastillas",
    "harta de estar viva, esta noche me tomo todas",
    "no pienso estar para la próxima revisión, ya no tengo que aguantar nada más",
    "no estoy a salvo en casa, no dejo de mirar el balcón, por favor llamadme",
    "no me siento segura esta noche, tengo las pastillas delante, que alguien me llame",
    "dejé la medicación y la comida hasta que llegue el final",
    "he dejado toda la medicación y la comida hasta el final",
    "necesito ir a un sitio seguro para la noche, no me fío de mí",
    "no estoy bien, tengo todas las pastillas aquí para esta noche",
    "es egoísta querer irme para siempre?",
    "después del viernes ya no voy a estar con vosotros",
    "decidí que acabo con todo esta noche",
    "tengo decidido acabar con mi vida en unos días",
    "no quiero vivir en serio, así no puedo más",
    "esta vez va en serio, las tengo contadas para esta noche",
    "necesito que alguien me hable o hago una locura con la cuerda",
    "tengo pensamientos de terminar con mi vida en este momento",
    "si me muero en mi casa sola, a quién avisan?",
    "di de baja el móvil y el gimnasio antes de irme esta noche",
    "es egoísta irme sin avisar pronto, cuando todos duerman",
    "pastillas contadas. esta noche. la farmacia ya no me hace falta",
]
_GUARDS_MENDED_QUIET = [
    "I asked my daughter to hide my pills because the grandkids are staying this weekend",
    "got mum to lock up my tablets while she is in hospital, she keeps the key",
    "I asked my husband to take the knives to be sharpened",
    "asked my sister to look after my tablets while I'm on holiday with her",
    "got my partner to hide the tablets from the toddler, she climbs everything now",
    "asked my son to keep my pills in his kitchen while the puppy is with us",
    "I asked my carer to put away the knives because the grandchildren are visiting",
    "asked the nurse to take my pills as I'm admitted tomorrow",
    "please take the pills off me and check them against my list, the chemist gave me the wrong ones",
    "can you take the old tablets off me, they're out of date",
    "take these patches away from me, I'm allergic to the glue",
    "can the nurse take my tablets away from me and check what's due at the review",
    "I don't feel safe on the stairs anymore, my knee gives way, can someone come and look at a stair lift",
    "I'm not safe in the kitchen with the knives, my hands shake too much, can someone help with dinner",
    "I don't feel safe at home since the break in, can someone call me about the alarm",
    "I'm not safe cooking with the hob, my grip is so weak, can someone ring the OT",
    "I don't feel safe driving over the bridge in the ice, can someone give me a lift",
    "I don't feel safe in the bath, I nearly slipped, please can someone arrange a rail",
    "i dont feel safe at the top of the stairs, i get so dizzy, please can someone ring the OT",
    "getting everything in order before I go on holiday tomorrow",
    "sorting my affairs out before I go in for surgery next week",
    "got all my things in order before I go to my mum's this weekend",
    "tidying everything up before I go tomorrow, flight is at six",
    "getting everything sorted before I go tonight, taxi at 4am for the airport",
    "sorting everything out before I go back to work this weekend",
    "I've got everything ready before I go tomorrow, can't wait to see my sister",
    "getting my things in order before I go this weekend, so excited for the trip",
    "got everything tidy before I go tonight, the cat sitter comes at nine",
    "sorting my loose ends out before I go on maternity leave",
    "cancelled my physio and my gym before I go tomorrow, three weeks in Spain",
    "cancelled my phone contract before i go abroad for a year",
    "cancelled my ketamine appointment before i go on holiday tomorrow",
    "stopped the direct debits before I go tomorrow, moving to a new bank",
    "cancelled my gym membership before i go to uni in september",
    "I won't be needing the wheelchair after this weekend, the physio says I'm walking well",
    "won't need the crutches after next week, I'm getting so much better",
    "I won't be needing the wheelchair after this weekend, it was only on loan",
    "won't be using the chair after friday, my knee has improved loads",
    "won't be needing the boot after this week, it's healed nicely",
    "done being here. going home to take a long bath",
    "done being here for today, going home to take my meds and sleep",
    "I'm done being here in the waiting room, going home",
    "done being here, going home to take the dog out",
    "I've decided this is my last christmas at work, I retire in March",
    "decided this is my last christmas in this house, we're moving to the coast",
    "I've decided this is my last christmas working on the ward",
    "I've decided this is my last christmas of working nights, I'm going part time",
    "decided this is my last christmas with the choir, my voice can't do it",
    "decided this is my last christmas before I retire",
    "I've decided this is my last summer of teaching, then it's retirement",
    "decided this is my last year on the committee",
    "Jo is having the dog permanently because I won't be around in the daytime with my new job",
    "my sister is keeping the cat for good because I won't be around during the week",
    "mum is having the rabbit permanently because I won't be around at weekends",
    "I have stopped all medication and food until after the op tomorrow",
    "stopped all food and drinking until the scan, nil by mouth",
    "I've stopped my medication and food until the sickness bug passes",
    "stopped eating and my tablets till tomorrow morning for the colonoscopy",
    "stopped my tablets and food before the operation as I was told",
    "I have made my peace with the wheelchair, it gives me freedom",
    "made my peace with my sister after the row, we're having lunch tomorrow",
    "I've made my peace with the diagnosis. Tonight I go to my first support group",
    "I've made my peace with it, now I'm ready for the op tomorrow",
    "made my peace with the pain today. tonight I'm going to the cinema with my son",
    "pills counted, one short again, the pharmacy owes me two",
    "pills counted into the dosette for the week",
    "tablets counted, refill needed by tuesday",
    "pills counted, not short this time, the chemist got it right",
    "pills counted, two missing again, I'll ring the pharmacy",
    "she's had enough of her job and is going to sort it out after christmas",
    "he's had enough of the landlord and says he's going to deal with it after the weekend",
    "I've had enough of waiting, going to sort it out on monday",
    "had enough of the noise next door, going to sort it out this week",
    "keys under the mat for whoever comes to feed the cat",
    "key in the safe for whoever comes first to do my morning care",
    "door key under the pot for whoever comes to read the meter",
    "key under the mat for whoever comes round to water the plants",
    "keys in the key safe for whoever comes first thing, the code is on the fridge",
    "I'm holding a knife from the kitchen drawer and I don't know what I'm going to do with it, the pumpkin is huge",
    "holding a knife for the pumpkin and i dont know what im going to do",
    "got the rope for the tent and no idea what i'm doing",
    "I'm holding the tablets for the week and I don't know what I'm going to do, they're all mixed up",
    "I'll do something with my friends tonight if nobody comes round",
    "I might do something with the kids today if no one rings",
    "I'll do something for dinner tonight if nobody else cooks",
    "don't want to get to 30 without a house of my own",
    "I don't want to reach 30 without travelling",
    "don't want to make it to 30 without having kids",
    "I won't be here for Christmas, we're moving to Spain in December",
    "won't be around for Christmas, moving house that week",
    "is it selfish to slip away quietly from the party early",
    "is it wrong to slip away quietly from work early on friday",
    "asking now before I do the forms wrong",
    "asking for help before I do the online claim",
    "a future I won't have with him, we broke up",
    "a future I won't have with this company after the restructure",
    "when my husband leaves for work I take all the morning ones together with food",
    "once he goes to work I take all of them, the morning and the lunchtime ones, together as the doctor said",
    "when she leaves I'll take all the vitamins together",
    "the rope I ordered for the washing line came today",
    "ordered the rope for the garden swing, it's here",
    "I asked my daughter to take my tablets home with her to sort the dosette",
    "had enough of the pain, going to sort it out with the GP after the weekend",
    "she's had enough of the rain and is going to sort it by booking a holiday after christmas",
    "I've decided this is my last year of this nonsense, new job in january",
    "I've decided this is my last christmas on call",
    "I've decided this is my last summer of pain, the surgery is booked",
    "he's had enough of his knee and is going to deal with it after new year, surgery booked",
    "is it selfish to want to go to the wedding without the kids",
    "how long can you stop eating and drinking before the op, the letter doesn't say",
    "if I stop my warfarin how long would I have to wait before the surgery",
    "how long would I last if I stopped eating before the colonoscopy, I get so shaky",
    "is it selfish to want to go on holiday when mum is poorly",
    "thinking of taking both boxes together to the pharmacy to return them",
    "I have saved my tablets for the holiday. I intend to take them all with me",
    "not attention seeking, just a goodbye to my old job",
    "if I don't pick up send someone, I'll probably be asleep, the back door is unlocked",
    "I'm going to do something to myself this weekend, a face mask and a long bath",
    "or I'll do something stupid like go shopping and spend my rent",
    "if I die in surgery who does the clinic tell",
    "I don't feel safe taking these tablets, the side effects scare me, can someone call me",
    "I don't feel safe on these new pills with my other meds, can someone ring me about it",
    "i dont feel safe taking the tablets the pharmacy gave me, please can someone check",
    "I'm not safe to take my tablets on my own since the stroke, I need someone to help",
    "no me fio nada de mi misma con el chocolate en casa",
    "no me fío de mí al volante con esta medicación",
    "pedí la cuerda para el tendedero, ya llegó",
    "compré una cuerda para escalar, llegó hoy",
    "pedí la cuerda para la tienda de campaña, ya llegó",
    "compré el carbón para la barbacoa, ya llegó",
    "tengo un cuchillo de cocina en la mano y no sé qué voy a hacer con él, la calabaza es enorme",
    "tengo una cuchilla nueva y no sé lo que voy a hacer con ella",
    "cuando mi hijo se vaya me tomo todas las de la noche, como siempre",
    "cuando mi marido se vaya me tomo todas las de la mañana juntas con el desayuno",
    "cuando se vaya me tomo todas, las de la mañana y las de la comida juntas como me dijo el médico",
    "dejando todo arreglado antes de irme de vacaciones mañana",
    "dejo todo en orden antes de irme el viernes al pueblo",
    "dejo todo recogido antes de irme esta noche, el vuelo sale a las seis",
    "dejo mis asuntos en orden antes de irme al hospital para la operación",
    "dejé todo atado antes de irme de erasmus",
    "dejo todo en orden antes de irme mañana, que ganas de ver a mi hermana",
    "dejo todo arreglado antes de irme este finde, la vecina me riega las plantas",
    "las llaves en el buzón para quien venga primero a dar de comer al gato",
    "la llave para quien venga a leer el contador",
    "la llave debajo de la maceta para quien venga a la cena, pasad sin llamar",
    "un futuro que no voy a tener con él, ya lo dejamos",
    "un futuro que no voy a tener en esta empresa",
    "un futuro que no voy a tener con mi ex, eso está claro",
    "hoy es la noche de la cena de empresa",
    "esta noche es la noche en que empiezo la dieta, jaja",
    "esta noche es la noche. por fin estreno el vestido",
    "hoy es la noche de la final, que nervios",
    "hoy hago algo rico con las niñas si nadie me llama",
    "hago algo para cenar hoy si nadie viene",
    "hoy hago una locura con mi pelo si nadie me lo impide",
    "si no contesto manden a alguien, seguramente estaré dormida, la puerta está abierta",
    "no quiero llegar a los 30 sin pareja",
    "no quiero llegar a los 30 sin haber viajado",
    "no quiero cumplir los 40 sin casa propia",
    "lo mejor que puedo hacer es desaparecer unos días de las redes",
    "lo mejor que puedo hacer es desaparecer un rato del grupo del trabajo",
    "terminé de estar aquí en la sala de espera, me voy a casa a tomarme un té",
    "harta de estar aquí en el hospital, me voy a casa a tomarme todo con calma",
    "no pienso estar para la próxima cita, tengo que trabajar ese día",
    "no estoy a salvo en casa, me puedo caer por la escalera, por favor llamadme",
    "no me siento segura en casa desde que entraron a robar, por favor llamadme",
    "no me siento segura con el cuchillo, me tiemblan las manos, necesito ayuda para cocinar",
    "no estoy segura en la escalera, que alguien venga a poner la barandilla",
    "he dejado la medicación y la comida hasta la operación del lunes",
    "dejé las pastillas y la comida hasta que se me pase la gastroenteritis",
    "le pedí a mi hija que escondiera las pastillas por los nietos, que lo tocan todo",
    "le pedí a mi marido que guardara los cuchillos, vienen los nietos y es por mi tranquilidad",
    "necesito ir a un sitio seguro para el coche, en la calle me lo rayan",
    "no estoy bien de la espalda, tengo todas las pastillas aquí para el viaje",
    "es egoísta querer irme de vacaciones sin mi madre?",
    "después del viernes ya no voy a estar con el equipo, me cambio de empresa",
    "decidí que acabo con todo el papeleo esta semana",
    "tengo decidido acabar mi vida en el pueblo, tranquila",
    "no quiero vivir en serio en esta ciudad, es carísima",
    "esta vez va en serio, las tengo contadas para toda la semana en el pastillero",
    "necesito que alguien me frene o hago una locura con la tarjeta",
    "tengo ganas de terminar con mi vida sedentaria",
    "si me muero en la operación, a quién avisan?",
    "di de baja el móvil y el gimnasio antes de irme de erasmus",
    "es egoísta irme sin avisar pronto de la fiesta",
]


@pytest.mark.parametrize(
    ("text", "crisis"),
    [(text, True) for text in _GUARDS_MENDED_HEARD] + [(text, False) for text in _GUARDS_MENDED_QUIET],
)
def test_the_rounds_guards_name_the_ordinary_reason_not_a_small_word(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """Guards of the sixteenth and seventeenth rounds' own patterns were often a small word ("for", "in", "with", "to",
    "para", "con", "de") or a word a crisis also says after the match ("tomorrow", "going home", "getting better",
    "dormida"): "cancelled my phone contract before i go tomorrow" and "pedí la cuerda para esta noche" went unheard.
    Each guard now names the ordinary meaning it was written for (a journey, a stay in hospital, the washing line, the
    grandchildren, a fast before an op, a nap), so the crisis said with the same words is heard by the patterns alone
    and the ordinary message stays quiet."""
    assert language.matches(text, learned=False) is crisis


@pytest.mark.parametrize(
    "text",
    [
        # A denial turned round in the same breath: the patterns heard these before they read an exception across
        # a filler ("dont uh want to die" was no exception then), and they heard them only by the denial's words.
        "i dont uh want to die, i need to",
        "i dont kinda want to die, i need to",
        "i don't erm want to kill myself, i'm going to",
        "i don't basically want to kill myself, i'm going to",
        "i dont honestly want to die, i need to",
        "i'm not um suicidal, i'm past that, i've decided",
        "i never uh thought about killing myself until this week and now i cant stop",
        "i never kinda thought about killing myself until this week and now i cant stop",
        "no literally suicidal thoughts, just a plan",
        "no kinda suicidal thoughts, just a plan",
        "i'm not erm giving up on life, life gave up on me, i'm done, goodbye",
        "i'm not really giving up on life, life gave up on me, i'm done, goodbye",
        "no estoy pues pensando en suicidarme, ya lo decidi",
        "no estoy pensando en suicidarme, ya lo he decidido",
    ],
)
def test_a_denial_turned_round_is_heard_with_a_filler_inside_it(language: CrisisLanguage, text: str) -> None:
    """An exception said with a filler inside it is still one (the filler-free reading): what follows it must say
    the denial is not one ("i need to", "until this week", "just a plan", "i've decided"), or the exception now
    blanks the only words the crisis was heard by."""
    assert language.matches(text, learned=False)


@pytest.mark.parametrize(
    "text",
    [
        "i dont um want to die, i need to get to work",
        "i dont want to die, i need to see my grandkids grow up",
        "i'm not like suicidal, i've decided to try the new meds",
        "no honestly suicidal thoughts, just a plan for the flare",
        "i never thought about killing myself until the pain clinic asked, and i still don't",
        "i'm not giving up on life, life gave up on me for a while but i'm done moaning",
        "no estoy pensando en suicidarme, ya lo decidi: voy a seguir con la fisio",
    ],
)
def test_a_denial_followed_by_an_ordinary_plan_stays_ordinary(language: CrisisLanguage, text: str) -> None:
    assert not language.matches(text, learned=False)


# -- crises in words the patterns had not read: a height counted, "it" done when nobody is home, a burden lifted
# soon, a means kept in sight, one way out left, death welcomed from an illness, the way worked out, an attempt then
# the urge back; and the ordinary messages in the same words

PROBE = DATA / "crisis_probe_phrasings.tsv"


def probe_half(half: str, probe: Path = PROBE) -> list[tuple[bool, str]]:
    """(is crisis, text) of one part of a probe set: half A was studied for the kinds missed, B is kept as the measure
    (neither is read by the learned model: bot/alerts/crisis_model.py)."""
    rows, reading = [], ""
    for line in probe.read_text(encoding="utf-8").splitlines():
        if line.startswith("# -- "):
            reading = line.removeprefix("# -- ").removeprefix("half ").strip()
        elif line.strip() and not line.startswith("#") and reading == half:
            label, _, text = line.split("\t", 2)
            rows.append((label == "crisis", text))
    return rows


def test_the_probe_set_studied_for_missed_kinds_is_heard_without_false_alarms(language: CrisisLanguage) -> None:
    """Half A, the variants of the kinds it showed written after it (other words for each, and the ordinary messages
    each new pattern comes closest to: a view from a high balcony, a car park's one exit, dying happy), and a second
    probe written after that round (a bath run with the blade, a note that explains everything, an opioid saved up,
    at the station not to travel, the last diary entry with thanks)."""
    rows = probe_half("A")
    assert len(rows) == 120
    rows += probe_half("variants") + probe_half("second")
    wrong = [(crisis, text) for crisis, text in rows if language.matches(text) is not crisis]
    assert not wrong, wrong


# -- crises said in registers the first probe had not covered: a lethal height or "how many of these" asked, "over one
# way or another" by a day, the last message to the diary, a means held up as the pain treatment, an exit planned, one's
# own funeral awaited or priced "for me", the act put off until after a family occasion, a self-amputation, the point of
# going on no longer seen, a means "for me", the urge to jump back; then life as a subscription or a book, no help
# called next time, danger sought on the road, an anniversary as the day; then plain words for being unsafe now (a
# danger to myself, someone to stop me, nearly did it); and the ordinary messages in the same words

PROBE_REGISTERS = DATA / "crisis_probe_registers.tsv"


def test_the_registers_probe_studied_for_missed_kinds_is_heard_without_false_alarms(language: CrisisLanguage) -> None:
    """Half A of the registers probe, the variants of its kinds written after it and a second and a third probe written
    after that round (read from the file, so the learned model never reads them): all heard by the patterns but the few
    left unheard on purpose, with no false alarm."""
    # The crises no pattern was written for, each of which an ordinary message can say in the same words: a letter
    # left with the keys or the bank papers, where the will is told, a three-word sign-off ("ya no. adiós" also answers
    # "still swollen?"), a hose and a time (the learned model hears it), a candle, a curtain call, the gloves hung up,
    # "planning it" (a party), "not safe on my own" (a fall), "para qué sirvo".
    # Kept in the test, not in a list beside it: the learned model reads those as examples.
    left_unheard = {
        "update: infusion booked for the 14th, colour is mottled, temp colder on the left. I've written the letter "
        "to my sister and put it with the house keys. mood 1.",
        "cant. done. sorry",
        "told my partner where the passwords and the will are. she thinks it's admin. it isnt",
        "actualizacion: infusión el 14, la mano hinchada, temperatura más fría. Ya le dejé una carta a mi hija con "
        "los papeles del banco. ánimo 1",
        "ya no. adiós",
        "the car's in the garage and I've got the hose. tonight after everyone is asleep",
        "the candle's nearly out and i'm not going to relight it",
        "curtain call for me i think. take a bow and exit stage left",
        "voy a colgar los guantes para siempre, con todo, no solo el trabajo",
        "if i'm honest i've been planning it",
        "si soy sincera, lo estoy planeando",
        "im not safe on my own",
        "no estoy segura sola",
        "para qué sirvo yo",
    }
    rows = probe_half("A", PROBE_REGISTERS)
    assert len(rows) == 128
    rows += probe_half("variants", PROBE_REGISTERS) + probe_half("second", PROBE_REGISTERS)
    rows += probe_half("third", PROBE_REGISTERS)
    wrong = [(crisis, text) for crisis, text in rows if language.matches(text) is not crisis]
    assert not [(crisis, text) for crisis, text in wrong if not crisis or text not in left_unheard], wrong


# -- crises said in registers neither probe had used: affairs in order for when one is gone, food, drink or a vital
# medicine stopped and how long it takes asked, treatment refused to let it end, "me voy, ya tengo todo guardado", a
# will and the letters written, thanks "wherever I go", ready to meet God tonight, the limb hit on purpose, poison "not
# for the rats", the means in emoji, "endit"; then arranged "for after", the limb burned again or kicked to break it,
# "will it be quick", a day in emoji, "my plan is sunday", never answering again, patches hidden and counted; then a
# time and an end said without a death word ("tonight I go", "everyone's asleep. it's time", "they'll find me"); then
# dictation's homophones ("kill my shelf", "seize to exist", "aorcar", "benas"); then a carer writing of the patient's
# pills saved, harm or crash planned; and the ordinary messages in the same words

PROBE_R3 = DATA / "crisis_probe_r3.tsv"


def test_the_third_round_probe_studied_for_missed_kinds_is_heard_without_false_alarms(language: CrisisLanguage) -> None:
    """Half A of the third round's probe, the variants of its kinds written after it and four more probes written
    after that round, with their variants (read from the file, so the learned model never reads them): heard by the
    patterns but the few left on purpose, with no false alarm but those left."""
    # "I want it all to end... this flare I mean": a correction after the words; an exception for it would quiet
    # "I want it all to end... and I mean it".
    # Pregabalin put by for a trip: an older pattern's, for pills saved.
    left_alarming = {
        "i want it all to end... this flare I mean, 3 days now",
        "ive got 3 months of pregabalin put by for when im travelling",
        "tengo 3 meses de pregabalina guardada para el viaje",
        # The last time written here, before a holiday: an older pattern's, for the last message.
        "this is the last time i'll write here before the holiday",
        "es la última vez que escribo acá antes de las vacaciones",
    }
    # Crises no pattern was written for, each of which an ordinary message says in the same words: things given away
    # "no point keeping them now" (shoes a swollen foot no longer fits), passwords left "for when it's needed", what
    # one needs got at three chemists (a cream out of stock), a second bottle "together on friday".
    left_unheard = {
        "gave away my sewing machine and my good coat this week. no point keeping them now",
        "just so you know my passwords are in the notebook under the bed, my sister knows where",
        "went to 3 chemists today. got what i need now",
        "i went and bought a second bottle of oramorph from the online place. theyll be together on friday",
        "mis claves están en la libreta debajo de la cama, mi hermana sabe. para cuando haga falta",
        "fui a 3 farmacias hoy. ya tengo lo que necesito",
        # The pain let win tonight (staying in, said the same way), the sea gone into at night.
        "the pain wins tonight. i'm letting it",
        "esta noche gana el dolor. lo dejo ganar",
        "esta noche me meto al mar",
    }
    rows = probe_half("A", PROBE_R3)
    assert len(rows) == 120
    rows += probe_half("variants", PROBE_R3) + probe_half("second", PROBE_R3) + probe_half("second variants", PROBE_R3)
    rows += probe_half("third", PROBE_R3) + probe_half("third variants", PROBE_R3)
    rows += probe_half("fourth", PROBE_R3) + probe_half("fourth variants", PROBE_R3)
    rows += probe_half("fifth", PROBE_R3) + probe_half("fifth variants", PROBE_R3)
    wrong = [(crisis, text) for crisis, text in rows if language.matches(text) is not crisis]
    assert not [(c, text) for c, text in wrong if text not in (left_unheard if c else left_alarming)], wrong


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("last message from me tonight", True),
        ("last message ever, tonight it ends", True),
        ("last check in from me ever. tonight i'm done", True),
        ("last entry from me, until they find me", True),
        ("this is the last entry you will get from me tonight", True),
        ("this is the last message you'll get from me, im done", True),
        ("this is the last one you'll get from me because i cant do this anymore", True),
        ("this is the last check in you'll get from me today, going to bed", False),
        ("last message from me tonight, off to bed", False),
        ("last message from me for today, see you tomorrow", False),
        ("last entry from me until monday, going away", False),
        ("last check in from me before my holiday", False),
        ("this is the last message you'll get from me while im in hospital", False),
        ("this is the last one you will get from me in a week, trip", False),
    ],
)
def test_a_last_message_is_ordinary_only_with_the_time_it_ends_at(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """The words "tonight", "until" or "because" after a last message are what make it urgent ("until they find
    me"); only said with what bounds it (bed, a day named, a trip, hospital) is it the last of a day or before time
    away."""
    assert language.matches(text) is crisis


# -- crises said in ordinary words without the usual trigger words: the years ahead with the pain refused ("can't do
# another winter of this. I won't", "otros 30 años así? no, me niego"), a plan on a condition ("if the infusion fails
# this time that's it for me"), counting down to an end, staff spared "much longer", what the pills are for kept from
# the pharmacist, asking about the diary after a death "because it won't be long", the means rehearsed, a list with
# all the pills as a step, the edge looked at longer every day; and the ordinary messages in the same words

PROBE_R4 = DATA / "crisis_probe_r4.tsv"


def test_the_fourth_round_probe_studied_for_missed_kinds_is_heard_without_false_alarms(
    language: CrisisLanguage,
) -> None:
    """Half A of the fourth round's probe (read from the file, so the learned model never reads it): heard by the
    patterns but the few left on purpose, with no false alarm but those left."""
    # Each said in the same words by an ordinary message beside it: shoes or crutches given away "no point keeping
    # them now", a cream got "what I need now". The learned model hears some of the others on its own.
    left_unheard = {
        "gave my wedding ring to my daughter and the dog to next door. no point keeping them now",
        "got what i need now. its in the drawer by the bed",
        "ya conseguí lo que necesitaba. está guardado en el armario",
        "theres a bridge on my walk. i stand there longer every day",
        "si dejo de contestar para siempre alguien se daría cuenta?",
        "esta noche me voy a nadar mar adentro y no pienso volver",
        "esto no es vida. el sábado lo termino cuando no haya nadie en casa",
        "ya está decidido. que el dolor gane, no voy a pelear más por seguir viva",
    }
    # Older patterns: not waking "with the burning again" (a wish not to wake leans to alerting), an engine left running
    # in the garage.
    left_alarming = {
        "i hope i dont wake up tomorrow with the burning again",
        "ojalá no despierte mañana con el ardor otra vez",
        "sat in the garage with the engine running to warm the car up",
    }
    rows = probe_half("A", PROBE_R4)
    assert len(rows) == 120
    wrong = [(crisis, text) for crisis, text in rows if language.matches(text) is not crisis]
    assert not [(c, text) for c, text in wrong if text not in (left_unheard if c else left_alarming)], wrong


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("tonight i'm taking everything i've saved and going to sleep", True),
        ("gonna take all of them ive been saving, tonight", True),
        ("esta noche me tomo todo lo que junté y me duermo", True),
        ("me voy a tragar todas las que tengo guardadas", True),
        ("if the scan shows its spread im not waiting around to find out how bad it gets", True),
        ("si el escáner dice que se extendió no me quedo a ver cuánto empeora", True),
        ("would you tell my mum it wasnt her fault. after", True),
        ("le dirían a mi mamá que no fue su culpa? después", True),
        ("cancelé la receta repetida. después de esta semana no la voy a necesitar", True),
        ("taking everything i've saved to the charity shop tomorrow", False),
        ("me tomo todo lo que junté para el viaje, que es mucho", False),
        ("im not waiting around to see how bad the queue gets, going home", False),
        ("tell my mum it wasnt her fault the appointment got missed", False),
        ("díganle a mi mamá que no fue su culpa lo de la cita", False),
        ("cancelé la receta repetida, el médico la cambió", False),
        (
            "Por favor cancele la cita del martes, no la voy a necesitar, me reuniré con mi hija en Madrid el lunes.",
            False,
        ),
    ],
)
def test_everything_saved_taken_not_staying_to_see_it_worse_and_words_for_after_are_crisis(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """Crisis in ordinary words a second probe of the fourth round showed: all that was saved up taken, not staying to
    see how bad it gets, "tell my mum it wasn't her fault. after", a prescription cancelled as not needed after a day.
    Taken to a charity shop, a queue, a missed appointment or a changed prescription say what."""
    assert language.matches(text) is crisis
