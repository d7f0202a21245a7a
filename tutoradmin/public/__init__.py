"""The public site: catalogue, accounts and the student dashboard."""

from . import account, api, auth, cart, catalog, checkout, ratings, records, refusals, routes, student  # noqa: F401  (they register themselves on bp)
from .blueprint import bp

__all__ = ["bp"]
