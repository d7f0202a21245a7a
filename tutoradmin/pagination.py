"""Numbered pages of a list, counted and fetched with two SQL statements whatever the page."""

from dataclasses import dataclass

from sqlalchemy import func, select

from .error_pages import PageError
from .extensions import db


@dataclass(frozen=True)
class Page:
    items: list
    number: int
    pages: int
    total: int

    @property
    def has_previous(self):
        return self.number > 1

    @property
    def has_next(self):
        return self.number < self.pages


def paginate(query, number, per_page, scalars=True):
    """Page `number` (from 1) of `query`, which must be ordered; past the last page is a 404 in French."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, -(-total // per_page))
    if number > pages:
        raise PageError(404, f"Page introuvable : cette liste n'a que {pages} page{'s' if pages > 1 else ''}.")
    page_query = query.limit(per_page).offset((number - 1) * per_page)
    rows = db.session.scalars(page_query).all() if scalars else db.session.execute(page_query).all()
    return Page(items=list(rows), number=number, pages=pages, total=total)
