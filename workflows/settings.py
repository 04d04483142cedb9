"""The journey service's settings: the deployment's (`Settings`) and its own section, `EDIH_JOURNEY_*`.

Each field `journey_<name>` is the field `<name>` of `JourneyPolicy` (workflows/models.py), which
defines the durations and their defaults once; the policy a journey starts with is made from these
settings (`workflows.handlers.policy_from`). Every duration is a setting, so a demo can compress
months into minutes (ISO 8601 durations or seconds, e.g. EDIH_JOURNEY_FOLLOW_UP_AFTER=PT3M).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from shared.settings import Settings
from workflows.models import JourneyPolicy

_DEFAULT = JourneyPolicy()


class JourneySettings(Settings):
    """The journey's durations, default advisors and limits (see `JourneyPolicy`)."""

    # An intake not scheduled this many business days (hub calendar) after admission alerts the
    # advisor; `journey_intake_alert_after`, when set, replaces the business days by a plain duration.
    journey_intake_alert_business_days: int = Field(_DEFAULT.intake_alert_business_days, ge=1)
    journey_intake_alert_after: timedelta | None = _DEFAULT.intake_alert_after
    # After the questionnaire invitation: reminders to the company, then escalation to the advisor.
    journey_questionnaire_reminders: list[timedelta] = Field(
        default_factory=lambda: list(_DEFAULT.questionnaire_reminders))
    journey_questionnaire_escalation_after: timedelta = _DEFAULT.questionnaire_escalation_after
    # Follow-up: the T1 invitation this long after the last service ended, reminders after the
    # invitation, and the window after which the journey closes without follow-up.
    journey_follow_up_after: timedelta = _DEFAULT.follow_up_after
    journey_follow_up_reminders: list[timedelta] = Field(
        default_factory=lambda: list(_DEFAULT.follow_up_reminders))
    journey_follow_up_window: timedelta = _DEFAULT.follow_up_window
    # How long an ended journey still records late facts before its workflow completes.
    journey_keep_after_end: timedelta = _DEFAULT.keep_after_end
    # The advisor (a console staff account id) of a region until intake names one, e.g.
    # EDIH_JOURNEY_DEFAULT_ADVISORS='{"drenthe": "7", "groningen": "8", "friesland": "8"}'.
    journey_default_advisors: dict[str, str] = Field(default_factory=dict)
    # Continue-as-new when the history has this many events (Temporal also suggests it itself).
    journey_history_threshold: int = Field(_DEFAULT.history_threshold, ge=10)
    # Attempts at fetching a questionnaire link from intake before a message goes without it.
    journey_link_attempts: int = Field(_DEFAULT.link_attempts, ge=1)

