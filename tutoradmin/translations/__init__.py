"""Flask-Admin's own texts in our French: our catalogue (fr/LC_MESSAGES/admin.po) wins over the bundled one.

Flask-Babel merges a domain's catalogues in the order of its directories, a later one overriding an
earlier one; Flask-Admin's domain lists its own catalogue last, after any `translations_path`, so an
application cannot correct its wording that way (flask-admin issue #1882). Here the domain reads
Flask-Admin's catalogue first and ours after. Everything is read from disk, nothing from the network.
"""

from pathlib import Path

import flask_admin.translations
from flask_admin import babel as admin_babel

#: Catalogues of the "admin" domain in merge order: the bundled one, then ours, whose entries win.
DIRECTORIES = [flask_admin.translations.__path__[0], str(Path(__file__).parent)]


def init_app(app):
    """Point Flask-Admin's translation domain (one per process) at DIRECTORIES."""
    domain = admin_babel.domain
    if domain._translation_directories != DIRECTORIES:
        domain._translation_directories = DIRECTORIES
        # Catalogues merged in another order must not be served from the domain's cache.
        domain.cache.clear()
