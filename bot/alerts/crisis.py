"""Crisis language: how patients write about suicide and self-harm, as patterns a clinic can read and edit.

The definitions live in ``prompts/crisis/<language>.yaml`` (only files directly in that folder; a
subfolder such as ``replies/`` is not read). Each file names word groups and writes patterns with
them; the syntax is explained at the top of ``prompts/crisis/en.yaml``. Every language's patterns
are checked against every message, because a patient may write in another language.

A message is a crisis when one ``crisis`` pattern matches it after the spans matched by the
``not_crisis`` patterns (explicit denials, figures of speech) have been blanked out, or when one
``crisis_before_exceptions`` pattern matches it before: words that show an exception does not apply
("her daughter here" makes "she wants to die" the patient's wish, not someone else's news).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache, cached_property, partial
from itertools import accumulate, pairwise, product
from pathlib import Path
from string import ascii_lowercase

import yaml

from bot.alerts.crisis_model import LearnedModel
from bot.care_team.text_limits import STRUCK
from bot.prompts import PROMPTS_DIR

log = logging.getLogger(__name__)

# Invisible characters would otherwise split a word and hide it ("sui\u200bcide"): every format character
# (Unicode's Cf: soft hyphen, zero-width space and joiners, direction marks, word joiner, byte order mark,
# tags, invisible operators) and the other characters Unicode says to ignore when they cannot be shown
# (variation selectors, fillers, the combining grapheme joiner). Written as ranges for a character class.
_INVISIBLE = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"  # format characters
    "\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\uffa0\ufe00-\ufe0f\U000e0100-\U000e01ef"
)
# Apostrophes are removed, not turned into spaces: patients type "dont" and "im" as often as "don't"
# and "I'm", so both must read the same. The acute accent and backtick are typed as apostrophes too.
_APOSTROPHES = "'\u2019\u2018\u201b\u02bc\u02bb\u00b4\u0060\u2032\uff07"
_DROPPED = re.compile(f"[{_INVISIBLE}{_APOSTROPHES}]+")
_WORD = re.compile(r"[^\W_]+")
# Words struck out between the marks the diary writes around them (text_limits.STRUCK), the marks included.
_STRUCK_WORDS = re.compile(f"{re.escape(STRUCK)}.+?{re.escape(STRUCK)}", re.DOTALL)
# Letters of other scripts drawn as Latin ones ("kill" with a Cyrillic i, U+0456, or a Greek kappa for
# the k), small capitals ("\u1d05\u026a\u1d07") and letters in boxes (U+1F173): NFKD leaves them as they
# are, so they would hide a word from every pattern. Read as the Latin letter they show, before case
# folding (an upper-case Cyrillic en shows an H, a lower-case one a small-capital h). Not the letters of
# flags: they pair into flags, Italy's would read "it".
_LOOKALIKE_PAIRS = (
    "аaвbеeёeіiїiкkмmнhоoпnрpсcтtуyхxьbѕsјjԁdԛqԝwһhӏlүy"  # Cyrillic, lower case
    "АAВBЕEЁEІIЇIКKМMНHОOРPСCТTУYХXЅSЈJҺHӀIЬb"  # Cyrillic, upper case
    "αaβbγyεeηnιiκkμuνvοoρpτtυuχxωw"  # Greek, lower case
    "ΑAΒBΕEΖZΗHΙIΚKΜMΝNΟOΡPΤTΥYΧX"  # Greek, upper case
    "ıiȷjɑaɡgɩiµu"  # Latin letters without their dot, or of other alphabets
    "օoսuոnհhցgզq"  # Armenian, lower case
)
_LOOKALIKE_BASE = frozenset(ord(char) for char in _LOOKALIKE_PAIRS[::2])
# The combining marks that NFKD splits off letters ("á" -> "a" + U+0301); removing them with one
# expression is many times faster than testing each character.
# Cyrillic's marks (U+0483-U+0489) are piled on letters by "zalgo" text apps too.
_COMBINING = re.compile("[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_LOOKALIKE_NAME = re.compile(
    r"(?:LATIN LETTER SMALL CAPITAL|(?:NEGATIVE )?(?:CIRCLED|SQUARED) LATIN CAPITAL LETTER|"
    r"PARENTHESIZED LATIN SMALL LETTER) ([A-Z])"
)
# Latin letters with a stroke, a hook or a bar ("kiłł", "møri", "ƙill", as "fancy text" apps write them): unlike an
# accent, NFKD does not take these off, so they are read as the letter they are drawn on.
_MARKED_LATIN_NAME = re.compile(r"LATIN (?:SMALL|CAPITAL) LETTER ([A-Z]) WITH .+")
# Where such letters and small capitals are: Latin-1 to IPA, phonetic extensions, Latin Extended Additional, -C, -D, -G
# (a small-caps app takes its s and f from Latin Extended-D), enclosed letters.
_LOOKALIKE_BLOCKS = (
    (0x00C0, 0x02AF),
    (0x1D00, 0x1DBF),
    (0x1E00, 0x1EFF),
    (0x2C60, 0x2C7F),
    (0xA720, 0xA7FF),
    (0x1DF00, 0x1DFFF),
    (0x249C, 0x24B5),
    (0x1F130, 0x1F189),
)


# Whole alphabets of "fancy text" apps and keyboards, a to z, drawn with letters of other scripts and signs: Greek
# and Cyrillic ones ("quiero" with a Greek upsilon, iota and sigma and a Cyrillic ie and ya), small capitals whose f
# is a Cyrillic ghe with a stroke (U+0493), currency signs. Each of their letters not read as a Latin one already is
# read as the letter it stands for in its alphabet, and so is its other case; a letter read already keeps its reading.
# Not the alphabets of scripts patients write in (Thai, kana, Hangul). A turned letter one of them has (U+028D for m)
# is read as the letter it is turned from in text written upside down (_FLIPPED), which is read so before this table.
_FANCY_ALPHABETS = (
    "αв¢∂єƒgнιנкℓмησρqяѕтυνωχуz",
    "αႦƈԃҽϝɠԋιʝƙʅɱɳσρϙɾʂƚυʋɯxყȥ",
    "ąცƈɖɛʄɠɧıʝƙƖɱŋơ℘զཞʂɬųvῳҳყʑ",
    "ǟɮƈɖɛʄɢɦɨʝӄʟʍռօքզʀֆȶʊʋաӼʏʐ",
    "ΛBCDΣFGΉIJKLMПӨPQЯƧƬЦVЩXYZ",
    "₳฿₵ĐɆ₣₲ⱧłJ₭Ⱡ₥₦Ø₱QⱤ₴₮ɄV₩ӾɎⱫ",
    "ΔβĆĐ€₣ǤĦƗĴҜŁMŇØƤQŘŞŦỮVŴЖ¥Ž",
    "ᴀʙᴄᴅᴇғɢʜɪᴊᴋʟᴍɴᴏᴘǫʀsᴛᴜᴠᴡxʏᴢ",
    "ÄBÇÐÈFGHÌJKLMñÖþQR§†ÚVW×¥Z",  # not its sharp s and pound sign: German words and prices
    "ᏗᏰፈᎴᏋᎦᎶᏂᎥᏠᏦᏝᎷᏁᎧᎮᎤᏒᏕᏖᏬᏉᏇጀᎩፚ",
    "ᗩᗷᑕᗪEᖴGᕼIᒍKᒪᗰᑎOᑭᑫᖇᔕTᑌᐯᗯ᙭Yᘔ",
    "ꍏꌃꏳꀷꏂꎇꁅꀍꀤ꒻ꀘ꒒ꎭꈤꂦᖘꆰꋪꌚ꓄ꀎ꒦ꅐꉧꌩꁴ",
)


def _lookalikes() -> dict[int, str]:
    table = {ord(pair[0]): pair[1] for pair in zip(_LOOKALIKE_PAIRS[::2], _LOOKALIKE_PAIRS[1::2], strict=True)}
    for first, last in _LOOKALIKE_BLOCKS:
        for code in range(first, last + 1):
            char = chr(code)
            name = unicodedata.name(char, "")
            named = _LOOKALIKE_NAME.fullmatch(name)
            if named is None and unicodedata.normalize("NFKD", char) == char:  # an accent is taken off as it was
                named = _MARKED_LATIN_NAME.fullmatch(name)
            if named is not None:
                table[code] = named.group(1).lower()
    fancy = [
        (char, letter) for alphabet in _FANCY_ALPHABETS for char, letter in zip(alphabet, ascii_lowercase, strict=True)
    ]
    cased = [(other, letter) for char, letter in fancy for other in (char.lower(), char.upper())]
    for char, letter in fancy + cased:
        if len(char) == 1 and ord(char) not in table and not _shows_latin(char):
            table[ord(char)] = letter
    return table


def _alphabet_readings() -> list[tuple[re.Pattern[str], re.Pattern[str], dict[int, str]]]:
    """For each fancy alphabet with letters read as another letter elsewhere (its "ł" is an i, its "ƚ" a t): where
    they are, where its other letters are, and the table that reads them as its own."""
    readings = []
    for alphabet in _FANCY_ALPHABETS:
        pairs = [(char, letter) for char, letter in zip(alphabet, ascii_lowercase, strict=True) if not char.isascii()]
        own = {char: letter for char, letter in pairs if _fold(char) != letter}
        others = "".join(sorted({char for char, letter in pairs if char not in own}))
        if own and others:
            table = {ord(char): letter for char, letter in own.items()}
            readings.append((re.compile(f"[{''.join(own)}]"), re.compile(f"[{re.escape(others)}]"), table))
    return readings


def _shows_latin(char: str) -> bool:
    """Whether NFKD reads `char` as a Latin letter or digit (a script l, U+2113) or a look-alike one, or it is one."""
    shown = _COMBINING.sub("", unicodedata.normalize("NFKD", char))
    return char.isascii() or (len(shown) == 1 and (shown.isascii() or ord(shown) in _LOOKALIKE_BASE))


# Text written upside down by a "flip text" app ("die" as U+01DD U+0131 p): each letter turned over, and most apps
# turn the order round too. Its letters are read as the letters they were turned from (a "u" was an n, a "p" a d), in
# a reading of its own, taken only where a letter only such text has shows (_FLIP_SIGN): the turned letters Unicode
# names, the apps' alphabets (small, capital, digits) and the marks turned with them.
_TURNED_NAME = re.compile(
    r"(?:LATIN (?:SMALL|CAPITAL) LETTER|LATIN LETTER SMALL CAPITAL|TURNED(?: SANS-SERIF)? (?:CAPITAL|SMALL)) "
    r"(?:TURNED )?([A-Z])"
)
_FLIP_ALPHABETS = ("ɐqɔpǝɟƃɥᴉɾʞlɯuodbɹsʇnʌʍxʎz", "∀ꓭƆꓷƎℲ⅁HIſꓘ˥WNOԀΌᴚS⊥∩ΛMX⅄Z", "ɐqɔpǝɟᵷɥıɾʞןɯuodbɹsʇnʌʍxʎz")


def _flipped() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x0250, 0x2150):
        name = unicodedata.name(chr(code), "")
        named = _TURNED_NAME.fullmatch(name) if "TURNED" in name else None
        if named is not None:
            table[code] = named.group(1).lower()
    for alphabet in _FLIP_ALPHABETS:
        table.update((ord(char), letter) for char, letter in zip(alphabet, ascii_lowercase, strict=True))
    table.update((ord(char), digit) for char, digit in zip("0ƖᄅƐㄣϛ9ㄥ86", "0123456789", strict=True))
    table.update((ord(char), mark) for char, mark in zip("¿¡˙',", "?!.,'", strict=True))
    return table


_FLIPPED = _flipped()
# Text a "mirror text" app writes: each letter mirrored ("ɘ", "ɒ", "ƨ", "ɿ"; a "b" was a d), the order turned round.
_MIRROR_ALPHABET = "ɒdɔbɘʇϱʜiįʞlmnoqpɿƨƚυvwxγz"
_MIRRORED = {ord(char): letter for char, letter in zip(_MIRROR_ALPHABET, ascii_lowercase, strict=True)}
_MIRROR_SIGN = re.compile("[ɒɘϱʜɿƨƚ]")
_FLIP_SIGN = re.compile(
    "[{}]".format("".join(chr(code) for code in _FLIPPED if not chr(code).isascii() and chr(code) not in "ıן¿¡"))
)
_FLIPPED_WORD = re.compile(rf"[^\W\d_]*{_FLIP_SIGN.pattern}[^\s]*")
# Regional-indicator letters (U+1F1E6 to U+1F1FF, "\U0001f1ee \U0001f1fc\U0001f1e6\U0001f1f3\U0001f1f9"): two of them
# show a flag, so they are read as letters only in a reading of their own, where the text as written (a flag beside
# words, Norway's "no" before them) heard nothing.
_REGIONAL = re.compile("[\U0001f1e6-\U0001f1ff]")
_REGIONAL_LETTERS = str.maketrans({chr(0x1F1E6 + n): letter for n, letter in enumerate(ascii_lowercase)})
# A right-to-left override shows the letters after it in turned order: "\u202eeid ot tnaw i" shows "i want to die".
_OVERRIDE = "\u202e"
_BACKWARDS = 2  # words known only read backwards: at least so many, and three times those known only as written


# A few emoji typed in place of a crisis word ("i want to \U0001f480", "gonna \U0001faa2 tonight", "\U0001f52a my
# wrists") are read as that word, each a word of its own: the patterns then hear them as they hear the word.
_EMOJI_WORDS = {
    "\U0001f480": "die",  # skull
    "\u2620": "die",  # skull and crossbones
    "\u26b0": "dead",  # coffin
    "\U0001faa6": "dead",  # headstone
    "\U0001f52b": "shoot",  # pistol
    "\u270c": "peace",  # victory hand, the sign-off "peace out": "\u270c\ufe0f cruel world"
    "\U0001f52a": "cut",  # kitchen knife
    "\U0001faa2": "rope",  # knot
    "\U0001f48a": "pills",  # pill
    "\U0001fa78": "blood",  # drop of blood: "\U0001f52a\U0001fa78 again on my arm"
    # A drink beside the pills says what they are taken with: "\U0001f48a\U0001f48a + \U0001f943 tonight"
    "\U0001f943": "alcohol",  # tumbler glass
    "\U0001f377": "alcohol",  # wine glass
    "\U0001f37e": "alcohol",  # bottle with popping cork
}
_LOOKALIKE = _lookalikes() | {ord(emoji): f" {word} " for emoji, word in _EMOJI_WORDS.items()}
_OWN_LETTERS = 2  # other letters of a fancy alphabet a message must show to have its ambiguous ones read as its own
# Runs of one letter ("diiiie", "killl", "pastillas") are read as one letter, in messages and patterns alike.
# Only a to z: after normalise() the letters of English and Spanish are plain ASCII ("ñ" is "n").
_REPEATED_LETTER = re.compile(r"([a-z])\1+")
# A blanked-out (not_crisis) word keeps its length, so word positions found before blanking stay valid.
_BLANKED_LETTER = re.compile(r"\S")
# The screening sections read what staff ask a patient and the patient's answer (bot/care_team/screening.py): questions
# whose worrying answer is a yes ("Are you having any thoughts of ending your life?") or a no ("Are you safe
# tonight?"), questions that are screening ones only after one or beside words of suicide ("Do you have a plan?"), and
# nudges ("Are you there?"); then the kinds of answer: yes, a yes in words ("I have thought about it"), no, a denial
# beyond doubt ("never"), neither ("I don't know"), not safe in words, safe.
SCREENING_SECTIONS = (
    "screening_yes_worries",
    "screening_no_worries",
    "screening_follow_on",
    "screening_topic",
    "screening_nudges",
    "screening_yes",
    "screening_tells",
    "screening_no",
    "screening_denies",
    "screening_unclear",
    "screening_not_safe",
    "screening_safe",
)
# Which answers worry, by what the question asked (Asked.kind). Asked both ("Are you safe tonight? Any thoughts of
# harming yourself?"), a bare "no" or "yes" may be the worrying one, but a denial beyond doubt ("no, never") answers
# the thoughts.
_WORRYING = {
    "yes": ("screening_yes", "screening_tells", "screening_unclear"),
    "no": ("screening_no", "screening_denies", "screening_unclear", "screening_not_safe"),
    "both": ("screening_yes", "screening_tells", "screening_no", "screening_unclear", "screening_not_safe"),
}
# The answers that say in words what they answer: read also where a "no" may be another question's answer (a note).
_EXPLICIT = ("screening_tells", "screening_not_safe")
_REASSURING = {
    "yes": ("screening_no", "screening_denies", "screening_safe"),
    "no": ("screening_yes", "screening_safe"),
    "both": ("screening_denies", "screening_safe"),
}
_QUESTIONS = ("screening_yes_worries", "screening_no_worries", "screening_follow_on", "screening_nudges")
_SECTIONS = ("words", "crisis", "crisis_before_exceptions", "not_crisis", "follow_up", *SCREENING_SECTIONS)
_MAX_GAP = 8


# Plain ASCII text, the usual case, is read with two translation tables, which is faster and the same: the
# ASCII characters of _DROPPED are removed, and every other ASCII character that is not a letter or a digit
# separates words (for ASCII, `[^\W_]` is exactly the letters and digits).
_ASCII_DROPPED = str.maketrans("", "", "".join(c for c in _APOSTROPHES if c.isascii()))  # no invisible one is
_ASCII_SEPARATORS = str.maketrans({chr(code): " " for code in range(128) if not chr(code).isalnum()})


def _fold(text: str) -> str:
    """`text` (without dropped characters) in lower case, its look-alike letters read as Latin ones, without accents
    or other marks. The marks go before the case is folded: one piled on letters by "zalgo" apps (U+0345) folds to a
    Greek iota. The case is folded again after NFKD: a fancy font's capitals (U+1D400) have no lower case of their
    own, only the letters they stand for."""
    folded = _COMBINING.sub("", text.translate(_LOOKALIKE)).casefold()
    if folded.isascii():
        return folded
    # A look-alike may stand behind a compatibility form: a "tiny text" app's superscript i (U+1DA6) is a small capital.
    return _COMBINING.sub("", unicodedata.normalize("NFKD", folded).translate(_LOOKALIKE)).casefold()


_ALPHABET_READINGS = _alphabet_readings()


def _in_own_alphabet(text: str) -> str:
    """`text` with the letters of a fancy alphabet that are read as another letter elsewhere read as its own, where it
    shows _OWN_LETTERS other letters of that alphabet ("ł" is an i beside "₩₳₦₮", an l in "Małgorzata"). As long as
    `text`, its words where they were: read first, so that an exception reads it too ("dye my hair", not "halr")."""
    if text.isascii():
        return text
    for ambiguous, others, table in _ALPHABET_READINGS:
        if ambiguous.search(text) and len(set(others.findall(text))) >= _OWN_LETTERS:
            text = text.translate(table)
    return text


def normalise(text: str) -> str:
    """Case-folded words separated by single spaces: no accents, invisible characters, apostrophes or punctuation."""
    # For ASCII, lower() is casefold().
    plain = text.translate(_ASCII_DROPPED).lower() if text.isascii() else _fold(_DROPPED.sub("", text))
    if plain.isascii():
        return " ".join(plain.translate(_ASCII_SEPARATORS).split())
    return " ".join(_WORD.findall(plain))


_ASCII_WORD = re.compile("[A-Za-z0-9](?:[{}]*[A-Za-z0-9])*".format("".join(c for c in _APOSTROPHES if c.isascii())))


def word_spans(text: str) -> list[tuple[int, int]]:
    """Where each word that normalise() reads begins and ends in `text`: a character is dropped (an apostrophe,
    an invisible one: it neither ends a word nor starts one), a mark on the letter before, part of a word or a
    separator, as normalise() reads it."""
    if text.isascii():  # the usual case, at a regular expression's speed: apostrophes join, as they are dropped
        return [found.span() for found in _ASCII_WORD.finditer(text)]
    spans: list[tuple[int, int]] = []
    start: int | None = None
    end = 0
    for index, char in enumerate(text):
        if _DROPPED.fullmatch(char):
            continue
        if char in _EMOJI_WORDS:  # a word of its own, however close the letters around it
            if start is not None:
                spans.append((start, end))
                start = None
            spans.append((index, index + 1))
            continue
        plain = char.lower() if char.isascii() else _fold(char)
        if not plain:  # a combining mark: part of the letter before it
            if start is not None:
                end = index + 1
        elif _WORD.search(plain):
            if start is None:
                start = index
            end = index + 1
        elif start is not None:
            spans.append((start, end))
            start = None
    if start is not None:
        spans.append((start, end))
    return spans


# A run of non-spaces holding two letters or digits or more ("self-harm", "don't", "k1ll"; not "I", "—" or the "d" of
# "d o n e"), from where a space or the text begins.
_WORDED_RUN = re.compile(r"(?<!\S)\S*?[^\W_]\S*?[^\W_]\S*")


def word_runs(text: str) -> list[tuple[int, int]]:
    """Where the runs of non-spaces of `text` that hold two letters or digits or more begin and end. Each is a word
    or more as normalise() reads it, and at most two make one word of the second reading ("ki ll"; letters spelt out
    one by one are not counted): twice as many runs as words hold at least those words, however `text` is read."""
    return [found.span() for found in _WORDED_RUN.finditer(text)]


# The second reading. Letters typed as a digit, a sign or a capital I inside a word ("k1ll", "mys3lf", "d!e",
# "$uicide", "kiII"), and words spelt out a letter at a time ("k.i.l.l", "d i e", "m-o-r-i-r"). Each is read
# as the word it stands for, in a copy of the text as long as the text, so that a finding still points at
# the words as written. Only tried when the text as written matches nothing: it can add a crisis, never
# hide one.
_TYPED_AS = re.compile(r"[A-Za-z][0-9!|@$+]|[0-9!|@$+][A-Za-z]|[a-z]I")
_SPELT_OUT = re.compile(r"(?<!\S)[^\W\d_](?: [^\W\d_]){2,}(?!\S)")
_LEET_RUN = re.compile(  # tried only where a run of these characters begins, so a long text is scanned once
    r"(?<![A-Za-z0-9!|@$+])[A-Za-z0-9!|@$+]*(?:[A-Za-z][0-9!|@$+]|[0-9!|@$+][A-Za-z]|[a-z]I)[A-Za-z0-9!|@$+]*"
)
# A capital I after a small letter is an l in disguise: "kiII", "wiII", "aII" (in most typefaces I and l
# look alike).
_CAPITAL_I_FOR_L = re.compile(r"(?<=[a-z])I+")
# A number with its unit or its ordinal's ending ("4am", "10mg", "2x", "3rd", "1h"): letters after a number that are
# neither ("0ff", "0n", "7o", "1t", "3nd") are a word typed with digits. Not "s", "l", "m" or "f": "1s", "3l", "1m"
# and "1f" are "is", "el", "im" and "if" as often as seconds, litres, metres or degrees.
_NUMBER_WITH_UNIT = re.compile(
    r"[0-9]+(?:x|h|hr|hrs|min|mins|d|wk|wks|mo|y|yr|yrs|g|kg|mg|mcg|ug|ml|lb|lbs|oz|iu|u|k|km|cm|mm|am|pm|c|"
    r"bpm|mmol)?|[0-9]*(?:1st|2nd|3rd|[04-9]th|1[0-9]th)",
    re.IGNORECASE,
)
_LEET = str.maketrans("013457!|@$+", "oieastilast")
# A "$", "@" or "+" (a t) begins a word or ends one too ("$uicide", "thi$", "vid@", "cu+", "m@$"); after a digit and
# before none it is a price or an address.
_LEET_SIGN_INSIDE = re.compile(r"(?<=[A-Za-z0-9])[!|]|[@$+](?=[A-Za-z0-9@$+])|(?<=[A-Za-z@$+])[@$+]")
# A 1 or an @ alone is "I" or "a" in a message that types other letters as digits or signs ("1 w1sh 1 was d3ad", "voy
# @ tom@rlas"); in any other it is a number or "at" ("took 1 at 8am").
_LONE_ONE = re.compile(r"(?<!\S)[1@](?!\S)")
_LONE = str.maketrans("1@", "ia")
_SPACE_LETTERS = 3  # "d i e": three letters or more spelt out; "a b" is too often a list
# A "no" that answers a question, alone before its punctuation at the start of a sentence ("¿Estás bien? No,
# quiero morir"): normalise() drops the comma, and in Spanish, whose verbs need no pronoun, the words would
# then read as the denial "no quiero morir". In the second reading such a "no" denies nothing after it: no
# exception may begin with it, and no crisis pattern may use it. It still answers what was asked before it
# ("Any thoughts of self harm? No."), so an exception may end with it.
_ANSWERED_NO = re.compile(
    r"(?:^|[.!?¿¡…:;\n])[\s\"“«(¿¡]*((?:(?:ya )?no|nope|nah|nop)(?:[\s,.!]+no)*)\s*(?=[^\w\s'’])", re.IGNORECASE
)


# Where a sentence or a clause ends. A pattern's opening '!' ("!{denied} want to be killed") looks back only
# within the clause its match begins in: "Not really. Wanna get hit by a bus" and "Pues no, quiero que me
# maten" answer a question and then wish; the "not" and the "no" belong to the answer.
_CLAUSE_BREAK = re.compile("[.,;:?!¿¡…\n\u2013\u2014]")


def clause_starts(text: str) -> list[int]:
    """The numbers of the words of `text` (as normalise() reads them) that begin a sentence or a clause, in
    order, 0 first. Just [0] when the pieces do not add up to the whole: one clause, as if unpunctuated."""
    starts, count = [0], 0
    for piece in _CLAUSE_BREAK.split(text):
        if count > starts[-1]:
            starts.append(count)
        count += len(normalise(piece).split())
    return starts if count == len(normalise(text).split()) else [0]


# What ends a question or a label ("Self harm: no", "thoughts of ending your life? A: no"), for a pattern's ':'.
# A "?" or ":" that ends a question or a label; not the ":" of a face ("so suicidal :( no sleep").
_ASKED = re.compile(r"[?\uff1f]|[:\uff1a](?![-']?[()/\\|\[\]])")


def asked_ends(text: str) -> frozenset[int]:
    """The numbers of the words of `text` (as normalise() reads them) that a "?" or ":" follows. None when the
    pieces do not add up to the whole: a ':' then finds no question, and the pattern does not match."""
    ends, count = set(), 0
    pieces = _ASKED.split(text)
    for piece in pieces[:-1]:
        count += len(normalise(piece).split())
        if count:
            ends.add(count - 1)
    count += len(normalise(pieces[-1]).split())
    return frozenset(ends) if count == len(normalise(text).split()) else frozenset()


def _as_letters(found: re.Match[str]) -> str:
    run = found.group()
    if _NUMBER_WITH_UNIT.fullmatch(run):
        return run  # "4am", "10mg", "2nd": a number, not a word
    run = _CAPITAL_I_FOR_L.sub(lambda capitals: "l" * len(capitals.group()), run)
    # A sign stands for a letter only inside a word (a "!" at its end is punctuation); "11" is "ll".
    run = _LEET_SIGN_INSIDE.sub(lambda sign: sign.group().translate(_LEET), run)
    return re.sub("[0-9]+", lambda digits: digits.group().replace("11", "ll").translate(_LEET), run)


def answering_noes(text: str, read_as: str | None = None) -> frozenset[int]:
    """The numbers of the words (as normalise() reads them) that are a "no" answering a question in `text`: of
    `text`'s words, or of those of `read_as`, its second reading (as long as `text`)."""
    answers = [found.span(1) for found in _ANSWERED_NO.finditer(text)]
    if not answers:
        return frozenset()
    return frozenset(
        n
        for n, (start, _) in enumerate(word_spans(text if read_as is None else read_as))
        if any(first <= start < last for first, last in answers)
    )


def second_reading(
    text: str, split: Callable[[str, str], bool] | None = None, known: Callable[[str], bool] | None = None
) -> str:
    """`text` with letters typed as digits or signs read as letters, words spelt out a letter at a time joined,
    two words joined where `split` says a space split one word ("ki ll myself"): what stood between them becomes
    invisible characters. Where `known` says which words the patterns look for, a vowel hidden behind a star is
    read as the one that makes such a word ("m*rirme", "k*ll"), and a word of one letter just before a word spelt
    out is left out of it ("voy a m a t a r"). As long as `text`. A text with other letters than ASCII ones is read
    as the ASCII letters they show, without its invisible characters and marks, so a digit beside an accented or a
    look-alike letter is read too ("dañ0", "к1ll", "k1\u200bll")."""
    if text.isascii():
        return _second_reading(text, split, known)
    typed, where = _typed_letters(text)
    read = _second_reading(typed, split, known)
    chars = list(text)
    for was, now, at in zip(typed, read, where, strict=True):
        if now != was:
            chars[at] = now
    return "".join(chars)


def _typed_letters(text: str) -> tuple[str, list[int]]:
    """`text` without its invisible characters and marks, each letter that shows one ASCII letter or digit as that
    letter (in its case: "kiII" is read by its capitals), and where in `text` each of its characters stands."""
    typed: list[str] = []
    where: list[int] = []
    for at, char in enumerate(text):
        if not char.isascii():
            if _DROPPED.fullmatch(char):
                continue
            shown = _COMBINING.sub("", unicodedata.normalize("NFKD", char.translate(_LOOKALIKE)))
            if not shown:
                continue  # a mark on the letter before
            char = shown if len(shown) == 1 and shown.isascii() else char
        typed.append(char)
        where.append(at)
    return "".join(typed), where


def _typed_as_shown(text: str) -> str:
    """`text` with its letters as the ASCII ones they show, without invisible characters and marks, quickly: to find
    letters typed as digits or signs beside them (not as long as `text`)."""
    if text.isascii():
        return text
    return _COMBINING.sub("", unicodedata.normalize("NFKD", _DROPPED.sub("", text).translate(_LOOKALIKE)))


def _second_reading(text: str, split: Callable[[str, str], bool] | None, known: Callable[[str], bool] | None) -> str:
    read = _LEET_RUN.sub(_as_letters, text)
    text = read if read == text else _LONE_ONE.sub(lambda lone: lone.group().translate(_LONE), read)
    if known is not None and "*" in text:
        text = _HIDDEN_VOWEL_WORD.sub(lambda word: _unhide_vowels(word.group(), known), text)
    if _SPELT_OUT.search(normalise(text)):
        text = _join_spelt_out(text, known)
    if split is not None:
        text = _join_split_words(text, split)
    return text


# A word with a letter or two hidden behind stars, as patients mask a word they fear to write ("m*rir", "s**cide").
# Most hide a vowel; each star is tried as each vowel, a few hundred words at most.
_HIDDEN_VOWEL_WORD = re.compile(r"(?<![\w*])[^\W\d_]+(?:\*{1,2}[^\W\d_]+)+(?![\w*])")
_HIDDEN_VOWELS = "aeiou"
_MAX_HIDDEN = 3  # stars in one word
# Stars hide a swear far more often than a crisis word: "sh*t myself" is not "shot myself", "h*ll" not "hall".
_MASKED_SWEARS = frozenset(
    (  # noqa: SIM905 - words are read more easily as words than as a list of strings
        "shit fuck fucking fucked damn hell crap piss pissed bitch arse ass bloody cunt twat wank bollocks bugger sod "
        "mierda puta puto joder cono carajo pendejo pendeja boludo boluda pinche verga chingar chingada cabron cabrona "
        "hostia gilipollas"
    ).split()
)


def _unhide_vowels(word: str, known: Callable[[str], bool]) -> str:
    """`word` with each star read as the vowel that makes a word the patterns look for; as it was if none does, or
    if a vowel makes a swear of it. A vowel beside the same letter is not tried: it would read as no letter at all
    ("d*e" is not "dee", read "de")."""
    stars = word.count("*")
    if stars > _MAX_HIDDEN:
        return word
    pieces = word.split("*")
    found = None
    for vowels in product(_HIDDEN_VOWELS, repeat=stars):
        candidate = "".join(piece + vowel for piece, vowel in zip(pieces, (*vowels, ""), strict=True))
        read = normalise(candidate)
        if read in _MASKED_SWEARS:
            return word
        doubled = any(
            vowel in (before[-1:], after[:1]) for before, vowel, after in zip(pieces, vowels, pieces[1:], strict=False)
        )
        if found is None and not doubled and _squeeze(read) not in _COMMON and known(read):
            found = candidate
    return word if found is None else found


_MAX_SPLIT = 3  # what may stand inside a word split in two: " ", "-", " - "


def _join_split_words(text: str, split: Callable[[str, str], bool]) -> str:
    spans = word_spans(text)
    read = [normalise(text[start:end]) for start, end in spans]
    chars = list(text)
    for index in range(len(spans) - 1):
        end, start = spans[index][1], spans[index + 1][0]
        if start - end <= _MAX_SPLIT and "\n" not in text[end:start] and split(read[index], read[index + 1]):
            chars[end:start] = "\u200b" * (start - end)
    return "".join(chars)


# Words of one letter, in English and Spanish: "voy a m a t a r" spells "matar" after the word "a".
_ONE_LETTER_WORDS = frozenset("aeiouy")
# Letters that are words, in English, Spanish or a text message ("k" for ok, "c u", "n" for and, "r u ok"): one
# left alone by a space is a word, not a piece of the word beside it.
_LETTER_WORDS = _ONE_LETTER_WORDS | frozenset("kcnrbx")


def _join_spelt_out(text: str, known: Callable[[str], bool] | None = None) -> str:
    spans = word_spans(text)
    read = [normalise(text[start:end]) for start, end in spans]
    letters = [len(word) == 1 and word.isalpha() for word in read]
    chars = list(text)
    run_start = 0
    for index in range(len(spans) + 1):
        if index < len(spans) and letters[index]:
            continue
        if (
            known is not None
            and index - run_start > _SPACE_LETTERS
            and read[run_start] in _ONE_LETTER_WORDS
            and not known(_squeeze("".join(read[run_start:index])))
            and known(_squeeze("".join(read[run_start + 1 : index])))
        ):
            run_start += 1  # the word before the spelling ("a", "y", "i"), not its first letter
        if index - run_start >= _SPACE_LETTERS:
            gaps = [
                (end, start)
                for (_, end), (start, _) in zip(spans[run_start : index - 1], spans[run_start + 1 : index], strict=True)
            ]
            # What stands between most letters joins them; anything else ("d i e  n o w", "k.i.l.l m.e")
            # is where one word ends and the next begins.
            joiner = Counter(text[end:start] for end, start in gaps).most_common(1)[0][0]
            for end, start in gaps:
                if text[end:start] == joiner:
                    chars[end:start] = "\u200b" * (start - end)
        run_start = index + 1
    return "".join(chars)


def _squeeze(normalised: str) -> str:
    return _REPEATED_LETTER.sub(r"\1", normalised)


_RUN_TOGETHER = 8  # letters: a word this long may be words typed without their spaces ("iamsuicidal")
_LONGEST_WORD = 20  # letters of one word in such a run
# Short words that, with _COMMON's, make a pattern's word two ("iam", "wakeup", "imgoing"); a piece of two letters
# beside them is most often a piece of a longer word ("wi sh").
_SHORT_WORDS = frozenset(["am", "im", "up", "go", "he", "we", "us", "if", "te", "le", "ya", "mas"])
_ENDING = 4  # letters after a pattern's stem in a word of such a run
_HELD_APART = 6  # letters of words read apart that a match holds: "suicidal", "hang myself"; not "gun", "i sh"
_LONGEST_RUN = 80  # letters of such a run: a longer one is no sentence typed without spaces
_LONG_NOTE = 100  # words: a note this long is read without its fillers only around where they were (_read_twice)


# Words that hedge or stress what is said around them and say nothing of their own: "i literally just want to die",
# "took like 20 percocet", "me quiero morir o sea ya". The patterns leave room for such words only where they were
# written with a gap, so a message that matched nothing as written is read once more without them (a pattern that
# spells one, "just want to sleep and not wake up", has matched the message as written). A filler is left out only
# where leaving it out cannot change what is said; where the same word carries meaning it stays: "feel like dying",
# "would like to", "not just the pain", "que tipo de pastillas", "me da igual", "como" that is "how" or "I eat".
def _word_set(words: str) -> frozenset[str]:
    """Words written plainly, read squeezed as messages are ("literally" is read "literaly")."""
    return frozenset(_squeeze(word) for word in words.split())


_FILLERS = _word_set(
    "um umm uh erm er hmm uhm ehm literally honestly basically actually seriously totally really kinda sorta pues re"
)
_FILLER_PAIRS = frozenset({("prety", "much"), ("o", "sea"), ("en", "plan")})
_MANNER = _word_set("literally honestly seriously totally really")
_OBJECTS = _word_set("me it this that him her them you us")
# Words that give the word after them a meaning of its own.
_NEGATING = _word_set("not dont didnt doesnt isnt wasnt arent werent wont wouldnt cant never no nunca ni tampoco")
_BEFORE_TYPE = _word_set(  # "what kind of pills", "this sort of pain": a kind, not a hedge
    "what which this that these those the a an any some every no same all other another my your his her"
)
_BEFORE_LIKE = _word_set(  # "feel like dying", "would like to", "looks like rain", "don't like it"
    "feel felt feeling feels would id wd look looks looked looking sound sounds seem seems seemed something nothing "
    "anything more just dont didnt doesnt not"
)
_BEFORE_YOU_KNOW = _word_set(  # "do you know", "if you know", "let you know", "what i mean", "i see what i mean"
    "do did does dont didnt doesnt if let will would to cant could should may might must need want wanna nobody "
    "everyone what that thats know see understand get"
)
_BEFORE_TRUTH = _word_set(  # "decir la verdad", "es la verdad", "busco la verdad"
    "decir digo dice dije dicen es era sea saber se sabe sabes toda con contar cuento busco buscar de sin que en "
    "por a su mi tu"
)
_BEFORE_TIPO = _word_set("un el ese este aquel que de del mi su algun ningun otro cualquier buen mal")  # "un tipo"
_BEFORE_GOOD_SAME = _word_set(  # "no es bueno", "me da igual", "sigue igual": a word of its own
    "es era sea seria sera muy lo da daba dara por sigue sigo todo mas tan algo nada estoy esta estaba"
)
# After a hedge: someone speaking ("you know i...", "este me quiero..."), a verb it softens ("like want to").
_SPEAKING = _word_set("i im ive id ill me my its yo ya quiero tengo voy pienso estoy creo")
_HEDGED_EN = _word_set(
    "i im ive id ill want wanna gonna going just really so literally totally honestly seriously actually basically "
    "ready about all half every"
)
_NUMBER_WORDS = _word_set(  # "took like 20", "like a whole bottle"
    "one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty sixty seventy "
    "eighty ninety hundred dozen couple few whole bunch handful box bottle pack"
)
_ROUGHLY = _word_set(  # "como 30 pastillas", "tipo todas las pastillas": about so many
    "un una unas unos dos tres cuatro cinco seis siete ocho nueve diez once doce quince veinte treinta cuarenta "
    "cincuenta cien ciento mil medio media la todas todos"
)

# A message without one of these (squeezed) is read without fillers at no cost: most have none.
_MAY_FILL = re.compile(
    r"(?<!\S)(?:{}|just|like|kind of|sort of|you know|i mean|la verdad|como|tipo|este|bueno|igual|{})(?!\S)".format(
        "|".join(sorted(_FILLERS)), "|".join(" ".join(pair) for pair in sorted(_FILLER_PAIRS))
    )
)


def _filler_length(words: list[str], n: int) -> int:
    """How many words from the n-th of `words` (normalised and squeezed) make a filler that may be left out there:
    0 when none does."""
    word = words[n]
    before = words[n - 1] if n else ""
    after = words[n + 1] if n + 1 < len(words) else ""
    if (word, after) in _FILLER_PAIRS:
        return 2
    if word == "just":  # "not just the pain" is more than the pain
        return 0 if before in _NEGATING else 1
    if word in _FILLERS:  # "take me (um) seriously", "took it literally": how it was done
        done_to = next((w for w in reversed(words[:n]) if w not in _FILLERS), "")
        return 0 if word in _MANNER and done_to in _OBJECTS else 1
    if word in ("kind", "sort") and after == "of" and before not in _BEFORE_TYPE:
        return 2
    # What the word says depends on the next word that is no filler: "took like um 20".
    following = (words[k] for k in range(n + 1, len(words)) if words[k] not in _FILLERS)
    after, later = next(following, ""), next(following, "")
    if word == "like":  # "took like 20", "like a whole bottle", "like i want to die", "i like want to die"
        if before in ("not", "never"):  # "i'm not like suicidal"; not "it's not like i...", which says more
            return 0 if after in _SPEAKING or not after else 1
        number = after[:1].isdigit() or after in _NUMBER_WORDS or (after == "a" and later in _NUMBER_WORDS)
        return 1 if before not in _BEFORE_LIKE and (number or after in _HEDGED_EN) else 0
    if (word, after) in (("you", "know"), ("i", "mean")):  # "you know i ...", "... you know"; not "i mean (um) it"
        hedging = later in _SPEAKING or (not later and word == "you")  # "..., the rain i mean" says what was meant
        return 2 if hedging and before not in _BEFORE_YOU_KNOW else 0
    if word == "la" and after == "verdad" and before not in _BEFORE_TRUTH:
        return 2
    if word == "como":  # "como 30 pastillas"; not "como morir" (how), "como pan" (I eat), "tan ... como"
        return 1 if after[:1].isdigit() or after in _ROUGHLY else 0
    if word == "tipo":  # "tipo 20 pastillas", "tipo me quiero morir"; not "un tipo", "que tipo de"
        hedging = after[:1].isdigit() or after in _ROUGHLY or after in _SPEAKING
        return 1 if hedging and before not in _BEFORE_TIPO else 0
    if word in ("este", "bueno", "igual"):  # "este me quiero...", "bueno ya me tome"; not "este dolor", "me da igual"
        return 1 if after in _SPEAKING and before not in _BEFORE_GOOD_SAME else 0
    return 0


class CrisisLanguageError(ValueError):
    """A crisis language file that cannot be used; the message names the file and the pattern."""


# -- the pattern language: parsed into a small tree, then written out as one regular expression


@dataclass(frozen=True)
class _Words:
    words: tuple[str, ...]  # one or more normalised words in a row
    prefix: bool  # the last word may go on ("suicid*" is suicide, suicidal, suicidarme)


@dataclass(frozen=True)
class _Choice:
    branches: tuple[_Sequence, ...]

    # A word group is one _Choice shared by every pattern that names it: each of these is worked out
    # once, not at every use (that took half of the time the patterns take to load).
    @cached_property
    def regex(self) -> str:
        return "(?:" + "|".join(_regex(branch) for branch in self.branches) + ")"

    @cached_property
    def required(self) -> tuple[frozenset[str], ...]:
        union = _union(min(_required(branch), key=_rarity_cost, default=None) for branch in self.branches)
        return () if union is None else (union,)

    @cached_property
    def starts(self) -> _Keys:
        return _union(_starts(branch) for branch in self.branches)

    @cached_property
    def longest(self) -> int:
        return max(_longest(branch) for branch in self.branches)

    @cached_property
    def reach(self) -> int:
        return max(_reach(branch) for branch in self.branches)


@dataclass(frozen=True)
class _Item:
    node: _Words | _Choice
    optional: bool = False


@dataclass(frozen=True)
class _Gap:
    most: int  # up to this many words of any kind


@dataclass(frozen=True)
class _NotFollowedBy:
    node: _Words | _Choice


@dataclass(frozen=True)
class _FollowedBy:
    node: _Words | _Choice  # looked for just after the words before it, and not part of the match


@dataclass(frozen=True)
class _NotPrecededBy:
    node: _Words | _Choice  # plain words only: each of its readings is looked for just before


@dataclass(frozen=True)
class _End:
    pass


@dataclass(frozen=True)
class _Start:
    pass


@dataclass(frozen=True)
class _Asked:
    """The words before it end a question or a label: a "?" or ":" follows them in the message as written."""


_Element = _Item | _Gap | _NotFollowedBy | _FollowedBy | _NotPrecededBy | _End | _Start | _Asked
_START = r"(?<![\s\S])"  # '^' written out


@dataclass(frozen=True)
class _Sequence:
    elements: tuple[_Element, ...]


_TOKEN = re.compile(r"\s*(?:\{\s*([^{}\s]*)\s*\}|(~\d*)|([()|?!$^:&])|([^\s(){}|?!$^~:&]+))")


class _Parser:
    """Recursive descent over one pattern string; groups are expanded as they are met."""

    def __init__(self, text: str, groups: _Groups) -> None:
        self.text = text
        self.groups = groups
        self.tokens: list[tuple[str, str]] = []
        position, end = 0, len(text.rstrip())
        while position < end:
            found = _TOKEN.match(text, position)
            if found is None or found.end() == position:  # pragma: no cover - the token pattern matches any non-space
                raise self.error(f"cannot read {text[position:]!r}")
            name, gap, symbol, word = found.groups()
            if name is not None:
                self.tokens.append(("group", name))
            elif gap is not None:
                self.tokens.append(("gap", gap))
            elif symbol is not None:
                self.tokens.append((symbol, symbol))
            else:
                self.tokens.append(("word", word))
            position = found.end()
        self.position = 0

    @staticmethod
    def error(problem: str) -> CrisisLanguageError:
        return CrisisLanguageError(problem)

    def peek(self) -> str | None:
        return self.tokens[self.position][0] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def parse(self) -> _Sequence:
        if not self.tokens:
            raise self.error("the pattern is empty")
        choice = self.choice()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.tokens[self.position][1]!r} (a ')' without its '('?)")
        if len(choice.branches) == 1:
            return choice.branches[0]
        return _Sequence((_Item(choice),))

    def choice(self) -> _Choice:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.take()
            branches.append(self.sequence())
        return _Choice(tuple(branches))

    def sequence(self) -> _Sequence:
        elements: list[_Element] = []
        while self.peek() not in (None, "|", ")"):
            kind, value = self.take()
            if kind == "gap":
                most = int(value[1:]) if len(value) > 1 else 3
                if not 1 <= most <= _MAX_GAP:
                    raise self.error(f"a gap skips 1 to {_MAX_GAP} words, not {most} ({value!r})")
                elements.append(_Gap(most))
            elif kind == "$":
                elements.append(_End())
            elif kind == "^":
                if elements:
                    raise self.error("'^' (the start of the message) must come first")
                elements.append(_Start())
            elif kind == "!":
                if self.peek() not in ("word", "group", "("):
                    raise self.error("'!' must be followed by a word, a {group} or a (choice)")
                node = self.atom(*self.take())
                if _asks(node):
                    raise self.error("':' cannot be inside a '!'")
                # Before any word, "!{denied} want to be killed": the words that follow must not come just after
                # x, which keeps "I don't want to be killed" ordinary while "want to be killed" alerts.
                elements.append(_NotFollowedBy(node) if elements else _NotPrecededBy(node))
            elif kind == "&":
                if not elements or self.peek() not in ("word", "group", "("):
                    raise self.error("'&' must follow words and come before a word, a {group} or a (choice)")
                node = self.atom(*self.take())
                if _asks(node):
                    raise self.error("':' cannot be inside a '&'")
                elements.append(_FollowedBy(node))
            elif kind == ":":
                elements.append(_Asked())
            elif kind == "?":
                raise self.error("'?' must follow a word, a {group} or a (choice)")
            else:
                node = self.atom(kind, value)
                optional = self.peek() == "?"
                if optional:
                    self.take()
                elements.append(_Item(node, optional))
        if not elements:
            raise self.error("an empty choice: '()', '(|...)' or '...|)'")
        return _Sequence(tuple(elements))

    def atom(self, kind: str, value: str) -> _Words | _Choice:
        if kind == "word":
            return self.word(value)
        if kind == "group":
            return self.groups.resolve(value)
        if kind == "(":
            choice = self.choice()
            if self.peek() != ")":
                raise self.error("a '(' without its ')'")
            self.take()
            return choice
        raise self.error(f"unexpected {value!r}")

    def word(self, raw: str) -> _Words:
        prefix = raw.endswith("*")
        stem = raw[:-1] if prefix else raw
        if "*" in stem:
            raise self.error(f"'*' may only end a word ({raw!r})")
        words = _pattern_words(stem)
        if not words:
            raise self.error(f"{raw!r} has no letters or digits")
        return _Words(words, prefix)


def _asks(node: _Words | _Choice | _Sequence) -> bool:
    """Whether a ':' stands somewhere in `node`."""
    if isinstance(node, _Words):
        return False
    if isinstance(node, _Choice):
        return any(_asks(branch) for branch in node.branches)
    return any(
        isinstance(element, _Asked) or (isinstance(element, _Item) and _asks(element.node)) for element in node.elements
    )


@cache
def _pattern_words(stem: str) -> tuple[str, ...]:
    # The same few thousand words recur across the patterns; normalising each once halves the parse.
    return tuple(_squeeze(normalise(stem)).split())


class _Groups:
    """A file's word groups, each parsed once, with a check for groups that name themselves."""

    def __init__(self, definitions: Mapping[str, list[str]]) -> None:
        self.definitions = definitions
        self.parsed: dict[str, _Choice] = {}
        self.resolving: list[str] = []

    def resolve(self, name: str) -> _Choice:
        if name in self.parsed:
            return self.parsed[name]
        if name not in self.definitions:
            known = ", ".join(sorted(self.definitions)) or "none"
            raise CrisisLanguageError(f"no word group named {{{name}}} (the file's groups: {known})")
        if not self.definitions[name]:
            raise CrisisLanguageError(f"the word group {{{name}}} is empty")
        if name in self.resolving:
            raise CrisisLanguageError(f"the word group {{{name}}} uses itself: {' -> '.join([*self.resolving, name])}")
        self.resolving.append(name)
        try:
            branches: list[_Sequence] = []
            for alternative in self.definitions[name]:
                try:
                    branches.append(_Parser(alternative, self).parse())
                except CrisisLanguageError as error:
                    if str(error).startswith("in word group"):
                        raise
                    raise CrisisLanguageError(f"in word group {{{name}}}, {alternative!r}: {error}") from None
        finally:
            self.resolving.pop()
        self.parsed[name] = _Choice(tuple(branches))
        return self.parsed[name]


# -- writing the tree out as a regular expression over normalised, squeezed text (words and single spaces)


def _regex(node: _Words | _Choice | _Sequence) -> str:
    if isinstance(node, _Words):
        text = " ".join(map(re.escape, node.words))
        return text + r"\w*" if node.prefix else text
    if isinstance(node, _Choice):
        return node.regex
    return _sequence_regex(node)


_MAX_PRECEDING = 400  # readings of a leading '!x'; each is one look behind, tried only where a match would start


def _readings(node: _Words | _Choice | _Sequence) -> set[str]:
    """Every text a leading '!x' can stand for: words, {groups} and (choices) without gaps, '*' or '$'."""
    if isinstance(node, _Words):
        if node.prefix:
            raise CrisisLanguageError("a leading '!' takes whole words, not 'word*'")
        return {" ".join(node.words)}
    if isinstance(node, _Choice):
        return {text for branch in node.branches for text in _readings(branch)}
    texts = {""}
    for element in node.elements:
        if not isinstance(element, _Item):
            raise CrisisLanguageError("a leading '!' takes words only, without '~', '!' or '$'")
        options = _readings(element.node) | ({""} if element.optional else set())
        texts = {" ".join(part for part in (text, option) if part) for text in texts for option in options}
        if len(texts) > _MAX_PRECEDING:
            raise CrisisLanguageError(f"a leading '!' stands for more than {_MAX_PRECEDING} texts")
    return texts


def _preceding(element: _NotPrecededBy) -> set[str]:
    readings = _readings(element.node)
    if "" in readings:
        raise CrisisLanguageError("a leading '!' whose words may all be missing would refuse every match")
    return readings


def _ends_message(node: _Words | _Choice) -> bool:
    return isinstance(node, _Choice) and any(branch.elements == (_End(),) for branch in node.branches)


def _sequence_regex(sequence: _Sequence) -> str:
    """Words are joined by one space. Optional items and gaps carry their own space, placed before them
    once a required item has been written and after them before that, so nothing leaves two spaces or none."""
    parts: list[str] = []
    started = False
    for element in sequence.elements:
        if isinstance(element, _Start):
            parts.append(_START)  # nothing before: a match is tried where a word starts, anywhere
        elif isinstance(element, _NotPrecededBy):
            # Inside a choice ("(!your patient|he) wants to die"). Where a match starts the text before it is
            # a space or nothing: each reading is looked for as whole words just before that space.
            parts.extend(rf"(?<!(?<!\S){re.escape(text)} )" for text in sorted(_preceding(element)))
        elif isinstance(element, _NotFollowedBy | _FollowedBy | _End | _Asked):
            if not started:
                what = {_Asked: "':'", _FollowedBy: "'&'"}.get(type(element), "'!' and '$'")
                raise CrisisLanguageError(f"{what} must come after a required word")
            if isinstance(element, _Asked):
                # Where the words before it end; the match is kept only if a "?" or ":" follows them there
                # (_Message.unasked): the normalised words no longer hold the punctuation.
                parts.append("()")
            elif isinstance(element, _End):
                parts.append(r"(?!\s*\S)")
            elif isinstance(element, _FollowedBy):
                parts.append(r"(?!\S)(?= " + _regex(element.node) + r"(?!\S))")
            else:
                parts.append(r"(?!\S)(?! " + _regex(element.node) + r"(?!\S))")
        elif isinstance(element, _Gap):
            parts.append((r"(?: \S+)" if started else r"(?:\S+ )") + f"{{0,{element.most}}}")
        elif _ends_message(element.node):
            # "(like this|anymore|$)": the words, or nothing more in the message.
            if not started or element.optional:
                raise CrisisLanguageError("'$' in a choice must come after a required word, in a required choice")
            assert isinstance(element.node, _Choice)
            words = [branch for branch in element.node.branches if branch.elements != (_End(),)]
            inner = "|".join(_regex(branch) for branch in words)
            parts.append(f"(?: (?:{inner})|(?!\\s*\\S))" if words else r"(?!\s*\S)")
        elif element.optional:
            inner = _regex(element.node)
            parts.append(f"(?: {inner})?" if started else f"(?:{inner} )?")
        else:
            parts.append((" " if started else "") + _regex(element.node))
            started = True
    if not started:
        raise CrisisLanguageError("every part is optional, so the pattern would match anything")
    return "".join(parts)


# -- two cheap tests before any regular expression runs, so most patterns skip most of a message:
# the words a pattern cannot match without ("needs"), and the words it can begin with ("starts").
# A word ending in "*" stands for a prefix ("suicid*").

_Keys = frozenset[str] | None  # None: no such set (the pattern is tried at every word)

# Words so frequent in ordinary messages that they say little about whether a pattern can match.
_COMMON = frozenset(
    [
        "a",
        "al",
        "an",
        "and",
        "as",
        "at",
        "be",
        "but",
        "by",
        "de",
        "del",
        "do",
        "el",
        "en",
        "es",
        "for",
        "from",
        "have",
        "i",
        "in",
        "is",
        "it",
        "la",
        "las",
        "lo",
        "los",
        "me",
        "mi",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "para",
        "pero",
        "por",
        "que",
        "se",
        "so",
        "su",
        "that",
        "the",
        "this",
        "to",
        "un",
        "una",
        "was",
        "with",
        "y",
        "ya",
        "yo",
    ]
)


def _word_keys(node: _Words, first: bool) -> frozenset[str]:
    if first:
        prefix = node.prefix and len(node.words) == 1
        return frozenset({node.words[0] + "*" if prefix else node.words[0]})
    whole = node.words[:-1] if node.prefix else node.words
    best = max(whole, key=len, default=None)
    if best is not None and (not node.prefix or len(best) >= len(node.words[-1])):
        return frozenset({best})
    return frozenset({node.words[-1] + "*"})


def _rarity_cost(words: frozenset[str]) -> int:
    # Fewer, longer and less common words are rarer in ordinary text.
    return sum(20 if w in _COMMON else max(1, 7 - len(w)) for w in words)


def _required(node: _Words | _Choice | _Sequence) -> list[frozenset[str]]:
    """Sets of words of which a match must contain at least one, one set per required part."""
    if isinstance(node, _Words):
        return [_word_keys(node, first=False)]
    if isinstance(node, _Choice):
        return list(node.required)
    return [
        needs
        for element in node.elements
        if isinstance(element, _Item) and not element.optional
        for needs in _required(element.node)
    ]


def _starts(node: _Words | _Choice | _Sequence) -> _Keys:
    if isinstance(node, _Words):
        return _word_keys(node, first=True)
    if isinstance(node, _Choice):
        return node.starts
    starts: set[str] = set()
    for element in node.elements:
        if isinstance(element, _Gap):
            return None  # any word may come first
        if isinstance(element, _Item):
            first = _starts(element.node)
            if first is None:
                return None
            starts |= first
            if not element.optional:
                return frozenset(starts)
    return None


def _longest(node: _Words | _Choice | _Sequence) -> int:
    """The most words a match can span."""
    if isinstance(node, _Words):
        return len(node.words)
    if isinstance(node, _Choice):
        return node.longest
    return sum(
        _longest(element.node) if isinstance(element, _Item) else element.most if isinstance(element, _Gap) else 0
        for element in node.elements
    )


def _reach(node: _Words | _Choice | _Sequence) -> int:
    """The most words a match can span together with the words its '!' and '&' look at before and after it."""
    if isinstance(node, _Words):
        return len(node.words)
    if isinstance(node, _Choice):
        return node.reach
    words = 0
    for element in node.elements:
        if isinstance(element, _Item | _NotFollowedBy | _FollowedBy | _NotPrecededBy):
            words += _reach(element.node)
        elif isinstance(element, _Gap):
            words += element.most
    return words


def _union(sets: Iterable[_Keys]) -> _Keys:
    union: set[str] = set()
    for words in sets:
        if words is None:
            return None
        union |= words
    return frozenset(union)


@dataclass(frozen=True)
class Pattern:
    source: str  # the file, e.g. "prompts/crisis/en.yaml"
    section: str  # "crisis", "crisis_before_exceptions" or "not_crisis"
    name: str  # the heading it is written under
    text: str  # as the clinic wrote it
    expression: str  # the regular expression it is written as, to be tried where a word starts
    needs: tuple[frozenset[str], ...]  # a match contains a word of each set; the first set is the rarest
    starts: _Keys  # a match begins with one of these words
    longest: int  # and spans at most this many words
    # The words of an opening '!' ("!{denied} want to be killed"), found where they end just before a match;
    # the match stands unless they are in its clause (_Message.denied). Their longest reading's length.
    before_expression: str | None = None
    before_length: int = 0
    # The most words a match and the words its '!' and '&' look at span: what a text cut short must keep (worked out
    # for the follow_up and not_crisis sections, whose reach is asked for; 0 in the others).
    reach: int = 0

    def __str__(self) -> str:
        return f"{self.source}: {self.section}.{self.name}: {self.text}"

    # Compiled when a message first holds the pattern's rare words: compiling all of them took two of the
    # three seconds a start takes, and most are never needed by a process. The expressions are written
    # from parsed patterns (_compile), so a clinic's mistake is still found when the files are loaded.
    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.expression)

    @cached_property
    def asks(self) -> bool:
        """Whether it has a ':': each ':' is an empty group of its expression, where the words before it end."""
        return self.regex.groups > 0

    @cached_property
    def before(self) -> re.Pattern[str] | None:
        return None if self.before_expression is None else re.compile(self.before_expression)

    def possible(self, present: frozenset[str]) -> bool:
        return all(not words.isdisjoint(present) for words in self.needs)


@dataclass(frozen=True)
class Finding:
    """Which crisis pattern matched which words of the normalised message: for staff, tests and tuning."""

    pattern: Pattern
    words: str
    first_word: int = 0  # the number of the first matched word among the message's words
    word_count: int = 1
    read_as: str | None = None  # the second reading it was found in (second_reading): as long as the text
    mirrored: bool = False  # read_as is the text turned round (written backwards or upside down): its last letter first


@dataclass(frozen=True)
class Asked:
    """What a staff member's words to a patient ask: a safety-screening question whose worrying answer is a yes ("Are
    you having any thoughts of ending your life?", "Do you have a plan?"), a no ("Are you safe tonight?"), or both (two
    asked at once); where in the words the screening questions stand (None: they cannot be lined up); and whether they
    ask something else besides ("Did you take your pills?"; not a nudge such as "Are you there?")."""

    yes_worries: bool
    no_worries: bool
    span: tuple[int, int] | None = None
    others: bool = False

    @property
    def screening(self) -> bool:
        return self.yes_worries or self.no_worries

    @property
    def kind(self) -> str:
        """Which answer worries: "yes", "no" or "both"."""
        return "both" if self.yes_worries and self.no_worries else "yes" if self.yes_worries else "no"


# Where a staff member's sentence ends: a line break, "!", "?" (not inside a link's address, "page?id=3"), or a "."
# that is not part of "..." (a pause: "thoughts of... ending your life?") nor inside a number or an address.
_SENTENCE_END = re.compile(r"\n|!+|[?\uff1f]+(?![^\W_])|(?<!\.)\.(?![.\w])")
# A sentence that asks: a "?" (not inside a link's address) or Spanish's opening "¿".
_ASKING = re.compile(r"[?\uff1f](?![^\W_])|¿")


def _sentences(text: str) -> list[tuple[int, int]]:
    """Where the sentences of `text` stand (start, end), each with the mark that ends it."""
    spans, start = [], 0
    for end in _SENTENCE_END.finditer(text):
        if text[start : end.end()].strip():
            spans.append((start, end.end()))
        start = end.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def _compile(source: str, section: str, name: str, text: str, groups: _Groups) -> Pattern:
    try:
        tree = _Parser(text, groups).parse()
        before, length, body = None, 0, tree
        if tree.elements and isinstance(tree.elements[0], _NotPrecededBy):
            # Checked apart, not as a look behind, because only the words of the match's own clause count.
            readings = sorted(_preceding(tree.elements[0]), key=len, reverse=True)
            before = r"(?<!\S)(?:" + "|".join(map(re.escape, readings)) + r") \Z"
            length = len(readings[0])
            body = _Sequence(tree.elements[1:])
        regex = r"(?<!\S)" + _sequence_regex(body) + r"(?!\S)"
        if regex.count(_START) > (1 if regex.startswith(r"(?<!\S)" + _START) else 0):
            # In a choice or a word group after other words, it could never match.
            raise CrisisLanguageError("'^' (the start of the message) must begin the pattern")
    except CrisisLanguageError as error:
        raise CrisisLanguageError(f"{source}: {section}.{name}: pattern {text!r}: {error}") from None
    starts = _starts(tree)
    # The first set is the one looked for near each start; a set of start words is no help there.
    needs = tuple(
        sorted(
            set(_required(tree)),
            key=lambda words: (starts is not None and words <= starts, _rarity_cost(words), sorted(words)),
        )
    )
    # Only a follow-up's reach, and an exception's that may blank its words, are asked for (follow_up_reach).
    reach = _reach(tree) if section in ("follow_up", "not_crisis") else 0
    return Pattern(source, section, name, text, regex, needs, starts, _longest(tree), before, length, reach)


def _strings(source: str, where: str, value: object) -> list[str]:
    values = value if isinstance(value, list) else [value]
    for entry in values:
        if not isinstance(entry, str) or not entry.strip():
            raise CrisisLanguageError(f"{source}: {where}: expected a text or a list of texts, got {entry!r}")
    return [str(entry) for entry in values]


def _patterns_of(source: str, definition: object) -> list[Pattern]:
    if not isinstance(definition, Mapping):
        raise CrisisLanguageError(f"{source}: expected the sections {', '.join(_SECTIONS)}, got {definition!r}")
    unknown = sorted(set(map(str, definition)) - set(_SECTIONS))
    if unknown:
        raise CrisisLanguageError(f"{source}: unknown section {unknown[0]!r} (the sections are {', '.join(_SECTIONS)})")
    sections: dict[str, dict[str, list[str]]] = {}
    for section in _SECTIONS:
        entries = definition.get(section) or {}
        if not isinstance(entries, Mapping):
            raise CrisisLanguageError(f"{source}: {section}: expected named entries (name: pattern or list)")
        sections[section] = {str(name): _strings(source, f"{section}.{name}", value) for name, value in entries.items()}
    groups = _Groups(sections["words"])
    for name in sections["words"]:
        try:
            # Written out after a word, as a pattern would use it: an unused broken group is still an
            # error, found now and named, rather than when a pattern first uses it.
            _sequence_regex(_Sequence((_Item(_Words(("x",), prefix=False)), _Item(groups.resolve(name)))))
        except CrisisLanguageError as error:
            raise CrisisLanguageError(f"{source}: words.{name}: {error}") from None
    return [
        _compile(source, section, name, text, groups)
        for section in ("not_crisis", "crisis_before_exceptions", "crisis", "follow_up", *SCREENING_SECTIONS)
        for name, texts in sections[section].items()
        for text in texts
    ]


# How a reading of a message is searched: its words, the text they were read from, the numbers of the words that are
# a "no" answering a question, and where a match may be new (_Message.matches), if only there.
_Find = Callable[[str, str, frozenset[int], "Sequence[int] | None", "Sequence[tuple[int, int]]"], "Finding | None"]


class _Message:
    """A normalised message, indexed: for each pattern word it contains, the numbers of its occurrences."""

    def __init__(
        self,
        words: str,
        remembered: dict[str, tuple[str, tuple[str, ...]]],
        read: Callable[[str], tuple[str, tuple[str, ...]]],
        text: str,
        answering: frozenset[int] = frozenset(),
    ) -> None:
        """`words` normalised but not yet squeezed: each word is squeezed on its own, once (`read` and
        `remembered` give a word's squeezed form and pattern keys), which is the same as squeezing them all.
        `text` is what `words` were read from, for where its clauses begin; `answering`, the numbers of the
        words that are a "no" answering a question (answering_noes): no match may begin with one."""
        self.text = text
        self.answering = answering
        self._clauses: list[int] | None = None
        self._asked: frozenset[int] | None = None
        tokens = words.split(" ")
        try:
            known = [remembered[token] for token in tokens]  # usually every word has been read before
        except KeyError:
            known = [remembered.get(token) or read(token) for token in tokens]
        self.tokens: list[str] = [squeezed for squeezed, _ in known]
        self.keys = [keys for _, keys in known]
        self.at: dict[str, list[int]] = {}
        at = self.at
        for n, (_, keys) in enumerate(known):
            for key in keys:
                if key in at:
                    at[key].append(n)
                else:
                    at[key] = [n]
        self.words = " ".join(self.tokens)
        self.present = frozenset(self.at)
        self._ends: list[int] | None = None

    def beside(self, near: Sequence[int]) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        """The pattern keys of the words on either side of each place of `near` (none at the start or the end)."""
        keys = self.keys
        return [(keys[place - 1] if place else (), keys[place] if place < len(keys) else ()) for place in near]

    def offset(self, n: int) -> int:
        """Where the n-th word starts."""
        if self._ends is None:
            self._ends = list(accumulate(map(len, self.tokens)))
        return self._ends[n] - len(self.tokens[n]) + n

    def denied(self, pattern: Pattern, start: int) -> bool:
        """Whether the words of the pattern's opening '!' stand just before `start`, in the same clause."""
        before = pattern.before
        if before is None:
            return False
        text = self.words
        found = before.search(text, max(0, start - pattern.before_length - 1), start)
        if found is None:
            return False
        if self._clauses is None:
            self._clauses = clause_starts(self.text)
        clause = self._clauses[bisect_right(self._clauses, text.count(" ", 0, start)) - 1]
        begins = self.offset(clause) if clause < len(self.tokens) else len(text)
        # A shorter reading may still lie inside the clause ("I do. Not want..." is denied by "not").
        return found.start() >= begins or before.search(text, begins, start) is not None

    def unasked(self, pattern: Pattern, match: re.Match[str]) -> bool:
        """Whether a ':' of the pattern stands where no "?" or ":" follows the words before it in the message."""
        if not pattern.asks:
            return False
        if self._asked is None:
            self._asked = asked_ends(self.text)
        words = self.words
        return any(
            match.start(group) >= 0 and words.count(" ", 0, match.start(group)) not in self._asked
            for group in range(1, pattern.regex.groups + 1)
        )

    def refused(self, pattern: Pattern, match: re.Match[str]) -> bool:
        """Whether a match may not stand: it is denied, it begins with a "no" answering a question, or a ':' of the
        pattern finds no question or label."""
        start = match.start()
        if self.answering and self.words.count(" ", 0, start) in self.answering:
            return True
        return self.denied(pattern, start) or self.unasked(pattern, match)

    def _starts_near(self, pattern: Pattern, near: Sequence[int]) -> dict[str, list[int]]:
        """The numbers of the pattern's start words from which a match may hold a place of `near`, by word."""
        assert pattern.starts is not None
        return {
            word: self._near(self.at[word], near, pattern.longest, after=0) for word in pattern.starts & self.present
        }

    @staticmethod
    def _near(positions: list[int], near: Sequence[int], before: int, after: int | None = None) -> list[int]:
        """The `positions` (in order) at most `before` words before a place of `near`, or `after` words after it
        (as many as before, if not given)."""
        after = before if after is None else after
        parts = [
            positions[bisect_left(positions, place - before) : bisect_right(positions, place + after)] for place in near
        ]
        return parts[0] if len(parts) == 1 else sorted({n for part in parts for n in part})

    def _match_unrefused(self, pattern: Pattern, text: str, position: int) -> re.Match[str] | None:
        match = pattern.regex.match(text, position)
        return None if match is None or self.refused(pattern, match) else match

    def _search(self, pattern: Pattern) -> Iterator[re.Match[str]]:
        """Every match of a pattern tried at every word, as finditer, but a refused match does not hide one
        that begins inside it."""
        if pattern.before is None and not self.answering and not pattern.asks:
            yield from pattern.regex.finditer(self.words)
            return
        position = 0
        while (match := pattern.regex.search(self.words, position)) is not None:
            if self.refused(pattern, match):
                position = match.start() + 1
            else:
                yield match
                position = match.end()

    def matches(self, pattern: Pattern, first: bool = False, near: Sequence[int] | None = None) -> list[re.Match[str]]:
        """Where `pattern` matches (only the first place found, if `first`). With `near` (in order), only where a
        match may hold one of these places (a number of words before it, from its first word to just after its
        last): where a message read without its fillers differs from it as written, the only places a match may be
        new."""
        present = self.present
        for words in pattern.needs:
            if words.isdisjoint(present):
                return []
        if pattern.starts is None:
            return list(self._search(pattern))
        at, text, offset = self.at, self.words, self.offset
        match_at: Callable[[str, int], re.Match[str] | None] = pattern.regex.match
        if pattern.before is not None or self.answering or pattern.asks:
            match_at = partial(self._match_unrefused, pattern)
        found: list[re.Match[str]] = []
        if not pattern.needs:
            positions_of = at if near is None else self._starts_near(pattern, near)
            for start in pattern.starts & present:
                for n in positions_of[start]:
                    match = match_at(text, offset(n))
                    if match is not None:
                        found.append(match)
                        if first:
                            return found
            return found
        # A match starting at word n holds a word of its rarest required set within its span, so only the
        # start words at most `longest` - 1 words before one of those are tried (in the order of a plain scan).
        rare = pattern.needs[0] & present
        rarest = at[next(iter(rare))] if len(rare) == 1 else sorted([n for word in rare for n in at[word]])
        longest = pattern.longest
        if near is not None:  # and that word at most `longest` words from a place of `near`
            rarest = self._near(rarest, near, longest)
            if not rarest:
                return found
        for start in pattern.starts & present:
            positions = at[start]
            if len(positions) <= len(rarest):
                for n in positions:
                    after = bisect_left(rarest, n)
                    if after == len(rarest) or rarest[after] - n >= longest:
                        continue
                    match = match_at(text, offset(n))
                    if match is not None:
                        found.append(match)
                        if first:
                            return found
            else:
                done = 0  # positions before this one have been tried
                for last in rarest:
                    begin = bisect_left(positions, last - longest + 1, done)
                    done = bisect_right(positions, last, begin)
                    for n in positions[begin:done]:
                        match = match_at(text, offset(n))
                        if match is not None:
                            found.append(match)
                            if first:
                                return found
        return found

    def blank(self, spans: Iterable[tuple[int, int]]) -> None:
        """Blank out these spans letter for letter: their words can no longer match, positions stay."""
        text = list(self.words)
        for start, end in spans:
            text[start:end] = _BLANKED_LETTER.sub("_", self.words[start:end])
        self.words = "".join(text)


@cache
def _spelt(expression: str) -> frozenset[str]:
    """The words a pattern's expression spells (a stem by its letters: "suicid" for `suicid*`), and a few letters of
    its syntax, which no word is."""
    return frozenset(re.findall("[a-z0-9]+", expression))


class _PatternIndex:
    """Patterns filed under the words of their rarest required set (by `_rarity_cost`): a message visits
    only the patterns it holds one of those words for (in an ordinary message, a small part of them), in
    their order. Which set a pattern is filed under changes no decision: `matches` checks every set."""

    def __init__(self, patterns: list[Pattern]) -> None:
        self.patterns = patterns
        self.always: list[int] = []  # patterns without a required word
        self.by_word: dict[str, list[int]] = {}
        for number, pattern in enumerate(patterns):
            if not pattern.needs:
                self.always.append(number)
                continue
            for word in min(pattern.needs, key=_rarity_cost):
                self.by_word.setdefault(word, []).append(number)
        self.words = frozenset(self.by_word)

    @cached_property
    def by_any_word(self) -> dict[str, list[int]]:
        """The patterns by every word they spell (_spelt)."""
        found: dict[str, list[int]] = {}
        for number, pattern in enumerate(self.patterns):
            for word in _spelt(pattern.expression):
                found.setdefault(word, []).append(number)
        return found

    def spelling(self, pairs: Iterable[tuple[tuple[str, ...], tuple[str, ...]]]) -> list[Pattern]:
        """The patterns that spell a word of both sets of keys of one of `pairs` (pattern keys: "suicid*" for a
        stem; an empty set, the start or the end of the message, is spelt by every pattern), or a word of either
        that is not a common word, or no word at all."""
        numbers = set(self.always)
        for first, second in pairs:
            if not first or not second:
                numbers.update(self._spelling(first or second))
            else:
                numbers.update(self._spelling(first) & self._spelling(second))
                numbers.update(self._spelling(tuple(key for key in first + second if key not in _COMMON)))
        patterns = self.patterns
        return [patterns[number] for number in sorted(numbers)]

    def _spelling(self, keys: tuple[str, ...]) -> set[int]:
        by_any_word = self.by_any_word
        return {number for key in keys for number in by_any_word.get(key.removesuffix("*"), ())}

    def candidates(self, present: frozenset[str]) -> list[Pattern]:
        numbers = set(self.always)
        by_word = self.by_word
        for word in present & self.words:
            numbers.update(by_word[word])
        patterns = self.patterns
        return [patterns[number] for number in sorted(numbers)]


_MAX_REMEMBERED_WORDS = 50_000

# A hurried thumb swaps two letters ("msyelf", "lief", "suicdie") or drops one from a long word ("mysef",
# "morime"). A word of no pattern that is such a slip of one of these words is read as the word. Only these
# few, and never into a word that is a word already ("edad" is not "dead", "atarme" is not "matarme").
_SLIPPED_WORDS = (  # noqa: SIM905 - a list of words reads best as words
    "myself kill killing life alive live living dead die suicide suicidal overdose overdosing pills tablets "
    "morir morirme matar matarme suicidarme suicidio vivir muerta muerto muerte pastillas"
).split()
_NOT_SLIPS = frozenset(
    "edad ide plis atar atarme mata muere muero muera vir lied tables matare iving kilig".split()  # noqa: SIM905
)
# Slips too short to find by rule ("end my lfe", "i wish i was ded"), and the way texts write a day ("2nite").
_MORE_SLIPS = {"lfe": "life", "ded": "dead"} | dict.fromkeys(["2nite", "2night", "2nyt", "tonite"], "tonight")
_MORE_SLIPS |= dict.fromkeys(["2moro", "2morrow", "2mrw", "2moz", "tmrw", "tmrow", "tmoro", "tmr"], "tomorrow")
# A short word's last letter typed as it sounds: "if i was gon", "me voi a matar", "soi una carga".
_MORE_SLIPS |= {"gon": "gone", "voi": "voy", "soi": "soy", "estoi": "estoy"}
# A word written as it sounds, in Spanish: "b" for "v", the "h" left out ("cortar las benas", "me voy a aorcar").
_MORE_SLIPS |= {"benas": "venas", "aorcar": "ahorcar", "aorcarme": "ahorcarme", "aorcarse": "ahorcarse"}


_DROPPED_G = 6  # letters of a word in "-ing" read without its "g": "cutin" is "cuting"; "sin" is no "sing"


# Words of their own that a word before them would join into a crisis word's stem: the Portuguese "cidade" (city)
# after "sua" or "sui" begins like "suicide" ("suacid*" is how some spell it).
_NOT_JOINED = frozenset(["cidade", "cidades"])


def _refuse_texted_words(patterns: Sequence[Pattern]) -> None:
    """A pattern that needs a word messages are read as another ("tonite" is "tonight") is refused: a slip that is a
    pattern word is read as itself, so every other pattern's "tonight" would stop hearing "end it tonite"."""
    for pattern in patterns:
        words = {w for needed in (*pattern.needs, pattern.starts or ()) for w in needed}
        for slip, word in _MORE_SLIPS.items():
            if _squeeze(slip) in words:
                raise CrisisLanguageError(
                    f"{pattern.source}: {pattern.section}.{pattern.name}: pattern {pattern.text!r}: '{slip}' is read "
                    f"as '{word}' in every message; write '{word}'"
                )


def _slips(keys: frozenset[str]) -> dict[str, str]:
    """Each slip of a _SLIPPED_WORDS word that is not a pattern word, a common word or a word of its own."""
    found: dict[str, set[str]] = {}
    for word in map(_squeeze, _SLIPPED_WORDS):
        swapped = {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}
        dropped = {word[:i] + word[i + 1 :] for i in range(len(word))} if len(word) >= 6 else set()
        for slip in map(_squeeze, swapped | dropped):
            if len(slip) >= 4 and slip != word and slip not in keys and slip not in _COMMON | _NOT_SLIPS:
                found.setdefault(slip, set()).add(word)
    slips = {slip: words.pop() for slip, words in found.items() if len(words) == 1}  # a slip of two words is neither
    # Read squeezed, as messages and patterns are: "2morrow" is looked up as "2morow", and read as "tomorow".
    more = {_squeeze(slip): _squeeze(word) for slip, word in _MORE_SLIPS.items()}
    # A last "g" dropped, as speech is written: "cuttin myself again", "been burnin myself".
    dropped_g = {key[:-1]: key for key in keys if key.endswith("ing") and len(key) >= _DROPPED_G}
    slips |= {slip: word for slip, word in dropped_g.items() if slip not in keys and slip not in _COMMON | _NOT_SLIPS}
    return slips | {slip: word for slip, word in more.items() if slip not in keys}


def learned_beside(directory: Path) -> LearnedModel | None:
    """The learned second opinion kept with the patterns in `directory` (crisis_model.py), if there is one."""
    try:
        model = LearnedModel.beside(directory)
    except ValueError as error:
        raise CrisisLanguageError(str(error)) from None
    if model is None:
        log.info("crisis language: the patterns alone (no learned model in %s)", directory)
        return None
    changed = model.changed_since(sorted(directory.glob("*.yaml")))
    if changed:
        # Still asked: it was right about the messages it read. But a pattern's exception it never learned from
        # is not blanked the way it read it, so the clinic should know.
        log.warning(
            "crisis language: the learned model was trained before %s changed; train it again "
            "(python -m bot.alerts.crisis_model)",
            ", ".join(changed),
        )
    return model


# What a finding of the learned model names as its pattern: it matches no words of its own, so a card shows the
# message from its start.
LEARNED = Pattern(
    source="prompts/crisis/learned.json",
    section="learned",
    name="model",
    text="(the learned model, where no pattern matched)",
    expression=r"(?!)",
    needs=(),
    starts=None,
    longest=0,
)


class CrisisLanguage:
    """Decides whether a patient's text speaks of suicide or self-harm. Read once; `matches` is cheap."""

    def __init__(self, patterns: Iterable[Pattern], learned: LearnedModel | None = None) -> None:
        self.patterns = patterns = list(patterns)  # every section's, in the order read (kept as compiled)
        self.learned = learned  # asked about a message no crisis pattern matches (crisis_model.py)
        self.crisis = [p for p in patterns if p.section == "crisis"]
        self.crisis_before_exceptions = [p for p in patterns if p.section == "crisis_before_exceptions"]
        self.not_crisis = [p for p in patterns if p.section == "not_crisis"]
        self.follow_up = [p for p in patterns if p.section == "follow_up"]
        self._screening = {
            section: _PatternIndex([p for p in patterns if p.section == section]) for section in SCREENING_SECTIONS
        }
        if not self.crisis:
            raise CrisisLanguageError("no crisis patterns: every message would pass as ordinary")
        keys = {w for p in patterns for words in (*p.needs, p.starts or ()) for w in words}
        _refuse_texted_words(patterns)
        self._keys = frozenset(keys)
        self._slips = _slips(self._keys)
        self._prefixes = tuple(sorted(w[:-1] for w in keys if w.endswith("*")))
        self._stems = frozenset(self._prefixes)
        self._keys_of_word: dict[str, tuple[str, ...]] = {}
        self._read_word: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._apart: dict[str, tuple[str, str]] = {}
        self._not_crisis_index = _PatternIndex(self.not_crisis)
        self._crisis_index = _PatternIndex(self.crisis)
        self._before_exceptions_index = _PatternIndex(self.crisis_before_exceptions)
        self._follow_up_index = _PatternIndex(self.follow_up)
        # Words typed apart are read for a follow-up only near where they meet (the care team's intake): as many words
        # as a follow_up pattern spans with what it looks at around it, and before them an exception that may blank one.
        self.follow_up_reach = max((p.reach for p in self.follow_up), default=0) + max(
            (p.reach for p in self.not_crisis), default=0
        )

    # Worked out when a message first holds a long word that may be words typed without their spaces, not at start.
    @cached_property
    def _vocabulary(self) -> frozenset[str]:
        """Every word the crisis patterns and their exceptions spell, for reading words typed without their spaces
        apart (_split_run): "i", "am" and "suicidal" as well as the rare ones."""
        return frozenset(
            word
            for p in self.patterns
            if p.section in ("crisis", "crisis_before_exceptions", "not_crisis")
            for word in _spelt(p.expression)
            if word.isalpha() and (len(word) > 1 or word in _ONE_LETTER_WORDS)
        )

    @cached_property
    def _simple_vocabulary(self) -> frozenset[str]:
        """The same without the words that are two of them typed together ("iam", "wakeup", "iwish"): the fewest
        words would otherwise read "iwishicould" as "iwish i could", which no pattern spells."""
        whole = frozenset(w for w in self._vocabulary if len(w) > 2 or w in _COMMON or w in _SHORT_WORDS)
        return frozenset(
            word
            for word in self._vocabulary
            if not any(word[:k] in whole and word[k:] in whole for k in range(len(word)))
        )

    @classmethod
    def load(cls, directory: Path = PROMPTS_DIR / "crisis", *, learned: bool = True) -> CrisisLanguage:
        """Every ``*.yaml`` directly in `directory`; subfolders (such as reply texts) are not detection files. With
        `learned`, the learned model kept there too (learned.json, crisis_model.py), if there is one."""
        definitions: dict[str, object] = {}
        for path in sorted(p for p in directory.glob("*.yaml") if p.is_file()):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise CrisisLanguageError(f"{path}: cannot be read: {error}") from None
            definitions[str(path)] = _parse_yaml(str(path), text)
        if not definitions:
            raise CrisisLanguageError(f"no crisis language files (*.yaml) in {directory}")
        return cls.from_definitions(definitions, learned_beside(directory) if learned else None)

    @classmethod
    def from_definitions(cls, definitions: Mapping[str, object], learned: LearnedModel | None = None) -> CrisisLanguage:
        """From parsed definitions by source name, e.g. ``{"en.yaml": {"words": {...}, "crisis": {...}}}``."""
        patterns = (
            pattern for source, definition in definitions.items() for pattern in _patterns_of(source, definition)
        )
        return cls(patterns, learned)

    @classmethod
    def from_yaml(cls, texts: Mapping[str, str]) -> CrisisLanguage:
        """From YAML texts by source name: for tests, and to check an edited file before it is installed."""
        return cls.from_definitions({source: _parse_yaml(source, text) for source, text in texts.items()})

    def matches(self, text: str, *, learned: bool = True) -> bool:
        return self.finding(text, learned=learned) is not None

    def finding(self, text: str, *, learned: bool = True) -> Finding | None:
        """The first crisis pattern that matches `text` once its not_crisis spans are blanked, or None. A text
        that has letters typed as digits or signs, or spelt out one by one, is also read a second way. Where no
        pattern matches, the learned model (if any, and if `learned`) is asked about the whole message (asked about
        each sentence of a long note too, it heard 3 more of a blind set's 140 crises, and 4 of its 130 low moods)."""
        found = self._read_twice(text, self._finding)
        if found is None and learned and self.learned is not None:
            found = self._learned_finding(text)
        if found is None and STRUCK in text:
            # Words the patient struck out ("I ~~don't~~ want to die", see text_limits.STRUCK) are read taken out as
            # well, blanked with spaces so that what is found stands where the text's words do.
            unstruck = _STRUCK_WORDS.sub(lambda struck: " " * len(struck.group()), text)
            if unstruck != text:
                found = self.finding(unstruck, learned=learned)
                if found is not None and found.read_as is None:
                    found = replace(found, read_as=unstruck)
        return found

    def _learned_finding(self, text: str) -> Finding | None:
        assert self.learned is not None
        words = normalise(text)
        if len(set(words.split())) < self.learned.min_words:
            return None  # too few words to weigh (most check-in notes): not worth reading them as the model does
        if not self.learned.says_crisis(self.as_read(text), text):
            return None
        return Finding(LEARNED, words, 0, words.count(" ") + 1)  # the whole message: no words of it stand out

    def as_read(self, text: str) -> str:
        """The words of `text` as the crisis patterns read them, without its fillers (_filler_length), the exceptions'
        words blanked out ("_"): what the learned model reads, so that "I would never hurt myself" or "killing me
        laughing" stays the clinic's exception whatever the model would make of it."""
        text, _, _ = self._without_fillers(text)
        words = normalise(text)
        if not words:
            return ""
        message = _Message(words, self._read_word, self._read, text)
        self._blank_exceptions(message, frozenset())
        return message.words

    def _read_twice(self, text: str, find: _Find, turn: bool = True) -> Finding | None:
        """What `find` finds in `text` (normalised, as written), or else in its second reading when it may hold more,
        or else in that without its fillers when it has some, or else (where `turn`) in the readings of it written
        turned (upside down, backwards: _turned)."""
        text = _in_own_alphabet(text)
        words = normalise(text)
        found = find(words, text, frozenset(), None, ())
        plain, near, kept = self._without_fillers(text, words)
        if found is not None and near:
            # An exception said with a filler inside is still one: "I'm not like suicidal", "i dont um want to hurt
            # myself" are read again with the exceptions found without the fillers blanked too.
            found = find(words, text, frozenset(), None, self._excepted(plain, near, kept))
        if found is not None:
            return found
        readings = [(plain, near)]
        if self._worth_reading_again(text, words):
            read = second_reading(text, self._split, self._known)
            found = find(normalise(read), read, answering_noes(text, read), None, ())
            if found is not None:
                return replace(found, read_as=read)
            readings.append(self._without_fillers(read)[:2])
        # In a long note, only the patterns and the places where a match may hold a place where a filler was
        # (_first_match, _Message.matches): it is not read twice whole for its "just"s and "really"s.
        long = words.count(" ") >= _LONG_NOTE
        for plain, near in readings:  # the text as written without its fillers, then its second reading
            if near:
                found = find(normalise(plain), plain, answering_noes(text, plain), near if long else None, ())
                if found is not None:
                    return replace(found, read_as=plain)
        # Last, words typed without the spaces between them ("iamsuicidal", "#IWantToOverdose", "i a m s u i c i d a l"
        # as the second reading joins it), read apart where they are pattern words and nothing else.
        for plain, _ in readings:
            for apart, pieces, origin in self._words_apart(normalise(plain)):
                # In a long note, only the patterns spelling and the places holding the words read apart.
                places = sorted({place for n in pieces for place in (n, n + 1)}) if long else None
                found = find(apart, apart, frozenset(), places, ())
                # Only a match that holds six letters or more of words read apart: one beside them may be there only
                # because an exception's word was read apart ("keep living normally" read "normal ly" is no longer the
                # exception), and a short pattern word is as often a piece of a longer one ("se gun do", "no se").
                if found is not None and self._held_apart(apart, pieces, found):
                    # Counted in the words of `plain` it was read from, which stand where the text's letters do: a card
                    # shows the words typed without spaces, not the start of a long note.
                    first, last = origin[found.first_word], origin[found.first_word + found.word_count - 1]
                    return replace(found, first_word=first, word_count=last - first + 1, read_as=plain)
        if turn:
            for turned, mirrored in self._turned(text, words):
                found = self._read_twice(turned, find, turn=False)
                if found is not None:
                    return replace(found, read_as=found.read_as or turned, mirrored=mirrored)
        return None

    def _turned(self, text: str, words: str) -> list[tuple[str, bool]]:
        """Other readings of `text` as a whole where it shows it was written turned: upside down (_FLIP_SIGN), read
        turned back and, for apps that keep the order, in place, or a word at a time; mirrored (_MIRROR_SIGN), turned
        back; backwards (an override mark, or words known far more
        often read backwards than as written: "flesym llik ot tnaw i"); in regional-indicator letters. Each with
        whether its words stand mirrored, last first. Most messages show none, and pay a look at their letters."""
        readings: list[tuple[str, bool]] = []
        if not text.isascii():
            if _REGIONAL.search(text):
                readings.append((text.translate(_REGIONAL_LETTERS), False))
            if _MIRROR_SIGN.search(text):
                readings.append((text.translate(_MIRRORED)[::-1], True))
            if _FLIP_SIGN.search(text):
                flipped = text.translate(_FLIPPED)
                # A word or two copied upside down into words typed upright ("i want to \u01dd\u0131p"): each turned
                # back where it stands, in a word's letters.
                apart = _FLIPPED_WORD.sub(lambda word: word.group().translate(_FLIPPED)[::-1], text)
                return [*readings, (flipped[::-1], True), (flipped, False), (apart, False)]
        if _OVERRIDE in text or self._reads_backwards(words):
            readings.append((text[::-1], True))
        return readings

    def _reads_backwards(self, words: str) -> bool:
        """Whether at least _BACKWARDS of the normalised `words` are pattern words only read backwards, and three times
        as many as those that are only as written (a word that reads the same either way counts for neither). Words
        read as written are looked at first, remembered from reading them: a message half of whose words are pattern
        words as written (most messages) is not looked at backwards."""
        remembered, read = self._read_word, self._read
        turnable = [word for word in set(words.split(" ")) if word[::-1] != word and word.isalpha()]
        ahead = [bool((remembered.get(word) or read(word))[1]) for word in turnable]
        if len(turnable) - sum(ahead) < max(_BACKWARDS, sum(ahead)):
            return False
        written = backwards = 0
        for word, known in zip(turnable, ahead, strict=True):
            turned = word[::-1]
            if known != bool((remembered.get(turned) or read(turned))[1]):
                written, backwards = (written + 1, backwards) if known else (written, backwards + 1)
        return backwards >= max(_BACKWARDS, 3 * written)

    def _words_apart(self, words: str) -> list[tuple[str, set[int], list[int]]]:
        """`words` (normalised) with each long word that is no pattern word but is three or more pattern words, one at
        least a rare one, read as those words ("iamgoingtohangmyself"): the fewest of them, and the fewest that are
        not themselves two ("i am", not "iam"; "wake up", not "wakeup"), where these differ; with the numbers of the
        words read apart, and for each word the number of the word of `words` it was read from. None such: []."""
        parts = words.split(" ")
        readings: list[list[str]] = [list(parts), list(parts)]
        changed = False
        for n, word in enumerate(parts):
            if len(word) < _RUN_TOGETHER or not word.isalpha():
                continue
            apart = self._apart.get(word)
            if apart is None:
                if len(self._apart) > _MAX_REMEMBERED_WORDS:
                    self._apart.clear()  # a bound on memory; words are learnt again as they come
                apart = self._apart[word] = (
                    self._split_run(word, self._vocabulary),
                    self._split_run(word, self._simple_vocabulary),
                )
            for reading, split in zip(readings, apart, strict=True):
                if split:
                    reading[n], changed = split, True
        if not changed:
            return []
        found: dict[str, tuple[set[int], list[int]]] = {}
        for reading in readings:
            pieces: set[int] = set()
            origin: list[int] = []
            for n, (was, now) in enumerate(zip(parts, reading, strict=True)):
                width = now.count(" ") + 1
                if now != was:
                    pieces.update(range(len(origin), len(origin) + width))
                origin += [n] * width
            found.setdefault(" ".join(reading), (pieces, origin))
        return [(apart, pieces, origin) for apart, (pieces, origin) in found.items()]

    def _stem_word(self, word: str) -> bool:
        """Whether `word` is a pattern's stem and an ending of four letters at most ("suicidal", "suicidarme"), not a
        stem and the words typed after it ("suicidalthoughts" is "suicidal thoughts")."""
        # Its beginnings of all but the last four letters or fewer, looked up: a few set lookups, where a pass over the
        # stems was a third of a millisecond for each piece read apart.
        stems = self._stems
        return any(word[:length] in stems for length in range(max(1, len(word) - _ENDING), len(word) + 1))

    @staticmethod
    def _held_apart(words: str, pieces: set[int], found: Finding) -> bool:
        held = range(found.first_word, found.first_word + found.word_count)
        parts = words.split(" ")
        return sum(len(parts[n]) for n in held if n in pieces) >= _HELD_APART

    def _split_run(self, word: str, vocabulary: frozenset[str]) -> str:
        """`word` as the fewest words of `vocabulary` (or words a pattern's stem begins) that make it whole, if one is
        neither common nor a piece of a spelling with a hidden letter; else "". A pattern word itself, or a word that
        begins with a pattern's stem ("suicidally"), is no run of words."""
        if self._keys_of(_squeeze(word)) or _squeeze(word) in self._vocabulary or len(word) > _LONGEST_RUN:
            return ""
        prefixes = self._prefixes
        best: list[list[str] | None] = [None] * (len(word) + 1)
        best[0] = []
        for end in range(1, len(word) + 1):
            for start in range(max(0, end - _LONGEST_WORD), end):
                before, now = best[start], best[end]
                if before is None or (now is not None and len(now) <= len(before) + 1):
                    continue
                squeezed = _squeeze(word[start:end])
                if squeezed in vocabulary or (end - start > 4 and prefixes and self._stem_word(squeezed)):
                    best[end] = [*before, word[start:end]]
        pieces = best[-1]
        if pieces is None or len(pieces) < 3:  # two ("dead line", "hang over") are as often a word of their own
            return ""
        rare = any(self._stands_alone(self._keys_of(_squeeze(p))) and _squeeze(p) not in _COMMON for p in pieces)
        return " ".join(pieces) if rare else ""

    def _excepted(self, plain: str, near: list[int], kept: list[int]) -> list[tuple[int, int]]:
        """The words an exception matches in `plain`, a text read without its fillers, across a place of `near`
        where fillers were (any other it matches as written): the first and the last, by their numbers among the
        words of the text as written (`kept`: the number of each word of `plain` there)."""
        words = normalise(plain)
        message = _Message(words, self._read_word, self._read, plain)
        excepted = []
        for pattern in self._not_crisis_index.spelling(message.beside(near)):
            for found in message.matches(pattern, near=near):
                first, last = words.count(" ", 0, found.start()), words.count(" ", 0, found.end() - 1)
                if any(first < place <= last for place in near):
                    excepted.append((kept[first], kept[last]))
        return excepted

    def _without_fillers(self, text: str, words: str | None = None) -> tuple[str, list[int], list[int]]:
        """`text` with its fillers (_filler_length) made apostrophes, which reading drops (as long as `text`);
        where they were: the number of the words before each, in order; and the number among the words of `text` of
        each word left. A filler an exception spells where it matches stays: "just kidding" is not "kidding". `words`:
        `text` normalised, if known."""
        words = normalise(text) if words is None else words
        if not words:
            return text, [], []
        remembered, read = self._read_word, self._read  # each word squeezed once, as _Message reads it
        squeezed = [(remembered.get(word) or read(word))[0] for word in words.split(" ")]
        if not _MAY_FILL.search(" ".join(squeezed)):
            return text, [], []
        fillers: list[tuple[int, int]] = []
        n = 0
        while n < len(squeezed):
            length = _filler_length(squeezed, n)
            if length:
                fillers.append((n, n + length))
            n += length or 1
        if not fillers:
            return text, [], []
        spans = word_spans(text)
        if len(spans) != len(squeezed):
            return text, [], []  # the words cannot be lined up with the text's letters: left as written
        # A filler an exception spells where it matches stays ("just kidding"); one that stands in its gap goes.
        message = _Message(words, self._read_word, self._read, text)
        spelt: set[int] = set()
        exceptions = self._not_crisis_index.spelling([((), tuple({squeezed[n] for n, _ in fillers}))])
        where = [n for n, _ in fillers]
        for pattern in exceptions:
            for found in message.matches(pattern, near=where):
                first = message.words.count(" ", 0, found.start())
                spelt.update(
                    n
                    for n in range(first, first + found.group().count(" ") + 1)
                    if squeezed[n] in _spelt(pattern.expression)
                )
        chars = list(text)
        near: list[int] = []
        left_out: set[int] = set()
        for first, last in fillers:
            if spelt.isdisjoint(range(first, last)):
                start, end = spans[first][0], spans[last - 1][1]
                chars[start:end] = "'" * (end - start)
                if not near or near[-1] != first - len(left_out):
                    near.append(first - len(left_out))
                left_out.update(range(first, last))
        kept = [n for n in range(len(squeezed)) if n not in left_out]
        return "".join(chars), near, kept

    def _worth_reading_again(self, text: str, words: str) -> bool:
        """Whether the second reading can make a word the patterns look for (one they need or begin with):
        a word spelt out, one split in two, or one typed with a digit or a sign that reads as such a word. Most
        "b12"s and "d3"s make none, and a long note is not read twice for them."""
        if _SPELT_OUT.search(words) or _ANSWERED_NO.search(text):
            return True
        if "*" in text and any(
            _unhide_vowels(word.group(), self._known) != word.group() for word in _HIDDEN_VOWEL_WORD.finditer(text)
        ):
            return True
        # A word split in two: a cheap test of each pair of words first (their squeezed forms are remembered).
        plain = words.split(" ")
        known = [self._read_word.get(word) or self._read(word) for word in plain]
        keys, prefixes = self._keys, self._prefixes
        for index, ((first, first_keys), (second, second_keys)) in enumerate(pairwise(known)):
            if self._stands_alone(first_keys) and self._stands_alone(second_keys):
                continue
            joined = first + second if first[-1:] != second[:1] else first + second[1:]
            if (joined in keys or (prefixes and joined.startswith(prefixes))) and self._split(
                plain[index], plain[index + 1]
            ):
                return True
        typed = _typed_as_shown(text)
        if not _TYPED_AS.search(typed):
            return False
        for run in _LEET_RUN.finditer(typed):
            read = _as_letters(run)
            if read != run.group() and any(self._keys_of(_squeeze(word)) for word in normalise(read).split()):
                return True
        return False

    def _split(self, first: str, second: str) -> bool:
        """Whether two normalised words are one word the patterns look for, split by a space ("ki ll", "sui cide",
        "over dose"): together they make a pattern word, and at most one of them is one on its own. A letter alone
        joins only a word beside it that is no pattern word on its own, and only where it is no word itself (_LETTER_
        WORDS): a space typed a letter late or early ("wan t", "d ie"), or dictation splitting a first letter off a
        longer word ("a cabar" is "acabar"); "a live" and "k ill" stay two, and "sh t all" is not "sh tall". Such a
        letter joins only into a word the patterns spell out whole, not into any word beginning with a stem they
        look for: "a horcajadas" (astride) is a word of its own, no "ahorcar"."""
        if not (first + second).isalpha() or second in _NOT_JOINED:
            return False
        joined = _squeeze(first + second)
        if len(second) < 2:
            # A letter a space left behind at a word's end ("wan t", "kil l", "liv e"), not one that is a word (the
            # Spanish "e" before an "i" is no word's end).
            if len(first) < 2 or (second in _LETTER_WORDS and second != "e"):
                return False
            return joined in self._keys and joined not in _COMMON
        if len(first) < 2:
            # A letter a space left behind at a word's start ("d ie", "w ant", "h ang"), or one dictation split off
            # a longer word ("a cabar"); not a letter that is a word ("a live", "k ill" for "ok, I'll") before one.
            short = len(second) < 4 and first in _LETTER_WORDS
            if short or self._keys_of(_squeeze(second)):
                return False
            return joined in self._keys and joined not in _COMMON
        if joined in _COMMON or not (joined in self._keys or (self._prefixes and joined.startswith(self._prefixes))):
            return False
        alone = self._stands_alone
        return not (alone(self._keys_of(_squeeze(first))) and alone(self._keys_of(_squeeze(second))))

    def _known(self, word: str) -> bool:
        """Whether a normalised word is one the patterns look for on its own: a pattern word, or one that begins
        with a prefix longer than the pieces of a hidden-letter spelling."""
        return self._stands_alone(self._keys_of(_squeeze(word)))

    @staticmethod
    def _stands_alone(keys: tuple[str, ...]) -> bool:
        """Whether a word with these pattern keys is a pattern word on its own: not when its only keys are
        prefixes of three letters or fewer, the pieces of a spelling with a letter hidden behind a star ("cid*" of
        "s*icide"), which any word beginning so has ("cidio" of "sui cidio")."""
        return any(not key.endswith("*") or len(key) > 4 for key in keys)

    def _finding(
        self,
        words: str,
        text: str,
        answering: frozenset[int],
        near: Sequence[int] | None = None,
        excepted: Sequence[tuple[int, int]] = (),
    ) -> Finding | None:
        """The first crisis pattern that matches `words` (read from `text`) once the exceptions and the words
        `excepted` (first and last, by number) are blanked, only where it may hold a place of `near` if given
        (_Message.matches)."""
        if not words:
            return None
        message = _Message(words, self._read_word, self._read, text, answering)
        heard = self._first_match(self._before_exceptions_index, message, near)
        if heard is not None:
            return heard
        self._blank_exceptions(message, answering, excepted)
        return self._first_match(self._crisis_index, message, near)

    def _blank_exceptions(
        self, message: _Message, answering: frozenset[int], excepted: Sequence[tuple[int, int]] = ()
    ) -> None:
        denied = self._spans_of(self._not_crisis_index, message)
        tokens = message.tokens
        denied += [(message.offset(first), message.offset(last) + len(tokens[last])) for first, last in excepted]
        # A "no" answering a question ends an exception at most ("self harm? no"); no crisis pattern may use it.
        denied += [
            (message.offset(n), message.offset(n) + len(message.tokens[n]))
            for n in answering
            if n < len(message.tokens)
        ]
        if denied:
            message.blank(denied)

    def follows_up(self, text: str) -> bool:
        """Whether `text` is crisis language when it comes just after a message heard as crisis language (the
        follow_up patterns, once the exceptions' words are blanked): "already took them", "tonight", "its
        done" say nothing alone, and everything after "I want to overdose". Read a second way too, as for
        `finding`: "t0night", "d o n e"."""
        return self.follow_up_finding(text) is not None

    def follow_up_finding(self, text: str) -> Finding | None:
        """The first follow_up pattern that matches `text` (see `follows_up`), or None."""
        if not self.follow_up:
            return None
        return self._read_twice(text, self._follow_up_finding)

    def _follow_up_finding(
        self,
        words: str,
        text: str,
        answering: frozenset[int],
        near: Sequence[int] | None = None,
        excepted: Sequence[tuple[int, int]] = (),
    ) -> Finding | None:
        if not words:
            return None
        message = _Message(words, self._read_word, self._read, text, answering)
        self._blank_exceptions(message, answering, excepted)
        return self._first_match(self._follow_up_index, message, near)

    def staff_question(self, text: str, *, following: bool = False) -> Asked:
        """What a staff member's words to a patient ask, read sentence by sentence; only a sentence that asks ("?",
        "¿") can ask a question ("Any thoughts of harming yourself, call 999." asks nothing). A plan, when or how
        (screening_follow_on) is a screening question beside words of suicide or self-harm in the same words, or when
        `following` one (the patient has yet to answer it, or answered it lately); else it asks something else.
        Staff's words are read as written: they do not disguise them."""
        yes = no = others = follow_on = False
        spans: list[tuple[int, int] | None] = []
        for start, end in _sentences(text):
            sentence = text[start:end]
            if not _ASKING.search(sentence) or (message := self._screening_message(sentence)) is None:
                continue
            found = {section: self._first_match(self._screening[section], message) for section in _QUESTIONS}
            asked = [found[s] for s in ("screening_yes_worries", "screening_no_worries", "screening_follow_on")]
            if any(asked):
                yes |= found["screening_yes_worries"] is not None
                no |= found["screening_no_worries"] is not None
                follow_on |= found["screening_yes_worries"] is None and found["screening_no_worries"] is None
                for finding in asked:
                    if finding is not None:
                        words = self.span(sentence, finding)
                        spans.append(None if words is None else (start + words[0], start + words[1]))
            elif found["screening_nudges"] is None and len(message.tokens) > 1:  # "Ben?", "Hello?": a nudge
                others = True
        if follow_on and (following or yes or no or self._speaks_of_suicide(text)):
            yes = True
        elif follow_on:
            others, spans = True, []
        known = [span for span in spans if span is not None]
        span = (min(s for s, _ in known), max(e for _, e in known)) if known and len(known) == len(spans) else None
        return Asked(yes_worries=yes, no_worries=no, span=span, others=others)

    def screening_question(self, text: str, *, following: bool = False) -> Asked | None:
        """The safety-screening question a staff member's words ask a patient (staff_question), or None."""
        asked = self.staff_question(text, following=following)
        return asked if asked.screening else None

    def _speaks_of_suicide(self, text: str) -> bool:
        message = self._screening_message(text)
        return message is not None and self._first_match(self._screening["screening_topic"], message) is not None

    def screening_answer(self, text: str, asked: Asked, *, explicit: bool = False) -> Finding | None:
        """Whether a patient's words answer a screening question the worrying way (_WORRYING): a yes where a yes
        worries, a no where a no does, neither a yes nor a no ("I don't know") to either. An answer is the whole
        message ("yes. again last night. worse"), or says in words what it answers ("I have thought about it"):
        only those (`explicit`) where the words may answer another question (a check-in's note). The finding, or
        None."""
        message = self._screening_message(text)
        if message is None:
            return None
        for section in _WORRYING[asked.kind]:
            if explicit and section not in _EXPLICIT:
                continue
            found = self._first_match(self._screening[section], message)
            if found is not None:
                return found
        return None

    def screening_reassures(self, text: str, asked: Asked) -> bool:
        """Whether a patient's words answer a screening question, and not the worrying way: a no where a yes
        worries, "yes I'm safe" where a no does."""
        if self.screening_answer(text, asked) is not None:
            return False
        message = self._screening_message(text)
        return message is not None and any(
            self._first_match(self._screening[section], message) is not None for section in _REASSURING[asked.kind]
        )

    def _screening_message(self, text: str) -> _Message | None:
        """The words read for the screening patterns. A "no" answering with its comma ("no, estoy bien") is read as
        "nop", a no that negates nothing after it: "no estoy bien" (I am not well) is another answer."""
        words = normalise(text).split()
        if not words:
            return None
        for n in answering_noes(text):
            words[n] = "nop" if words[n] == "no" else words[n]
        return _Message(" ".join(words), self._read_word, self._read, text)

    @staticmethod
    def _spans_of(index: _PatternIndex, message: _Message) -> list[tuple[int, int]]:
        """Where every pattern of `index` matches the message (the spans an exception blanks)."""
        return [found.span() for pattern in index.candidates(message.present) for found in message.matches(pattern)]

    @staticmethod
    def _first_match(index: _PatternIndex, message: _Message, near: Sequence[int] | None = None) -> Finding | None:
        # A match that is new where a filler was left out holds the words on both sides of it, or begins or ends the
        # message there: only the patterns spelling those words are tried.
        candidates = index.candidates(message.present) if near is None else index.spelling(message.beside(near))
        for pattern in candidates:
            found = message.matches(pattern, first=True, near=near)
            if found:
                match = found[0]
                first = message.words.count(" ", 0, match.start())  # blanking keeps every space in place
                return Finding(pattern, match.group(), first, match.group().count(" ") + 1)
        return None

    def span(self, text: str, finding: Finding) -> tuple[int, int] | None:
        """Where in `text` (as written, not normalised) the words of `finding` stand, to show them to staff
        in a long message; None in the rare text whose words cannot be lined up with the normalised ones."""
        if finding.read_as is not None:
            if len(finding.read_as) != len(text):
                return None  # words typed without their spaces, read apart: no longer where the text's letters are
            text = finding.read_as  # its words stand where the text's letters do
        spans = word_spans(text)
        last = finding.first_word + finding.word_count - 1
        if len(spans) != len(normalise(text).split()) or last >= len(spans):
            return None
        if finding.mirrored:  # the text turned round: its letters stand where the text's do, counted from its end
            return len(text) - spans[last][1], len(text) - spans[finding.first_word][0]
        return spans[finding.first_word][0], spans[last][1]

    def _read(self, word: str) -> tuple[str, tuple[str, ...]]:
        """A normalised word squeezed, with the pattern words it counts as; remembered, as words recur."""
        if len(self._read_word) > _MAX_REMEMBERED_WORDS:
            self._read_word.clear()  # a bound on memory; words are learnt again as they come
        squeezed = _squeeze(word)
        if squeezed in self._slips:  # "msyelf" is read "myself" (no slip is a pattern word itself)
            squeezed = self._slips[squeezed]
        keys = self._keys_of(squeezed)
        read = self._read_word[word] = (squeezed, keys)
        return read

    def _keys_of(self, word: str) -> tuple[str, ...]:
        """The pattern words a message word counts as: itself, and the prefixes it starts with."""
        keys = self._keys_of_word.get(word)
        if keys is None:
            if len(self._keys_of_word) > _MAX_REMEMBERED_WORDS:
                self._keys_of_word.clear()  # a bound on memory; words are learnt again as they come
            found = [word] if word in self._keys else []
            if self._prefixes and word.startswith(self._prefixes):
                found += [prefix + "*" for prefix in self._prefixes if word.startswith(prefix)]
            keys = self._keys_of_word[word] = tuple(found)
        return keys


class _Loader(getattr(yaml, "CBaseLoader", yaml.BaseLoader)):  # type: ignore[misc]
    """Every value read as text: YAML would otherwise turn the Spanish "no", or "off", into booleans. libyaml's
    loader when installed: it reads the two language files in a twentieth of the time. A name given twice in one
    section is refused: YAML would keep the last, and every pattern using the first would silently change."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        names: set[str] = set()
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in names:
                    raise yaml.constructor.ConstructorError(None, None, f"{key.value!r} is named twice", key.start_mark)
                names.add(key.value)
        mapping: dict[object, object] = super().construct_mapping(node, deep)
        return mapping


def _parse_yaml(source: str, text: str) -> object:
    try:
        return yaml.load(text, Loader=_Loader) or {}
    except yaml.YAMLError as error:
        raise CrisisLanguageError(f"{source}: not readable YAML: {error}") from None
