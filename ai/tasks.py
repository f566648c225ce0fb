from typing import Any

from celery import shared_task

from ai import generation


# Not acks_late (the app's default is): an answer redelivered after its worker died would be
# paid for twice. The page says it stopped (`generation.state`), and the person asks again.
@shared_task(acks_late=False, reject_on_worker_lost=False)
def generate_task(token: str, request: dict[str, Any]) -> str:
    """Produce one answer as it is written (see ai.generation); return how it ended."""
    return generation.generate(token, generation.Request.from_dict(request)).status
