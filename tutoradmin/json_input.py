"""JSON received from outside (request bodies, gateway events): UTF-8 text, nested a few levels at most."""

import json

#: Far deeper than any body the site or Stripe sends; a deeper one is refused before anything reads it.
MAX_DEPTH = 32


def load(data, max_depth=MAX_DEPTH):
    """The value of a JSON document given as bytes or text; ValueError when unreadable or too deep."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    try:
        value = json.loads(text)
    except RecursionError:
        # The parser recurses once per level: tens of thousands of brackets exhaust the stack.
        raise ValueError("JSON nested too deeply") from None
    _check(value, max_depth)
    return value


def _check(value, max_depth):
    """Depth at most `max_depth`, and only valid Unicode text: no recursion, whatever the input."""
    pending = [(value, 0)]
    while pending:
        value, level = pending.pop()
        if isinstance(value, str):
            # "\ud800" escapes decode to lone surrogates, which no database driver can encode.
            if not value.isascii():
                value.encode("utf-8")
        elif isinstance(value, (dict, list)):
            if level == max_depth:
                raise ValueError("JSON nested too deeply")
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((item, level + 1) for item in items)
