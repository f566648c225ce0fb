"""Sales totals (GMV): kept in step by payments and refunds, folded, rebuilt, shown to staff."""

from datetime import UTC, date, datetime, timedelta
from io import StringIO
from typing import Any

import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from billing.models import GmvMonth, GmvYear, Purchase
from billing.services import gmv, outcomes, refunds
from billing.tests.fake_stripe import post_event, serve_for
from billing.tests.gmv_figures import expected, fold, stored
from billing.tests.kit import seller
from courses.tests.factories import CourseFactory
from privacy import retention
from privacy.registry import registry
from tests.base import LecternTestCase, StudentFactory, TeacherFactory, count_queries

Status = Purchase.Status
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def months_ago(months: int, *, day: int = 10) -> datetime:
    index = NOW.year * 12 + NOW.month - 1 - months
    return datetime(index // 12, index % 12 + 1, day, 12, 0, tzinfo=UTC)


class GmvTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, price_amount=12000)
        self.clock = time_machine.travel(NOW, tick=False)
        self.clock.start()
        self.addCleanup(self.clock.stop)

    def sale(self, paid_at: datetime, **fields: Any) -> Purchase:
        """A purchase of alice's course, paid at `paid_at` through the payment outcome."""
        amount = fields.pop("amount", 12000)
        values = {
            "student": self.bob,
            "teacher": self.alice,
            "course": self.course,
            "course_title": self.course.title,
            "connect_account_id": "acct_test_alice",
            "gross_amount": amount,
            "amount": amount,
            "currency": "EUR",
            "application_fee_amount": amount // 20,
            **fields,
        }
        purchase = Purchase.objects.create(**values)
        with time_machine.travel(paid_at, tick=False):
            outcomes.session_completed(
                session={
                    "id": f"cs_test_{purchase.pk}",
                    "metadata": {"purchase_id": str(purchase.pk)},
                    "payment_status": "paid" if purchase.amount else "no_payment_required",
                    "payment_intent": f"pi_test_{purchase.pk}" if purchase.amount else None,
                }
            )
        purchase.refresh_from_db()
        return purchase

    def refund(self, purchase: Purchase, refunded: int, *, at: datetime = NOW) -> None:
        with time_machine.travel(at, tick=False):
            refunds.charge_refunded(
                charge={
                    "id": f"ch_test_{purchase.pk}",
                    "object": "charge",
                    "payment_intent": f"pi_test_{purchase.pk}",
                    "metadata": {"purchase_id": str(purchase.pk)},
                    "amount_refunded": refunded,
                }
            )

    def test_it_counts_a_sale_and_its_refund_in_the_month_of_the_sale(self) -> None:
        purchase = self.sale(months_ago(2, day=28), gross_amount=15000, discount_amount=3000)
        self.refund(purchase, 4000)  # two months later: still the sale's month
        row = GmvMonth.objects.get()
        assert (row.teacher_id, row.month, row.currency) == (self.alice.pk, date(2026, 9, 1), "EUR")
        # Charged 120.00 after the coupon; the fee kept is 6.00 - 6.00 * 40 // 120 = 4.00.
        assert (row.gross, row.refunds, row.fees, row.sales) == (12000, 4000, 400, 1)
        assert (row.course_count, row.student_count) == (1, 1)
        assert gmv.rebuild() == (1, 0)
        assert stored()[0][(self.alice.pk, date(2026, 9, 1), "EUR")] == (12000, 4000, 400, 1, 1, 1)

    def test_it_counts_the_month_in_utc(self) -> None:
        self.sale(datetime(2026, 9, 30, 23, 30, tzinfo=UTC))
        self.sale(datetime(2026, 10, 1, 0, 30, tzinfo=UTC), student=self.dave)
        assert sorted(GmvMonth.objects.values_list("month", "sales")) == [
            (date(2026, 9, 1), 1),
            (date(2026, 10, 1), 1),
        ]

    def test_a_duplicated_event_changes_nothing(self) -> None:
        purchase = self.sale(months_ago(1))
        for _ in range(2):
            self.refund(purchase, 5000)
        outcomes.session_completed(
            session={"metadata": {"purchase_id": str(purchase.pk)}, "payment_status": "paid"}
        )
        purchase.refresh_from_db()
        gmv.purchase_changed(purchase)
        assert stored()[0] == {
            (self.alice.pk, date(2026, 10, 1), "EUR"): (12000, 5000, 350, 1, 1, 1)
        }

    def test_it_keeps_the_fee_rounding_of_the_purchase(self) -> None:
        # fee 7 on 999, 500 refunded: 7 - 7 * 500 // 999 = 4, as `Purchase.fee_kept` says.
        purchase = self.sale(months_ago(1), amount=999, application_fee_amount=7)
        self.refund(purchase, 500)
        purchase.refresh_from_db()
        assert purchase.fee_kept == 4
        assert GmvMonth.objects.get().fees == 4

    def test_a_zero_decimal_currency_has_its_own_row_in_whole_units(self) -> None:
        self.sale(months_ago(1), amount=3000, currency="JPY", application_fee_amount=150)
        yen = self.sale(
            months_ago(1),
            amount=4500,
            currency="JPY",
            application_fee_amount=225,
            student=self.dave,
        )
        self.refund(yen, 1000)
        self.sale(months_ago(1), student=self.carol)
        rows = {r.currency: r for r in GmvMonth.objects.all()}
        assert set(rows) == {"EUR", "JPY"}
        # ¥225 - ¥225 * 1000 // 4500 = ¥175 kept on the refunded sale, ¥150 on the other.
        assert (rows["JPY"].gross, rows["JPY"].refunds, rows["JPY"].fees) == (7500, 1000, 325)
        assert (rows["JPY"].sales, rows["JPY"].student_count) == (2, 2)
        assert (rows["EUR"].gross, rows["EUR"].sales) == (12000, 1)

    def test_large_amounts_do_not_overflow(self) -> None:
        # ¥2,000,000,000 with a 10% fee, nearly all refunded: fee * refunded is about 2e17.
        big = self.sale(
            months_ago(1), amount=2_000_000_000, currency="JPY", application_fee_amount=200_000_000
        )
        self.refund(big, 1_999_999_999)
        big.refresh_from_db()
        assert GmvMonth.objects.get().fees == big.fee_kept == 1
        assert gmv.rebuild() == (1, 0)
        assert GmvMonth.objects.get().fees == 1

    def test_a_free_sale_counts_as_a_sale_with_no_money(self) -> None:
        self.sale(months_ago(1), amount=0, gross_amount=4900, discount_amount=4900)
        row = GmvMonth.objects.get()
        assert (row.gross, row.refunds, row.fees, row.sales) == (0, 0, 0, 1)

    def test_an_erased_buyer_still_counts_in_money_and_as_one_buyer_per_sale(self) -> None:
        other = CourseFactory.create(teacher=self.alice)
        first = self.sale(months_ago(1))
        self.sale(months_ago(1), course=other, course_title=other.title)
        self.sale(months_ago(1), student=self.dave)
        Purchase.objects.filter(student=self.bob).update(student=None, anonymised_at=NOW)
        gmv.purchase_changed(first)
        row = GmvMonth.objects.get()
        assert (row.gross, row.sales, row.student_count, row.course_count) == (36000, 3, 3, 2)

    def test_a_deleted_course_still_counts_by_its_title(self) -> None:
        self.sale(months_ago(1))
        self.sale(months_ago(1), course=None, course_title="Pottery", student=self.dave)
        self.sale(months_ago(1), course=None, course_title="Pottery", student=self.carol)
        assert GmvMonth.objects.get().course_count == 2

    def test_purchases_that_were_never_paid_do_not_count(self) -> None:
        self.sale(months_ago(1))
        for status in (Status.PENDING, Status.FAILED, Status.EXPIRED):
            Purchase.objects.create(
                student=self.dave,
                teacher=self.alice,
                course_title="x",
                gross_amount=100,
                amount=100,
                currency="EUR",
                status=status,
                paid_at=None if status == Status.PENDING else months_ago(1),
            )
        assert gmv.rebuild() == (1, 0)
        assert GmvMonth.objects.get().sales == 1

    def test_a_disputed_sale_stays_counted(self) -> None:
        purchase = self.sale(months_ago(1))
        refunds.dispute_opened(
            dispute={"id": "dp_test_1", "metadata": {"purchase_id": str(purchase.pk)}}
        )
        purchase.refresh_from_db()
        gmv.purchase_changed(purchase)
        assert GmvMonth.objects.get().sales == 1
        assert gmv.rebuild() == (1, 0)

    def test_purchase_changed_makes_the_same_queries_for_one_sale_or_many(self) -> None:
        purchase = self.sale(months_ago(1))
        few, _, _ = count_queries(lambda: gmv.purchase_changed(purchase))
        for n in range(60):
            self.sale(months_ago(1), student=StudentFactory.create(email=f"buyer{n}@example.com"))
        many, sql, _ = count_queries(lambda: gmv.purchase_changed(purchase))
        assert few == many, "\n".join(sql)
        # Claim the row, aggregate, write.
        assert len([q for q in sql if not q.startswith(("SAVEPOINT", "RELEASE"))]) == 3, sql

    def test_a_folded_month_refreshes_its_year_in_constant_queries(self) -> None:
        purchase = self.sale(months_ago(26))
        self.sale(months_ago(27), student=self.dave)
        few, _, _ = count_queries(lambda: gmv.purchase_changed(purchase))
        many, sql, _ = count_queries(lambda: gmv.purchase_changed(purchase))
        assert few == many
        # Delete the year's months, claim the year, aggregate, write.
        assert len([q for q in sql if not q.startswith(("SAVEPOINT", "RELEASE"))]) == 4, sql

    def test_folding_moves_old_months_into_their_year_once(self) -> None:
        # Each sale is processed when it is paid, so each month has its row at first.
        old = self.sale(months_ago(26))  # 2024-09
        self.sale(months_ago(25), student=self.dave)  # 2024-10
        self.sale(months_ago(24), student=self.carol)  # 2024-11: the horizon, kept
        self.sale(months_ago(30), currency="USD", amount=5000)  # 2024-05
        assert GmvMonth.objects.count() == 4
        assert gmv.horizon() == date(2024, 11, 1)

        assert fold() == 3
        assert list(GmvMonth.objects.values_list("month", flat=True)) == [date(2024, 11, 1)]
        eur = GmvYear.objects.get(currency="EUR")
        assert (eur.year, eur.gross, eur.sales, eur.months) == (2024, 24000, 2, 2)
        assert (eur.course_count, eur.student_count) == (1, 2)
        assert GmvYear.objects.get(currency="USD").gross == 5000
        after = stored()
        assert fold() == 0
        assert stored() == after == expected(NOW)
        assert gmv.rebuild() == (1, 2)
        assert stored() == after

        # A late refund of a folded sale refreshes its year, not a month.
        self.refund(old, 12000)
        eur = GmvYear.objects.get(currency="EUR")
        assert (eur.gross, eur.refunds, eur.fees, eur.sales) == (24000, 12000, 600, 2)
        assert GmvMonth.objects.count() == 1
        assert stored() == expected(NOW)

    def test_the_next_month_folds_into_the_same_year(self) -> None:
        self.sale(months_ago(25))  # 2024-10
        self.sale(months_ago(24), student=self.dave)  # 2024-11
        fold()
        with time_machine.travel(NOW + timedelta(days=15), tick=False):  # December: 2024-11 folds
            assert fold() == 1
            year = GmvYear.objects.get()
            assert (year.gross, year.sales, year.months, year.student_count) == (24000, 2, 2, 2)
            assert stored() == expected(timezone.now())

    def test_the_retention_rule_shows_and_sweeps_the_folding(self) -> None:
        entry = registry.entries["billing.GmvMonth"]
        assert entry.retention.swept
        assert "24 months" in entry.retention.description
        self.sale(months_ago(1))
        GmvMonth.objects.create(teacher=self.alice, month=date(2023, 1, 1), currency="EUR")
        assert retention.expired_count(entry) == 1
        retention.sweep_all()
        assert retention.expired_count(entry) == 0
        assert not GmvYear.objects.exists()  # no purchase behind that month: no year either

    def test_the_rebuild_deletes_months_left_without_sales(self) -> None:
        self.sale(months_ago(1))
        GmvMonth.objects.create(teacher=self.alice, month=date(2026, 2, 1), currency="EUR")
        GmvYear.objects.create(teacher=self.alice, year=2020, currency="EUR", gross=1)
        assert gmv.rebuild() == (1, 0)
        assert stored() == expected(NOW)

    def test_the_command_rebuilds_one_teacher_or_everyone(self) -> None:
        self.sale(months_ago(1))
        GmvMonth.objects.update(gross=1)
        carols = GmvMonth.objects.create(
            teacher=self.carol, month=date(2026, 10, 1), currency="EUR", gross=7, sales=1
        )
        out = StringIO()
        call_command("rebuild_gmv", teacher=self.alice.pk, stdout=out)
        assert f"teacher {self.alice.pk}: 1 month row from November 2024 on, 0 year rows" in (
            out.getvalue()
        )
        assert GmvMonth.objects.get(teacher=self.alice).gross == 12000
        assert GmvMonth.objects.filter(pk=carols.pk).exists()
        call_command("rebuild_gmv", stdout=out)
        assert stored() == expected(NOW)
        with self.assertRaisesMessage(CommandError, "No user with id 0"):
            call_command("rebuild_gmv", teacher=0)


class WebhookTests(LecternTestCase):
    """The totals follow a sale and its refund as Stripe's signed webhooks deliver them."""

    def setUp(self) -> None:
        self.stripe = serve_for(self)
        seller(self.alice, account_id="acct_test_alice")
        self.stripe.accounts["acct_test_alice"] = {"id": "acct_test_alice", "charges_enabled": True}
        CourseFactory.create(teacher=self.alice, slug="kiln", price_amount=12000)
        self.new_client(self.bob).post(reverse("billing:checkout", args=["kiln"]))
        self.purchase = Purchase.objects.get()

    def deliver(self, event: dict[str, Any]) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            post_event(self.client, event)

    def test_it_follows_the_payment_and_refund_webhooks_delivered_twice(self) -> None:
        session = self.stripe.pay(self.purchase.checkout_session_id)
        paid = self.stripe.event("checkout.session.completed", session)
        self.deliver(paid)
        self.deliver(paid)
        month = GmvMonth.objects.get()
        assert (month.gross, month.refunds, month.fees, month.sales) == (12000, 0, 600, 1)
        charge_id = self.stripe.intents[session["payment_intent"]]["latest_charge"]
        refund = self.stripe.refund(charge_id, 3000)
        refunded = self.stripe.event("charge.refunded", self.stripe.charges[charge_id])
        for event in (refunded, self.stripe.event("refund.created", refund), refunded):
            self.deliver(event)
        month.refresh_from_db()
        # 6.00 - 6.00 * 30 // 120: 4.50 of the fee kept.
        assert (month.gross, month.refunds, month.fees, month.sales) == (12000, 3000, 450, 1)
        assert month.month == gmv.month_of(timezone.now())


class AdminTests(LecternTestCase):
    def setUp(self) -> None:
        GmvMonth.objects.create(
            teacher=self.alice, month=date(2026, 10, 1), currency="EUR", gross=12000, sales=1
        )
        GmvMonth.objects.create(
            teacher=self.carol, month=date(2026, 10, 1), currency="JPY", gross=3000, sales=1
        )
        GmvYear.objects.create(teacher=self.alice, year=2023, currency="EUR", gross=500, sales=1)
        self.staff_client = self.new_client(self.staff)

    def test_staff_search_the_months_by_teacher_email(self) -> None:
        page = self.staff_client.get(
            reverse("admin:billing_gmvmonth_changelist"), {"q": "alice@example"}
        )
        self.assertContains(page, "€120.00")
        self.assertNotContains(page, "¥3,000")
        page = self.staff_client.get(reverse("admin:billing_gmvyear_changelist"), {"q": "alice"})
        self.assertContains(page, "€5.00")

    def test_the_lists_make_the_same_queries_for_few_rows_or_many(self) -> None:
        url = reverse("admin:billing_gmvmonth_changelist")
        self.staff_client.get(url)
        few, _, _ = count_queries(lambda: self.staff_client.get(url))
        for teacher in TeacherFactory.create_batch(20):
            GmvMonth.objects.create(teacher=teacher, month=date(2026, 9, 1), currency="EUR")
        many, sql, _ = count_queries(lambda: self.staff_client.get(url))
        assert few == many, "\n".join(sql)

    def test_the_totals_are_read_only(self) -> None:
        row = GmvMonth.objects.get(teacher=self.alice)
        for url in (
            reverse("admin:billing_gmvmonth_add"),
            reverse("admin:billing_gmvmonth_delete", args=[row.pk]),
            reverse("admin:billing_gmvyear_add"),
        ):
            assert self.staff_client.get(url).status_code == 403
        response = self.staff_client.post(
            reverse("admin:billing_gmvmonth_change", args=[row.pk]), {"gross": "1"}
        )
        assert response.status_code == 403
        row.refresh_from_db()
        assert row.gross == 12000
