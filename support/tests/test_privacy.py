"""Support requests in the privacy registry: exported, erased with the account, kept 24 months."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress

from accounts.models import User
from privacy import retention
from privacy.registry import registry
from support import services
from support.models import SupportReply, SupportRequest

pytestmark = pytest.mark.django_db

SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLOSED = SENT + timedelta(days=3)
REQUESTS = registry.entries["support.SupportRequest"]
REPLIES = registry.entries["support.SupportReply"]


def ask(
    user: User | None = None, email: str = "", message: str = "Help, please."
) -> SupportRequest:
    return services.submit_request(
        user=user,
        name=user.get_full_name() if user else "Someone",
        email=email or (user.email if user else "someone@example.org"),
        category="other",
        message=message,
    )


def test_it_exports_the_persons_requests_and_replies(bob: User, carol: User, staff: User) -> None:
    mine = ask(bob, message="Where is my certificate?")
    ask(email=bob.email.upper(), message="Before I signed up: is it free?")
    ask(carol, message="Carol's own question.")
    ask(email="stranger@example.org", message="Someone else entirely.")
    services.reply(support_request=mine, staff=staff, text="On your course page.")

    exported = list(REQUESTS.exporter(bob))
    replies = list(REPLIES.exporter(bob))

    assert [row["message"] for row in exported] == [
        "Where is my certificate?",
        "Before I signed up: is it free?",
    ]
    assert set(exported[0]) == set(REQUESTS.schema)
    assert replies == [
        {"request_id": mine.pk, "text": "On your course page.", "sent_at": replies[0]["sent_at"]}
    ]
    assert "staff" not in replies[0]


def test_it_finds_requests_sent_from_another_verified_address(bob: User) -> None:
    EmailAddress.objects.create(user=bob, email="bob.old@example.org", verified=True)
    EmailAddress.objects.create(user=bob, email="bob.typo@example.org", verified=False)
    ask(email="bob.old@example.org", message="From my old address.")
    ask(email="bob.typo@example.org", message="Not proven to be bob's.")

    assert [row["message"] for row in REQUESTS.exporter(bob)] == ["From my old address."]


def test_it_erases_the_requests_with_the_account(bob: User, carol: User, staff: User) -> None:
    mine = ask(bob)
    ask(email=bob.email)
    services.reply(support_request=mine, staff=staff, text="Answered.")
    theirs = ask(carol)

    REPLIES.eraser(bob)
    REQUESTS.eraser(bob)

    assert list(SupportRequest.objects.all()) == [theirs]
    assert not SupportReply.objects.exists()


def test_it_keeps_a_staff_members_replies_when_their_account_goes(bob: User, staff: User) -> None:
    services.reply(support_request=ask(bob), staff=staff, text="Answered.")

    staff.delete()

    assert SupportReply.objects.get().staff is None


def test_it_deletes_requests_24_months_after_closing(bob: User) -> None:
    with time_machine.travel(SENT, tick=False):
        closed = ask(bob)
    with time_machine.travel(CLOSED, tick=False):
        services.close(SupportRequest.objects.filter(pk=closed.pk))
        still_open = ask(email="someone@example.org")
    with time_machine.travel(CLOSED + timedelta(days=365), tick=False):
        recent = ask(bob)
        services.close(SupportRequest.objects.filter(pk=recent.pk))

    with time_machine.travel(CLOSED + timedelta(days=729), tick=False):
        retention.sweep_all()
    assert SupportRequest.objects.count() == 3

    with time_machine.travel(CLOSED + timedelta(days=731), tick=False):
        retention.sweep_all()
    assert set(SupportRequest.objects.all()) == {recent}
    # Never closed, and untouched for 24 months as well: it goes too.
    assert not SupportRequest.objects.filter(pk=still_open.pk).exists()


def test_it_counts_24_months_from_the_last_reply_when_never_closed(bob: User, staff: User) -> None:
    with time_machine.travel(SENT, tick=False):
        request = ask(bob)
    with time_machine.travel(SENT + timedelta(days=400), tick=False):
        services.reply(support_request=request, staff=staff, text="Late answer.")

    with time_machine.travel(SENT + timedelta(days=740), tick=False):
        retention.sweep_all()
    assert SupportRequest.objects.filter(pk=request.pk).exists()

    with time_machine.travel(SENT + timedelta(days=1131), tick=False):
        retention.sweep_all()
    assert not SupportRequest.objects.exists()
    assert not SupportReply.objects.exists()


def test_it_states_the_period_for_people() -> None:
    assert REQUESTS.retention.period == timedelta(days=730)
    assert "24 months after the request is closed" in REQUESTS.retention.description
    assert REQUESTS.retention.swept
