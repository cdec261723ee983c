"""Gunicorn settings for every web process (``portal`` and ``<svc>-web``).

Used as ``gunicorn -c deploy/gunicorn.conf.py '<module>:create_app()'`` both in the production containers and
in the embedded development run, so everything that differs between the two comes from the environment:

==============================  ==================================================  =====================
variable                        meaning                                             default
==============================  ==================================================  =====================
``GUNICORN_BIND``               bind address(es), comma separated; wins over PORT   (unset)
``PORT``                        port to listen on, all interfaces                   ``8000``
``GUNICORN_WORKERS``            worker processes (keep 1: metrics are per process,  ``1``
                                scale with replicas/containers instead)
``GUNICORN_THREADS``            threads per worker (gthread)                        ``4``
``GUNICORN_TIMEOUT``            worker timeout, seconds                             ``60``
``GUNICORN_GRACEFUL_TIMEOUT``   graceful shutdown, seconds                          ``20``
``GUNICORN_KEEPALIVE``          idle keep-alive, seconds (longer than the proxy's)  ``75``
``FORWARDED_ALLOW_IPS``         proxies trusted for X-Forwarded-* (``*`` = any)     ``127.0.0.1,::1``
``GUNICORN_ACCESSLOG``          access log target (``-`` = stdout, empty = off)     ``-``
``GUNICORN_CONTROL_SOCKET``     path of gunicorn's control socket; unset = off      (unset)
``GREENMINE_LOG_LEVEL``         log level                                           ``INFO``
==============================  ==================================================  =====================
"""

import os


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"gunicorn.conf.py: {name} must be an integer, got {raw!r}") from None


def _bind() -> list[str]:
    explicit = os.environ.get("GUNICORN_BIND", "").strip()
    if explicit:
        return [part.strip() for part in explicit.split(",") if part.strip()]
    return [f"0.0.0.0:{_env_int('PORT', 8000)}"]


# --- sockets ------------------------------------------------------------------------------------------
bind = _bind()
# Behind Caddy/nginx/ingress-nginx, which keep idle upstream connections for at most 60 s: keep ours open
# longer so that the proxy never reuses a connection gunicorn has just closed (a classic source of 502s).
keepalive = _env_int("GUNICORN_KEEPALIVE", 75)

# --- workers ------------------------------------------------------------------------------------------
worker_class = "gthread"
workers = _env_int("GUNICORN_WORKERS", 1)
threads = _env_int("GUNICORN_THREADS", 4)
timeout = _env_int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 20)
# The heartbeat file lives in tmpfs where there is one, so a slow disk never stalls a worker.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None

# --- proxies ------------------------------------------------------------------------------------------
# Which peers may set X-Forwarded-Proto/-For. In compose and Kubernetes only the proxy reaches the web
# containers, so the deployment sets "*"; the default trusts only a proxy on the same host.
forwarded_allow_ips = _env("GUNICORN_FORWARDED_ALLOW_IPS", _env("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"))

# --- logging ------------------------------------------------------------------------------------------
loglevel = _env("GREENMINE_LOG_LEVEL", "INFO").lower()
errorlog = "-"
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
# One JSON object per line. gunicorn escapes double quotes in the values; fields are strings except
# status, bytes and duration_ms. %({x-request-id}i)s is the request header (or "-").
access_log_format = (
    '{"time": "%(t)s", "remote_addr": "%(h)s", "forwarded_for": "%({x-forwarded-for}i)s", '
    '"method": "%(m)s", "path": "%(U)s", "query": "%(q)s", "protocol": "%(H)s", '
    '"status": %(s)s, "bytes": %(B)s, "duration_ms": %(M)s, '
    '"referer": "%(f)s", "user_agent": "%(a)s", "request_id": "%({x-request-id}i)s", "pid": "%(p)s"}'
)

# --- control socket -----------------------------------------------------------------------------------
# gunicorn >= 25 opens a control socket at ~/.gunicorn/gunicorn.ctl by default; several gunicorns on one
# host (the embedded run starts six) would fight over it, and containers don't need it. Opt in by path.
_control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip()
if _control_socket:
    control_socket = _control_socket
else:
    control_socket_disable = True
