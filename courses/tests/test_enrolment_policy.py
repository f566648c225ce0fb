"""The enrolment policy's own decisions, from facts alone (no database)."""

from courses.enrolment_policy import (
    REMOVED_WORDS,
    VISITOR,
    Closed,
    CourseFacts,
    Offer,
    Viewer,
    decide,
)

BOB = Viewer(signed_in=True)
ALICE = Viewer(signed_in=True, is_teacher=True)


def facts(**changes: object) -> CourseFacts:
    base: dict[str, object] = {
        "pk": 1,
        "updated_at": None,
        "visibility": "public",
        "archived": False,
        "teacher_active": True,
        "price_amount": 0,
        "capacity": 2,
        "seats_taken": 0,
        "guest_holds": 0,
    }
    return CourseFacts(**{**base, **changes})  # type: ignore[arg-type]


def test_it_lets_unconfirmed_guest_holds_yield_only_to_signed_in_students() -> None:
    two_guests = facts(seats_taken=2, guest_holds=2)
    assert decide(two_guests, VISITOR).offer == Offer.LOG_IN_TO_WAIT
    assert decide(two_guests, BOB).offer == Offer.ENROL
    assert decide(two_guests, BOB).seats_left == 2
    assert decide(two_guests, ALICE).seats_left == 0


def test_it_tells_the_teacher_why_a_paid_course_is_closed() -> None:
    paid = decide(facts(price_amount=4900), ALICE)
    assert paid.closed == Closed.PAID
    assert paid.needs_payment
    assert "You can't take payments yet" in paid.teacher_message
    assert decide(facts(price_amount=4900), BOB).offer == Offer.CLOSED


def test_it_closes_paid_courses_only_while_new_paid_enrolments_are_paused() -> None:
    words = "This teacher isn't taking new paid enrolments right now."
    paused = facts(price_amount=4900, teacher_can_sell=True, teacher_paused=words)
    answer = decide(paused, BOB)
    assert (answer.closed, answer.offer, answer.message) == (Closed.PAUSED, Offer.CLOSED, words)
    assert answer.refusal == words
    assert answer.public_reachable
    assert decide(paused, Viewer(signed_in=True, status="active")).offer == Offer.GO_TO_COURSE
    assert "paused" in decide(paused, ALICE).teacher_message
    assert decide(facts(teacher_paused=words), BOB).offer == Offer.ENROL  # a free course
    assert decide(facts(price_amount=4900, teacher_paused=words), BOB).closed == Closed.PAID


def test_it_closes_everything_of_a_teacher_whose_account_is_off() -> None:
    answer = decide(facts(teacher_active=False), BOB)
    assert not answer.reachable
    assert answer.closed == Closed.TEACHER_INACTIVE


def test_it_shows_drafts_and_archived_courses_to_their_teacher_only() -> None:
    for closed in (facts(visibility="draft"), facts(archived=True)):
        assert decide(closed, ALICE).reachable
        assert not decide(closed, BOB).reachable
        assert not decide(closed, VISITOR).public_reachable


def test_it_never_fills_a_course_without_a_seat_limit() -> None:
    answer = decide(facts(capacity=None, seats_taken=10_000), BOB)
    assert answer.seats_left is None
    assert not answer.full
    assert answer.can_take_seat


def test_it_keeps_a_removed_student_out_with_a_reason() -> None:
    answer = decide(facts(), Viewer(signed_in=True, status="removed"))
    assert answer.offer == Offer.REMOVED
    assert answer.refusal == REMOVED_WORDS
