"""One factory per privacy-registry entry: each gives a person at least one row of that model.

`FACTORIES[label](user, ctx)` creates the row; `ctx` holds the other people and
courses they share (see `World`). A test checks that every registered model has a
factory here, so a new registration without one fails until it gets one, and the
end-to-end test then proves its export and erasure.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.socialaccount.models import SocialAccount, SocialToken
from allauth.usersessions.models import UserSession
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from ai.models import AiConsent, AiRequest, AiUsageMonth
from billing.models import (
    ActiveStudent,
    BillingCustomer,
    CardFailure,
    Coupon,
    CouponRedemption,
    FraudSignal,
    GmvMonth,
    GmvYear,
    Invoice,
    PaymentMethod,
    Plan,
    PlanCapState,
    PlanCapTransition,
    Purchase,
    Subscription,
)
from billing.tests.kit import restore_default_catalogue, seller
from courses.models import (
    Attendance,
    CalendarFeed,
    Course,
    Enrollment,
    PersonalEvent,
    Submission,
    WaitlistEntry,
)
from courses.tests.factories import CourseFactory, CourseItemFactory
from files import services as files
from files.models import StoredFile
from files.tests import files_kit
from live import services as live
from live.models import ParticipantInterval, Participation, Recording
from messaging import services as messaging
from messaging.models import Message
from notifications.models import CourseMute, DigestRun, Notification, NotificationPreference
from outbox import services as outbox
from outbox.models import OutboundEmail
from privacy.models import DeletionRequest, ExportRequest, PolicyAcceptance
from privacy.tests import factories_contacts as contact_factories


@dataclass
class World:
    """The people and courses around the person: carol teaches them, bob learns from them."""

    teacher: User
    student: User
    staff: User
    objects: dict[str, Any] = field(default_factory=dict)

    def taken_course(self, user: User) -> Course:
        """A course of carol's that `user` is enrolled in."""
        if "taken" not in self.objects:
            course = CourseFactory.create(teacher=self.teacher, title="Watercolour basics")
            Enrollment.objects.create(course=course, student=user)
            self.objects["taken"] = course
        return self.objects["taken"]

    def own_course(self, user: User) -> Course:
        """A course `user` teaches, with bob enrolled and a cover image in storage."""
        if "own" not in self.objects:
            course = CourseFactory.create(teacher=user, title="Morning ceramics")
            Enrollment.objects.create(course=course, student=self.student)
            course.cover = files.store_upload(
                uploaded_by=user, course=course, upload=files_kit.png(), purpose="cover"
            )
            course.save(update_fields=["cover"])
            self.objects["own"] = course
        return self.objects["own"]

    def channel_message(self, user: User) -> Message:
        """A message with a file that `user` posted in the channel of carol's course."""
        if "message" not in self.objects:
            channel = messaging.get_or_create_channel(course=self.taken_course(user))
            self.objects["message"] = messaging.post_message(
                conversation=channel,
                author=user,
                body="Here are my sketches",
                uploads=[files_kit.pdf("sketches.pdf")],
            )
        return self.objects["message"]


type Factory = Callable[[User, World], object]


def _user(user: User, world: World) -> object:
    return user  # the account row itself


def _deletion_request(user: User, world: World) -> object:
    # An earlier request the person cancelled; cancelling clears its address.
    now = timezone.now() - timedelta(days=30)
    return DeletionRequest.objects.create(
        user=user,
        state=DeletionRequest.State.CANCELLED,
        requested_at=now,
        erase_after=now + timedelta(days=7),
        cancelled_at=now + timedelta(days=1),
    )


def _attendance(user: User, world: World) -> object:
    session = CourseItemFactory.create(course=world.taken_course(user), session=True)
    return Attendance.objects.create(item=session, student=user, status="present")


def _personal_event(user: User, world: World) -> object:
    starts = timezone.now() + timedelta(days=3)
    return PersonalEvent.objects.create(
        owner=user, title="Dentist", starts_at=starts, ends_at=starts + timedelta(hours=1)
    )


def _calendar_feed(user: User, world: World) -> object:
    return CalendarFeed.objects.create(owner=user)


def _conversation(user: User, world: World) -> object:
    world.taken_course(user)
    direct = messaging.get_or_create_direct(user=user, other=world.teacher)
    messaging.post_message(conversation=direct, author=user, body="Can I join late?")
    own = world.own_course(user)
    return messaging.create_group(
        teacher=user, course=own, students=[world.student], title="Glaze group"
    )


def _course_item(user: User, world: World) -> object:
    course = world.own_course(user)
    item = CourseItemFactory.create(course=course, file=True, title="Clay safety sheet")
    item.file = files.store_upload(
        uploaded_by=user, course=course, upload=files_kit.pdf("safety.pdf"), purpose="material"
    )
    item.save(update_fields=["file"])
    return item


def _course(user: User, world: World) -> object:
    return world.own_course(user)


def _export_request(user: User, world: World) -> object:
    return ExportRequest.objects.create(
        user=user, state=ExportRequest.State.EXPIRED, requested_at=timezone.now() - timedelta(30)
    )


def _email_address(user: User, world: World) -> object:
    address, _ = EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return address


def _email_confirmation(user: User, world: World) -> object:
    spare = EmailAddress.objects.create(user=user, email=f"second.{user.email}", verified=False)
    return EmailConfirmation.create(spare)


def _enrollment(user: User, world: World) -> object:
    world.taken_course(user)
    return Enrollment.objects.get(student=user)


def _social_account(user: User, world: World) -> object:
    account, _ = SocialAccount.objects.get_or_create(
        user=user,
        provider="google",
        defaults={
            "uid": f"google-{user.pk}",
            "extra_data": {"email": user.email, "name": f"{user.first_name} {user.last_name}"},
        },
    )
    return account


def _social_token(user: User, world: World) -> object:
    account = _social_account(user, world)
    return SocialToken.objects.create(account=account, token="ya29.not-kept")


def _reaction(user: User, world: World) -> object:
    world.channel_message(user)
    other = messaging.post_message(
        conversation=messaging.get_or_create_channel(course=world.taken_course(user)),
        author=world.teacher,
        body="Welcome, everyone",
    )
    messaging.toggle_reaction(message=other, user=user, emoji="👍")
    return other


def _attachment(user: User, world: World) -> object:
    return world.channel_message(user)


def _message(user: User, world: World) -> object:
    return world.channel_message(user)


def _course_mute(user: User, world: World) -> object:
    return CourseMute.objects.create(user=user, course=world.taken_course(user))


def _digest_run(user: User, world: World) -> object:
    return DigestRun.objects.create(user=user, day=timezone.localdate(), sent_at=timezone.now())


def _notification_preference(user: User, world: World) -> object:
    preference, _ = NotificationPreference.objects.get_or_create(user=user)
    return preference


def _notification(user: User, world: World) -> object:
    # One the person received, and one about them that carol received.
    Notification.objects.create(
        recipient=world.teacher,
        kind="enrolment",
        title=f"{user.first_name} {user.last_name} joined Watercolour basics",
        actor=user,
        dedupe_key=f"joined:{user.pk}",
    )
    return Notification.objects.create(
        recipient=user, kind="announcement", title="Bring brushes", dedupe_key="brushes"
    )


def _policy_acceptance(user: User, world: World) -> object:
    return PolicyAcceptance.objects.get_or_create(user=user, document="terms", sha256="a" * 64)[0]


def _participant(user: User, world: World) -> object:
    return world.channel_message(user)


def _user_session(user: User, world: World) -> object:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    client.get(reverse("dashboard"))
    world.objects["client"] = client
    return UserSession.objects.get(user=user)


def _log_entry(user: User, world: World) -> object:
    # An action the person took as staff, and one staff took on their account.
    LogEntry.objects.create(
        user=world.staff,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(user.pk),
        object_repr=f"{user.first_name} {user.last_name}",
        action_flag=CHANGE,
        change_message="[]",
    )
    return LogEntry.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(Course),
        object_id=str(world.own_course(user).pk),
        object_repr="Morning ceramics",
        action_flag=ADDITION,
    )


def _submission(user: User, world: World) -> object:
    assignment = CourseItemFactory.create(course=world.taken_course(user), assignment=True)
    submission = Submission.objects.create(item=assignment, student=user, text="My answer")
    stored = files.store_upload(
        uploaded_by=user,
        course=assignment.course,
        upload=files_kit.pdf("answer.pdf"),
        purpose="submission",
    )
    StoredFile.objects.filter(pk=stored.pk).update(submission=submission)
    return submission


def _stored_file(user: User, world: World) -> object:
    return files.store_upload(
        uploaded_by=user,
        course=world.own_course(user),
        upload=files_kit.png("kiln.png"),
        purpose="material",
    )


def _outbound_email(user: User, world: World) -> object:
    # Addressed in capitals: the person's emails are found whatever the case.
    message = EmailMultiAlternatives(
        subject=f"Welcome, {user.first_name}",
        body=f"Hello {user.first_name} {user.last_name}",
        to=[user.email.upper()],
    )
    outbox.enqueue_email(key=f"test-welcome:{user.pk}", message=message)
    return OutboundEmail.objects.get(key=f"test-welcome:{user.pk}")


def _waitlist_entry(user: User, world: World) -> object:
    full = CourseFactory.create(teacher=world.teacher, title="Life drawing", capacity=1)
    Enrollment.objects.create(course=full, student=world.student)
    return WaitlistEntry.objects.create(course=full, student=user)


def _connect_account(user: User, world: World) -> object:
    return seller(user)


def _purchase(user: User, world: World) -> Purchase:
    course = world.taken_course(user)
    return Purchase.objects.create(
        student=user,
        teacher=world.teacher,
        course=course,
        course_title=course.title,
        connect_account_id="acct_test_world",
        gross_amount=4900,
        amount=4900,
        currency="EUR",
        application_fee_amount=245,
        status=Purchase.Status.PAID,
        paid_at=timezone.now(),
        checkout_session_id=f"cs_test_world_{user.pk}",
        payment_intent_id=f"pi_test_world_{user.pk}",
    )


def _coupon_redemption(user: User, world: World) -> object:
    purchase = Purchase.objects.filter(student=user).first() or _purchase(user, world)
    coupon = Coupon.objects.create(teacher=world.teacher, code=f"WORLD{user.pk}", percent_off=10)
    return CouponRedemption.objects.create(
        coupon=coupon, purchase=purchase, student=user, discount_amount=490, currency="EUR"
    )


def _billing_customer(user: User, world: World) -> BillingCustomer:
    customer, _ = BillingCustomer.objects.get_or_create(
        teacher=user,
        defaults={
            "stripe_customer_id": f"cus_world_{user.pk}",
            "email": user.email,
            "name": user.get_full_name(),
        },
    )
    return customer


def _payment_method(user: User, world: World) -> object:
    return PaymentMethod.objects.create(
        customer=_billing_customer(user, world),
        stripe_payment_method_id=f"pm_world_{user.pk}",
        brand="visa",
        last4="4242",
        exp_month=4,
        exp_year=2030,
        is_default=True,
    )


def _subscription(user: User, world: World) -> Subscription:
    restore_default_catalogue()
    plan = Plan.objects.get(code="pro")
    return Subscription.objects.create(
        teacher=user,
        customer=_billing_customer(user, world),
        stripe_subscription_id=f"sub_world_{user.pk}",
        plan=plan,
        price=plan.prices.get(interval="month", currency="EUR"),
        interval="month",
        currency="EUR",
        status=Subscription.Status.CANCELED,
        ended_at=timezone.now(),
    )


def _invoice(user: User, world: World) -> object:
    subscription = Subscription.objects.filter(teacher=user).first() or _subscription(user, world)
    return Invoice.objects.create(
        customer=_billing_customer(user, world),
        teacher=user,
        subscription=subscription,
        stripe_invoice_id=f"in_world_{user.pk}",
        number=f"LECT-{user.pk}-0001",
        status="paid",
        currency="EUR",
        amount_due=2700,
        amount_paid=2700,
        issued_at=timezone.now(),
        paid_at=timezone.now(),
    )


def _active_student(user: User, world: World) -> object:
    return ActiveStudent.objects.create(
        teacher=world.teacher, student=user, last_paid_at=timezone.now()
    )


def _plan_cap_state(user: User, world: World) -> object:
    return PlanCapState.objects.create(teacher=user, active_students=3, cap=10)


def _plan_cap_transition(user: User, world: World) -> object:
    return PlanCapTransition.objects.create(
        teacher=user,
        from_state=PlanCapState.State.NORMAL,
        to_state=PlanCapState.State.WARNING,
        reason="8 of 10 active students",
        active_students=8,
        cap=10,
    )


def _gmv_month(user: User, world: World) -> object:
    return GmvMonth.objects.create(
        teacher=user, month=timezone.now().date().replace(day=1), currency="EUR", gross=4900
    )


def _gmv_year(user: User, world: World) -> object:
    return GmvYear.objects.create(teacher=user, year=2023, currency="EUR", gross=49000, months=12)


def _fraud_signal(user: User, world: World) -> object:
    return FraudSignal.objects.create(
        teacher=user,
        rule=FraudSignal.Rule.OFF_PLATFORM_LINK,
        summary="A payment link outside Lectern in a course description",
        evidence={"found": ["paypal.me/example"]},
    )


def _card_failure(user: User, world: World) -> object:
    return CardFailure.objects.create(
        teacher=user, stripe_id=f"ch_world_declined_{user.pk}", decline_code="card_declined"
    )


def _participant_interval(user: User, world: World) -> object:
    session = CourseItemFactory.create(course=world.taken_course(user), session=True)
    return ParticipantInterval.objects.create(
        room=live.ensure_room(item=session),
        user=user,
        identity=live.identity_for(user),
        participant_sid="PA_world",
        joined_at=session.starts_at,
        left_at=session.ends_at,
        closed_by=ParticipantInterval.ClosedBy.EVENT,
    )


def _participation(user: User, world: World) -> object:
    session = CourseItemFactory.create(course=world.taken_course(user), session=True)
    return Participation.objects.create(
        room=live.ensure_room(item=session),
        user=user,
        identity=live.identity_for(user),
        first_joined_at=session.starts_at,
        last_left_at=session.ends_at,
        seconds=3000,
    )


def _recording(user: User, world: World) -> object:
    session = CourseItemFactory.create(course=world.own_course(user), session=True)
    room = live.ensure_room(item=session)
    return Recording.objects.create(
        room=room,
        egress_id=f"EG_world_{user.pk}",
        status=Recording.Status.READY,
        started_by=user,
        storage_key=f"recordings/{room.name}/world.mp4",
        duration_seconds=3000,
        size_bytes=1000,
    )


def _ai_request(user: User, world: World) -> object:
    course = world.taken_course(user)
    return AiRequest.objects.create(
        user=user,
        course=course,
        teacher=course.teacher,
        action=AiRequest.Action.ASSISTANT,
        context_item_ids=[1, 2],
        prompt_tokens=900,
        completion_tokens=300,
        units=2,
        model="world-model",
        latency_ms=800,
        outcome=AiRequest.Outcome.OK,
    )


def _ai_usage_month(user: User, world: World) -> object:
    return AiUsageMonth.objects.create(
        teacher=user, month=timezone.now().date().replace(day=1), units=7
    )


def _ai_consent(user: User, world: World) -> object:
    return AiConsent.objects.create(
        user=user, given=True, given_at=timezone.now(), endpoint_host="ai.example.org"
    )


FACTORIES: dict[str, Factory] = {
    "accounts.User": _user,
    "privacy.DeletionRequest": _deletion_request,
    "courses.Attendance": _attendance,
    "courses.PersonalEvent": _personal_event,
    "courses.CalendarFeed": _calendar_feed,
    "messaging.Conversation": _conversation,
    "courses.CourseItem": _course_item,
    "courses.Course": _course,
    "privacy.ExportRequest": _export_request,
    "account.EmailAddress": _email_address,
    "account.EmailConfirmation": _email_confirmation,
    "courses.Enrollment": _enrollment,
    "socialaccount.SocialAccount": _social_account,
    "socialaccount.SocialToken": _social_token,
    "messaging.Reaction": _reaction,
    "messaging.Attachment": _attachment,
    "messaging.Message": _message,
    "notifications.CourseMute": _course_mute,
    "notifications.DigestRun": _digest_run,
    "notifications.NotificationPreference": _notification_preference,
    "notifications.Notification": _notification,
    "privacy.PolicyAcceptance": _policy_acceptance,
    "messaging.Participant": _participant,
    "usersessions.UserSession": _user_session,
    "admin.LogEntry": _log_entry,
    "courses.Submission": _submission,
    "files.StoredFile": _stored_file,
    "courses.WaitlistEntry": _waitlist_entry,
    "outbox.OutboundEmail": _outbound_email,
    "billing.ConnectAccount": _connect_account,
    "billing.Purchase": _purchase,
    "billing.CouponRedemption": _coupon_redemption,
    "billing.BillingCustomer": _billing_customer,
    "billing.PaymentMethod": _payment_method,
    "billing.Subscription": _subscription,
    "billing.Invoice": _invoice,
    "billing.ActiveStudent": _active_student,
    "billing.PlanCapState": _plan_cap_state,
    "billing.PlanCapTransition": _plan_cap_transition,
    "billing.GmvMonth": _gmv_month,
    "billing.GmvYear": _gmv_year,
    "billing.FraudSignal": _fraud_signal,
    "billing.CardFailure": _card_failure,
    "live.ParticipantInterval": _participant_interval,
    "live.Participation": _participation,
    "live.Recording": _recording,
    "ai.AiRequest": _ai_request,
    "ai.AiUsageMonth": _ai_usage_month,
    "ai.AiConsent": _ai_consent,
}


# What support, onboarding, analytics and the CRM hold about a person.
FACTORIES.update(contact_factories.FACTORIES)


def give_everything(user: User, world: World) -> None:
    """Create at least one row of every registered model for `user`."""
    for factory in FACTORIES.values():
        factory(user, world)
