"""Calendar entries as an RFC 5545 iCalendar document.

Every time is written in UTC (the `Z` form), so no VTIMEZONE is needed and
every client agrees on the instant. UIDs are built from the source row
(`session-12@host`), never from its contents, so an edit updates the event a
client already has instead of adding a copy; SEQUENCE and LAST-MODIFIED grow
with each edit so clients know to take the new version.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import icalendar

from courses.services.calendar import DUE, SESSION, CalendarEntry

PRODID = "-//Lectern//Lectern calendar//EN"
# Long texts are cut: calendar clients show a few lines, and the link leads to the rest.
_DESCRIPTION_LIMIT = 2000


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _summary(entry: CalendarEntry) -> str:
    summary = f"Due: {entry.title}" if entry.kind == DUE else entry.title
    if entry.course_title:
        summary = f"{summary} — {entry.course_title}"
    if entry.is_draft:
        summary = f"[Draft] {summary}"
    return summary


def _description(entry: CalendarEntry, link: str) -> str:
    lines: list[str] = []
    if entry.course_title:
        kind = "Live session" if entry.kind == SESSION else "Assignment due"
        lines.append(f"{kind} in {entry.course_title}.")
    if entry.kind == DUE and entry.points is not None:
        lines.append(f"Worth {entry.points} points.")
    if entry.location:
        lines.append(f"Join: {entry.location}")
    notes = entry.notes.strip()
    if notes:
        if len(notes) > _DESCRIPTION_LIMIT:
            notes = notes[:_DESCRIPTION_LIMIT].rstrip() + "…"
        lines.extend(["", notes])
    if link:
        lines.extend(["", f"Open in Lectern: {link}"])
    return "\n".join(lines).strip()


def build_calendar(
    entries: Iterable[CalendarEntry], *, name: str, uid_host: str, base_url: str
) -> bytes:
    """Return `entries` as an iCalendar document.

    `uid_host` makes UIDs globally unique and must not change between fetches;
    `base_url` (scheme and host, no trailing slash) turns entry links absolute.
    """
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    # Hints for how often to fetch again (RFC 7986 and its widely read predecessor).
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for entry in entries:
        link = f"{base_url}{entry.url}" if entry.url else ""
        event = icalendar.Event()
        event.add("uid", f"{entry.uid}@{uid_host}")
        # Without a METHOD, DTSTAMP is when the information last changed (RFC 5545 3.8.7.2).
        event.add("dtstamp", _utc(entry.updated_at))
        event.add("created", _utc(entry.created_at))
        event.add("last-modified", _utc(entry.updated_at))
        event.add("sequence", entry.sequence)
        event.add("dtstart", _utc(entry.starts_at))
        # DTEND must come after DTSTART; a due date or an instant has none.
        if entry.ends_at is not None and entry.ends_at > entry.starts_at:
            event.add("dtend", _utc(entry.ends_at))
        event.add("summary", _summary(entry))
        description = _description(entry, link)
        if description:
            event.add("description", description)
        if link:
            event.add("url", link)
        if entry.location:
            event.add("location", entry.location)
        event.add("status", "TENTATIVE" if entry.is_draft else "CONFIRMED")
        if entry.kind == DUE:
            # A deadline doesn't make anyone busy.
            event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()
