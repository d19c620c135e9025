"""Countries and time zones, from the IANA time zone database that tzdata ships: which country a zone
is in (zone.tab) and which two-letter country codes exist (iso3166.tab); and which zone a typed place
name means, from those zones and the clinic's city names (prompts/places/). Nothing here guesses from
the network or the Telegram client."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from zoneinfo import available_timezones

import yaml

from bot.prompts import PROMPTS_DIR


def _table(name: str) -> list[list[str]]:
    text = resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@cache
def countries() -> dict[str, str]:
    """ISO 3166 code -> the country's English name."""
    return {row[0]: row[1] for row in _table("iso3166.tab")}


@cache
def _zone_countries() -> dict[str, str]:
    return {row[2]: row[0] for row in _table("zone.tab")}


def country_of_zone(zone: str) -> str | None:
    """The country a zone such as Europe/Berlin is in (DE); None for zones such as UTC."""
    return _zone_countries().get(zone)


def parse_country(text: str) -> str:
    """'de' or 'DE' -> 'DE'; ValueError for anything that is not a country code."""
    code = text.strip().upper()
    if code not in countries():
        raise ValueError(f"{text!r} is not a two-letter country code such as DE or ES")
    return code


# ---------------------------------------------------------------------------------------------- places
# What people type for a time zone: an IANA name, a zone's own city ("Mexico City"), or a city the
# clinic lists in prompts/places/*.yaml in the languages it serves ("Ciudad de México", "Múnich").
# Names are compared without accents, case or punctuation, so "BOGOTA", "Bogotá" and "bogota" agree.

PLACES_DIR = PROMPTS_DIR / "places"
# Zones named after a continent or an ocean. Older names (US/Eastern, Mexico/General) and fixed offsets
# (EST, Etc/GMT+5) are not places: "EST" typed in July would mean New York, whose clocks say EDT.
_AREAS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")
# Old links whose last part is a direction or an abbreviation, not a city (Australia/West, Australia/NSW):
# "EST" must not be offered as "West".
_NOT_CITIES = frozenset({"North", "South", "East", "West", "ACT", "NSW", "LHI"})
# A suggestion must be close: "Bogta" -> Bogotá, but "Mordor" -> nothing rather than a guess.
SUGGESTION_CUTOFF = 0.8
_LONGEST_NAME = 60  # longer text is no place name; difflib need not compare it with every place


class PlacesError(ValueError):
    """A places file names a time zone that does not exist; the message names the file and the zone."""


@dataclass(frozen=True)
class Place:
    """A name people type, as shown back to them, and the time zones it may mean (more than one: ask)."""

    name: str
    zones: tuple[str, ...]


def normalise(text: str) -> str:
    """'Ciudad de México' -> 'ciudad de mexico', "St. John's" -> 'st johns', 'New_York' -> 'new york'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"[.'’]", "", plain)  # D.C. and St. John's are written with and without them
    return " ".join(re.split(r"[\W_]+", plain)).strip()


# Names the time zone database keeps that are no place: "localtime" is whatever the server is set to
# (a link some systems keep beside the zones) and "Factory" stands for "no zone set yet".
_NOT_ZONES = frozenset({"localtime", "Factory"})


@cache
def zone_names() -> frozenset[str]:
    """Every IANA name this machine's time zone database knows (available_timezones() reads the disk)."""
    return frozenset(available_timezones()) - _NOT_ZONES


def _city_part(zone: str) -> str:
    return zone.rsplit("/", 1)[1].replace("_", " ")


@cache
def place_table(directory: Path = PLACES_DIR) -> dict[str, Place]:
    """Normalised name -> Place, from the clinic's files, the zones' own cities and the IANA names."""
    names: dict[str, str] = {}
    zones: dict[str, set[str]] = {}

    def add(name: str, zone: str, *, unless_known: bool = False) -> None:
        key = normalise(name)
        if not key or (unless_known and key in zones):
            return
        names.setdefault(key, name)
        zones.setdefault(key, set()).add(zone)

    known = zone_names()
    for path in sorted(directory.glob("*.yaml")):
        listed: dict[str, list[str]] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for zone, cities in listed.items():
            if zone not in known:
                raise PlacesError(f"{path}: {zone!r} is not an IANA time zone")
            if not isinstance(cities, list):
                raise PlacesError(f"{path}: {zone}: write the city names as a list, [Madrid, Barcelona]")
            for city in cities:
                add(str(city), zone)
    # Each country's zones from zone.tab name a city (America/Mexico_City: Mexico City). Older links
    # (Asia/Calcutta) add their city only where no current zone has it, so they never make a name ambiguous.
    current = sorted(_zone_countries())
    for zone in current:
        add(_city_part(zone), zone)
    for zone in sorted(known - set(current)):
        if zone.startswith(_AREAS) and "/" in zone and _city_part(zone) not in _NOT_CITIES:
            add(_city_part(zone), zone, unless_known=True)
    for zone in sorted(known):
        if zone == "UTC" or (zone.startswith(_AREAS) and "/" in zone):
            add(zone, zone, unless_known=True)
    return {key: Place(names[key], tuple(sorted(found))) for key, found in zones.items()}


def find_zones(text: str) -> tuple[str, ...]:
    """The zones a typed name means: one, several (a city such as Córdoba), or none."""
    table = place_table()
    for candidate in _readings(text):
        if candidate in table:
            return table[candidate].zones
    return ()


def nearest_place(text: str) -> Place | None:
    """The place a typed name means, or else the one closest to it in spelling (a suggestion, to be
    confirmed by whoever typed it); None when nothing is close."""
    table = place_table()
    for candidate in _readings(text):
        if candidate in table:
            return table[candidate]
    for candidate in _readings(text):
        close = difflib.get_close_matches(candidate, table, n=1, cutoff=SUGGESTION_CUTOFF)
        if close:
            return table[close[0]]
    return None


def _readings(text: str) -> list[str]:
    """The typed text, then its part before a comma ('Berlin, Germany' -> 'berlin')."""
    if len(text) > _LONGEST_NAME:
        return []
    readings = [normalise(text)]
    if "," in text:
        readings.append(normalise(text.split(",", 1)[0]))
    return [reading for reading in readings if reading]
