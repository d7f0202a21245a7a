"""The public blueprint, on its own so that the route modules can register on it without importing their package."""

from flask import Blueprint

bp = Blueprint("public", __name__)
