"""`python -m scoring.entrypoints.consumer`: the scoring service's Kafka consumer process."""
from __future__ import annotations

from scoring.bootstrap import event_handlers
from shared.runtime import run_consumer


def main() -> None:
    run_consumer("scoring", event_handlers)


if __name__ == "__main__":
    main()
