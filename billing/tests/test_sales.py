"""A teacher's Sales page and its CSV: figures per currency, month and course, the list, filters."""

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import time_machine
from django.http import StreamingHttpResponse
from django.urls import reverse

from accounts.models import User
from billing.models import Purchase
from courses.models import Course
from courses.tests.factories import CourseFactory
from tests.base import LecternTestCase, StudentFactory, TeacherFactory, assert_constant_queries

Status = Purchase.Status
NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
SALES = reverse("billing:sales")
EXPORT = reverse("billing:sales_export")


def sale(course: Course, student: User | None, **fields: Any) -> Purchase:
    """Record a purchase of `course` by `student`, paid unless told otherwise."""
    return Purchase.objects.create(**_purchase(course, student, **fields))


def _purchase(course: Course, student: User | None, **fields: Any) -> dict[str, Any]:
    amount = fields.pop("amount", 5000)
    discount = fields.pop("discount_amount", 0)
    status = fields.pop("status", Status.PAID)
    return {
        "teacher": course.teacher,
        "student": student,
        "course": course,
        "course_title": course.title,
        "connect_account_id": f"acct_test_{course.teacher_id}",
        "gross_amount": amount + discount,
        "discount_amount": discount,
        "amount": amount,
        "currency": course.currency,
        "application_fee_amount": amount * 5 // 100,
        "status": status,
        "paid_at": None if status in (Status.PENDING, Status.FAILED, Status.EXPIRED) else NOW,
        **fields,
    }


def read_csv(response: Any) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(cast(Iterator[bytes], response.streaming_content)).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@time_machine.travel(NOW, tick=False)
class SalesPageTests(LecternTestCase):
    pottery: Course
    jazz: Course
    carols: Course

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.pottery = CourseFactory.create(teacher=cls.alice, title="Pottery", currency="EUR")
        cls.jazz = CourseFactory.create(teacher=cls.alice, title="Jazz piano", currency="USD")
        cls.carols = CourseFactory.create(teacher=cls.carol, title="Carol's course")

    def setUp(self) -> None:
        self.login(self.alice)

    def page(self, **query: Any) -> Any:
        response = self.client.get(SALES, query)
        assert response.status_code == 200
        return response

    def reports(self, **query: Any) -> dict[str, Any]:
        return {report.currency: report for report in self.page(**query).context["reports"]}

    def test_it_adds_up_each_currency_on_its_own(self) -> None:
        sale(self.pottery, self.bob, amount=5000)
        sale(self.pottery, self.dave, amount=4000)
        sale(self.jazz, self.bob, amount=3000)

        reports = self.reports()

        assert sorted(reports) == ["EUR", "USD"]
        eur, usd = reports["EUR"].totals, reports["USD"].totals
        assert (eur.gross, eur.fees, eur.net, eur.sales, eur.students) == (9000, 450, 8550, 2, 2)
        assert (usd.gross, usd.fees, usd.net, usd.sales, usd.students) == (3000, 150, 2850, 1, 1)

    def test_it_takes_refunds_and_fees_off_and_never_counts_a_sale_below_zero(self) -> None:
        sale(self.pottery, self.bob, status=Status.PARTIALLY_REFUNDED, refunded_amount=1000)
        sale(self.pottery, self.dave, status=Status.REFUNDED, refunded_amount=5000)
        sale(self.pottery, self.bob, status=Status.DISPUTED)

        totals = self.reports()["EUR"].totals

        # A refund gives the fee back in proportion: 250 - 50, 0 for the full refund, 250.
        assert (totals.gross, totals.refunded, totals.fees) == (15000, 6000, 450)
        # 5000 - 1000 - 200, 0 for the full refund, 5000 - 250.
        assert totals.net == 3800 + 0 + 4750
        assert (totals.sales, totals.students) == (3, 2)

    def test_it_leaves_out_purchases_that_were_never_paid(self) -> None:
        for status in (Status.PENDING, Status.FAILED, Status.EXPIRED):
            sale(self.pottery, StudentFactory.create(), status=status)
        paid = sale(self.pottery, self.bob)

        response = self.page()

        assert self.reports()["EUR"].totals.sales == 1
        assert [row.pk for row in response.context["page"]] == [paid.pk]

    def test_it_shows_only_the_teachers_own_sales(self) -> None:
        sale(self.carols, self.bob)

        response = self.page()

        assert response.context["reports"] == []
        self.assertContains(response, "No sales yet")
        self.assertNotContains(response, "Carol&#x27;s course")

    def test_it_shows_the_totals_with_their_currency(self) -> None:
        sale(self.pottery, self.bob, amount=12000)

        response = self.page()

        self.assertContains(response, "€120.00")  # gross
        self.assertContains(response, "\u2212€6.00")  # the platform's fee, taken off
        self.assertContains(response, "€114.00")  # net

    def test_it_fills_in_the_last_twelve_months(self) -> None:
        sale(self.pottery, self.bob, paid_at=datetime(2025, 6, 2, tzinfo=UTC))
        sale(self.pottery, self.dave, paid_at=datetime(2025, 3, 9, tzinfo=UTC))
        sale(self.pottery, self.dave, paid_at=datetime(2024, 6, 30, tzinfo=UTC))  # 12 months ago

        months = self.reports()["EUR"].months

        assert [m.month.isoformat() for m in months][:2] == ["2024-07-01", "2024-08-01"]
        assert months[-1].month.isoformat() == "2025-06-01"
        assert len(months) == 12
        assert {m.month.month: m.figures.sales for m in months if m.figures.sales} == {3: 1, 6: 1}

    def test_it_counts_months_in_the_teachers_time_zone(self) -> None:
        teacher = TeacherFactory.create(timezone="America/New_York")
        course = CourseFactory.create(teacher=teacher)
        # 2 a.m. UTC on 1 March is still 28 February in New York.
        sale(course, self.bob, paid_at=datetime(2025, 3, 1, 2, 0, tzinfo=UTC))
        self.login(teacher)

        months = self.reports()["EUR"].months

        assert [m.month.month for m in months if m.figures.sales] == [2]

    def test_it_ranks_courses_by_what_they_earned(self) -> None:
        glazing = CourseFactory.create(teacher=self.alice, title="Glazing")
        sale(self.pottery, self.bob, amount=2000)
        sale(glazing, self.bob, amount=3000)
        sale(glazing, self.dave, amount=3000)

        courses = self.reports()["EUR"].courses

        assert [(c.title, c.figures.sales, c.figures.net) for c in courses] == [
            ("Glazing", 2, 5700),
            ("Pottery", 1, 1900),
        ]

    def test_it_draws_charts_that_read_as_images_with_the_figures_in_tables(self) -> None:
        sale(self.pottery, self.bob)

        response = self.page()

        html = response.content.decode()
        assert html.count('role="img"') == 2
        assert '<title id="chart-months-EUR-title">Net revenue per month in EUR</title>' in html
        assert '<title id="chart-courses-EUR-title">Net revenue per course in EUR</title>' in html
        assert "June 2025: €47.50 net from 1 sale" in html
        self.assertContains(response, '<caption class="visually-hidden">', count=2)
        assert "<script" not in html.split("<main", 1)[1].split("</main>", 1)[0]

    def test_it_lists_25_sales_a_page_newest_first_each_linking_to_its_page(self) -> None:
        made = [
            sale(self.pottery, self.bob, paid_at=NOW - timedelta(hours=hours))
            for hours in range(30)
        ]

        first = self.page()
        second = self.page(page=2)

        assert [row.pk for row in first.context["page"]] == [p.pk for p in made[:25]]
        assert [row.pk for row in second.context["page"]] == [p.pk for p in made[25:]]
        self.assertContains(first, reverse("billing:sale", args=[made[0].pk]))
        self.assertContains(first, "Page 1 of 2")

    def test_it_keeps_the_filters_when_turning_pages(self) -> None:
        for _ in range(26):
            sale(self.pottery, self.bob)

        response = self.page(course=self.pottery.pk)

        self.assertContains(response, f"?course={self.pottery.pk}&amp;page=2")

    def test_it_filters_by_course_status_and_dates(self) -> None:
        march = sale(self.pottery, self.bob, paid_at=datetime(2025, 3, 10, 9, tzinfo=UTC))
        may = sale(self.pottery, self.dave, paid_at=datetime(2025, 5, 2, 9, tzinfo=UTC))
        refunded = sale(self.pottery, self.bob, status=Status.REFUNDED, refunded_amount=5000)
        jazz = sale(self.jazz, self.bob)

        def listed(**query: Any) -> set[int]:
            return {row.pk for row in self.page(**query).context["page"]}

        assert listed(course=self.jazz.pk) == {jazz.pk}
        assert listed(status="refunded") == {refunded.pk}
        assert listed(date_from="2025-03-01", date_to="2025-03-31") == {march.pk}
        assert listed(date_from="2025-05-02") == {may.pk, refunded.pk, jazz.pk}
        assert listed(date_to="2025-05-02") == {march.pk, may.pk}
        assert self.reports(course=self.pottery.pk).keys() == {"EUR"}

    def test_it_shows_bad_filters_as_errors_and_lists_everything(self) -> None:
        everything = {sale(self.pottery, self.bob).pk, sale(self.jazz, self.dave).pk}
        bad = [
            {"course": "pottery"},
            {"course": str(self.carols.pk)},
            {"course": "99999999999999999999999999"},
            {"course": "١٢"},
            {"status": "pending"},
            {"date_from": "2025-13-45"},
            {"date_from": "0001-01-01"},
            {"date_to": "9999-12-31"},
            {"date_from": "2025-06-01", "date_to": "2025-05-01"},
            {"page": "last-but-one"},
        ]
        for query in bad:
            with self.subTest(query=query):
                response = self.page(**query)
                listed = {row.pk for row in response.context["page"]}
                assert listed == everything
                assert response.context["form"].errors or "page" in query

    def test_it_refuses_students_and_staff(self) -> None:
        for person in (self.bob, self.staff):
            client = self.new_client(person)
            assert client.get(SALES).status_code == 404
            assert client.get(EXPORT).status_code == 404

    def test_it_teaches_what_to_do_before_the_first_sale(self) -> None:
        response = self.page()

        self.assertContains(response, "No sales yet")
        self.assertContains(response, reverse("billing:connect"))
        self.assertNotContains(response, EXPORT)

    def test_it_says_when_no_sale_matches(self) -> None:
        sale(self.pottery, self.bob)

        response = self.page(status="disputed")

        self.assertContains(response, "No sales match these filters")

    def test_the_dashboard_links_teachers_to_their_sales(self) -> None:
        response = self.client.get(reverse("dashboard"))

        self.assertContains(response, f'href="{SALES}"')


@time_machine.travel(NOW, tick=False)
class SalesExportTests(LecternTestCase):
    pottery: Course

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.pottery = CourseFactory.create(teacher=cls.alice, title="Pottery", currency="EUR")

    def setUp(self) -> None:
        self.login(self.alice)

    def test_it_streams_one_row_per_sale_in_major_units(self) -> None:
        sale(
            self.pottery,
            self.bob,
            amount=4000,
            discount_amount=1000,
            coupon_code="SPRING",
            status=Status.PARTIALLY_REFUNDED,
            refunded_amount=500,
        )

        response = self.client.get(EXPORT)

        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == 'attachment; filename="sales-2025-06-15.csv"'
        header, row = read_csv(response)
        assert header == [
            "Date (UTC)",
            "Course",
            "Student",
            "Email",
            "Currency",
            "Price",
            "Discount",
            "Coupon code",
            "Paid",
            "Platform fee",
            "Refunded",
            "Net",
            "Status",
        ]
        assert row == [
            "2025-06-15 12:00",
            "Pottery",
            "Bob Baker",
            "bob@example.com",
            "EUR",
            "50.00",
            "10.00",
            "SPRING",
            "40.00",
            "1.75",  # the fee on what wasn't refunded: 2.00 less 2.00 * 5 / 40
            "5.00",
            "33.25",
            "Partially refunded",
        ]

    def test_it_writes_amounts_as_each_currency_counts_them(self) -> None:
        course = CourseFactory.create(teacher=self.alice, currency="JPY")
        sale(course, self.bob, amount=5000)

        (_, row) = read_csv(self.client.get(EXPORT))

        assert row[4:6] == ["JPY", "5000"]

    def test_it_leaves_the_student_blank_once_their_account_is_gone(self) -> None:
        sale(self.pottery, None)

        (_, row) = read_csv(self.client.get(EXPORT))

        assert row[2:4] == ["", ""]

    def test_it_keeps_spreadsheets_from_running_what_people_typed(self) -> None:
        buyer = StudentFactory.create(first_name="=HYPERLINK(1)", last_name="x", email="+x@e.org")
        course = CourseFactory.create(teacher=self.alice, title="@SUM(A1)")
        sale(course, buyer, coupon_code="-10")

        (_, row) = read_csv(self.client.get(EXPORT))

        assert row[1:4] == ["'@SUM(A1)", "'=HYPERLINK(1) x", "'+x@e.org"]
        assert row[7] == "'-10"

    def test_it_exports_what_the_filters_keep(self) -> None:
        other = CourseFactory.create(teacher=self.alice, title="Glazing")
        sale(self.pottery, self.bob)
        sale(other, self.bob)
        sale(self.pottery, self.dave, status=Status.REFUNDED, refunded_amount=5000)

        query = {"course": str(self.pottery.pk), "status": "paid"}
        rows = read_csv(self.client.get(EXPORT, query))

        assert [row[1:3] for row in rows[1:]] == [["Pottery", "Bob Baker"]]

    def test_it_ignores_bad_filters(self) -> None:
        sale(self.pottery, self.bob)

        response = self.client.get(EXPORT, {"course": "x", "date_from": "nope"})

        assert response.status_code == 200
        assert len(read_csv(response)) == 2

    def test_it_writes_dates_in_the_teachers_time_zone(self) -> None:
        teacher = TeacherFactory.create(timezone="Asia/Tokyo")
        course = CourseFactory.create(teacher=teacher)
        sale(course, self.bob, paid_at=datetime(2025, 3, 1, 20, 30, tzinfo=UTC))
        self.login(teacher)

        header, row = read_csv(self.client.get(EXPORT))

        assert (header[0], row[0]) == ("Date (Asia/Tokyo)", "2025-03-02 05:30")


class SalesQueryCountTests(LecternTestCase):
    """Every figure is added up by the database: 10,000 sales cost what 10 do."""

    courses: list[Course]
    students: list[User | None]

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.courses = [
            CourseFactory.create(teacher=cls.alice, currency=code) for code in ("EUR", "EUR", "USD")
        ]
        cls.students = [cls.bob, cls.dave, None]

    def add_sales(self, count: int) -> None:
        statuses = [Status.PAID, Status.PAID, Status.PARTIALLY_REFUNDED, Status.REFUNDED]
        now = datetime.now(UTC)
        Purchase.objects.bulk_create(
            Purchase(
                **_purchase(
                    self.courses[n % 3],
                    self.students[n % 3],
                    status=statuses[n % 4],
                    refunded_amount=(0, 0, 1000, 5000)[n % 4],
                    paid_at=now - timedelta(days=n % 500, minutes=n),
                )
            )
            for n in range(count)
        )

    def test_the_page_runs_as_many_queries_for_10000_sales_as_for_10(self) -> None:
        self.login(self.alice)

        count = assert_constant_queries(self, SALES, self.add_sales, counts=(10, 10_000))

        assert count <= 12

    def test_a_filtered_page_does_too(self) -> None:
        self.login(self.alice)
        url = f"{SALES}?course={self.courses[0].pk}&status=paid&date_from=2020-01-01&page=3"

        assert_constant_queries(self, url, self.add_sales, counts=(10, 10_000))

    def test_the_csv_reads_its_rows_in_one_query(self) -> None:
        self.login(self.alice)

        def export() -> int:
            response = self.client.get(EXPORT)
            return len(read_csv(response))

        assert_constant_queries(self, export, self.add_sales, counts=(10, 2_000))
