from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from courses import demo
from messaging import demo as messaging_demo
from privacy import documents
from privacy import services as privacy_services

DEMO_PASSWORD = "lectern-demo-2026"
DEMO_PEOPLE = [
    {
        "email": "teacher@lectern.localhost",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "title": "Dr.",
        "is_teacher": True,
        "organisation_name": "Analytical Studio",
    },
    {
        "email": "student@lectern.localhost",
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


class Command(BaseCommand):
    help = "Create the demo teacher, student and staff accounts (safe to run again)."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        users = {}
        for person in DEMO_PEOPLE:
            fields = dict(person)
            email = fields.pop("email")
            user, created = User.objects.get_or_create(email=email, defaults=fields)
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            EmailAddress.objects.update_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
            privacy_services.record_acceptances(user=user, docs=documents.required_for(user))
            users[email] = user
        teacher, student = users["teacher@lectern.localhost"], users["student@lectern.localhost"]
        new_courses = demo.seed_demo_courses(teacher=teacher, student=student)
        messaging_demo.seed_demo_messages(teacher=teacher, student=student)
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD}):"))
        for person in DEMO_PEOPLE:
            role = (
                "staff"
                if person.get("is_staff")
                else "teacher"
                if person.get("is_teacher")
                else "student"
            )
            self.stdout.write(f"  {role:8} {person['email']}")
        for course in new_courses:
            self.stdout.write(f"Demo course: {course.title} at {course.get_absolute_url()}")
