"""Parsing of query and form parameters, with French messages for bad input."""

from datetime import date, datetime

from ..models import SESSION_DURATIONS

# Dates far outside any booking period are refused outright: near year 1 or 9999,
# the day and month arithmetic of the calendar would overflow.
YEARS = range(1900, 3000)


class ParamError(ValueError):
    """A request parameter is missing or malformed (HTTP 400)."""


def _whole_number(value):
    """int(value) for text and integers; JSON true or 60.5 are not numbers of minutes or ids."""
    if isinstance(value, (bool, float)):
        raise ValueError(value)
    return int(value)


def parse_date(value, name="date"):
    if not value:
        raise ParamError(f"Le paramètre « {name} » est obligatoire (AAAA-MM-JJ).")
    try:
        day = date.fromisoformat(value)
        if day.year not in YEARS:
            raise ValueError(value)
        return day
    except (TypeError, ValueError) as exc:
        raise ParamError(f"Date invalide : « {value} » (format attendu AAAA-MM-JJ).") from exc


def parse_month(value, name="mois"):
    if not value:
        raise ParamError(f"Le paramètre « {name} » est obligatoire (AAAA-MM).")
    try:
        year, month = value.split("-")
        if len(year) != 4 or len(month) != 2 or int(year) not in YEARS:
            raise ValueError
        return date(int(year), int(month), 1)
    except (TypeError, ValueError) as exc:
        raise ParamError(f"Mois invalide : « {value} » (format attendu AAAA-MM).") from exc


def parse_duration(value):
    try:
        duration = _whole_number(value)
    except (TypeError, ValueError) as exc:
        raise ParamError("Durée invalide : choisissez 60, 90 ou 120 minutes.") from exc
    if duration not in SESSION_DURATIONS:
        raise ParamError("Durée invalide : choisissez 60, 90 ou 120 minutes.")
    return duration


def parse_start(value):
    """An ISO 8601 instant with its UTC offset, e.g. 2026-12-07T09:00:00-05:00."""
    if not value:
        raise ParamError("L'heure de début est obligatoire.")
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ParamError(f"Heure de début invalide : « {value} ».") from exc
    if moment.tzinfo is None:
        raise ParamError("L'heure de début doit préciser son fuseau horaire.")
    if moment.year not in YEARS:
        raise ParamError(f"Heure de début invalide : « {value} ».")
    return moment


def parse_optional_id(value, label="tuteur"):
    if value in (None, "", "tous"):
        return None
    try:
        number = _whole_number(value)
    except (TypeError, ValueError) as exc:
        raise ParamError(f"Identifiant de {label} invalide.") from exc
    if number <= 0:
        raise ParamError(f"Identifiant de {label} invalide.")
    return number
