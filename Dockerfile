# Service Hub production image. Build with BuildKit (the default builder since Docker 23):
#   docker build -t service-hub .

# ---- stage 1: the browser app (Vue + Vite) -> /build/frontend/dist ----------------------------
FROM node:20-slim AS frontend
WORKDIR /build/frontend
# "fronten[d]" is a glob: BuildKit copies nothing (instead of failing) while frontend/ does not
# exist yet, and the directory's contents when it does. Manifests first for the npm ci layer cache.
COPY fronten[d]/package*.json ./
RUN if [ -f package.json ]; then npm ci --no-audit --no-fund; fi
COPY fronten[d] ./
RUN if [ -f package.json ]; then npm run build; fi && mkdir -p dist

# ---- stage 2: the Python runtime ---------------------------------------------------------------
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    SERVICE_HUB_ENV=production \
    FLASK_APP=service_hub.wsgi \
    PORT=5000

# tini as PID 1: forwards SIGTERM and reaps zombies (a bare `python -m ...` as PID 1 ignores SIGTERM).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 servicehub \
    && useradd --system --uid 10001 --gid servicehub --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin servicehub

WORKDIR /app

# Runtime dependencies only (dev/test tools live in another requirements file).
COPY requirements.txt ./
RUN pip install -r requirements.txt

# Code stays root-owned (the app cannot rewrite itself); only instance/ is writable by the app.
COPY service_hub/ ./service_hub/
COPY workflows/ ./workflows/
COPY channels/ ./channels/
COPY config/ ./config/
COPY migrations/ ./migrations/
COPY --from=frontend /build/frontend/dist/ ./frontend/dist/
RUN mkdir -p /app/instance && chown servicehub:servicehub /app/instance

USER 10001:10001

EXPOSE 5000

# No curl in slim images: probe with the stdlib. urlopen raises (exit 1) on refusal or HTTP >= 400.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '5000'), timeout=4)"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "service_hub.wsgi:app"]
