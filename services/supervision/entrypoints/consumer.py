"""`python -m supervision.entrypoints.consumer`: the supervision service's Kafka consumer process."""
from __future__ import annotations

from shared.runtime import run_consumer
from supervision.bootstrap import event_handlers


def main() -> None:
    run_consumer("supervision", event_handlers)


if __name__ == "__main__":
    main()
