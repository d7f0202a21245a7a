"""Keyset pages for long lists in their default order: the last page costs what the first one does.

With OFFSET, the database reads and throws away every row before the page asked for. Here a page
starts after the last row already shown (a cursor: its sort key and id), so every page, the last
one included, is an index range read. Filters and search apply as usual; the cursor comes on top.
The list's count is bounded too: it stops at COUNT_CAP rows and then reads « plus de 10 000 ».
A list sorted by another column keeps Flask-Admin's numbered pages and exact count.
"""

import base64
import binascii
from datetime import datetime

from babel.numbers import format_decimal
from flask import flash, g, request, url_for
from flask_admin import expose
from sqlalchemy import func, select, tuple_

from ..formatting import LOCALE
from .base import record_id_of

#: URL arguments: the rows older than the cursor, newer than it, or the oldest page.
OLDER, NEWER, LAST = "apres", "avant", "fin"
CURSOR_ARGS = (OLDER, NEWER, LAST)
INVALID_CURSOR = "Position invalide dans la liste : voici la première page."
#: The most rows a keyset list counts; beyond it the count reads « plus de 10 000 ».
COUNT_CAP = 10_000


class CappedCount(int):
    """A count that stopped at `cap` rows: cap + 1 in arithmetic, « plus de 10 000 » when shown."""

    # An int, because Flask-Admin divides the count into page numbers and prints it in the « Liste (N) » tab.

    def __new__(cls, cap):
        count = super().__new__(cls, cap + 1)
        count.cap = cap
        return count

    def __str__(self):
        return f"plus de {format_decimal(self.cap, locale=LOCALE)}"


def bounded_count(query, key, cap):
    """The rows of `query` up to `cap`, or a CappedCount when there are more: a LIMIT, whatever the table size."""
    # Only the key column, which an index can answer alone.
    rows = query.order_by(None).with_entities(key).limit(cap + 1).subquery()
    count = query.session.scalar(select(func.count()).select_from(rows))
    return CappedCount(cap) if count > cap else count


def encode_cursor(moment, record_id):
    """An opaque URL-safe cursor for the row keyed (`moment`, `record_id`)."""
    return base64.urlsafe_b64encode(f"{moment.isoformat()}|{record_id}".encode()).decode().rstrip("=")


def decode_cursor(text):
    """The (moment, id) a cursor names, or None when it is not one this module wrote."""
    if not text or len(text) > 100 or not text.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        moment_text, _bar, id_text = raw.partition("|")
        moment = datetime.fromisoformat(moment_text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    record_id = record_id_of(id_text)
    if record_id is None or moment.tzinfo is None:
        return None
    return moment, record_id


class KeysetPage:
    """Where the rows of a keyset page come from: the newest, the oldest, or next to a cursor."""

    def __init__(self, direction=None, cursor=None):
        self.direction = direction
        self.cursor = cursor

    @classmethod
    def from_request(cls, args):
        """The page the URL asks for; a damaged cursor is the first page, with a French message."""
        if args.get(LAST):
            return cls(LAST)
        for direction in (OLDER, NEWER):
            if direction in args:
                cursor = decode_cursor(args.get(direction))
                if cursor is None:
                    flash(INVALID_CURSOR, "error")
                    return cls()
                return cls(direction, cursor)
        return cls()


class KeysetPagerMixin:
    """A model view paged by cursor in its default order, newest first (`keyset_column`, then id).

    Put it before the model view class; its template shows `keyset` links (see admin/order_list.html).
    """

    #: The default sort column (descending); the primary key breaks ties.
    keyset_column = "created_at"

    @expose("/")
    def index_view(self):
        # Only the default order (no `sort` argument) has keyset pages.
        g.keyset_page = None if "sort" in request.args else KeysetPage.from_request(request.args)
        return super().index_view()

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        wanted = g.get("keyset_page")
        if wanted is None or not execute:
            return super().get_list(page, sort_column, sort_desc, search, filters, execute, page_size)
        size = page_size or self.page_size
        # Filtered and searched as usual, without Flask-Admin's order and LIMIT, which the cursor replaces,
        # nor its count (get_count_query below), which would read every row.
        _count, query = super().get_list(None, None, False, search, filters, execute=False, page_size=0)
        g.keyset_page = None
        count = bounded_count(query, self.model.id, COUNT_CAP)
        rows, older, newer = self._keyset_rows(query.order_by(None), wanted, size, count)
        # (label, rel, URL or None when there is nothing that way), as the pager shows them.
        self._template_args["keyset"] = [
            ("Premières", "first", self._keyset_url() if newer else None),
            ("Plus récentes", "prev", self._keyset_url(NEWER, rows[0]) if newer and rows else None),
            ("Plus anciennes", "next", self._keyset_url(OLDER, rows[-1]) if older and rows else None),
            ("Dernières", "last", self._keyset_url(LAST) if older else None),
        ]
        return count, rows

    def get_count_query(self):
        # None tells Flask-Admin not to count; get_list counts the same filtered query, bounded.
        if g.get("keyset_page") is not None:
            return None
        return super().get_count_query()

    def _keyset_rows(self, query, wanted, size, count):
        """The page's rows, newest first, and whether older and newer rows exist beyond them."""
        key = tuple_(getattr(self.model, self.keyset_column), self.model.id)
        newest_first = (getattr(self.model, self.keyset_column).desc(), self.model.id.desc())
        oldest_first = (getattr(self.model, self.keyset_column).asc(), self.model.id.asc())
        if wanted.direction == LAST:
            # The oldest rows, as many as the numbered pages would leave on the last one; a whole page when
            # the count stopped at its cap, since the remainder is then unknown.
            tail = size if isinstance(count, CappedCount) else count % size or size
            rows = query.order_by(*oldest_first).limit(tail + 1).all()
            return rows[:tail][::-1], False, len(rows) > tail
        if wanted.direction == NEWER:
            rows = query.filter(key > wanted.cursor).order_by(*oldest_first).limit(size + 1).all()
            return rows[:size][::-1], True, len(rows) > size
        if wanted.direction == OLDER:
            query = query.filter(key < wanted.cursor)
        rows = query.order_by(*newest_first).limit(size + 1).all()
        return rows[:size], len(rows) > size, wanted.direction == OLDER

    def _keyset_url(self, direction=None, row=None):
        """This list's URL with its filters, search and page size, at the page `direction` of `row`."""
        args = {name: values for name, values in request.args.lists() if name not in (*CURSOR_ARGS, "page")}
        if direction == LAST:
            args[LAST] = "1"
        elif direction is not None:
            args[direction] = encode_cursor(getattr(row, self.keyset_column), row.id)
        return url_for(".index_view", **args)
