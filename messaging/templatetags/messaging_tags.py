import datetime
from typing import Any

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.utils import dateformat, timezone

from messaging.fragments import SHARED

register = template.Library()


class ViewerChoice(template.Node):
    """Render one branch or the other depending on who is looking.

    For one person, the branch is chosen on the spot. In a rendering shared by
    everyone (`messaging.fragments`), both branches are kept between marks and
    each viewer's copy is resolved by `fragments.personalise`.
    """

    def __init__(self, kind: str, subject: FilterExpression, yes: NodeList, no: NodeList) -> None:
        self.kind, self.subject, self.yes, self.no = kind, subject, yes, no

    def render(self, context: template.Context) -> str:
        subject = self.subject.resolve(context)
        marks = context.get(SHARED)
        if marks is not None:
            condition = _condition(self.kind, subject)
            return marks.choice(condition, self.yes.render(context), self.no.render(context))
        chosen = self._holds(subject, context.get("user"))
        return (self.yes if chosen else self.no).render(context)

    def _holds(self, subject: Any, viewer: Any) -> bool:
        if self.kind == "mine":
            return viewer is not None and subject.author_id == viewer.pk
        if self.kind == "new":
            return bool(subject.is_new)
        return bool(subject.mine)


def _condition(kind: str, subject: Any) -> str:
    """Name what `fragments.personalise` must check for this viewer."""
    if kind == "mine":
        return f"mine:{subject.author_id}"
    if kind == "new":
        m = subject.message
        return f"new:{m.pk}:{m.author_id}:{m.created_at.timestamp()}"
    return f"reacted:{subject.message_id}:{subject.emoji}"


def _viewer_choice(kind: str, parser: Parser, token: Token) -> ViewerChoice:
    name, *args = token.split_contents()
    if len(args) != 1:
        raise template.TemplateSyntaxError(f"{name} takes exactly one argument")
    end = f"end{name}"
    yes = parser.parse(("else", end))
    no = NodeList()
    if parser.next_token().contents == "else":
        no = parser.parse((end,))
        parser.delete_first_token()
    return ViewerChoice(kind, parser.compile_filter(args[0]), yes, no)


@register.tag
def if_mine(parser: Parser, token: Token) -> ViewerChoice:
    """`{% if_mine message %}…{% else %}…{% endif_mine %}`: the viewer wrote `message`."""
    return _viewer_choice("mine", parser, token)


@register.tag
def if_reacted(parser: Parser, token: Token) -> ViewerChoice:
    """`{% if_reacted reaction %}…{% else %}…{% endif_reacted %}`: one of them is the viewer's."""
    return _viewer_choice("reacted", parser, token)


@register.filter
def message_time(value: datetime.datetime | None) -> str:
    """Return "14:05" today, "Mon 3 Nov, 14:05" this year, "3 Nov 2025, 14:05" before."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    today = timezone.localdate()
    if local.date() == today:
        return dateformat.format(local, "H:i")
    if local.year == today.year:
        return dateformat.format(local, "D j M, H:i")
    return dateformat.format(local, "j M Y, H:i")


@register.filter
def list_time(value: datetime.datetime | None) -> str:
    """Return "14:05" today, "3 Nov" this year, "3 Nov 2025" before: short, for lists."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    today = timezone.localdate()
    if local.date() == today:
        return dateformat.format(local, "H:i")
    return dateformat.format(local, "j M" if local.year == today.year else "j M Y")


@register.filter
def initials(user: object) -> str:
    """Return up to two capital letters for an avatar."""
    first = (getattr(user, "first_name", "") or "")[:1]
    last = (getattr(user, "last_name", "") or "")[:1]
    letters = (first + last) or (getattr(user, "email", "") or "?")[:1]
    return letters.upper()


@register.filter
def display_name(user: object) -> str:
    """Return a person's full name, or a plain stand-in when they have none."""
    name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return name or "Someone"


@register.tag
def if_new(parser: Parser, token: Token) -> ViewerChoice:
    """`{% if_new row %}…{% endif_new %}`: the row's message is unread for the viewer."""
    return _viewer_choice("new", parser, token)
