from django.apps import AppConfig
from django.db.models.signals import post_delete


class LiveConfig(AppConfig):
    name = "live"
    verbose_name = "Live classes"

    def ready(self) -> None:
        # Courses sit below this app: they learn about live classes through their hook.
        from billing import metering
        from courses import live as course_live
        from live import attendance, client, recordings
        from live.models import Recording

        # Billing too: the plan page counts the teacher's live participant-minutes.
        metering.provide("live", attendance.minutes_since)
        course_live.provide(available=client.configured, recordings_for=recordings.links_for)
        # A recording's file goes with its row, however the row goes (a course's deletion too).
        post_delete.connect(
            recordings.forget_file, sender=Recording, dispatch_uid="live.recordings.forget_file"
        )
