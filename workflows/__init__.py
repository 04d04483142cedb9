"""The journey service: one `CompanyJourney` workflow per company, its activities and worker, the
Kafka->Temporal bridge, the HTTP read of a journey and the staff actions on it (docs/journey.md).

The task queue's name is a setting (`Settings.temporal_task_queue`, default `edih-journey`) so tests
can give every test its own queue; the workflow id of a company is fixed here.
"""

from __future__ import annotations

import services  # noqa: F401  (registers the services' default ports: the journey calls intake)

WORKFLOW_ID_PREFIX = "journey-"


def workflow_id(company_id: str) -> str:
    """The one workflow id of a company's journey: starting it again finds the running one."""
    return f"{WORKFLOW_ID_PREFIX}{company_id}"
