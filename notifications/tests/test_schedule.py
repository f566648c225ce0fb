"""The periodic jobs are in the one beat schedule and name real tasks."""

from celery import current_app

from config.celery import app


def test_it_schedules_reminders_held_emails_and_digests() -> None:
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    expected = {
        "notifications.tasks.notify_due_soon_task",
        "notifications.tasks.send_held_emails_task",
        "notifications.tasks.send_digests_task",
    }
    assert expected <= tasks
    for name in expected:
        assert name in current_app.tasks
