from django.apps import AppConfig
from django.db.models.signals import post_delete

from billing import metering
from courses import live as course_live


class LiveConfig(AppConfig):
    name = "live"
    verbose_name = "Live classes"

    def ready(self) -> None:
        # Imported here, not at the top: app modules may load models only once the registry is.
        from live import attendance, client, recordings
        from live.models import Recording

        # Courses and billing sit below this app: they learn about live classes through
        # their hooks (sessions' availability and recordings; the plan's live minutes).
        course_live.provide(available=client.configured, recordings_for=recordings.links_for)
        metering.provide("live", attendance.minutes_since, available=client.configured)
        # A recording's file goes with its row, however the row goes (a course's deletion too).
        post_delete.connect(
            recordings.forget_file, sender=Recording, dispatch_uid="live.recordings.forget_file"
        )
