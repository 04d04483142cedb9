"""A sender killed after the mail server accepted a message and before the delivery is marked sent.

What the company sees (decided, docs/notifications.md): the same message again with the same
Message-ID, which mail clients show once. The repeat is not hidden: the delivery's history records
the interrupted attempt and `edih_notification_possible_repeats_total` counts it. The notifications
service runs in a process of its own and is SIGKILLed for real; the mail server holds its answer to
the first DATA until the test has locked the delivery's row, so the kill always falls between the
server's acceptance and the sender's record of it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from prometheus_client import REGISTRY
from sqlalchemy import update
from sqlmodel import col

from services.notifications.models import Delivery
from services.notifications.settings import NotificationSettings
from shared.db import Database
from shared.settings import Settings
from tests.integration import test_notifications_delivery as support
from tests.integration.test_notifications_delivery import (
    Intake,
    MailServer,
    new_company,
    run_notifications,
)
from tests.support.waiting import eventually

intake = support.intake
REPO = Path(__file__).resolve().parents[2]


class AcceptsOnCue(MailServer):
    """Accepts every message; the first one only once the test says so, and it says when the
    acceptance (250) has been written to the sender."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = threading.Event()
        self.may_accept = threading.Event()
        self.accepted = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if not self.arrived.is_set():
            self.arrived.set()
            await asyncio.to_thread(self.may_accept.wait, 60)
            # Runs once this hook has returned and the server has written its answer.
            asyncio.get_running_loop().call_soon(self.accepted.set)
        return answer


def notifications_process(settings: Settings, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """The notifications service (its consumer, relay and sender) in a process of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.notifications_process", settings.model_dump_json()],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def possible_repeats() -> float:
    return REGISTRY.get_sample_value("edih_notification_possible_repeats_total", {"channel": "email"}) or 0.0


async def test_a_sender_killed_after_the_server_accepted_sends_the_same_message_id_again_and_says_so(
    settings: Settings, intake: Intake, tmp_path: Path
) -> None:
    mail = AcceptsOnCue()
    await mail.start()
    await intake.start()
    company_id, email = new_company(intake)
    service_settings = NotificationSettings.of(
        settings, smtp_port=mail.port, service_urls={"intake": intake.url, "console": intake.url},
        notification_claim_seconds=1.0,
    )
    log = (tmp_path / "notifications.log").open("wb")
    process = notifications_process(service_settings, log)
    db = Database.for_service(service_settings, "notifications")
    try:
        async with run_notifications(settings, mail, intake, notification_claim_seconds=1.0) as neighbour:
            # The in-process instance is only the journey's voice and the staff's view: its own
            # sender must not take the delivery first.
            await neighbour.app.state.sender.stop()
            await neighbour.request_welcome(company_id, f"welcome-{company_id}")
            assert await asyncio.to_thread(mail.arrived.wait, 60), "the first attempt never came"

            # Hold the delivery's row, so the sender cannot record what the server answers.
            async with db.sessions() as holder, holder.begin():
                await holder.execute(update(Delivery).where(col(Delivery.company_id) == company_id)
                                     .values(attempts=col(Delivery.attempts)))
                mail.may_accept.set()
                assert await asyncio.to_thread(mail.accepted.wait, 60)
                process.kill()
                process.wait(30)
                await holder.rollback()

            (first,) = mail.to(email)
            row = await neighbour.delivery(company_id)
            assert row["status"] == "pending" and row["sent_at"] is None  # the record was lost

            before = possible_repeats()
            await neighbour.app.state.sender.start()  # a sender comes back, as after a restart
            sent = await eventually(lambda: _sent(neighbour, company_id), message="the welcome sent again")

        copies = mail.to(email)
        assert len(copies) == 2
        assert copies[1]["Message-ID"] == first["Message-ID"]
        assert [attempt["outcome"] for attempt in sent["history"]] == ["interrupted", "sent"]
        assert "same Message-ID" in sent["history"][0]["error"]
        assert possible_repeats() == before + 1
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
        await db.dispose()
        await mail.stop()
        await intake.stop()


async def _sent(service: Any, company_id: str) -> dict[str, Any] | None:
    row = await service.delivery(company_id)
    return row if row["status"] == "sent" else None
