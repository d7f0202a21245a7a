"""Error pages in French, as HTML or JSON depending on what the client asked for."""

from flask import jsonify, render_template, request

MESSAGES = {
    400: "Requête invalide.",
    403: "Vous n'avez pas accès à cette page.",
    404: "Page introuvable.",
    405: "Méthode non permise.",
    429: "Trop de tentatives. Veuillez réessayer dans quelques minutes.",
    500: "Une erreur interne est survenue. Veuillez réessayer.",
}


def _wants_json():
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register_error_pages(app):
    def handle(error):
        code = getattr(error, "code", 500) or 500
        message = MESSAGES.get(code, MESSAGES[500])
        # Our own aborts carry a French description; Werkzeug's defaults are English.
        description = getattr(error, "description", None)
        if description and description != type(error).description:
            message = description
        if _wants_json():
            return jsonify(error=message), code
        return render_template("error.html", code=code, message=message), code

    for code in MESSAGES:
        app.register_error_handler(code, handle)
