# syntax=docker/dockerfile:1
# Skillmap: one image for web (gunicorn), Celery worker and beat.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY requirements.txt .
RUN python -m venv /venv \
    && /venv/bin/pip install --no-compile -r requirements.txt

# The pinned TypeScript compiler (pure JavaScript), installed from its lockfile.
FROM node:20-bookworm-slim AS typescript
WORKDIR /toolchains/typescript
COPY toolchains/typescript/package.json toolchains/typescript/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VAR_DIR=/var/lib/skillmap \
    STATIC_ROOT=/app/staticfiles
# bubblewrap runs learners' code; libseccomp2 builds the sandbox's syscall filter;
# nodejs runs JavaScript and TypeScript challenges; golang-go (Go 1.19, with its precompiled
# standard library) builds Go submissions.
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap libseccomp2 nodejs golang-go \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 skillmap \
    && useradd --system --uid 10001 --gid skillmap --home-dir /app --shell /usr/sbin/nologin skillmap \
    && mkdir -p /var/lib/skillmap \
    && chown skillmap:skillmap /var/lib/skillmap
# The JDK grades Java challenges (quizzes/grading/languages/java.py); the man folder is
# missing in slim images and the JDK's postinst needs it.
RUN mkdir -p /usr/share/man/man1 \
    && apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jdk-headless \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /venv /venv
WORKDIR /app
COPY --chown=skillmap:skillmap . .
COPY --from=typescript --chown=skillmap:skillmap /toolchains/typescript/node_modules /app/toolchains/typescript/node_modules
RUN DEBUG=true python manage.py collectstatic --no-input -v 0
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# config/gunicorn.py pools the workers' Prometheus metrics; the app logs one JSON line per
# request (with its X-Request-ID), so gunicorn's own access log is left off.
CMD ["gunicorn", "-c", "python:config.gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
