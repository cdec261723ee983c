"""`python -m intake.entrypoints.consumer`: the intake service's Kafka consumer process."""
from __future__ import annotations

from intake.bootstrap import event_handlers
from shared.runtime import run_consumer


def main() -> None:
    run_consumer("intake", event_handlers)


if __name__ == "__main__":
    main()
