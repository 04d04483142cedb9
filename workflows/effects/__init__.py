"""What applying a fact or firing a timer does to a journey: the CompanyJourney workflow's effects.

Runs inside the workflow (deterministic: time from `workflow.now()`, I/O only through activities
with stable ids). An `Effects` holds the journey's state and policy; `CompanyJourney` calls it under
its lock, so one effect finishes before the next begins. Its parts, one job each, build on one
another:

- base.py: state and policy, the log, overdue reasons, search attributes, timer bookkeeping;
- messages.py: notifications to the company and alerts to staff, questionnaire links;
- moves.py: moving between stages, what entering a stage starts and stops, ending planned items,
  staff moves;
- facts.py: apply, hold or refuse a fact, each kind of fact by its contract model;
- firing.py: firing due timers;
- versions.py: the workflow's versions, decided once when a run starts (`effects_for_this_run`):
  journeys recorded by an older version replay with the behaviour they were recorded with.
"""

from workflows.effects.base import SEARCH_ATTRIBUTE_KEYS
from workflows.effects.versions import PATCH, STAFF_PATCH, Effects, effects_for_this_run

__all__ = ["PATCH", "SEARCH_ATTRIBUTE_KEYS", "STAFF_PATCH", "Effects", "effects_for_this_run"]
