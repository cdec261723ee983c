"""`python -m public_notice.entrypoints.consumer`: the public_notice service's Kafka consumer process."""
from __future__ import annotations

from shared.runtime import run_consumer
from public_notice.bootstrap import event_handlers


def main() -> None:
    run_consumer("public_notice", event_handlers)


if __name__ == "__main__":
    main()
