"""The console's settings: the deployment's (`Settings`) and its own section, `EDIH_CONSOLE_*`."""

from __future__ import annotations

from shared.settings import Settings


class ConsoleSettings(Settings):
    """Console sign-in: the first administrator, created on start when no staff account exists."""

    console_admin_email: str = "admin@edih.local"
    console_admin_password: str = "admin"

    def problems(self) -> list[str]:
        problems = super().problems()
        if self.environment == "production" and self.console_admin_password == "admin":
            problems.append("EDIH_CONSOLE_ADMIN_PASSWORD must be changed in production")
        return problems
