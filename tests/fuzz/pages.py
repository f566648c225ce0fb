"""Read the forms and query parameters a page offers, so the fuzzer finds new ones by itself.

A form here is what a browser would send: its method, the path it posts to
and its named fields with their kind (the input type, "select", "textarea",
"button") and the values the page offers. Links back to the same page give
the query parameters a page reads (`?page=2`, `?month=2026-12`).
"""

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit


@dataclass
class Field:
    name: str
    kind: str
    values: list[str] = field(default_factory=list)


@dataclass
class Form:
    method: str
    action: str  # the path the form is sent to
    multipart: bool
    fields: dict[str, Field] = field(default_factory=dict)

    def add(self, name: str, kind: str, value: str | None) -> None:
        entry = self.fields.setdefault(name, Field(name, kind))
        if value is not None and value not in entry.values:
            entry.values.append(value)


@dataclass
class Page:
    forms: list[Form] = field(default_factory=list)
    # Query parameter names read from links that point back to the same path.
    query_names: set[str] = field(default_factory=set)


class _Parser(HTMLParser):
    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.path = urlsplit(url).path
        self.page = Page()
        self.form: Form | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "a" and attr.get("href"):
            target = urlsplit(urljoin(self.url, attr["href"]))
            if target.path == self.path and target.query:
                self.page.query_names.update(name for name, _ in parse_qsl(target.query, True))
        elif tag == "form":
            action = urlsplit(urljoin(self.url, attr.get("action") or self.url)).path
            self.form = Form(
                method=(attr.get("method") or "get").lower(),
                action=action,
                multipart="multipart" in attr.get("enctype", ""),
            )
            self.page.forms.append(self.form)
        elif tag == "option" and self.form is not None and self.select:
            self.form.add(self.select, "select", attr.get("value", ""))
        elif self.form is None or not attr.get("name"):
            return
        elif tag == "input":
            kind = (attr.get("type") or "text").lower()
            self.form.add(attr["name"], kind, attr.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "button":
            self.form.add(attr["name"], "button", attr.get("value", ""))
        elif tag == "select":
            self.select = attr["name"]
            self.form.add(self.select, "select", None)
        elif tag == "textarea":
            self.textarea = attr["name"]
            self.form.add(self.textarea, "textarea", None)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.form is not None and self.textarea and data.strip():
            self.form.add(self.textarea, "textarea", data)


def read_page(url: str, html: str) -> Page:
    """Return the forms and same-page query parameters of the HTML served at `url`."""
    parser = _Parser(url)
    parser.feed(html)
    parser.close()
    return parser.page
