"""The public site: catalogue, accounts and the student dashboard."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from . import api, auth, cart, catalog, checkout, routes  # noqa: E402,F401  (routes register themselves on bp)
