"""Training's settings: the deployment's (`Settings`) and its own section, `EDIH_TRAINING_*`."""

from __future__ import annotations

from pydantic import Field

from shared.settings import Settings


class TrainingSettings(Settings):
    """Everything training needs beyond the deployment's shared settings."""

    # Enrolment (and a participant's cancellation) closes this many hub business days before the
    # session's day: 2 means a Thursday session closes at the start of Tuesday.
    training_enrolment_cutoff_business_days: int = Field(2, ge=0)
    # The session reminder goes this many hub business days before the session's day, at the start
    # of business hours.
    training_reminder_business_days: int = Field(1, ge=1)
    # How many active courses a recommendation proposes per weak dimension, and how many of the
    # company's weakest dimensions it looks at.
    training_recommended_per_dimension: int = Field(2, ge=1)
    training_weakest_dimensions: int = Field(2, ge=1, le=6)
