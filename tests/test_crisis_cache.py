"""The compiled crisis patterns kept between starts (bot/alerts/crisis_cache.py): read back only while the
pattern files and the compiler are the ones they were compiled from, and then the same as compiled."""

from __future__ import annotations

import logging
from dataclasses import astuple
from pathlib import Path

import pytest

from bot.alerts import crisis, crisis_cache
from bot.alerts.crisis import SCREENING_SECTIONS, CrisisLanguage, CrisisLanguageError
from bot.prompts import PROMPTS_DIR

PATTERNS = (
    "words:\n  end: [now, $]\n  deny: [never, not]\n"
    "crisis:\n  wish:\n    - 'want to die {end}'\n    - '!{deny} wants to be killed'\n"
    "crisis_before_exceptions:\n  carer:\n    - 'daughter here ~4 she wants to die'\n"
    "not_crisis:\n  news:\n    - 'she wants to die'\n"
)


def patterns(language: CrisisLanguage) -> list[tuple[object, ...]]:
    return [astuple(p) for p in language.patterns]


def files(tmp_path: Path, text: str = PATTERNS) -> Path:
    folder = tmp_path / "crisis"
    folder.mkdir(exist_ok=True)
    (folder / "en.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def no_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    def compile_again(directory: Path) -> CrisisLanguage:
        raise AssertionError(f"{directory} compiled again")

    monkeypatch.setattr(CrisisLanguage, "load", compile_again)


def test_the_clinics_patterns_read_back_are_the_patterns_compiled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[tuple[Path, CrisisLanguage]] = []
    load = CrisisLanguage.load

    def compiling(directory: Path) -> CrisisLanguage:
        made.append((directory, load(directory)))
        return made[-1][1]

    monkeypatch.setattr(CrisisLanguage, "load", compiling)
    compiled = crisis_cache.load(folder=tmp_path)
    # The clinic's files compiled once, and what the compiler made is what load gave (not compiled a second time
    # to compare: 8 s).
    assert [(directory, language is compiled) for directory, language in made] == [(PROMPTS_DIR / "crisis", True)]
    assert len(list(tmp_path.glob("crisis-*.json"))) == 1
    monkeypatch.setattr(CrisisLanguage, "load", None)  # read back, not compiled: calling it would fail
    read_back = crisis_cache.load(folder=tmp_path)
    assert patterns(read_back) == patterns(compiled)
    for text in ("I want to kill myself", "quiero morirme", "my friend said she wants to die", "k1ll mys3lf"):
        assert read_back.finding(text) == compiled.finding(text), text
    sections = {p.section for p in read_back.patterns}
    expected = {"crisis", "crisis_before_exceptions", "not_crisis", "follow_up", *SCREENING_SECTIONS}
    assert sections == expected, "every section kept"
    assert read_back.follows_up("already took them") and read_back.follows_up("esta noche")


def test_a_changed_pattern_file_is_compiled_again(tmp_path: Path) -> None:
    folder = files(tmp_path)
    assert not crisis_cache.load(folder, tmp_path / "cache").matches("i want to vanish")
    files(tmp_path, PATTERNS.replace("want to die {end}", "want to vanish"))
    assert crisis_cache.load(folder, tmp_path / "cache").matches("i want to vanish")


def test_the_newest_few_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crisis_cache, "KEEP", 2)
    folder = files(tmp_path)
    for word in ("vanish", "disappear", "go away"):
        files(tmp_path, PATTERNS.replace("want to die {end}", f"want to {word}"))
        crisis_cache.load(folder, tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("crisis-*.json"))) == 2
    assert crisis_cache.load(folder, tmp_path / "cache").matches("i want to go away")


def test_a_changed_compiler_compiles_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = files(tmp_path)
    crisis_cache.load(folder, tmp_path / "cache")
    changed = tmp_path / "crisis.py"
    changed.write_bytes(Path(crisis.__file__).read_bytes() + b"\n# changed\n")
    monkeypatch.setattr(crisis, "__file__", str(changed))
    compiled: list[Path] = []
    load = CrisisLanguage.load

    def counted(directory: Path) -> CrisisLanguage:
        compiled.append(directory)
        return load(directory)

    monkeypatch.setattr(CrisisLanguage, "load", counted)
    crisis_cache.load(folder, tmp_path / "cache")
    assert compiled == [folder]


def test_a_cache_written_by_other_code_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the cache writes and reads back is code too: a set written before the follow-up section was kept
    would have been read back without it."""
    folder = files(tmp_path)
    crisis_cache.load(folder, tmp_path / "cache")
    changed = tmp_path / "crisis_cache.py"
    changed.write_bytes(Path(crisis_cache.__file__).read_bytes() + b"\n# changed\n")
    monkeypatch.setattr(crisis_cache, "__file__", str(changed))
    crisis_cache.load(folder, tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("crisis-*.json"))) == 2


def test_a_pattern_file_read_back_decides_as_compiled(tmp_path: Path, no_compiling: None) -> None:
    """Every field survives the file, the opening '!' (its look-back) and the sections among them."""
    folder = files(tmp_path)
    compiled = CrisisLanguage.from_yaml({str(folder / "en.yaml"): PATTERNS})
    (tmp_path / "cache").mkdir()
    crisis_cache._save(tmp_path / "cache" / f"crisis-{crisis_cache._key([folder / 'en.yaml'])}.json", compiled)
    read_back = crisis_cache.load(folder, tmp_path / "cache")
    assert patterns(read_back) == patterns(compiled)
    for text in (
        "i want to die now",
        "want to die soon",
        "she wants to die",
        "never wants to be killed",
        "he wants to be killed",
        "daughter here, she wants to die",
    ):
        assert read_back.matches(text) == compiled.matches(text), text
    assert read_back.matches("i want to die now") and not read_back.matches("she wants to die")


def test_patterns_that_do_not_compile_fail_as_before_and_are_not_kept(tmp_path: Path) -> None:
    folder = files(tmp_path, "crisis:\n  broken:\n    - 'want to {nowhere}'\n")
    with pytest.raises(CrisisLanguageError, match="nowhere"):
        crisis_cache.load(folder, tmp_path / "cache")
    assert not list(tmp_path.glob("cache/crisis-*.json"))


def test_a_damaged_cache_is_compiled_around(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = files(tmp_path)
    crisis_cache.load(folder, tmp_path / "cache")
    (kept,) = (tmp_path / "cache").glob("crisis-*.json")
    kept.write_text('[{"source": "en.yaml"}]')
    with caplog.at_level(logging.WARNING):
        assert crisis_cache.load(folder, tmp_path / "cache").matches("i want to die")
    assert "could not be read" in caplog.text
    assert crisis_cache.load(folder, tmp_path / "cache").matches("i want to die"), "written again, whole"


def test_an_unwritable_cache_folder_still_loads(tmp_path: Path) -> None:
    folder = files(tmp_path)
    (tmp_path / "file").write_text("")
    assert crisis_cache.load(folder, tmp_path / "file" / "cache").matches("i want to die")
