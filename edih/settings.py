"""The settings of the whole local platform, as the `edih` command reads them: every service's
section at once (`PlatformSettings`), so `edih up` refuses what any service would refuse and shows
what each one is configured with (the console's administrator, the services' URLs)."""

from __future__ import annotations

from services.console.settings import ConsoleSettings
from services.intake.settings import IntakeSettings
from services.notifications.settings import NotificationSettings
from services.training.settings import TrainingSettings
from workflows.settings import JourneySettings


class PlatformSettings(
    IntakeSettings, TrainingSettings, NotificationSettings, ConsoleSettings, JourneySettings
):
    """The deployment's settings and each service's section; the checks of all of them."""
