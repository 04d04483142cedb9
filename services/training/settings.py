"""Training's own settings (`EDIH_TRAINING_...`), a section beside the deployment's shared ones.

`TrainingSettings` extends `shared.settings.Settings`, so everything a service reads there is read
the same way; `training_settings` builds it from a base `Settings` (the fields given there win, the
training fields come from the environment or their defaults).
"""

from __future__ import annotations

from pydantic import Field

from shared.settings import Settings


class TrainingSettings(Settings):
    """Everything training needs beyond the deployment's shared settings."""

    # Where training is found; it listens on the port of this URL.
    training_url: str = "http://127.0.0.1:8102"
    # Enrolment (and a participant's cancellation) closes this many hub business days before the
    # session's day: 2 means a Thursday session closes at the start of Monday.
    training_enrolment_cutoff_business_days: int = Field(2, ge=0)
    # The session reminder goes this many hub business days before the session's day, at the start
    # of business hours.
    training_reminder_business_days: int = Field(1, ge=1)
    # How many active courses a recommendation proposes per weak dimension, and how many of the
    # company's weakest dimensions it looks at.
    training_recommended_per_dimension: int = Field(2, ge=1)
    training_weakest_dimensions: int = Field(2, ge=1, le=6)


def training_settings(settings: Settings) -> TrainingSettings:
    """`settings` with training's section: itself when it has one, else a copy of its shared fields
    with training's own from the environment."""
    if isinstance(settings, TrainingSettings):
        return settings
    return TrainingSettings(**{name: getattr(settings, name) for name in Settings.model_fields})
