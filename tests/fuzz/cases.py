"""Hypothesis strategies for whole requests against one target: who sends what, and how."""

from urllib.parse import quote_from_bytes, urlsplit

from hypothesis import strategies as st

from tests.authz import PERSONS
from tests.fuzz import payloads
from tests.fuzz.pages import Field, Form
from tests.fuzz.world import Request, Target, encode, multipart

WRONG_METHODS = ("PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "FROBNICATE")
BAD_PATH_VALUES: tuple[str | bytes, ...] = (
    "99999999999999999999",
    "9223372036854775808",
    "9223372036854775807",
    "-9223372036854775809",
    "0",
    "-1",
    "9" * 5000,
    "1e309",
    "NaN",
    "١٢٣",
    "x" * 300,
    "\x00",
    "..",
    "😀",
    " ",
    payloads.LONE_SURROGATE,
    b"\xff",
)
HEADERS: tuple[dict[str, str], ...] = (
    {},
    {},
    {"HX-Request": "true"},
    {"HX-Request": "true", "HX-Target": "\x00"},
    {"Accept": "application/json"},
    {"Accept-Language": "xx-ZZ,\x7f;q=NaN"},
    {"X-Forwarded-For": "999.999.1.1, ::ffff:zz"},
    {"Referer": "http://[::1"},
    {"Cookie": "sessionid=\x00; csrftoken=" + "a" * 4000},
)


def persons_for(target: Target) -> st.SearchStrategy[str]:
    """Mostly the people the page is for, sometimes anyone: outsiders are turned away early."""
    return st.sampled_from([*target.insiders, *target.insiders, *PERSONS])


def _fallback_form(target: Target) -> Form:
    """A form for URLs only reached by buttons on other pages: the matrix's own data."""
    form = Form("post", urlsplit(target.url).path, multipart=False)
    for name, value in target.entry.data.items():
        form.add(name, "text", value)
    return form


@st.composite
def bad_path(draw: st.DrawFn, target: Target) -> str:
    """The target's URL with one captured value replaced by a bad one, percent-encoded."""
    value = draw(st.sampled_from(target.captured))
    bad = draw(st.sampled_from(BAD_PATH_VALUES))
    raw = bad if isinstance(bad, bytes) else bad.encode()
    return target.url.replace(value, quote_from_bytes(raw, safe=""), 1)


@st.composite
def form_request(draw: st.DrawFn, target: Target, path: str) -> Request:
    forms = target.post_forms or [_fallback_form(target)]
    form = draw(st.sampled_from(forms))
    fields = list(form.fields.values())
    pairs = draw(payloads.form_payload(fields))
    uploads: list[tuple[Field, bytes, str]] = [
        (
            upload,
            draw(st.sampled_from(payloads.FILE_BODIES)),
            draw(st.sampled_from(payloads.FILE_NAMES)),
        )
        for upload in fields
        if upload.kind == "file" and draw(st.booleans())
    ]
    headers = draw(st.sampled_from(HEADERS))
    if uploads or (form.multipart and draw(st.booleans())):
        return Request("POST", path, data=multipart(pairs, uploads), headers=headers)
    return Request(
        "POST",
        path,
        encode(pairs),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


@st.composite
def query_request(draw: st.DrawFn, target: Target, path: str) -> Request:
    names = {name for form in target.get_forms for name in form.fields} | target.query_names
    fields = [Field(name, "text") for name in sorted(names | set(payloads.QUERY_NAMES))]
    for form in target.get_forms:
        fields += form.fields.values()
    chosen = draw(st.lists(st.sampled_from(fields), min_size=1, max_size=4))
    pairs = [(field.name, draw(payloads.field_value(field))) for field in chosen]
    query = encode(pairs).decode()
    joiner = "&" if "?" in path else "?"
    return Request("GET", f"{path}{joiner}{query}", headers=draw(st.sampled_from(HEADERS)))


@st.composite
def requests_for(draw: st.DrawFn, target: Target) -> Request:
    """One bad request for the target: a form, a query, a path, a method or a body gone wrong."""
    kinds = ["form", "form", "form", "query", "method", "body"]
    if target.captured:
        kinds += ["path", "path"]
    kind = draw(st.sampled_from(kinds))
    path = target.url
    if kind == "path":
        path = draw(bad_path(target))
        kind = draw(st.sampled_from(("form", "query", "plain")))
        if kind == "plain":
            return Request(draw(st.sampled_from(("GET", "POST"))), path)
    if kind == "form":
        return draw(form_request(target, path))
    if kind == "query":
        return draw(query_request(target, path))
    if kind == "method":
        pairs = draw(payloads.form_payload([]))
        return Request(
            draw(st.sampled_from(WRONG_METHODS)),
            path,
            encode(pairs),
            content_type="application/x-www-form-urlencoded",
        )
    body, content_type = draw(payloads.weird_bodies())
    return Request("POST", path, body, content_type=content_type)
