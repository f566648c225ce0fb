"""Known cross-site scripting payloads come out of a message harmless."""

import re
from html.parser import HTMLParser

import pytest
from django.test import override_settings

from messaging.models import Message
from messaging.tests.kit import MessagingTestCase

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">click</a>',
    '<a href=" javascript:alert(1)">click</a>',
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<img src=x onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<div onmouseover="alert(1)">hover</div>',
    "<body onload=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="data:text/html,<script>alert(1)</script>">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    "<input onfocus=alert(1) autofocus>",
    "<details open ontoggle=alert(1)>",
    '<a href="https://ok.example" onclick="alert(1)">ok</a>',
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '"><script>alert(1)</script>',
    "<a href='vbscript:msgbox(1)'>vb</a>",
    '<link rel="stylesheet" href="javascript:alert(1)">',
    "<style>*{background:url('javascript:alert(1)')}</style>",
    "<!--<script>alert(1)</script>-->",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "[x](&#x6A;avascript:alert(1))",
]

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
SAFE_SCHEMES = ("http://", "https://", "mailto:")


class _Elements(HTMLParser):
    """Collect every element and attribute a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def assert_harmless(html: str) -> None:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.found:
        assert tag in ALLOWED_TAGS, f"<{tag}> survived in {html!r}"
        for name, value in attrs:
            assert not name.startswith("on"), f"{name}= survived in {html!r}"
            assert name != "style", f"style= survived in {html!r}"
            if name in ("href", "src", "action", "formaction", "data"):
                assert (value or "").strip().lower().startswith(SAFE_SCHEMES), (
                    f"{name}={value!r} survived in {html!r}"
                )
        if tag == "a":
            assert ("rel", "nofollow noopener") in attrs, f"link without rel in {html!r}"


class XssTests(MessagingTestCase):
    def test_every_payload_is_neutralised_when_stored(self) -> None:
        for payload in PAYLOADS:
            message = self.say(self.bob, payload)
            assert_harmless(message.body_html)

    @override_settings(MESSAGE_RATE_PER_MINUTE=1000)
    def test_every_payload_is_neutralised_on_the_page_and_in_polls(self) -> None:
        client = self.new_client(self.alice)
        for payload in PAYLOADS:
            client.post(self.url("post", self.channel.pk), {"body": payload})
        assert Message.objects.count() == len(PAYLOADS)
        page = client.get(self.url("conversation", self.channel.pk)).content.decode()
        messages = re.findall(r'<div class="prose msg-body">(.*?)</div>', page, flags=re.S)
        assert messages
        for html in messages:
            assert_harmless(html)
        poll = self.new_client(self.bob).get(self.url("poll", self.channel.pk), {"after": 0})
        for html in re.findall(
            r'<div class="prose msg-body">(.*?)</div>', poll.content.decode(), re.S
        ):
            assert_harmless(html)

    def test_names_and_file_names_are_escaped(self) -> None:
        self.bob.first_name = "<script>alert(1)</script>"
        self.bob.save(update_fields=["first_name"])
        self.say(self.bob, "hi")
        page = self.page(self.alice).content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    def test_the_search_term_is_escaped(self) -> None:
        page = self.page(self.alice, q='"><script>alert(1)</script>').content.decode()
        assert "<script>alert(1)</script>" not in page


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_renders_each_payload_harmless(payload: str) -> None:
    from core.markdown import render_markdown

    assert_harmless(str(render_markdown(payload)))
