"""Settings read from the environment, once, at composition time (never at import)."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("intake", "review_routing", "scoring", "public_notice", "supervision")
REPO_ROOT = Path(__file__).resolve().parent.parent


def contracts_path(*parts: str) -> Path:
    """A file or folder of contracts/: $GREENMINE_CONTRACTS_DIR when set, else this repository's contracts/."""
    base = os.environ.get("GREENMINE_CONTRACTS_DIR")
    return (Path(base) if base else REPO_ROOT / "contracts").joinpath(*parts)


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"environment variable {name} must be an integer, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    mongodb_uri: str = "mongodb://127.0.0.1:27017/"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    secret_key: str = ""
    db_prefix: str = "greenmine"
    topic_prefix: str = ""
    kafka_session_timeout_ms: int = 10000
    kafka_heartbeat_ms: int = 3000
    public_url: str = "http://127.0.0.1:8080"
    log_level: str = "INFO"
    session_minutes: int = 30
    token_minutes: int = 12 * 60
    contracts_dir: Path = REPO_ROOT / "contracts"
    service_urls: dict = field(default_factory=dict)
    upload_max_bytes: int = 50 * 1024 * 1024

    @classmethod
    def from_env(cls, env: dict | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        secret = env.get("GREENMINE_SECRET_KEY", "")
        if not secret:
            secret_file = env.get("GREENMINE_SECRET_KEY_FILE")
            if secret_file and Path(secret_file).exists():
                secret = Path(secret_file).read_text().strip()
        if not secret:
            # A random key keeps a forgotten variable from becoming a known default; sign-ins then only work
            # within one process, so say so loudly.
            import logging

            logging.getLogger(__name__).warning(
                "GREENMINE_SECRET_KEY is not set: using a random key; sessions and tokens will not be "
                "accepted by other processes")
            secret = secrets.token_urlsafe(32)
        urls = {}
        for item in env.get("GREENMINE_SERVICE_URLS", "").split(","):
            if "=" in item:
                name, url = item.split("=", 1)
                urls[name.strip()] = url.strip().rstrip("/")
        return cls(
            mongodb_uri=env.get("MONGODB_URI", cls.mongodb_uri),
            kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS", cls.kafka_bootstrap_servers),
            secret_key=secret,
            db_prefix=env.get("GREENMINE_DB_PREFIX", cls.db_prefix),
            topic_prefix=env.get("GREENMINE_TOPIC_PREFIX", cls.topic_prefix),
            kafka_session_timeout_ms=_int(env, "GREENMINE_KAFKA_SESSION_TIMEOUT_MS", cls.kafka_session_timeout_ms),
            kafka_heartbeat_ms=_int(env, "GREENMINE_KAFKA_HEARTBEAT_MS", cls.kafka_heartbeat_ms),
            public_url=env.get("GREENMINE_PUBLIC_URL", cls.public_url).rstrip("/"),
            log_level=env.get("GREENMINE_LOG_LEVEL", cls.log_level).upper(),
            session_minutes=_int(env, "GREENMINE_SESSION_MINUTES", cls.session_minutes),
            token_minutes=_int(env, "GREENMINE_TOKEN_MINUTES", cls.token_minutes),
            contracts_dir=Path(env.get("GREENMINE_CONTRACTS_DIR") or cls.contracts_dir),
            service_urls=urls,
            upload_max_bytes=_int(env, "GREENMINE_UPLOAD_MAX_BYTES", cls.upload_max_bytes),
        )

    def database_name(self, component: str) -> str:
        return f"{self.db_prefix}_{component}"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"
