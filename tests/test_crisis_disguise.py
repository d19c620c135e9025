"""Crisis language in disguise: the same words in another form of writing. Letters of a "fancy font" app, small
capitals, letters with a stroke or a hook, marks piled on letters; digits and signs for letters beside accented or
look-alike ones; a letter left alone by a space typed early or late in a word; a sentence typed without its spaces.
Kept apart from tests/test_crisis_language.py, whose examples the learned model reads: these teach it nothing, the
patterns read them as they read the plain words."""

from __future__ import annotations

import pytest

from bot.alerts.crisis import CrisisLanguage
from bot.app import crisis_language


@pytest.fixture(scope="module")
def language() -> CrisisLanguage:
    """The clinic's patterns without the learned model, as in tests/test_crisis_language.py."""
    return CrisisLanguage(crisis_language().patterns)


def _fullwidth(text: str) -> str:
    """`text` in the fullwidth forms of its letters, digits and space, as East Asian keyboards type them."""
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) for c in text)


def _small_capitals(text: str) -> str:
    """`text` in the letters a "small caps" app writes: most in the IPA and phonetic blocks, the s and f elsewhere."""
    return text.translate(str.maketrans("abcdefghijklmnopqrstuvwyz", "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡʏᴢ"))


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # A digit before letters is a number with its unit only where the letters are a unit or its ordinal's ending:
        # "0ff", "0n", "7o", "1t" and "3nd" are words typed with digits.
        ("im g0ing t0 jump 0ff the bridge", True),
        ("i cant g0 0n", True),
        ("i wan7 7o hur7 myself", True),
        ("1 want to 3nd 1t all", True),
        # A lone 1 is "I" in a message typed with digits for letters.
        ("1 w1sh 1 was d3ad", True),
        # A $ or an @ ends a word too.
        ("thi$ i$ goodbye", True),
        ("QUIERO QUIT@RME L@ VID@", True),
        ("no puedo m@$", True),
        ("me voy @ tom@r tod@$ l@$ p@$till@$", True),
        # A + is a t.
        ("1 cu+ my53lf 4g41n", True),
        ("+h1s 1s g00dby3", True),
        # Letters with accents, of other scripts or widths, or an invisible character, beside digits for letters.
        ("quier0 hacerme da\u00f10", True),
        ("i want to k1ll mys\u00e9lf", True),
        ("\u0456 w\u0430nt t\u043e k1ll mys\u0435lf", True),
        (_fullwidth("1 want to k1ll mys3lf"), True),
        ("i want to k1\u200bll mys3lf", True),
        ("took 1 pill at 10pm and 1 at 8am, the 3rd night in a row, pain 7", False),
        ("paid $5 for parking, 2nd appointment on the 1st, 1h 30min wait", False),
        ("pain+swelling 7/10, A+ for the new physio, meet @ 5", False),
        ("I'd k1ll for a coffee", False),
        ("1 would never k1ll mys3lf", False),
    ],
)
def test_digits_and_signs_for_letters_are_read_in_any_word_they_stand_in(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


def _styled(text: str, first: int) -> str:
    """`text` in one of the letter styles of Unicode's mathematical letters ("fancy fonts" apps): its A at `first`."""
    return "".join(chr(first + ord(c) - ord("A")) if "A" <= c <= "Z" else c for c in text)


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # Capitals in a "fancy font" app's letters have no lower case of their own: their plain letter does.
        (_styled("I WANT TO KILL MYSELF", 0x1D400), True),  # bold
        (_styled("I AM GOING TO END MY LIFE TONIGHT", 0x1D5D4), True),  # sans-serif bold
        (_styled("QUIERO MORIR", 0x1D670), True),  # monospace
        ("\u24be \u24cc\u24b6\u24c3\u24c9 \u24c9\u24c4 \u24b9\u24be\u24ba", True),  # circled capitals
        # A small-caps app's s and f are in another block than its other letters.
        (_small_capitals("i want to kill myself"), True),
        (_small_capitals("i am suicidal"), True),
        ("i want to \u24a6\u24a4\u24a7\u24a7 myself", True),  # parenthesized letters
        # Letters with a stroke or a hook, which have no accent to take off: "kiłł", "møri", "ƙill".
        ("i want to ki\u0142\u0142 myse\u0142f", True),
        ("quiero m\u00f8rir", True),
        ("i want to \u0199ill m\u01b4self", True),
        # Armenian o, n, g, h
        ("i am \u0581\u0585i\u0578\u0581 t\u0585 e\u0578d my life t\u0585\u0578i\u0581\u0570t", True),
        # Marks piled on every letter ("zalgo" text); one of them folds to a Greek letter when the case is folded.
        ("i\u0345 w\u0345a\u0345n\u0345t\u0345 t\u0345o\u0345 d\u0345i\u0345e\u0345", True),
        ("q\u0489u\u0489i\u0489e\u0489r\u0489o\u0489 m\u0489o\u0489r\u0489i\u0489r\u0489", True),
        (_styled("I WANT TO DIE MY HAIR", 0x1D400), False),
        (_styled("PAIN 7 TODAY, KNEE WORSE", 0x1D400), False),
        (_small_capitals("i would never kill myself"), False),
        ("Ma\u0142gorzata says hi, pain 5 today", False),
    ],
)
def test_letters_in_fancy_fonts_small_capitals_and_under_piled_marks_are_read(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # A space typed a letter early or late in a word leaves a letter alone: "d ie", "wan t", "kil l", "mysel f".
        ("i want to d ie", True),
        ("i w ant to die", True),
        ("gonna h ang myself tonight", True),
        ("i want to end my l ife", True),
        ("i wan t to die", True),
        ("i want to kil l mysel f", True),
        ("i am goin g to end my life", True),
        ("i dont want to liv e anymore", True),
        ("quiero mori r", True),
        ("me quiero mata r", True),
        # A letter that is a word of its own stays one ("a live", "k ill" is "ok, I'll", "c u"), and a letter joins
        # only into a word the patterns spell.
        ("k ill call you after physio", False),
        ("c u tomorrow, pain 6", False),
        ("plan b is to ask the GP", False),
        ("vitamin d is low they said", False),
        ("I want to watch a live show", False),
        ("i want to dye my hair", False),
    ],
)
def test_a_letter_left_alone_by_a_space_inside_a_word_is_read_with_it(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # Any sentence typed without its spaces, as a hashtag, in CamelCase, or spelt out letter by letter, is read
        # as the pattern words it is made of: three or more, one of them a rare one.
        ("iamsuicidal", True),
        ("#IAmGoingToHangMyself", True),
        ("IWishICouldGoToSleepAndNeverWakeUp", True),
        ("imgoingtotakeallmypills", True),
        ("i a m s u i c i d a l", True),
        ("i.a.m.g.o.i.n.g.t.o.h.a.n.g.m.y.s.e.l.f", True),
        ("nomequierodespertar", True),
        ("estoycansadadevivir", True),
        ("#motivationmonday pain 5", False),
        ("nevertheless the physiotherapy appointment went fine", False),
        ("Iamgoingtothegymtonight", False),
        ("#selfcaresunday", False),
        ("#iwanttodyemyhair", False),
        ("iwillkillthisworkout", False),
        ("hangoutwithfriendstonight", False),
        ("#LifeGoesOn", False),
    ],
)
def test_any_sentence_typed_without_its_spaces_is_read_as_its_words(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    "text",
    [
        "Pain 6 today, physiotherapy appointment rescheduled. " * 80 + "#IAmGoingToHangMyself",
        "Dolor 6 hoy, la fisioterapia otra vez cancelada. " * 80 + "nomequierodespertar",
        "Pain 6 today. " * 300 + "i a m s u i c i d a l",
    ],
)
def test_a_sentence_typed_without_its_spaces_at_the_end_of_a_long_note_is_heard(
    language: CrisisLanguage, text: str
) -> None:
    """A long note is read apart only around its long words, and still heard; the card shows the words read apart,
    not the start of the note."""
    found = language.finding(text)
    assert found is not None
    where = language.span(text, found)
    assert where is not None
    assert text[where[0] : where[1]].strip("# ") == text.rsplit(". ", 1)[-1].strip("# ")


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("evryone wud be beter off if i was gon", True),
        ("me voi a matar", True),
        ("soi una carga, mejor me voi para siempre", True),
        ("gon to the shops, back soon", False),
        ("the swelling is nearly gon", False),
        ("me voi a dormir, mañana más", False),
        ("estoi muerta de cansancio", False),
    ],
)
def test_a_short_words_last_letter_typed_as_it_sounds_is_read_as_the_word(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    """The word "gon" for "gone", "voi" for "voy": a tired thumb writes a short word as it sounds."""
    assert language.matches(text) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("started cuttin again last nite", True),
        ("i keep cuttin my arm, it helps for a bit", True),
        ("been burnin myself w the lighter", True),
        ("the swelling is killin me today", False),
        ("my foot is burnin and red again", False),
        ("just chillin, pain about 4", False),
        ("takin my pills now, night", False),
    ],
)
def test_a_word_whose_last_g_is_dropped_is_read_as_the_word(language: CrisisLanguage, text: str, crisis: bool) -> None:
    """ "cuttin" for "cutting": speech written down drops the last letter of "-ing"."""
    assert language.matches(text) is crisis


def _in_alphabet(text: str, alphabet: str) -> str:
    """`text` in a "fancy text" app's alphabet, its a to z."""
    return text.translate(str.maketrans("abcdefghijklmnopqrstuvwxyz", alphabet))


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # Small capitals whose f is the Cyrillic "ғ" (U+0493), as a keyboard's "small caps" font writes them.
        (_in_alphabet("i want to kill myself", "ᴀʙᴄᴅᴇғɢʜɪᴊᴋʟᴍɴᴏᴘǫʀsᴛᴜᴠᴡxʏᴢ"), True),
        # Greek and Cyrillic letters drawn as Latin ones, and signs: a sigma for an o, a ya for an r, a partial for a d.
        (_in_alphabet("quiero morirme", "αв¢∂єƒgнιנкℓмησρqяѕтυνωχуz"), True),
        (_in_alphabet("i want to die", "αв¢∂єƒgнιנкℓмησρqяѕтυνωχуz"), True),
        (_in_alphabet("i want to kill myself", "αв¢∂єƒgнιנкℓмησρqяѕтυνωχуz"), True),
        (_in_alphabet("me quiero matar", "ǟɮƈɖɛʄɢɦɨʝӄʟʍռօքզʀֆȶʊʋաӼʏʐ"), True),
        (_in_alphabet("i want to die", "ǟɮƈɖɛʄɢɦɨʝӄʟʍռօքզʀֆȶʊʋաӼʏʐ"), True),
        (_in_alphabet("I WANT TO DIE", "ΛBCDΣFGΉIJKLMПӨPQЯƧƬЦVЩXYZ".lower()).upper(), True),
        # Alphabets of letters of scripts few patients write (Cherokee, Canadian syllabics, Yi), and of signs.
        (_in_alphabet("i want to die", "ᏗᏰፈᎴᏋᎦᎶᏂᎥᏠᏦᏝᎷᏁᎧᎮᎤᏒᏕᏖᏬᏉᏇጀᎩፚ"), True),
        (_in_alphabet("quiero morir", "ᗩᗷᑕᗪEᖴGᕼIᒍKᒪᗰᑎOᑭᑫᖇᔕTᑌᐯᗯ᙭Yᘔ"), True),
        (_in_alphabet("i want to kill myself", "ꍏꌃꏳꀷꏂꎇꁅꀍꀤ꒻ꀘ꒒ꎭꈤꂦᖘꆰꋪꌚ꓄ꀎ꒦ꅐꉧꌩꁴ"), True),
        (_in_alphabet("i want to die", "ÄßÇÐÈ£GHÌJKLMñÖþQR§†ÚVW×¥Z"), True),
        # A letter an alphabet reads as another than elsewhere is its own where the message shows its other letters:
        # the currency signs' "ł" is an i ("Małgorzata" keeps her l), another's "ƚ" a t.
        (_in_alphabet("i want to die", "₳฿₵ĐɆ₣₲ⱧłJ₭Ⱡ₥₦Ø₱QⱤ₴₮ɄV₩ӾɎⱫ"), True),
        (_in_alphabet("quiero morir", "₳฿₵ĐɆ₣₲ⱧłJ₭Ⱡ₥₦Ø₱QⱤ₴₮ɄV₩ӾɎⱫ"), True),
        (_in_alphabet("i want to die", "αႦƈԃҽϝɠԋιʝƙʅɱɳσρϙɾʂƚυʋɯxყȥ"), True),
        (_in_alphabet("i want to dye my hair", "₳฿₵ĐɆ₣₲ⱧłJ₭Ⱡ₥₦Ø₱QⱤ₴₮ɄV₩ӾɎⱫ"), False),
        (_in_alphabet("i want to dye my hair", "ᏗᏰፈᎴᏋᎦᎶᏂᎥᏠᏦᏝᎷᏁᎧᎮᎤᏒᏕᏖᏬᏉᏇጀᎩፚ"), False),
        ("Małgorzata paid ₦500 for the taxi, pain 5", False),
        (_in_alphabet("i want to dye my hair", "αв¢∂єƒgнιנкℓмησρqяѕтυνωχуz"), False),
        (_in_alphabet("physio went well, pain 4", "αв¢∂єƒgнιנкℓмησρqяѕтυνωχуz"), False),
        ("Привет, как дела? У меня болит нога", False),
        ("Σήμερα ο πόνος είναι 6", False),
        ("50¢ for parking, the ∂ of my swelling is down", False),
    ],
)
def test_whole_fancy_alphabets_of_other_scripts_letters_are_read(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


_UPSIDE_DOWN = str.maketrans("abcdefghijklmnopqrstuvwxyz',", "ɐqɔpǝɟƃɥᴉɾʞlɯuodbɹsʇnʌʍxʎz,'")


def _upside_down(text: str) -> str:
    """`text` as a "flip text" app writes it: each letter turned over, the order turned round."""
    return text.translate(_UPSIDE_DOWN)[::-1]


def _mirrored(text: str) -> str:
    """`text` as a "mirror text" app writes it: each letter mirrored, the order turned round."""
    return text.translate(str.maketrans("abcdefghijklmnopqrstuvwxyz", "ɒdɔbɘʇϱʜiįʞlmnoqpɿƨƚυvwxγz"))[::-1]


def _regional(text: str, between: str = "") -> str:
    """`text` in regional-indicator letters (the letters of flags), `between` each two of a word."""
    return " ".join(between.join(chr(0x1F1E6 + ord(c) - ord("a")) for c in word) for word in text.split())


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # Upside down, turned round by the app or left in order (a "u" is then an n, a "p" a d).
        ("ǝıp oʇ ʇuɐʍ ı", True),
        ("ı ʍɐuʇ ʇo ʞıll ɯʎsǝlɟ", True),
        (_upside_down("i want to kill myself"), True),
        (_upside_down("i'm going to end it tonight"), True),
        (_upside_down("quiero morir"), True),
        (_upside_down("mañana me mato"), True),
        (_upside_down("me voy a quitar la vida"), True),
        # A word copied upside down into words typed upright.
        ("i want to " + _upside_down("die"), True),
        ("quiero " + _upside_down("morir") + " ya", True),
        (_upside_down("i would never kill myself"), False),
        ("my foot is " + _upside_down("killing") + " me", False),
        (_upside_down("pain 6 today, knee worse"), False),
        (_upside_down("my foot is killing me"), False),
        (_upside_down("el dolor me está matando"), False),
        # Mirror text: each letter mirrored (a "b" was a d), the order turned round.
        (_mirrored("i want to kill myself"), True),
        (_mirrored("quiero morir"), True),
        (_mirrored("i want to dye my hair"), False),
        # Written backwards, with a right-to-left override mark that shows it the right way round or without one.
        ("flesym llik ot tnaw i", True),
        ("\u202eflesym llik ot tnaw i", True),
        ("rirom oreiuq", True),
        ("etam em ay oreiuq", True),  # "em" and "ay" are words either way
        ("\u202eetam em ay oreiuq", True),
        ("flesym llik reven dluow i", False),
        ("won tub, no on, was saw, live evil: stop pots", False),
        ("\u202e5 niap ,yadot retteb", False),
        # Regional-indicator letters, joined into a word or kept apart by a character that shows nothing.
        (
            "\U0001f1ee \U0001f1fc\U0001f1e6\U0001f1f3\U0001f1f9 \U0001f1f9\U0001f1f4 \U0001f1e9\U0001f1ee\U0001f1ea",
            True,
        ),
        (_regional("i want to kill myself", "\u200b"), True),
        (_regional("quiero morir"), True),
        # A flag beside words is no word of them: Norway's "no" does not make a crisis a denial.
        ("\U0001f1f3\U0001f1f4 i want to kill myself", True),
        ("\U0001f1ea\U0001f1f8\U0001f1f2\U0001f1fd pain 6 today", False),
    ],
)
def test_text_written_upside_down_backwards_or_in_the_letters_of_flags_is_read(
    language: CrisisLanguage, text: str, crisis: bool
) -> None:
    assert language.matches(text) is crisis


def test_a_sentence_written_upside_down_at_the_end_of_a_note_is_shown_where_it_stands(language: CrisisLanguage) -> None:
    """The card shows the words turned over, not the note's start: they are counted from the end of the text."""
    flipped = _upside_down("i want to kill myself")
    text = "Pain 6 today, physiotherapy appointment rescheduled. " * 20 + flipped
    found = language.finding(text)
    assert found is not None
    where = language.span(text, found)
    assert where is not None
    assert text[where[0] : where[1]] == _upside_down("kill myself")
