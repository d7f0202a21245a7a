"""The public site: catalogue, accounts and the student dashboard."""

from . import api, auth, cart, catalog, checkout, refusals, routes  # noqa: F401  (they register themselves on bp)
from .blueprint import bp

__all__ = ["bp"]
