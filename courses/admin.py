from django.contrib import admin

from courses.models import Course, CourseItem


class CourseItemInline(admin.TabularInline):
    model = CourseItem
    extra = 0
    fields = ["position", "kind", "title", "published", "starts_at", "due_at"]
    ordering = ["position", "pk"]
    show_change_link = False


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "slug",
        "teacher",
        "visibility",
        "price_amount",
        "currency",
        "capacity",
        "starts_on",
        "archived_at",
        "created_at",
    ]
    list_filter = [
        "visibility",
        "currency",
        ("archived_at", admin.EmptyFieldListFilter),
        "created_at",
    ]
    list_select_related = ["teacher"]
    search_fields = ["title", "slug", "teacher__email", "teacher__last_name", "organisation"]
    raw_id_fields = ["teacher", "cover"]
    readonly_fields = ["created_at", "updated_at", "published_at", "archived_at"]
    date_hierarchy = "created_at"
    inlines = [CourseItemInline]
