# syntax=docker/dockerfile:1
# Lectern's production image: gunicorn serving the app, the same image running
# the Celery worker and beat (see docker-compose.yml).

# --- Front-end libraries, from the npm registry as in development -----------------
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY scripts/vendor-static scripts/vendor-static
RUN sh scripts/vendor-static

# --- The application ------------------------------------------------------------
FROM python:3.12-slim-trixie

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    PATH=/opt/venv/bin:$PATH \
    PORT=8000

RUN pip install --no-cache-dir uv

# pg_dump and pg_restore, for `manage.py backup` and `restore`. pg_dump refuses a server newer
# than itself, so the build stops if Debian's client is older than the PostgreSQL that
# docker-compose.yml runs (postgres:16; Debian 13, this image's base, ships client 17).
ARG PG_SERVER_MAJOR=16
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && major=$(pg_dump --version | sed -E 's/[^0-9]*([0-9]+).*/\1/') \
    && if [ "$major" -lt "$PG_SERVER_MAJOR" ]; then \
         echo "pg_dump $major can't dump PostgreSQL $PG_SERVER_MAJOR: install a newer postgresql-client" >&2; \
         exit 1; \
       fi

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-cache

COPY . .
COPY --from=assets /build/static/vendor/ static/vendor/

# collectstatic only reads settings: a throwaway key is enough, none is baked in.
RUN SECRET_KEY=collectstatic-only-not-a-secret DEBUG=0 python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin lectern \
    && mkdir -p var/media \
    && chown -R lectern:lectern var

# Where `manage.py backup` writes by default (a volume in docker-compose.yml): private to the app.
RUN mkdir -p var/backups && chown lectern:lectern var/backups && chmod 700 var/backups

USER lectern
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen(r.Request('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), headers={'Host': 'localhost'}), timeout=4)"]

CMD ["gunicorn", "--config", "config/gunicorn.py", "config.wsgi:application"]
