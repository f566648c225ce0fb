"""The bad input the fuzzer sends, as Hypothesis strategies.

Values are bytes or str. Bytes go on the wire as they are (percent-encoded in
a form body or a query string), which is how a client sends what is not
valid UTF-8 at all — a lone surrogate, a stray continuation byte. Str values
are encoded as UTF-8.
"""

import json

from hypothesis import strategies as st

from tests.fuzz.pages import Field

type Value = str | bytes

BIG = "x" * 100_000
LONE_SURROGATE = b"\xed\xa0\x80"  # U+D800 as UTF-8 would write it: not valid UTF-8
BROKEN_UTF8 = (LONE_SURROGATE, b"a\xffb", b"\xc3", b"\xf4\x90\x80\x80", b"\xc0\xaf")

NUMBERS = (
    "-1",
    "0",
    "-0",
    "99999999999999999999",
    "-99999999999999999999",
    "9223372036854775808",
    "2147483648",
    "9" * 5000,
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "-inf",
    "1.5",
    "1,5",
    "0x10",
    "١٢٣",  # Arabic-Indic digits
    "²",
    " 7 ",
    "1e-400",
)
DATES = (
    "0001-01-01",
    "9999-12-31",
    "0000-00-00",
    "2026-02-30",
    "10000-01-01",
    "-0001-01-01",
    "2026-13-01",
    "31/12/2026",
    "2026-W53",
    "2026-12",
)
DATETIMES = (
    "0001-01-01T00:00",
    "0001-01-01 00:00:00",
    "9999-12-31T23:59",
    "9999-12-31T23:59:59.999999",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00-12:00",
    "2026-03-29T02:30",  # does not exist in Europe's spring-forward hour
    "2026-10-25T01:30",  # exists twice in autumn
    "2026-12-05T25:61",
    "T",
)
TIMES = ("24:00", "23:60", "-01:00", "99:99:99", "12:00:00.9999999", "12")
TIME_ZONES = (
    "Mars/Olympus_Mons",
    "UTC+25",
    "../../../etc/passwd",
    "Etc/GMT+99",
    "localtime",
    "Factory",
    "EST5EDT\x00",
    "Europe/London/",
    "utc",
)
TEXTS: tuple[Value, ...] = (
    "",
    " ",
    BIG,
    "\x00",
    "a\x00b",
    "\u202eevil",
    "😀" * 1000,
    "<script>alert(1)</script>",
    "'; DROP TABLE accounts_user; --",
    "{{ 7*7 }}{% debug %}",
    "%s%n%x",
    "\r\nSet-Cookie: x=1",
    "javascript:alert(1)",
    "//evil.example/",
    "a" * 256,
    "not-an-email@",
    "\ufeff",
    "\U0010ffff",
    *BROKEN_UTF8,
)
EXTRA_NAMES = (
    "id",
    "pk",
    "user",
    "user_id",
    "teacher",
    "student",
    "owner",
    "is_staff",
    "is_superuser",
    "price_cents",
    "amount",
    "currency",
    "status",
    "next",
    "page",
    "timezone",
    "tz",
    "__proto__",
    "csrfmiddlewaretoken",
    "a" * 1000,
    "\x00",
    "x[]",
)
QUERY_NAMES = ("page", "q", "next", "sort", "order", "tz", "month", "week", "date", "from", "to")

BY_KIND: dict[str, tuple[Value, ...]] = {
    "number": NUMBERS,
    "range": NUMBERS,
    "date": DATES,
    "month": DATES,
    "week": DATES,
    "datetime-local": DATETIMES,
    "datetime": DATETIMES,
    "time": TIMES,
}

bad_value = st.sampled_from(TEXTS + NUMBERS + DATES + DATETIMES + TIMES + TIME_ZONES)


def plausible(field: Field) -> Value:
    """Return a value the page itself would send, so other fields' checks are reached."""
    if field.kind in ("select", "radio", "button", "hidden", "checkbox", "submit") and any(
        field.values
    ):
        return next(value for value in field.values if value)
    return {
        "number": "1",
        "range": "1",
        "date": "2027-01-15",
        "datetime-local": "2027-01-15T10:00",
        "time": "10:00",
        "email": "fuzz@example.com",
        "url": "https://example.com/",
        "password": "a long enough passphrase 42",
    }.get(field.kind, field.values[0] if field.values and field.values[0] else "Fuzz")


@st.composite
def field_value(draw: st.DrawFn, field: Field) -> Value:
    """A value for one field: mostly wrong for its kind, sometimes plausible."""
    name = field.name.lower()
    pools = [TEXTS + NUMBERS]
    if field.kind in BY_KIND:
        pools.append(BY_KIND[field.kind])
    if "zone" in name or name == "tz":
        pools.append(TIME_ZONES)
    if any(word in name for word in ("date", "start", "end", "due", "at", "day")):
        pools.append(DATES + DATETIMES)
    choice = draw(st.sampled_from(("plausible", "pool", "pool", "kind", "any")))
    if choice == "plausible":
        return plausible(field)
    if choice == "kind":
        return draw(st.sampled_from(pools[-1]))
    if choice == "any":
        return draw(bad_value)
    return draw(st.sampled_from(pools[0]))


@st.composite
def form_payload(draw: st.DrawFn, fields: list[Field]) -> list[tuple[str, Value]]:
    """Fields of a form: each kept plausible, dropped, made bad or sent twice; plus extras."""
    pairs: list[tuple[str, Value]] = []
    for field in fields:
        if field.kind == "file":
            continue  # files go in a multipart body, see `files_for`
        fate = draw(st.sampled_from(("plausible", "plausible", "bad", "bad", "missing", "twice")))
        if fate == "plausible":
            pairs.append((field.name, plausible(field)))
        elif fate == "bad":
            pairs.append((field.name, draw(field_value(field))))
        elif fate == "twice":
            pairs += [(field.name, plausible(field)), (field.name, draw(field_value(field)))]
    for _ in range(draw(st.integers(0, 2))):
        pairs.append((draw(st.sampled_from(EXTRA_NAMES)), draw(bad_value)))
    return pairs


FILE_BODIES = (
    b"",
    b"\x00" * 64,
    b"%PDF-1.4 not really",
    b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
    b"\x89PNG\r\n\x1a\n garbage",
    b"name,email\n\xff\xfe,\x00\n" + b"a," * 5000,
)
FILE_NAMES = (
    "no-extension",
    "a.pdf",
    "../../etc/passwd",
    "x" * 300 + ".png",
    "evil.html",
    "\x00.csv",
    "😀.txt",
)


def weird_bodies() -> st.SearchStrategy[tuple[bytes, str]]:
    """(body, content type) pairs no form sends: JSON, broken multipart, odd types."""
    boundary = "fuzzboundary"
    return st.sampled_from(
        (
            (json.dumps({"a": 1, "id": 99999999999999999999}).encode(), "application/json"),
            (b"[1, 2", "application/json"),
            (b"\x00\xff\xfe", "application/octet-stream"),
            (b"a=1&b", "text/plain"),
            (
                b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>",
                "text/xml",
            ),
            (b"--nope\r\n\r\n", f"multipart/form-data; boundary={boundary}"),
            (b"whatever", "multipart/form-data"),
            (b"whatever", "multipart/form-data; boundary="),
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="a"\r\n\r\nx'.encode(),
                f"multipart/form-data; boundary={boundary}",
            ),
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="f"; filename="\x00"\r\n'
                f"Content-Type: text/html\r\n\r\n<b>\r\n--{boundary}--\r\n".encode(),
                f"multipart/form-data; boundary={boundary}",
            ),
            (b"%zz=%&&==&a=%ED%A0%80&" + b"k=v&" * 6000, "application/x-www-form-urlencoded"),
            (b"a=" + LONE_SURROGATE, "application/x-www-form-urlencoded; charset=utf-16"),
            (b"a=1", "application/x-www-form-urlencoded; charset=no-such-charset"),
        )
    )
