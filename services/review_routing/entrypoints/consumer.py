"""`python -m review_routing.entrypoints.consumer`: the review_routing service's Kafka consumer process."""
from __future__ import annotations

from shared.runtime import run_consumer
from review_routing.bootstrap import event_handlers


def main() -> None:
    run_consumer("review_routing", event_handlers)


if __name__ == "__main__":
    main()
