"""The demo flow through the real APIs, for end-to-end tests (importable: pytest puts tests/ on sys.path). It lives
in `shared.demo_flows`, which `make run`'s demo scenario uses as well."""
from shared.demo_flows import (  # noqa: F401 - the names the tests import from here
    JPEG,
    MP4,
    PASSWORD,
    PDF,
    REQUIRED,
    DemoStepFailed,
    agree_everywhere,
    complete_agreement,
    demo_reviewer,
    full_assessment,
    pdf_of,
    submit_application,
    token,
    wait_for_task,
)
