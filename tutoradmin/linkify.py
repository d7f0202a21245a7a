"""Plain text written by users, shown as HTML: everything escaped, line breaks kept, web links clickable."""

import re

from markupsafe import Markup, escape

# Only http(s) links: a host of letters, digits, dots and hyphens, an optional port, then anything
# up to a space, a quote, an angle bracket or French quotation marks.
_URL = re.compile(r"\bhttps?://[\w.-]+(?::\d{1,5})?(?:[/?#][^\s<>\"`«»]*)?", re.IGNORECASE)
# Sentence punctuation after a link belongs to the sentence.
_TRAILING = ".,;:!?'"


def _split_trailing(url):
    """(link, punctuation that follows it in the sentence)."""
    end = len(url)
    while end > 0:
        last = url[end - 1]
        if last in _TRAILING or (last == ")" and url.count("(", 0, end) < url.count(")", 0, end)):
            end -= 1
        else:
            break
    return url[:end], url[end:]


def _link(url):
    href = escape(url)
    return Markup('<a href="{0}" rel="noopener noreferrer nofollow" target="_blank">{0}</a>').format(href)


def linkify(text):
    """`text` as safe HTML: escaped, each line break a <br>, each http(s) address a link that opens elsewhere."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    parts = []
    position = 0
    for match in _URL.finditer(text):
        url, trailing = _split_trailing(match.group())
        if "://" not in url or url.endswith("://"):
            continue
        parts.append(escape(text[position : match.start()]))
        parts.append(_link(url))
        parts.append(escape(trailing))
        position = match.end()
    parts.append(escape(text[position:]))
    return Markup("").join(parts).replace("\n", Markup("<br>\n"))
