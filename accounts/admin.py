from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.forms import AdminLoginForm
from accounts.models import User

admin.site.login_form = AdminLoginForm


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "first_name",
        "last_name",
        "is_teacher",
        "is_student",
        "is_staff",
        "date_joined",
    ]
    list_filter = [
        "is_teacher",
        "is_student",
        "is_staff",
        "is_superuser",
        "is_active",
        "country",
        "language",
    ]
    search_fields = ["email", "first_name", "last_name", "organisation_name"]
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            _("Person"),
            {"fields": ("title", "first_name", "last_name", "organisation_name", "country")},
        ),
        (_("Roles"), {"fields": ("is_teacher", "is_student")}),
        (_("Preferences"), {"fields": ("timezone", "language", "color_scheme")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "first_name", "last_name", "password1", "password2"),
            },
        ),
    )
