import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from accounts import user_cache

# Offered in forms only, so a tzdata update never needs a migration.
TIMEZONE_CHOICES = [
    (name, name.replace("_", " "))
    for name in sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})
]


# How other people see someone whose account is switched off or being deleted.
DELETED_NAME = _("Deleted user")


class ColorScheme(models.TextChoices):
    SYSTEM = "system", _("Match my device")
    LIGHT = "light", _("Light")
    DARK = "dark", _("Dark")


class UserQuerySet(models.QuerySet["User"]):
    def update(self, **kwargs: Any) -> int:
        """Update the rows, and drop the signed-in copies of the users changed.

        An update sends no `post_save`, so without this a switched-on or
        renamed account would be seen as it was until its copy expires. The
        rows are locked first, so the ids read are the rows the update changes.
        """
        with transaction.atomic(using=self.db):
            changed = list(self.select_for_update(of=("self",)).values_list("pk", flat=True))
            count = super().update(**kwargs)
            user_cache.forget(changed)
        return count


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email__iexact=username)

    def _create(self, email: str, password: str | None, **fields: object) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields: object) -> "User":
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person on Lectern: a teacher, a student, or both. Email is the login."""

    email = models.EmailField(_("email address"), max_length=254, unique=True)
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    title = models.CharField(
        _("title"), max_length=80, blank=True, help_text=_("Shown before your name, e.g. Dr.")
    )
    is_teacher = models.BooleanField(_("teacher"), default=False)
    is_student = models.BooleanField(_("student"), default=False)
    organisation_name = models.CharField(
        _("organisation"),
        max_length=200,
        blank=True,
        help_text=_("The school, studio or company you teach for."),
    )
    handle = models.SlugField(
        _("public page address"),
        max_length=40,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Your teacher page lives at /t/<address>/."),
    )
    country = models.CharField(_("country"), max_length=2, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    color_scheme = models.CharField(
        _("colour scheme"), max_length=6, choices=ColorScheme.choices, default=ColorScheme.SYSTEM
    )
    send_read_receipts = models.BooleanField(
        _("send read receipts"),
        default=True,
        help_text=_(
            "Let people you message see when you've read it. Off: you don't see theirs either."
        ),
    )
    is_staff = models.BooleanField(_("staff"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        if not self.is_active:
            return str(DELETED_NAME)
        return self.get_full_name() or self.email

    def save(self, *args: object, **kwargs: object) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def get_full_name(self) -> str:
        if not self.is_active:
            return str(DELETED_NAME)
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{self.title} {name}".strip() if self.title and name else name

    def get_short_name(self) -> str:
        if not self.is_active:
            return str(DELETED_NAME)
        return self.first_name or self.email

    @property
    def role_label(self) -> str:
        if self.is_teacher and self.is_student:
            return str(_("Teacher and student"))
        if self.is_teacher:
            return str(_("Teacher"))
        if self.is_student:
            return str(_("Student"))
        return ""
