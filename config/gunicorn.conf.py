"""Gunicorn settings for production, read from the environment (see Dockerfile / docker-compose.yml)."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"

# gevent worker: Flask-SocketIO (python-engineio) runs on gevent, and without gevent-websocket
# installed engineio serves WebSocket through simple-websocket, so the plain "gevent" worker is
# enough (no geventwebsocket worker class needed).
worker_class = "gevent"

# Flask-SocketIO rule: one Socket.IO server per gunicorn process, and gunicorn cannot route a
# client's follow-up long-polling requests back to the same worker. Keep 1 and scale by running
# more containers behind a proxy with sticky sessions (Redis message queue joins them).
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))

# Concurrent connections per worker; every open Socket.IO client holds one, and the 1,001st browser
# would wait for a slot under gunicorn's default of 1000. Measured (BENCHMARKS.md section 9) at about
# 85 KiB of RSS per connected client: 3,000 is about 400 MiB on top of the idle worker's 145 MiB.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "3000"))

# Patch-before-import: the gevent worker monkey-patches after fork, so the app must be imported
# in the worker, not preloaded in the (unpatched) master.
preload_app = False

# No max_requests: recycling a worker would drop every Socket.IO connection it holds.


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    """Take the app's start-up objects out of the garbage collector's way.

    Modules, SQLAlchemy metadata and mappers, marshmallow schemas: most of a worker's objects live
    as long as the worker. Left in the oldest generation, every full collection walks them all,
    and in the one gevent thread that walk holds up every Socket.IO emit (BENCHMARKS.md section 9:
    full collections were the periodic p99 bursts). Frozen, a full collection walks only what came
    later: connections and requests.
    """
    import gc

    gc.collect()
    gc.freeze()


timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Time for in-flight requests to finish on SIGTERM; compose's stop_grace_period is longer.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Longer than the proxy's idle timeout (nginx/ALB ~60 s) so the proxy never reuses a socket we closed.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))

# The heartbeat file is fchmod'ed constantly; on a container's overlay filesystem that can block.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# Only these proxy addresses may set X-Forwarded-Proto etc.; "*" only if nothing else can reach us.
# (gunicorn does not rewrite REMOTE_ADDR: the client IP needs werkzeug ProxyFix in the app.)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Containers are managed by signals from the orchestrator; no control socket in a read-only $HOME.
control_socket_disable = True

loglevel = os.environ.get("LOG_LEVEL", "info").lower()
accesslog = "-"  # stdout
errorlog = "-"  # stderr
# One JSON-ish object per line (gunicorn escapes double quotes, not backslashes). The query string
# is left out on purpose: it can carry tokens and signatures (webhooks, Socket.IO sid). request_id
# is the response's X-Request-ID, which the app sets on every response and puts in its own logs.
access_log_format = (
    '{"remote_addr":"%(h)s","method":"%(m)s","path":"%(U)s","status":"%(s)s",'
    '"bytes":"%(b)s","duration_ms":"%(M)s","user_agent":"%(a)s",'
    '"request_id":"%({x-request-id}o)s"}'
)
