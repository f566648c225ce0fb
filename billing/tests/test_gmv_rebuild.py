"""The GMV rebuild gives the incremental numbers; two sales at once both count."""

import random
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from django.db import connection, transaction
from django.test import TransactionTestCase
from django.utils import timezone

from billing.models import Coupon, GmvMonth, Purchase
from billing.services import gmv, outcomes, refunds
from billing.tests.gmv_figures import expected, fold, stored
from billing.tests.kit import seller
from core.testing import requires_postgres
from courses.tests.factories import CourseFactory
from tests.base import LecternTestCase, StudentFactory, TeacherFactory

Status = Purchase.Status
CURRENCIES = ("EUR", "USD", "JPY")


class RebuildEqualsIncrementalTests(LecternTestCase):
    """1,000 random sales and refunds, their events shuffled and some twice, then a rebuild."""

    def test_the_rebuild_gives_the_incremental_numbers(self) -> None:
        rng = random.Random(12)
        now = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
        teachers = [self.alice, self.carol, *TeacherFactory.create_batch(3)]
        courses = [CourseFactory.create(teacher=t) for t in teachers for _ in range(6)]
        students = StudentFactory.create_batch(40)
        coupons = {
            t.pk: Coupon.objects.create(teacher=t, code=f"HALF{t.pk}", percent_off=50)
            for t in teachers
        }
        for teacher in teachers:
            seller(teacher)
        pairs = rng.sample([(s, c) for s in students for c in courses], 1000)
        purchases = []
        for n, (student, course) in enumerate(pairs):
            currency = rng.choice(CURRENCIES)
            gross = rng.randint(1, 500) * (100 if currency == "JPY" else 97)
            coupon = rng.random() < 0.2
            discount = gross if coupon and rng.random() < 0.1 else (gross // 2 if coupon else 0)
            amount = gross - discount
            deleted = rng.random() < 0.05
            purchases.append(
                Purchase(
                    student=None if rng.random() < 0.05 else student,
                    teacher=course.teacher,
                    course=None if deleted else course,
                    course_title=f"Gone {n % 3}" if deleted else course.title,
                    connect_account_id=f"acct_test_teacher{course.teacher_id}",
                    coupon=coupons[course.teacher_id] if coupon else None,
                    gross_amount=gross,
                    discount_amount=discount,
                    amount=amount,
                    currency=currency,
                    application_fee_amount=amount * rng.choice((0, 3, 5, 10)) // 100,
                )
            )
        purchases = Purchase.objects.bulk_create(purchases)

        events: list[tuple[datetime, str, dict[str, Any]]] = []
        for purchase in purchases:
            paid = now - timedelta(seconds=rng.randint(3600, 30 * 30 * 86400))
            intent = f"pi_test_{purchase.pk}" if purchase.amount else None
            meta = {"purchase_id": str(purchase.pk)}
            events.append(
                (
                    paid,
                    "paid",
                    {
                        "id": f"cs_test_{purchase.pk}",
                        "metadata": meta,
                        "payment_status": "paid" if purchase.amount else "no_payment_required",
                        "payment_intent": intent,
                    },
                )
            )
            if not purchase.amount or rng.random() < 0.45:
                continue
            left, refunded, made = purchase.amount, 0, []
            for k in range(rng.choice((1, 1, 2))):
                amount = left if rng.random() < 0.4 else rng.randint(1, left)
                left -= amount
                refunded += amount
                late = rng.random() < 0.2
                at = now if late else min(now, paid + timedelta(days=rng.randint(0, 90)))
                made.append(
                    {
                        "id": f"re_test_{purchase.pk}_{k}",
                        "object": "refund",
                        "amount": amount,
                        "status": "succeeded",
                        "payment_intent": intent,
                        "metadata": {**meta, "refund_key": f"stripe:re_test_{purchase.pk}_{k}"},
                    }
                )
                events.append((at, "refund", made[-1]))
                charge = {
                    "id": f"ch_test_{purchase.pk}",
                    "object": "charge",
                    "payment_intent": intent,
                    "metadata": meta,
                    "amount_refunded": refunded,
                    "refunds": {"data": list(made)},
                }
                events.append((at, "charge", charge))
                if not left:
                    break
            if rng.random() < 0.05:
                events.append((now, "dispute", {"id": f"dp_test_{purchase.pk}", "metadata": meta}))
        events += rng.sample(events, len(events) // 10)
        rng.shuffle(events)

        handlers = {
            "paid": lambda obj: outcomes.session_completed(session=obj),
            "refund": lambda obj: refunds.refund_updated(refund=obj),
            "charge": lambda obj: refunds.charge_refunded(charge=obj),
            "dispute": lambda obj: refunds.dispute_opened(dispute=obj),
        }
        for at, kind, obj in events:
            with time_machine.travel(at, tick=False):
                handlers[kind](obj)

        with time_machine.travel(now, tick=False):
            fold()
            incremental = stored()
            assert incremental == expected(now)
            months, years = incremental
            assert len(months) > 100
            assert len(years) > 10
            assert {key[2] for key in months} == set(CURRENCIES)
            assert gmv.rebuild() == (len(months), len(years))
            assert stored() == incremental
        counted = Purchase.objects.filter(status__in=gmv.COUNTED).count()
        assert counted == 1000
        assert Purchase.objects.filter(refunded_amount__gt=0).count() > 300


@requires_postgres
class ConcurrentSalesTests(TransactionTestCase):
    """Two sales for one teacher and month, processed at the same moment, both count."""

    def test_the_second_waits_for_the_first_instead_of_overwriting_it(self) -> None:
        teacher, buyer = TeacherFactory.create(), StudentFactory.create()
        first, second = (
            Purchase.objects.create(
                student=buyer,
                teacher=teacher,
                course_title=title,
                connect_account_id="acct_test_race",
                gross_amount=5000,
                amount=5000,
                currency="EUR",
            )
            for title in ("Raku", "Glazes")
        )
        first_done, release = threading.Event(), threading.Event()
        errors: list[BaseException] = []

        def pay(purchase: Purchase, *, hold: bool) -> None:
            try:
                with transaction.atomic():
                    Purchase.objects.filter(pk=purchase.pk).update(
                        status=Status.PAID, paid_at=timezone.now()
                    )
                    gmv.purchase_changed(Purchase.objects.get(pk=purchase.pk))
                    if hold:  # the first stays uncommitted until the second is waiting
                        first_done.set()
                        release.wait(10)
            except BaseException as error:
                errors.append(error)
            finally:
                connection.close()

        one = threading.Thread(target=pay, args=(first,), kwargs={"hold": True})
        one.start()
        assert first_done.wait(10)
        two = threading.Thread(target=pay, args=(second,), kwargs={"hold": False})
        two.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not self._someone_waits_for_a_lock():
            time.sleep(0.02)
        release.set()
        one.join()
        two.join()
        assert not errors
        row = GmvMonth.objects.get()
        assert (row.sales, row.gross) == (2, 10000)

    def _someone_waits_for_a_lock(self) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return bool(cursor.fetchone()[0])
