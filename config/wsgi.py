import os

from django.core.wsgi import get_wsgi_application
from django.urls import reverse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# Resolve one URL now, so the URL configuration and every view are imported before
# gunicorn forks its workers (config/gunicorn.py preloads the app): a worker that
# starts or restarts answers its first request warm.
reverse("healthz")
