"""`python -m intake.entrypoints.consumer`: the intake service's Kafka consumer process."""
from __future__ import annotations

from shared.runtime import run_consumer
from intake.bootstrap import event_handlers


def main() -> None:
    run_consumer("intake", event_handlers)


if __name__ == "__main__":
    main()
