from django.urls import path

from courses.views import teaching

urlpatterns = [
    path("teach/courses/new/", teaching.course_new, name="teach_course_new"),
    path("teach/page/", teaching.teacher_handle, name="teach_handle"),
    path("teach/courses/<slug:slug>/", teaching.course_manage, name="teach_course"),
    path("teach/courses/<slug:slug>/edit/", teaching.course_edit, name="teach_course_edit"),
    path(
        "teach/courses/<slug:slug>/publish/", teaching.course_publish, name="teach_course_publish"
    ),
    path(
        "teach/courses/<slug:slug>/unpublish/",
        teaching.course_unpublish,
        name="teach_course_unpublish",
    ),
    path(
        "teach/courses/<slug:slug>/archive/", teaching.course_archive, name="teach_course_archive"
    ),
    path(
        "teach/courses/<slug:slug>/items/order/", teaching.items_reorder, name="teach_items_reorder"
    ),
    path(
        "teach/courses/<slug:slug>/items/new/<str:kind>/", teaching.item_new, name="teach_item_new"
    ),
    path(
        "teach/courses/<slug:slug>/items/<int:item_id>/",
        teaching.item_edit,
        name="teach_item_edit",
    ),
    path(
        "teach/courses/<slug:slug>/items/<int:item_id>/publish/",
        teaching.item_publish,
        name="teach_item_publish",
    ),
    path(
        "teach/courses/<slug:slug>/items/<int:item_id>/move/",
        teaching.item_move,
        name="teach_item_move",
    ),
    path(
        "teach/courses/<slug:slug>/items/<int:item_id>/delete/",
        teaching.item_delete,
        name="teach_item_delete",
    ),
]
