import os

import django
from django.urls import reverse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)

from config.handlers import Handler  # noqa: E402  (needs the apps loaded)

application = Handler()

# Resolve one URL now, so the URL configuration and every view are imported before
# gunicorn forks its workers (config/gunicorn.py preloads the app): a worker that
# starts or restarts answers its first request warm.
reverse("healthz")
