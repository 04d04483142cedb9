"""Intake's settings: the deployment's (`Settings`) and its own section, `EDIH_INTAKE_*`."""

from __future__ import annotations

from pydantic import Field

from shared.settings import Settings


class IntakeSettings(Settings):
    """The cohort's quota pools and the questionnaire link."""

    # The cohort's quota pools: places per pool, and the regions each pool serves.
    intake_pool_sizes: dict[str, int] = Field(
        default_factory=lambda: {"drenthe": 80, "groningen-friesland": 80}
    )
    intake_pool_regions: dict[str, list[str]] = Field(
        default_factory=lambda: {"drenthe": ["drenthe"], "groningen-friesland": ["groningen", "friesland"]}
    )
    # The questionnaire invitation link: how long it works, and the public base URL it points to
    # (intake's URL when unset).
    intake_questionnaire_link_ttl_days: int = Field(42, ge=1)
    intake_public_url: str | None = None
    # The services whose personal data about a company intake's export gathers (their
    # `GET /internal/personal-data/{company_id}`), e.g. EDIH_INTAKE_PERSONAL_DATA_SERVICES='["training"]'.
    intake_personal_data_services: list[str] = Field(default_factory=lambda: ["training"])
