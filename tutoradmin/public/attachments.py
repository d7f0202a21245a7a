"""Downloading an attached file: checked on every request, always as a download, never shown from our origin."""

import io

from flask import abort, current_app, send_file
from flask_login import current_user, login_required

from .. import attachments
from ..error_pages import PageError
from ..extensions import db
from ..models import Attachment
from ..storage import StorageError
from .blueprint import bp

#: The file is never a page of the site: no script, no plugin, no form, even if a browser tried to show it.
DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"


@bp.route("/pieces-jointes/<int:attachment_id>")
@login_required
def download_attachment(attachment_id):
    """The file, for the conversation's participants and the office; anyone else gets 404, as for a wrong id."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or not attachments.can_download(current_user, attachment):
        abort(404)
    try:
        data = attachments.read(attachment)
    except StorageError as error:
        current_app.logger.error("attachment %s unreadable: %s", attachment.id, error.message)
        raise PageError(503, error.message) from error
    response = send_file(
        io.BytesIO(data),
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
        etag=attachment.sha256,
        conditional=False,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    # A private file: no shared cache keeps it, and the browser keeps no copy once it is saved.
    response.headers["Cache-Control"] = "private, no-store"
    return response
