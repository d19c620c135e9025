"""Telegram counts message length in UTF-16 code units: long texts are cut into parts that each fit and
that give back the whole text; views of stored text are shortened with "…"."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.care_team.text_limits import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    Entity,
    around,
    as_words,
    formatted_with_links,
    in_formatted_parts,
    in_parts,
    shorten,
    split,
    units,
    with_links,
)


def test_units_count_astral_characters_twice() -> None:
    assert units("abc") == 3
    assert units("😀") == 2 and units("é") == 1 and units("😀a") == 3


def test_shorten_keeps_short_text_and_marks_a_cut() -> None:
    assert shorten("hello", 5) == "hello"
    assert shorten("hello world", 8) == "hello w…"
    cut = shorten("😀" * 10, 5)
    assert cut == "😀😀…" and units(cut) <= 5, "never half of an emoji"


@given(st.text(min_size=0, max_size=3000), st.integers(min_value=2, max_value=500))
def test_split_gives_back_the_text_in_parts_that_fit(text: str, limit: int) -> None:
    parts = split(text, limit)
    assert "".join(parts) == text
    assert all(units(part) <= limit for part in parts)
    assert all(parts[:-1]), "no empty part except a lone empty text"


def test_split_prefers_a_line_break_or_a_space() -> None:
    text = "word " * 30
    parts = split(text, 52)
    assert all(part.endswith(" ") for part in parts[:-1])


def test_in_parts_numbers_the_parts_only_when_there_are_several() -> None:
    assert in_parts("hi", "From P-1:\n", "From P-1 ({part}/{parts}):\n") == ["From P-1:\nhi"]
    text = "😀" * 5000  # 10,000 units
    parts = in_parts(text, "From P-1:\n", "From P-1 ({part}/{parts}):\n")
    assert len(parts) == 3 and all(units(p) <= TEXT_LIMIT for p in parts)
    assert parts[0].startswith("From P-1 (1/3):\n") and parts[2].startswith("From P-1 (3/3):\n")
    assert "".join(p.split(":\n", 1)[1] for p in parts) == text


def test_a_long_reply_signed_with_braces_in_a_name_is_sent_in_parts() -> None:
    """A staff member's Telegram name is theirs to choose: "Sam {ICU}" above a long reply is not a placeholder."""
    parts = in_parts("x " * 3000, "Your care team (Sam {ICU}):", "Your care team, Sam {ICU} ({part}/{parts}):")
    assert [p.split(":", 1)[0] for p in parts] == ["Your care team, Sam {ICU} (1/2)", "Your care team, Sam {ICU} (2/2)"]


def test_a_caption_limit_is_smaller() -> None:
    assert shorten("x" * 5000, CAPTION_LIMIT).endswith("…") and units(shorten("x" * 5000, CAPTION_LIMIT)) == 1024


@pytest.mark.parametrize(
    ("text", "start", "end", "limit", "passage"),
    [
        ("short enough", 0, 5, 20, "short enough"),
        ("one two three FOUR five six seven", 14, 18, 18, "…three FOUR five…"),
        ("one two three FOUR five six seven", 14, 18, 17, "…FOUR five…"),  # "three" cut in half is left out
        ("FOUR five six seven eight", 0, 4, 12, "FOUR five…"),
        ("one two three FOUR", 14, 18, 12, "…three FOUR"),
        ("aaa bbb ccc THE WORDS THAT MATTER ddd", 12, 33, 10, "…THE WORD…"),
    ],
)
def test_around_keeps_the_words_that_matter_and_marks_both_cuts(
    text: str, start: int, end: int, limit: int, passage: str
) -> None:
    assert around(text, start, end, limit) == passage


@given(st.text(alphabet="ab 😣\n", max_size=300), st.integers(0, 300), st.integers(0, 40), st.integers(10, 200))
def test_around_fits_and_holds_the_middle_when_it_can(text: str, start: int, length: int, limit: int) -> None:
    start = min(start, len(text))
    end = min(start + length, len(text))
    passage = around(text, start, end, limit)
    assert units(passage) <= limit
    if units(text[start:end]) + 2 <= limit:
        assert text[start:end].strip() in passage


def test_a_links_address_follows_its_words_placed_in_utf16_units() -> None:
    """Telegram places a text_link in UTF-16 units: an emoji before it counts twice."""
    text = "😀 see our leaflet, and this"
    links = [(units("😀 see "), units("our leaflet"), "https://a.example"), (units(text) - 4, 4, "https://b.example")]
    assert with_links(text, links) == "😀 see our leaflet (https://a.example), and this (https://b.example)"
    assert with_links("https://a.example", [(0, 17, "https://a.example")]) == "https://a.example", "said already"
    assert with_links("short", [(3, 10, "https://a.example")]) == "short", "a link beyond the text adds nothing"


@given(st.text(alphabet=st.sampled_from("ab 😀é\n"), max_size=200), st.integers(0, 300), st.integers(0, 300))
def test_a_links_address_never_loses_a_word(text: str, offset: int, length: int) -> None:
    assert with_links(text, [(offset, length, "https://a.example")]).replace(" (https://a.example)", "", 1) == text


def covered(text: str, entity: Entity) -> str:
    encoded = text.encode("utf-16-le", "surrogatepass")
    return encoded[2 * entity.offset : 2 * (entity.offset + entity.length)].decode("utf-16-le", "surrogatepass")


@given(
    st.text(alphabet=st.sampled_from("ab 😀é\n"), max_size=300),
    st.integers(0, 300),
    st.integers(1, 300),
    st.integers(30, 120),
)
def test_formatting_is_cut_with_the_text_it_covers(text: str, offset: int, length: int, limit: int) -> None:
    """A reply in parts: each part's formatting covers, after its header, just its share of the formatted words."""
    encoded = text.encode("utf-16-le", "surrogatepass")
    offset, length = min(offset, units(text)), min(length, units(text) - min(offset, units(text)))
    if length == 0 or not all(
        at == units(text) or not 0xDC00 <= int.from_bytes(encoded[2 * at : 2 * at + 2], "little") <= 0xDFFF
        for at in (offset, offset + length)
    ):
        return  # Telegram places formatting between characters
    bold = Entity("bold", offset, length)
    parts = in_formatted_parts(text, [bold], "Reply: ", "Reply ({part}/{parts}): ", limit=limit)
    assert all(units(part) <= limit for part, _ in parts)
    assert all(e.offset >= units("Reply (1/1): ") or len(parts) == 1 for _, found in parts for e in found)
    assert "".join(covered(part, e) for part, found in parts for e in found) == covered(text, bold)


def test_formatting_moves_past_an_address_written_out() -> None:
    text = "😀 see our leaflet, then rest"
    leaflet = Entity("text_link", units("😀 see "), units("our leaflet"), url="https://a.example")
    rest = Entity("strikethrough", units(text) - 4, 4)
    whole = Entity("italic", 0, units(text))
    written, moved = formatted_with_links(text, [leaflet, rest, whole])
    assert written == "😀 see our leaflet (https://a.example), then rest"
    assert [covered(written, e) for e in moved] == ["our leaflet", "rest", written]


@pytest.mark.parametrize(
    ("text", "quoted", "words"),
    [
        ("Your care team: Can I?\nYes.", "Can I?", "Your care team:\n> Can I?\nYes."),
        ("Can I?\nor this?\nYes.", "Can I?\nor this?", "> Can I?\n> or this?\nYes."),
        ("😀 said:\nCan I?\nYes.", "Can I?", "😀 said:\n> Can I?\nYes."),
    ],
)
def test_a_quote_as_words_is_marked_on_lines_of_its_own(text: str, quoted: str, words: str) -> None:
    """Shown plain, a quote above a reply read as the reply's own words: its lines begin with "> "."""
    quote = Entity("blockquote", units(text[: text.index(quoted)]), units(quoted))
    assert as_words(text, [quote]) == words


def test_words_struck_out_in_and_after_a_quote_as_words_are_marked_where_they_now_are() -> None:
    text = "Your care team: I took 3 2\nTake two one."
    entities = [
        Entity("blockquote", units("Your care team: "), units("I took 3 2")),
        Entity("strikethrough", units("Your care team: I took "), 1),
        Entity("strikethrough", units("Your care team: I took 3 2\nTake "), 3),
    ]
    assert as_words(text, entities) == "Your care team:\n> I took ~~3~~ 2\nTake ~~two~~ one."


@given(st.text(alphabet=st.sampled_from("ab 😀é\n"), max_size=200), st.integers(0, 300), st.integers(1, 300))
def test_a_quote_as_words_loses_no_word(text: str, offset: int, length: int) -> None:
    encoded = text.encode("utf-16-le", "surrogatepass")
    offset, length = min(offset, units(text)), min(length, units(text) - min(offset, units(text)))
    if not all(
        at == units(text) or not 0xDC00 <= int.from_bytes(encoded[2 * at : 2 * at + 2], "little") <= 0xDFFF
        for at in (offset, offset + length)
    ):
        return  # Telegram places formatting between characters
    words = as_words(text, [Entity("blockquote", offset, length)])
    assert "".join(words.replace("> ", "").split()) == "".join(text.split())
