"""Numbers read from addresses, query strings and forms: plain ASCII digits, within bounds.

`str.isdigit` accepts superscripts and other Unicode digits that `int()` refuses,
and Python happily parses numbers no database column can hold; both used to
reach the database or `int()` and end as a 500. Everything here answers "not a
number we accept" instead, and the caller turns that into a 400 or a 404.
"""

from django.core.exceptions import BadRequest
from django.http import HttpRequest

# The largest value of a signed 64-bit column: every primary key and version fits.
MAX_ID = 2**63 - 1


def parse_int(raw: object, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """Return `raw` as an int if it is ASCII digits between `minimum` and `maximum`, else None."""
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        return None
    text = str(raw)
    if not text or len(text) > len(str(maximum)) or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def query_int(
    request: HttpRequest, name: str, *, minimum: int = 0, maximum: int = MAX_ID
) -> int | None:
    """Return the query-string parameter `name` as an int, or None when it is absent or empty.

    Raise BadRequest (a 400) when it is there but not a number within bounds.
    """
    raw = request.GET.get(name, "")
    if raw == "":
        return None
    value = parse_int(raw, minimum=minimum, maximum=maximum)
    if value is None:
        raise BadRequest(f"The {name!r} parameter must be a whole number.")
    return value
