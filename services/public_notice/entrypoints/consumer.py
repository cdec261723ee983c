"""`python -m public_notice.entrypoints.consumer`: the public_notice service's Kafka consumer process."""
from __future__ import annotations

from public_notice.bootstrap import event_handlers
from shared.runtime import run_consumer


def main() -> None:
    run_consumer("public_notice", event_handlers)


if __name__ == "__main__":
    main()
