"""Off-platform payment links: the matcher on its own, then the scan of teachers' content."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from billing import payment_links, tasks
from billing.models import FraudSignal
from billing.services import fraud, fraud_review
from courses.models import Course, Enrollment, ItemKind
from courses.services import courses as course_services
from courses.services import items as item_services
from courses.tests.factories import CourseFactory, CourseItemFactory
from messaging import services as messaging
from tests.base import (
    LecternTestCase,
    TeacherFactory,
    count_queries,
)

Rule = FraudSignal.Rule
Status = FraudSignal.Status


# --- The payment-link matcher ----------------------------------------------------------------

FOUND = [
    ("Pay me at paypal.me/janedoe, thanks!", "PayPal", "paypal.me/janedoe"),
    ("https://www.paypal.me/JaneDoe/25EUR", "PayPal", "https://www.paypal.me/JaneDoe/25EUR"),
    ("[pay here](https://paypal.com/paypalme/jane)", "PayPal", "https://paypal.com/paypalme/jane"),
    (
        "Tips: https://www.paypal.com/donate/?hosted_button_id=AB12",
        "PayPal",
        "https://www.paypal.com/donate/?hosted_button_id=AB12",
    ),
    ("venmo.com/u/Jane-Doe", "Venmo", "venmo.com/u/Jane-Doe"),
    ("https://account.venmo.com/u/jane", "Venmo", "https://account.venmo.com/u/jane"),
    ("Venmo: venmo.com/janedoe.", "Venmo", "venmo.com/janedoe"),
    ("cash.app/$jane", "Cash App", "cash.app/$jane"),
    ("Send it on Cash App: $JaneDoe", "Cash App", "$JaneDoe"),
    ("$jane_d on cashapp please", "Cash App", "$jane_d"),
    ("Support me: ko-fi.com/jane", "Ko-fi", "ko-fi.com/jane"),
    ("https://buymeacoffee.com/jane", "Buy Me a Coffee", "https://buymeacoffee.com/jane"),
    ("bmc.link/jane", "Buy Me a Coffee", "bmc.link/jane"),
    ("https://wise.com/pay/me/janed", "Wise", "https://wise.com/pay/me/janed"),
    ("wise.com/pay/r/abc123", "Wise", "wise.com/pay/r/abc123"),
    ("revolut.me/jane", "Revolut", "revolut.me/jane"),
    ("monzo.me/janedoe/10", "Monzo", "monzo.me/janedoe/10"),
    (
        "Cheaper here: https://buy.stripe.com/test_14k5kE",
        "Stripe payment link",
        "https://buy.stripe.com/test_14k5kE",
    ),
    ("jane.gumroad.com/l/course", "Gumroad", "jane.gumroad.com/l/course"),
    ("_paypal.me/jane_", "PayPal", "paypal.me/jane"),
    ("**https://PayPal.me/jane**", "PayPal", "https://PayPal.me/jane"),
    ("<https://paypal.me/jane>", "PayPal", "https://paypal.me/jane"),
]

NOT_FOUND = [
    "I use PayPal for everything",
    "Pay with Venmo or Cash App? No: pay on Lectern.",
    "Buy me a coffee sometime!",
    "Some wise words about pottery.",
    "Ko-fi is a nice site.",
    "paypal.com",
    "venmo.com",
    "https://venmo.com/about",
    "venmo.com/u/",
    "wise.com and wise.com/pay",
    "revolut.me",
    "notpaypal.me/jane",
    "evil.paypal.me/jane",
    "write to me@paypal.me",
    "https://www.paypal.com/signin",
    "echo $HOME and $PATH",
    "It costs $50, or $1,200 for the year.",
    "checkout.stripe.com/c/pay/cs_test_123",
    "Read stripe.com/docs",
    "paypal dot me slash jane",
    "Cash App is one app. Far later in the course, after a long digression, we set $PATH.",
]


@pytest.mark.parametrize(("text", "provider", "url"), FOUND)
def test_it_finds_a_payment_link(text: str, provider: str, url: str) -> None:
    found = payment_links.find(text)
    assert [(link.provider, link.url) for link in found] == [(provider, url)]
    assert text[found[0].start : found[0].end] == url


@pytest.mark.parametrize("text", NOT_FOUND)
def test_it_ignores_text_that_is_not_a_payment_link(text: str) -> None:
    assert payment_links.find(text) == []


@pytest.mark.parametrize(("text", "provider", "url"), FOUND)
def test_every_link_holds_a_hint_the_database_filter_asks_for(
    text: str, provider: str, url: str
) -> None:
    assert any(hint in text.lower() for hint in payment_links.HINTS)


def test_it_finds_every_link_in_a_text_in_order() -> None:
    text = "Venmo venmo.com/u/jo or ko-fi.com/jo, and Cash App $jo."
    found = payment_links.find(text)
    assert [link.provider for link in found] == ["Venmo", "Ko-fi", "Cash App"]


def test_one_link_written_two_ways_is_one_key() -> None:
    a, b = payment_links.find("https://www.PayPal.me/Jane/ and paypal.me/jane")
    assert a.key == b.key == "paypal.me/jane"


def test_the_snippet_shows_the_link_in_its_sentence() -> None:
    text = "Welcome!\n\n" + "x" * 100 + " Pay   me at paypal.me/jane before class. " + "y" * 100
    link = payment_links.find(text)[0]
    assert payment_links.snippet(text, link, reach=12) == "…Pay me at paypal.me/jane before…"
    assert payment_links.snippet(text, link, reach=11) == "…me at paypal.me/jane before…"


def test_the_snippet_leaves_email_addresses_out() -> None:
    text = "Questions: jo.doe+pay@example.co.uk, or pay at revolut.me/jo"
    link = payment_links.find(text)[0]
    assert payment_links.snippet(text, link) == "…[email address], or pay at revolut.me/jo"


# --- Off-platform payment links --------------------------------------------------------------


class PaymentLinkScanTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="kiln")

    def test_a_link_in_a_course_description_raises_a_signal(self) -> None:
        course_services.update_course(
            course=self.course,
            fields={
                "description": "Welcome!\n\nPay me (ask al@example.com) at https://paypal.me/alice."
            },
        )
        assert fraud.scan_payment_links() == 1
        signal = FraudSignal.objects.get()
        assert (signal.teacher, signal.rule) == (self.alice, "off_platform_link")
        assert signal.summary == "1 payment link outside Lectern (PayPal) in: course."
        assert signal.evidence["links"] == [
            {
                "in": "course",
                "course_id": self.course.pk,
                "field": "description",
                "provider": "PayPal",
                "url": "https://paypal.me/alice",
                "snippet": "…Pay me (ask [email address]) at https://paypal.me/alice.",
            }
        ]

    def test_an_edited_item_is_found_by_the_next_scan(self) -> None:
        item = CourseItemFactory.create(course=self.course, body="Read chapter one.")
        assert fraud.scan_payment_links() == 0
        with time_machine.travel(timezone.now() + timedelta(minutes=5)):
            item_services.update_item(item=item, fields={"body": "Tip jar: ko-fi.com/alice"})
            assert fraud.scan_payment_links() == 1
        entry = FraudSignal.objects.get().evidence["links"][0]
        assert (entry["in"], entry["item_id"], entry["field"]) == ("course item", item.pk, "body")

    def test_a_link_item_pointing_at_a_payment_page_counts(self) -> None:
        CourseItemFactory.create(
            course=self.course, kind=ItemKind.LINK, url="https://revolut.me/al"
        )
        fraud.scan_payment_links()
        assert FraudSignal.objects.get().evidence["links"][0]["field"] == "url"

    def test_a_teachers_private_note_is_not_scanned(self) -> None:
        CourseItemFactory.create(
            course=self.course, kind=ItemKind.NOTE, is_private=True, body="paypal.me/alice"
        )
        assert fraud.scan_payment_links() == 0

    def test_a_teachers_message_is_scanned_and_a_students_is_not(self) -> None:
        Enrollment.objects.create(course=self.course, student=self.bob)
        channel = messaging.get_or_create_channel(course=self.course)
        messaging.post_message(conversation=channel, author=self.bob, body="venmo.com/u/bob")
        mine = messaging.post_message(
            conversation=channel, author=self.alice, body="Pay the rest on cash.app/$alice"
        )
        assert fraud.scan_payment_links() == 1
        signal = FraudSignal.objects.get()
        assert signal.teacher == self.alice
        entry = signal.evidence["links"][0]
        assert (entry["in"], entry["message_id"], entry["url"]) == (
            "message",
            mine.pk,
            "cash.app/$alice",
        )

    def test_an_edited_message_is_scanned_again(self) -> None:
        channel = messaging.get_or_create_channel(course=self.course)
        message = messaging.post_message(conversation=channel, author=self.alice, body="Hello")
        with time_machine.travel(timezone.now() + timedelta(days=2)):
            assert fraud.scan_payment_links() == 0
            messaging.edit_message(message=message, editor=self.alice, body="wise.com/pay/me/al")
            assert fraud.scan_payment_links() == 1

    def test_plain_mentions_raise_nothing(self) -> None:
        self.course.description = "I used to take PayPal and Venmo. Now everything is on Lectern."
        self.course.save()
        assert fraud.scan_payment_links() == 0

    def test_new_links_join_the_open_signal_instead_of_a_second_one(self) -> None:
        course_services.update_course(course=self.course, fields={"summary": "ko-fi.com/alice"})
        fraud.scan_payment_links()
        with time_machine.travel(timezone.now() + timedelta(minutes=5)):
            CourseItemFactory.create(course=self.course, body="Or venmo.com/u/alice")
            assert fraud.scan_payment_links() == 1
            assert fraud.scan_payment_links() == 0  # the overlap sees them again: nothing new
        signal = FraudSignal.objects.get()
        assert [entry["provider"] for entry in signal.evidence["links"]] == ["Ko-fi", "Venmo"]
        assert (
            signal.summary
            == "2 payment links outside Lectern (Ko-fi, Venmo) in: course, course item."
        )

    def test_a_reviewed_link_is_not_raised_again_but_a_new_one_is(self) -> None:
        course_services.update_course(course=self.course, fields={"summary": "ko-fi.com/alice"})
        fraud.scan_payment_links()
        fraud_review.dismiss_signal(
            signal=FraudSignal.objects.get(), by=self.staff, note="A tip jar, allowed."
        )
        with time_machine.travel(timezone.now() + timedelta(minutes=5)):
            course_services.update_course(
                course=self.course, fields={"summary": "Tips: https://KO-FI.com/alice/"}
            )
            assert fraud.scan_payment_links() == 0
            CourseItemFactory.create(course=self.course, body="buy.stripe.com/abc")
            assert fraud.scan_payment_links() == 1
        signal = FraudSignal.objects.get(status=Status.OPEN)
        assert [entry["url"] for entry in signal.evidence["links"]] == ["buy.stripe.com/abc"]

    def test_content_older_than_the_last_scan_is_not_read_again(self) -> None:
        fraud.scan_payment_links()
        with time_machine.travel(timezone.now() + timedelta(hours=1)):
            # Saved before the last scan started, and committed before the scan's overlap.
            Course.objects.filter(pk=self.course.pk).update(
                description="paypal.me/alice", updated_at=timezone.now() - timedelta(minutes=75)
            )
            assert fraud.scan_payment_links() == 0

    def test_the_scan_reads_each_kind_of_content_in_one_query(self) -> None:
        def changed(n: int) -> None:
            for i in range(n):
                course = CourseFactory.create(teacher=TeacherFactory.create(),
                                              description=f"PayPal is one option {i}")  # fmt: skip
                CourseItemFactory.create(course=course, body="Venmo? Not here.")

        changed(3)
        few, _, _ = count_queries(
            lambda: fraud.scan_payment_links(since=timezone.now() - timedelta(hours=1))
        )
        changed(30)
        many, _, _ = count_queries(
            lambda: fraud.scan_payment_links(since=timezone.now() - timedelta(hours=1))
        )
        assert few == many == 3

    def test_the_periodic_job_scans(self) -> None:
        course_services.update_course(course=self.course, fields={"summary": "monzo.me/alice"})
        assert tasks.scan_payment_links_task.delay().get() == 1
