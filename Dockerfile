# syntax=docker/dockerfile:1
# Lectern's production image: gunicorn serving the app, the same image running
# the Celery worker and beat (see docker-compose.yml).

# --- Front-end libraries, from the npm registry as in development -----------------
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY scripts/vendor-static scripts/vendor-static
RUN sh scripts/vendor-static

# --- The application ------------------------------------------------------------
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    PATH=/opt/venv/bin:$PATH \
    PORT=8000

RUN pip install --no-cache-dir uv

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

USER lectern
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen(r.Request('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), headers={'Host': 'localhost'}), timeout=4)"]

CMD ["gunicorn", "--config", "config/gunicorn.py", "config.wsgi:application"]
