"""A storefront visit as the analytics cookies describe it: who (a random id), from where.

Two first-party cookies, both signed so a visitor cannot forge another's id:

- `cls_attrib`, set once, on the first storefront page a browser opens: a
  random id (for counting unique visitors), the referring site's domain, the
  landing page and the time. It is never rewritten, so it keeps the first
  touch for `ATTRIB_DAYS`.
- `cls_utm`, set whenever a storefront page is opened with `utm_*`
  parameters: the campaign of that visit, replacing the previous one.

A browser that sends `Sec-GPC: 1` or `DNT: 1` gets neither cookie, and what it
does is counted without a visitor id or a source.
"""

import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

ATTRIB_COOKIE = "cls_attrib"
UTM_COOKIE = "cls_utm"
ATTRIB_DAYS = 90
UTM_DAYS = 30
_DAY = 24 * 3600
_ATTRIB_SALT = "analytics.cls_attrib"
_UTM_SALT = "analytics.cls_utm"
UTM_FIELDS = ("source", "medium", "campaign", "term", "content")
MAX_UTM = 100
MAX_PATH = 200
# What a campaign value keeps: letters, digits and a little punctuation; the rest goes.
_UNSAFE = re.compile(r"[^\w .,:/+@()&=~-]+")


def opted_out(request: HttpRequest) -> bool:
    """Say whether the browser asks not to be tracked (Global Privacy Control or Do Not Track)."""
    return request.headers.get("Sec-GPC", "").strip() == "1" or (
        request.headers.get("DNT", "").strip() == "1"
    )


def clean_utm(value: str) -> str:
    return " ".join(_UNSAFE.sub("", value).split())[:MAX_UTM]


def referrer_domain(request: HttpRequest) -> str:
    """Return the domain of the site that sent the visitor, or "" for none or this site."""
    referer = request.headers.get("Referer", "")
    if not referer:
        return ""
    try:
        host = (urlsplit(referer).hostname or "").lower()
    except ValueError:
        return ""
    host = host.removeprefix("www.")
    own = request.get_host().split(":")[0].lower().removeprefix("www.")
    if not host or host == own or not re.fullmatch(r"[a-z0-9.-]{1,253}", host):
        return ""
    return host


@dataclass(frozen=True)
class FirstTouch:
    """What `cls_attrib` holds."""

    visitor_id: str
    referrer_domain: str
    landing_path: str
    at: int  # seconds since the epoch

    @property
    def first_seen(self) -> datetime:
        return datetime.fromtimestamp(self.at, tz=UTC)

    def dumps(self) -> str:
        return signing.dumps(
            {"id": self.visitor_id, "ref": self.referrer_domain, "land": self.landing_path,
             "at": self.at},
            salt=_ATTRIB_SALT,
        )  # fmt: skip


@dataclass(frozen=True)
class Campaign:
    """What `cls_utm` holds: a visit's `utm_*` parameters."""

    source: str = ""
    medium: str = ""
    campaign: str = ""
    term: str = ""
    content: str = ""

    def __bool__(self) -> bool:
        return any((self.source, self.medium, self.campaign, self.term, self.content))

    def dumps(self) -> str:
        return signing.dumps({name: getattr(self, name) for name in UTM_FIELDS}, salt=_UTM_SALT)


def _load(value: str | None, salt: str) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        data = signing.loads(value, salt=salt)
    except signing.BadSignature:
        return None
    return data if isinstance(data, dict) else None


def read_first_touch(request: HttpRequest) -> FirstTouch | None:
    data = _load(request.COOKIES.get(ATTRIB_COOKIE), _ATTRIB_SALT)
    if data is None or not isinstance(data.get("id"), str):
        return None
    return FirstTouch(
        visitor_id=data["id"][:64],
        referrer_domain=str(data.get("ref", ""))[:253],
        landing_path=str(data.get("land", ""))[:MAX_PATH],
        at=int(data["at"]) if isinstance(data.get("at"), int) else 0,
    )


def read_campaign(request: HttpRequest) -> Campaign | None:
    data = _load(request.COOKIES.get(UTM_COOKIE), _UTM_SALT)
    if data is None:
        return None
    return Campaign(**{name: clean_utm(str(data.get(name, ""))) for name in UTM_FIELDS})


def campaign_in_url(request: HttpRequest) -> Campaign:
    """Return the `utm_*` parameters of the address; the source and medium in lower case."""
    values = {name: clean_utm(request.GET.get(f"utm_{name}", "")) for name in UTM_FIELDS}
    values["source"] = values["source"].lower()
    values["medium"] = values["medium"].lower()
    return Campaign(**values)


@dataclass
class Visit:
    """The request's visitor: their id and source, or nothing for those who opted out."""

    tracked: bool
    first_touch: FirstTouch | None = None
    campaign: Campaign | None = None
    referrer: str = ""  # this request's referring site
    new_cookies: dict[str, str] = field(default_factory=dict)

    @property
    def visitor_id(self) -> str:
        return self.first_touch.visitor_id if self.first_touch else ""

    @property
    def utm_source(self) -> str:
        return self.campaign.source if self.campaign else ""

    @property
    def referrer_domain(self) -> str:
        """This request's referring site, else the one of the first visit."""
        if not self.tracked:
            return ""
        return self.referrer or (self.first_touch.referrer_domain if self.first_touch else "")

    @property
    def known(self) -> bool:
        """Say whether anything is known of where the visitor came from."""
        return bool(self.first_touch or self.campaign)


def visit_of(request: HttpRequest) -> Visit:
    """Read the visit from the request's cookies (no new cookies are decided here)."""
    if opted_out(request):
        return Visit(tracked=False)
    return Visit(
        tracked=True,
        first_touch=read_first_touch(request),
        campaign=read_campaign(request),
        referrer=referrer_domain(request),
    )


def landing_visit(request: HttpRequest) -> Visit:
    """Read the visit of a storefront page, deciding the cookies it sets."""
    visit = visit_of(request)
    if not visit.tracked:
        return visit
    if visit.first_touch is None:
        visit.first_touch = FirstTouch(
            visitor_id=secrets.token_urlsafe(16),
            referrer_domain=visit.referrer,
            landing_path=request.path[:MAX_PATH],
            at=int(time.time()),
        )
        visit.new_cookies[ATTRIB_COOKIE] = visit.first_touch.dumps()
    if request.GET:
        from_url = campaign_in_url(request)
        if from_url and from_url != visit.campaign:
            visit.campaign = from_url
            visit.new_cookies[UTM_COOKIE] = from_url.dumps()
    return visit


def set_cookies(request: HttpRequest, response: HttpResponse, visit: Visit) -> None:
    """Set the cookies `landing_visit` decided: HttpOnly, SameSite=Lax, Secure over https."""
    secure = settings.SESSION_COOKIE_SECURE or request.is_secure()
    for name, value in visit.new_cookies.items():
        days = ATTRIB_DAYS if name == ATTRIB_COOKIE else UTM_DAYS
        response.set_cookie(
            name, value, max_age=days * _DAY, httponly=True, samesite="Lax", secure=secure
        )
