"""A company's audit trail: who did what to it, when. Staff writes, exports and erasures of
personal data, exits the journey decided, and what intake does by itself (an automatic admission,
whose actor is `SYSTEM`). Written in the caller's transaction, so an entry exists exactly when its
change does."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import AuditEntry
from shared.clock import Clock

# The actor of what intake decides without anyone asking (an admission into a freed place).
SYSTEM = "system"


def audit(
    session: AsyncSession, clock: Clock, hub_id: str, actor: str, company_id: str, action: str,
    changes: dict[str, Any] | None = None,
) -> None:
    """Log who did what to a company, in the caller's transaction (no contact data in `changes`)."""
    session.add(
        AuditEntry(
            hub_id=hub_id, company_id=company_id, actor=actor, action=action,
            changes=changes or {}, at=clock.now().astimezone(UTC),
        )
    )
