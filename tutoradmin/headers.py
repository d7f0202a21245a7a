"""Security headers sent with every response: pages, JSON, files and errors alike."""

from flask import current_app

HEADERS = {
    # No other site may show these pages in a frame (clickjacking); the second header is for old browsers.
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    # Files are what their Content-Type says, never sniffed into scripts.
    "X-Content-Type-Options": "nosniff",
    # Other sites see the origin of a link, never the path and query (order numbers, searches).
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
# Only in production, behind TLS: browsers then refuse plain HTTP to the site for a year.
HSTS = "max-age=31536000"


def add_security_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config["PRODUCTION"]:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response
