"""How large a request body may be: small everywhere, large enough for five files on the pages that take them.

The limit must be known before anything reads the body, and Flask-WTF's CSRF check reads the form in a
`before_request`, before any view or decorator runs. So the request itself decides, from the endpoint its URL
matched (known as soon as the request starts): an endpoint listed in `attachments.UPLOAD_ENDPOINTS` takes up
to five files of 10 Mo and the message around them; any other, a small form. Beyond it, Werkzeug stops reading
and the visitor gets the French 413 page (error_pages.py).
"""

from flask import Request

from . import attachments
from .models import ATTACHMENT_MAX_BYTES, ATTACHMENTS_PER_MESSAGE

#: Any form or JSON body of the site (the longest message is 5,000 characters).
REQUEST_MAX_BYTES = 1024 * 1024
#: Five files of 10 Mo, plus the message, the other fields and the multipart framing.
UPLOAD_REQUEST_MAX_BYTES = ATTACHMENTS_PER_MESSAGE * ATTACHMENT_MAX_BYTES + REQUEST_MAX_BYTES


class SizedRequest(Request):
    """A request whose largest accepted body depends on the page it is for."""

    @property
    def max_content_length(self):
        if self._max_content_length is not None:
            return self._max_content_length
        if self.endpoint in attachments.UPLOAD_ENDPOINTS:
            return UPLOAD_REQUEST_MAX_BYTES
        return REQUEST_MAX_BYTES

    @max_content_length.setter
    def max_content_length(self, value):
        self._max_content_length = value


def init_app(app):
    app.request_class = SizedRequest
