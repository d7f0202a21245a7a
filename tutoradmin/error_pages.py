"""Error pages in French, for the public site and the back office alike, as HTML or JSON as the client asked."""

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: "Requête invalide.",
    403: "Vous n'avez pas accès à cette page.",
    404: "Page introuvable.",
    405: "Méthode non permise.",
    413: "Envoi trop volumineux : joignez au plus 5 fichiers de 10 Mo chacun à un message.",
    429: "Trop de tentatives. Veuillez réessayer dans quelques minutes.",
    500: "Une erreur interne est survenue. Veuillez réessayer.",
}
CSRF_MESSAGE = "Le formulaire a expiré. Veuillez recharger la page et réessayer."


class PageError(HTTPException):
    """An HTTP error whose French message is meant for the visitor."""

    def __init__(self, code, message):
        super().__init__(description=message)
        self.code = code


def wants_json():
    """Whether the client gets JSON back: it called the API, sent JSON or asked for it."""
    return request.path.startswith("/api/") or request.is_json or request.accept_mimetypes.best == "application/json"


def _respond(code, message):
    if wants_json():
        return jsonify(error=message), code
    return render_template("error.html", code=code, message=message), code


def register_error_pages(app):
    def handle(error):
        code = getattr(error, "code", 500) or 500
        if isinstance(error, PageError):
            return _respond(code, error.description)
        if isinstance(error, CSRFError):
            return _respond(400, CSRF_MESSAGE)
        return _respond(code, MESSAGES.get(code, MESSAGES[500]))

    app.register_error_handler(PageError, handle)
    for code in MESSAGES:
        app.register_error_handler(code, handle)
