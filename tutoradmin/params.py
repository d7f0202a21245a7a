"""Parsing of query and form parameters, and the checks every request passes, with French messages for bad input."""

from datetime import date, datetime

from flask import current_app, request, session
from flask_login.config import COOKIE_NAME
from werkzeug.routing import IntegerConverter

from .error_pages import PageError
from .errors import DomainError
from .models import MAX_INTEGER, SESSION_DURATIONS, YEARS

NUL_IN_URL = "Requête invalide : l'adresse contient un caractère nul."


class ParamError(DomainError):
    """A request parameter is missing or malformed; the web layer answers 400."""


class IdConverter(IntegerConverter):
    """`<int:…>` in a URL is a database id: beyond the INTEGER range no row exists, so no page matches (404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_INTEGER, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def refuse_nul_characters():
    """Before every request: no path or query string value may hold a NUL, which no database column stores.

    Forms check their own fields (tutoradmin.forms), so that the message shows next to the field.
    """
    if "\x00" in request.path or any("\x00" in key + value for key, value in request.args.items(multi=True)):
        raise PageError(400, NUL_IN_URL)


def forget_unreadable_remember_cookie():
    """Before every request: a remember-me cookie that is not ASCII was not set by this site.

    Flask-Login would fail comparing its signature (hmac.compare_digest takes ASCII text only);
    told to clear it, Flask-Login ignores the cookie and deletes it from the browser.
    """
    cookie = request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME))
    if cookie is not None and not cookie.isascii():
        session["_remember"] = "clear"


def init_app(app):
    """Every request is checked here: ids in URLs in range, no NUL character, no forged remember-me cookie."""
    # Before any route is added: a rule takes its converter when it is registered.
    app.url_map.converters["int"] = IdConverter
    # The cookie first: any refusal renders a page, which loads the signed-in user.
    app.before_request(forget_unreadable_remember_cookie)
    app.before_request(refuse_nul_characters)


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
    if not 0 < number <= MAX_INTEGER:
        raise ParamError(f"Identifiant de {label} invalide.")
    return number


def parse_text(value, name):
    """Text sent outside a form (a JSON value, a bare form field): a string without NUL characters."""
    if value is None:
        return None
    text = str(value)
    if "\x00" in text:
        raise ParamError(f"Le paramètre « {name} » contient un caractère invalide.")
    return text


def parse_page(value):
    """The `page` of a paginated list: absent means 1; anything but a page number is a page that does not exist."""
    if value is None or value == "":
        return 1
    if not (value.isascii() and value.isdigit()) or len(value) > 6 or int(value) < 1:
        raise PageError(404, f"Page introuvable : « {value[:20]} » n'est pas un numéro de page.")
    return int(value)
