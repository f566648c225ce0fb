"""Find links that take payment outside Lectern in text a teacher wrote.

A teacher who sends students to PayPal.me, Venmo or a Stripe payment link of
their own takes the sale (and the student's protection) off the platform.
`find` returns every such link in a piece of text: a web address with a
payment provider's host and a path that names someone to pay (`paypal.me/jane`,
`buy.stripe.com/…`, `wise.com/pay/…`), with or without `https://` and `www.`.
A Cash App `$cashtag` counts too, but only near the words "Cash App": on its
own, `$HOME` or `$PATH` in a programming course is just text.

Plain mentions are not links: "I use PayPal", "Buy me a coffee sometime",
"wise words", "paypal.com" or "venmo.com" with nothing after them. Lookalike
hosts (`notpaypal.me`) and email addresses don't match either. Text that
spells a link out to dodge a filter ("paypal dot me slash jane") is left to
staff reports: the rules only promise what they can check.

`HINTS` are fragments every match contains (lowercased); the content scan
asks the database only for rows holding one of them, and a test checks that
no positive example escapes them.
"""

import re
from dataclasses import dataclass

# What may follow a host and handle in a link: anything but spaces, quotes and brackets
# (Markdown and HTML wrap links in those).
_REST = r"""[^\s<>()\[\]{}"'`]*"""
_HANDLE = r"[\w.-]*\w"
# Not part of a longer host name, a path or an email address.
_START = r"(?<![^\W_]|[@./$-])(?:https?://)?"


@dataclass(frozen=True)
class Provider:
    name: str
    pattern: str  # after the optional scheme; compiled case-insensitively
    hints: tuple[str, ...]


PROVIDERS = (
    Provider(
        "PayPal",
        rf"(?:www\.)?paypal\.me/{_HANDLE}{_REST}"
        rf"|(?:www\.)?paypal\.com/(?:[a-z]{{2}}/)?"
        rf"(?:paypalme/{_HANDLE}|donate[/?]|pools/c/|ncp/payment/|cgi-bin/webscr\?){_REST}",
        ("paypal",),
    ),
    Provider(
        "Venmo",
        # A profile (venmo.com/u/jane, or the older venmo.com/jane) or a pay code, not one of
        # the site's own pages.
        r"(?:(?:www|account)\.)?venmo\.com/(?:u/|code\?|(?!(?:u|about|business|legal|signup"
        r"|sign-in|login|help|support|security|privacy|terms|resources|pricing|blog|careers"
        r"|contact|download)\b))" + _HANDLE + _REST,
        ("venmo",),
    ),
    Provider(
        "Cash App",
        rf"cash\.app/\$?{_HANDLE}{_REST}|cash\.me/\$?{_HANDLE}{_REST}",
        ("cash.app", "cash.me"),
    ),
    Provider("Ko-fi", rf"(?:www\.)?ko-fi\.com/{_HANDLE}{_REST}", ("ko-fi",)),
    Provider(
        "Buy Me a Coffee",
        rf"(?:www\.)?buymeacoffee\.com/{_HANDLE}{_REST}|bmc\.link/{_HANDLE}{_REST}",
        ("buymeacoffee", "bmc.link"),
    ),
    Provider(
        "Wise",
        rf"(?:www\.)?(?:transfer)?wise\.com/pay/{_HANDLE}{_REST}",
        ("wise.com/pay",),
    ),
    Provider("Revolut", rf"(?:www\.)?revolut\.me/{_HANDLE}{_REST}", ("revolut.me",)),
    Provider("Monzo", rf"(?:www\.)?monzo\.me/{_HANDLE}{_REST}", ("monzo.me",)),
    Provider(
        "Stripe payment link",
        # Lectern's own checkouts are Checkout Sessions on checkout.stripe.com, never these.
        rf"(?:buy|donate)\.stripe\.com/{_HANDLE}{_REST}",
        ("buy.stripe.com", "donate.stripe.com"),
    ),
    Provider(
        "Gumroad",
        rf"(?:[\w-]+\.)?gumroad\.com/l/{_HANDLE}{_REST}|gum\.co/{_HANDLE}{_REST}",
        ("gumroad.com/l/", "gum.co/"),
    ),
)

_LINKS = re.compile(
    "|".join(
        f"(?P<p{index}>{_START}(?:{provider.pattern}))" for index, provider in enumerate(PROVIDERS)
    ),
    re.IGNORECASE,
)
# A cashtag: "$" and 1 to 20 letters, digits or underscores, starting with a letter
# ("$50" is a price), not inside a word or a longer "$…" token.
_CASHTAG = re.compile(r"(?<![\w$])\$[a-z][a-z0-9_]{0,19}(?![\w$])", re.IGNORECASE)
_CASH_APP_WORDS = re.compile(r"\bcash[ .-]?app\b", re.IGNORECASE)
# How near the words "Cash App" a cashtag must be to count.
CASHTAG_REACH = 60
_CASH_APP_HINTS = ("cashapp", "cash app", "cash-app")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

HINTS = (
    tuple(dict.fromkeys(hint for provider in PROVIDERS for hint in provider.hints))
    + _CASH_APP_HINTS
)


@dataclass(frozen=True)
class PaymentLink:
    provider: str
    url: str  # as written, less trailing punctuation
    start: int
    end: int

    @property
    def key(self) -> str:
        return normalise(self.url)


def normalise(url: str) -> str:
    """Return `url` without scheme, `www.`, final slash or case: one link, however written."""
    bare = re.sub(r"^(?:https?://)?(?:www\.)?", "", url.strip(), flags=re.IGNORECASE)
    return bare.lower().rstrip("/")


def find(text: str) -> list[PaymentLink]:
    """Return the off-platform payment links in `text`, in the order they appear."""
    if not text:
        return []
    found = []
    for match in _LINKS.finditer(text):
        index = int(next(name for name, value in match.groupdict().items() if value)[1:])
        url = match.group().rstrip(".,;:!?*_~")
        found.append(
            PaymentLink(PROVIDERS[index].name, url, match.start(), match.start() + len(url))
        )
    taken = [(link.start, link.end) for link in found]
    for match in _CASHTAG.finditer(text):
        inside_link = any(start <= match.start() < end for start, end in taken)
        if not inside_link and _near_cash_app(text, match.start(), match.end()):
            found.append(PaymentLink("Cash App", match.group(), match.start(), match.end()))
    return sorted(found, key=lambda link: link.start)


def _near_cash_app(text: str, start: int, end: int) -> bool:
    window = text[max(0, start - CASHTAG_REACH) : end + CASHTAG_REACH]
    return _CASH_APP_WORDS.search(window) is not None


def snippet(text: str, link: PaymentLink, reach: int = 40) -> str:
    """Return the link with a few words around it, on one line, for reviewers.

    Words cut by `reach` are left out, and so are email addresses: the
    snippet goes into evidence kept after accounts are gone.
    """
    start, end = max(0, link.start - reach), min(len(text), link.end + reach)
    before, after = text[start : link.start], text[link.end : end]
    if start > 0 and not text[start - 1].isspace():
        before = before.split(maxsplit=1)[1] if len(before.split(maxsplit=1)) > 1 else ""
    if end < len(text) and not text[end].isspace():
        after = after.rsplit(maxsplit=1)[0] if len(after.rsplit(maxsplit=1)) > 1 else ""
    words = " ".join(f"{before}{text[link.start : link.end]}{after}".split())
    words = _EMAIL.sub("[email address]", words)
    return f"{'…' if start > 0 else ''}{words}{'…' if end < len(text) else ''}"
