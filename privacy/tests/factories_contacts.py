"""What support, onboarding, analytics and the CRM hold about a person, for the privacy tests.

Each factory makes at least one row that a person's export must include and
their erasure remove; `privacy.tests.factories` adds them to its FACTORIES.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from accounts.models import User
from analytics.models import Attribution
from courses.tests.factories import CourseFactory
from crm.models import Contact, ContactNote, Lead, Tag
from onboarding import services as onboarding
from onboarding.models import SurveyAnswer, SurveyResponse
from support.models import SupportReply, SupportRequest

if TYPE_CHECKING:  # the world is made in privacy.tests.factories, which imports this module
    from privacy.tests.factories import World

FACTORIES: dict[str, Any] = {}


# --- Support requests (support/privacy.py) ------------------------------------------------------


def _support_request(user: User, world: World) -> object:
    # One sent while signed out from the person's address, found by that address.
    SupportRequest.objects.create(
        name=user.get_full_name(), email=user.email, message="Before I sign up: is it free?"
    )
    return SupportRequest.objects.create(
        user=user,
        name=user.get_full_name(),
        email=user.email,
        category=SupportRequest.Category.BILLING,
        message="My card was charged twice.",
    )


def _support_reply(user: User, world: World) -> object:
    request = SupportRequest.objects.create(
        user=user, name=user.get_full_name(), email=user.email, message="Where is my receipt?"
    )
    return SupportReply.objects.create(
        request=request, staff=world.staff, text="It is under Settings, Purchases."
    )


FACTORIES.update(
    {"support.SupportRequest": _support_request, "support.SupportReply": _support_reply}
)


# --- Onboarding survey ----------------------------------------------------------------------


def _survey_response(user: User, world: World) -> SurveyResponse:
    found = SurveyResponse.objects.filter(user=user).first()
    return found or onboarding.save_answers(
        user=user, role="teacher", answers={"goal": ["sell_course"], "subject": ["music"]}
    )


def _survey_answer(user: User, world: World) -> object:
    return SurveyAnswer.objects.filter(response=_survey_response(user, world)).first()


FACTORIES["onboarding.SurveyResponse"] = _survey_response
FACTORIES["onboarding.SurveyAnswer"] = _survey_answer


# --- Storefront analytics: where a person came from ---------------------------------------


def _attribution(user: User, world: World) -> object:

    return Attribution.objects.create(
        user=user,
        referrer_domain="news.example.org",
        landing_path="/c/watercolour-basics/",
        utm_source="newsletter",
        utm_medium="email",
        utm_campaign="spring",
        first_seen=timezone.now() - timedelta(days=3),
    )


FACTORIES["analytics.Attribution"] = _attribution


# --- crm: teachers' contact lists -------------------------------------------------------------


def _crm_contact(user: User, world: World) -> object:

    course = world.taken_course(user)
    contact, _ = Contact.objects.get_or_create(
        teacher=course.teacher,
        email=user.email,
        defaults={"user": user, "name": user.get_full_name(), "company": "Sketch Club"},
    )
    return contact


def _crm_contact_note(user: User, world: World) -> object:

    contact = _crm_contact(user, world)
    assert isinstance(contact, Contact)
    return ContactNote.objects.create(contact=contact, body="Prefers evening sessions.")


def _crm_tag(user: User, world: World) -> object:

    return Tag.objects.create(teacher=user, name="Early birds")


def _crm_lead(user: User, world: World) -> object:

    course = CourseFactory.create(teacher=world.teacher, title="Figure drawing (full)", capacity=1)
    return Lead.objects.create(
        course=course,
        teacher=world.teacher,
        email=user.email,
        name=user.get_full_name(),
        consent_at=timezone.now(),
    )


FACTORIES.update(
    {
        "crm.Contact": _crm_contact,
        "crm.ContactNote": _crm_contact_note,
        "crm.Tag": _crm_tag,
        "crm.Lead": _crm_lead,
    }
)
