"""Authorization-matrix entries for the storefront: course pages, covers, teacher pages.

alice has a draft course "authz-storefront-draft" with a cover image: only she
may see it or its cover. Her public page /t/<handle>/ is open to everyone.
"""

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from accounts.models import User
from courses.tests.factories import CourseFactory, CourseItemFactory
from files.models import StoredFile
from files.tests.files_kit import image_bytes
from tests.authz import ANON, NOT_FOUND, OK, OTHER, OWNER, STAFF, STUDENT, Context, Entry, everyone

DRAFT = "authz-storefront-draft"
PUBLIC = "authz-storefront-public"
# One small image shared by every run, so the matrix doesn't leave a file per request.
COVER_NAME = "authz/storefront-cover.png"

ALICE_ONLY = {ANON: NOT_FOUND, STUDENT: NOT_FOUND, OTHER: NOT_FOUND, OWNER: OK, STAFF: NOT_FOUND}


def build(ctx: Context) -> None:
    alice = ctx.people["alice"]
    if not alice.handle:
        User.objects.filter(pk=alice.pk).update(handle="authz-alice")
        alice.handle = "authz-alice"
    draft = CourseFactory.create(teacher=alice, slug=DRAFT, draft=True)
    if not default_storage.exists(COVER_NAME):
        default_storage.save(COVER_NAME, ContentFile(image_bytes("PNG")))
    draft.cover = StoredFile.objects.create(
        course=draft,
        uploaded_by=alice,
        blob=COVER_NAME,
        original_name="cover.png",
        content_type="image/png",
        size=default_storage.size(COVER_NAME),
    )
    draft.save(update_fields=["cover"])
    public = CourseFactory.create(teacher=alice, slug=PUBLIC)
    CourseItemFactory.create(course=public, session=True)
    ctx.objects["storefront_draft"] = draft


def _handle(ctx: Context) -> str:
    return User.objects.get(pk=ctx.people["alice"].pk).handle or ""


ENTRIES: dict[str, Entry] = {
    # A draft is a 404 for everyone but its teacher; public pages are tested in their own files.
    "courses:storefront": Entry(
        get=ALICE_ONLY, url=lambda ctx: reverse("courses:storefront", args=[DRAFT])
    ),
    "courses:cover": Entry(get=ALICE_ONLY, url=lambda ctx: reverse("courses:cover", args=[DRAFT])),
    "courses:teacher_page": Entry(
        get=everyone(OK), url=lambda ctx: reverse("courses:teacher_page", args=[_handle(ctx)])
    ),
}
