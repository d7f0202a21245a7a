"""Third-party scripts vendored under static/vendor/, served gzipped and cached for a year under a hashed URL.

A bundle is one or more files served as a single script. Its URL carries its version and the hash of its
content, so a page always asks for exactly the bytes it was written for and browsers may keep them for good.
Each bundle is read, hashed and gzipped once per process, at its first use: nothing to build or commit
beside the vendored files themselves, and about a tenth of a second of CPU once.
"""

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, redirect, request, url_for

bp = Blueprint("vendor", __name__, url_prefix="/vendor")

#: The Plotly.js of static/vendor/plotly/ (see its README.md): the one plotly==7.1.0 bundles.
PLOTLY_VERSION = "4.1.1"
ONE_YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class Bundle:
    """Files of static/vendor/, in order, served as one script."""

    name: str
    version: str
    files: tuple


#: Plotly's basic bundle (bar, pie, scatter), then its French locale, which registers itself with it.
PLOTLY = Bundle("plotly", PLOTLY_VERSION, ("plotly/plotly-basic.min.js", "plotly/plotly-locale-fr.js"))
BUNDLES = {bundle.name: bundle for bundle in (PLOTLY,)}


@dataclass(frozen=True)
class Content:
    """What a bundle serves, and the hash that names it."""

    body: bytes
    digest: str

    @property
    def filename(self):
        return f"{self.digest}.js"


@cache
def _content(bundle, folder):
    # A newline between files: a minified file may end on a comment without one.
    body = b"\n".join((folder / "vendor" / name).read_bytes().rstrip(b"\n") for name in bundle.files) + b"\n"
    return Content(body, hashlib.sha256(body).hexdigest()[:16])


@cache
def _gzipped(content):
    # mtime=0: the same bytes, hence the same ETag, from every process.
    return gzip.compress(content.body, compresslevel=9, mtime=0)


def content_of(bundle):
    """The bytes of a bundle and their hash, read once per process."""
    return _content(bundle, Path(current_app.static_folder))


def url_of(bundle):
    """The URL of a bundle's current content, for a page's <script src>."""
    return url_for("vendor.script", name=bundle.name, version=bundle.version, filename=content_of(bundle).filename)


def _accepts_gzip():
    return request.accept_encodings.quality("gzip") > 0


@bp.get("/<name>/<version>/<filename>")
def script(name, version, filename):
    """A bundle's script: gzipped when the browser accepts it, kept a year by any cache, 304 on its ETag."""
    bundle = BUNDLES.get(name)
    if bundle is None:
        abort(404)
    content = content_of(bundle)
    if (version, filename) != (bundle.version, content.filename):
        # A page written before a deployment: the current bytes, under their own URL.
        return redirect(url_of(bundle))
    if _accepts_gzip():
        response = Response(_gzipped(content), mimetype="text/javascript")
        response.content_encoding = "gzip"
        # Each representation has its own strong ETag.
        response.set_etag(f"{content.digest}-gzip")
    else:
        response = Response(content.body, mimetype="text/javascript")
        response.set_etag(content.digest)
    response.vary.add("Accept-Encoding")
    response.cache_control.public = True
    response.cache_control.max_age = ONE_YEAR
    response.cache_control.immutable = True
    return response.make_conditional(request)
