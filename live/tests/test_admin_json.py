"""The admin's JSON fields (a live room's stage) refuse JSON Python cannot read."""

from collections.abc import Callable

from django.test import Client
from django.urls import reverse

from accounts.models import User
from courses.tests.factories import CourseItemFactory
from live.models import LiveRoom
from tests.conftest import *  # noqa: F403

TOO_LONG_A_NUMBER = "9" * 5000  # Python refuses to read more than 4,300 digits


def test_it_re_renders_the_form_with_an_error(
    client_for: Callable[..., Client], staff: User, alice: User
) -> None:
    room = LiveRoom.objects.create(item=CourseItemFactory.create(course__teacher=alice), name="r")
    response = client_for(staff).post(
        reverse("admin:live_liveroom_change", args=[room.pk]),
        {"item": room.item_id, "on_stage": TOO_LONG_A_NUMBER, "removed": "[]"},
    )
    assert response.status_code == 200
    assert "Enter a valid JSON" in response.content.decode()
    room.refresh_from_db()
    assert room.on_stage == []
