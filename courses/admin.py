from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from courses.models import Course, CourseItem
from courses.services import courses as course_services


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

    def delete_model(self, request: HttpRequest, obj: Course) -> None:
        course_services.delete_course(course=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        for course in queryset:
            course_services.delete_course(course=course)
