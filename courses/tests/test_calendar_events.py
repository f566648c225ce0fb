"""Personal events: typed in the person's time zone, validated, theirs alone."""

from datetime import UTC, datetime, timedelta

from django.urls import reverse

from courses.models import PersonalEvent
from tests.base import LecternTestCase

CREATE = reverse("courses:event_create")


class EventCreateTests(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bob.timezone = "Europe/Paris"
        self.bob.save(update_fields=["timezone"])
        self.login(self.bob)

    def post(self, **data):
        payload = {
            "title": "Office hours",
            "starts_at": "2026-11-05T18:00",
            "ends_at": "2026-11-05T19:30",
            "notes": "Bring questions",
            **data,
        }
        return self.client.post(CREATE, payload)

    def test_it_stores_times_typed_in_the_persons_time_zone_as_utc(self) -> None:
        response = self.post()
        self.assertRedirects(response, f"{reverse('courses:calendar')}?month=2026-11")
        event = PersonalEvent.objects.get(owner=self.bob)
        assert event.starts_at == datetime(2026, 11, 5, 17, 0, tzinfo=UTC)
        assert event.ends_at == datetime(2026, 11, 5, 18, 30, tzinfo=UTC)
        assert event.title == "Office hours"
        assert event.notes == "Bring questions"

    def test_it_refuses_an_end_before_the_start(self) -> None:
        response = self.post(ends_at="2026-11-05T17:00")
        self.assertContains(response, "The end is before the start", status_code=400)
        self.assertContains(response, 'value="Office hours"', status_code=400)
        assert not PersonalEvent.objects.exists()

    def test_it_refuses_a_time_the_clocks_skip(self) -> None:
        response = self.post(starts_at="2026-03-29T02:30", ends_at="2026-03-29T04:00")
        assert response.status_code == 400
        assert not PersonalEvent.objects.exists()

    def test_it_refuses_nonsense_dates(self) -> None:
        for bad in ("tomorrow", "2026-02-30T10:00", "0001-01-01T00:10", ""):
            response = self.post(starts_at=bad)
            assert response.status_code == 400, bad
        assert not PersonalEvent.objects.exists()

    def test_it_refuses_a_blank_title(self) -> None:
        response = self.post(title="   ")
        self.assertContains(response, "Give the event a title", status_code=400)

    def test_it_refuses_an_event_longer_than_a_year(self) -> None:
        response = self.post(ends_at="2028-01-01T10:00")
        self.assertContains(response, "at most a year", status_code=400)

    def test_it_starts_the_form_on_the_day_asked_for(self) -> None:
        response = self.client.get(CREATE, {"date": "2026-12-24"})
        self.assertContains(response, 'value="2026-12-24T09:00"')
        self.assertContains(response, 'value="2026-12-24T10:00"')
        self.assertContains(response, "Europe/Paris")


class EventEditTests(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        starts = datetime(2026, 11, 5, 17, 0, tzinfo=UTC)
        self.event = PersonalEvent.objects.create(
            owner=self.bob,
            title="Office hours",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
        )
        self.edit_url = reverse("courses:event_edit", args=[self.event.pk])
        self.delete_url = reverse("courses:event_delete", args=[self.event.pk])

    def test_it_shows_the_event_in_the_owners_time_zone(self) -> None:
        self.bob.timezone = "America/New_York"
        self.bob.save(update_fields=["timezone"])
        self.login(self.bob)
        self.assertContains(self.client.get(self.edit_url), 'value="2026-11-05T12:00"')

    def test_it_updates_the_event(self) -> None:
        self.login(self.bob)
        response = self.client.post(
            self.edit_url,
            {
                "title": "Study group",
                "starts_at": "2026-12-01T10:00",
                "ends_at": "2026-12-01T11:00",
                "notes": "",
            },
        )
        self.assertRedirects(response, f"{reverse('courses:calendar')}?month=2026-12")
        self.event.refresh_from_db()
        assert self.event.title == "Study group"
        assert self.event.starts_at == datetime(2026, 12, 1, 10, tzinfo=UTC)

    def test_it_refuses_an_end_before_the_start_and_keeps_the_event(self) -> None:
        self.login(self.bob)
        response = self.client.post(
            self.edit_url,
            {"title": "X", "starts_at": "2026-12-01T10:00", "ends_at": "2026-12-01T09:00"},
        )
        assert response.status_code == 400
        self.event.refresh_from_db()
        assert self.event.title == "Office hours"

    def test_it_deletes_the_event(self) -> None:
        self.login(self.bob)
        response = self.client.post(self.delete_url)
        self.assertRedirects(response, f"{reverse('courses:calendar')}?month=2026-11")
        assert not PersonalEvent.objects.exists()

    def test_it_hides_another_persons_event(self) -> None:
        self.login(self.carol)
        assert self.client.get(self.edit_url).status_code == 404
        assert (
            self.client.post(
                self.edit_url,
                {
                    "title": "Mine now",
                    "starts_at": "2026-12-01T10:00",
                    "ends_at": "2026-12-01T11:00",
                },
            ).status_code
            == 404
        )
        assert self.client.post(self.delete_url).status_code == 404
        self.event.refresh_from_db()
        assert self.event.title == "Office hours"

    def test_it_refuses_to_delete_on_get(self) -> None:
        self.login(self.bob)
        assert self.client.get(self.delete_url).status_code == 405
        assert PersonalEvent.objects.exists()
