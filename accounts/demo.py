"""Demo accounts for `manage.py seed_demo`: a teacher, a student and a staff member."""

from allauth.account.models import EmailAddress

from accounts.models import User
from privacy import documents
from privacy import services as privacy_services

DEMO_PASSWORD = "lectern-demo-2026"
TEACHER_EMAIL = "teacher@lectern.localhost"
STUDENT_EMAIL = "student@lectern.localhost"
DEMO_PEOPLE = [
    {
        "email": TEACHER_EMAIL,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "title": "Dr.",
        "is_teacher": True,
        "organisation_name": "Analytical Studio",
    },
    {
        "email": STUDENT_EMAIL,
        "first_name": "Sam",
        "last_name": "Student",
        "is_student": True,
    },
    {
        "email": "staff@lectern.localhost",
        "first_name": "Stacy",
        "last_name": "Staff",
        "is_staff": True,
        "is_superuser": True,
    },
]


def seed() -> list[str]:
    """Create the demo accounts, verified and with the policies accepted; return their list."""
    for person in DEMO_PEOPLE:
        fields = dict(person)
        email = str(fields.pop("email"))
        user, created = User.objects.get_or_create(email=email, defaults=fields)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        privacy_services.record_acceptances(user=user, docs=documents.required_for(user))
    lines = [f"Demo accounts (password for all: {DEMO_PASSWORD}):"]
    for person in DEMO_PEOPLE:
        role = (
            "staff"
            if person.get("is_staff")
            else "teacher"
            if person.get("is_teacher")
            else "student"
        )
        lines.append(f"  {role:8} {person['email']}")
    return lines


def teacher_and_student() -> tuple[User, User]:
    """Return the demo teacher and student, for the demo data of the apps above."""
    return User.objects.get(email=TEACHER_EMAIL), User.objects.get(email=STUDENT_EMAIL)
