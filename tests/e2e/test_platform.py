"""The whole platform booted the way `make up` boots it (`edih up`), driven over HTTP like the
README's first request: a registered company gets a journey in Temporal and exactly one welcome
e-mail at a real SMTP server on loopback, also when the request is retried with its Idempotency-Key,
and everything accepted is still there after `edih down` and `edih up`."""

from __future__ import annotations

import mailbox
import re
import uuid
from collections.abc import Iterator
from email.header import decode_header, make_header
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client

from shared.auth import issue_token
from tests.support.running_stack import RunningStack
from tests.support.waiting import until

STAGE_ON_PAGE = re.compile(r'data-testid="stage">([^<]*)<')


def duplicates(base_url: str, service: str, event: str) -> float:
    """How many `event`s the service's consumer recognised as already applied, from its /metrics."""
    text = httpx.get(f"{base_url}/metrics", timeout=10).text
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == "edih_events_in_total"
               and sample.labels == {"service": service, "type": event, "outcome": "duplicate"})


def _safe(probe):  # a service still starting answers nothing, or no JSON yet
    try:
        return probe()
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[RunningStack]:
    running = RunningStack(tmp_path / "edih")
    try:
        running.up()
        yield running
    finally:
        running.stop()


def mails(stack: RunningStack) -> list[mailbox.MaildirMessage]:
    box = mailbox.Maildir(stack.data_dir / "mail", create=False)
    return [box[key] for key in box.keys()]


def subjects(messages: list[mailbox.MaildirMessage]) -> list[str]:
    return [str(make_header(decode_header(m["Subject"]))) for m in messages]


def text_of(message: mailbox.MaildirMessage) -> str:
    [plain] = [part for part in message.walk() if part.get_content_type() == "text/plain"]
    return str(plain.get_payload(decode=True).decode(plain.get_content_charset() or "utf-8"))


def test_a_registration_produces_a_journey_and_exactly_one_welcome_email(stack: RunningStack):
    settings = stack.settings
    token = issue_token(settings, "e2e", "admin")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
    company = {
        "kvk_number": "12345678",
        "legal_name": "Metaalbewerking Assen BV",
        "region": "drenthe",
        "nace_code": "C25.62",
        "contacts": [{"name": "Sanne de Vries", "role": "director", "email": "sanne@example.nl"}],
    }
    with httpx.Client(base_url=settings.url_of("intake"), timeout=10) as intake:
        first = intake.post("/companies", json=company, headers=headers)
        assert first.status_code == 201, first.text
        retried = intake.post("/companies", json=company, headers=headers)
        assert retried.status_code == 201 and retried.json() == first.json()
    company_id = first.json()["id"]

    # At admission the journey sends the welcome and the invitation to the questionnaire (T0).
    arrived = until(lambda: len(mails(stack)) >= 2 and mails(stack),
                       message="the welcome and the questionnaire invitation", timeout=90)
    assert sorted(subjects(arrived)) == ["Uw scan digitale volwassenheid staat klaar",
                                         "Welkom bij EDIH Noord-Nederland"]
    for mail in arrived:
        assert mail["To"].endswith("<sanne@example.nl>") or mail["To"] == "sanne@example.nl"
    [invitation] = [m for m in arrived if "scan" in subjects([m])[0]]
    assert f"{settings.url_of('intake')}/questionnaire/" in text_of(invitation)

    with httpx.Client(base_url=settings.url_of("notifications"), timeout=10) as notifications:
        def sent() -> list[dict[str, str]]:
            listed = notifications.get("/deliveries", params={"company_id": company_id},
                                       headers={"Authorization": f"Bearer {token}"}).json()
            return [d for d in listed if d["status"] == "sent"]

        deliveries = until(lambda: len(sent()) >= 2 and sent(), message="two sent deliveries")
    assert sorted(d["message_type"] for d in deliveries) == ["questionnaire-invitation", "welcome"]

    async def journey_status() -> str:
        client = await Client.connect(settings.temporal_address)
        description = await client.get_workflow_handle(f"journey-{company_id}").describe()
        return description.status.name if description.status else "UNKNOWN"

    import asyncio

    assert asyncio.run(journey_status()) == "RUNNING"

    with httpx.Client(base_url=settings.url_of("console"), timeout=10, follow_redirects=True) as console:
        console.post("/login", data={"email": settings.console_admin_email,
                                     "password": settings.console_admin_password})
        # The stage element itself, not the page: "Registered" also appears in the timeline.
        page = until(
            lambda: (r := console.get(f"/companies/{company_id}")).status_code == 200
            and STAGE_ON_PAGE.search(r.text) is not None and r.text,
            message="the company page with its stage",
        )
        stage = STAGE_ON_PAGE.search(page)
        assert stage is not None and stage.group(1).strip() == "Registered"
        assert "Metaalbewerking Assen BV" in page

    # A stop and a start keep every accepted fact, and send nothing twice: what a user sees of
    # the company (intake), its deliveries (notifications), its journey (the journey API) and its
    # console stage is the same.
    def seen() -> tuple[object, ...]:
        auth = {"Authorization": f"Bearer {token}"}
        company_seen = httpx.get(f"{settings.url_of('intake')}/companies/{company_id}", headers=auth,
                                 timeout=10).json()
        deliveries_seen = sorted(
            (d["message_type"], d["status"]) for d in httpx.get(
                f"{settings.url_of('notifications')}/deliveries", params={"company_id": company_id},
                headers=auth, timeout=10).json())
        console_seen = httpx.get(f"{settings.url_of('console')}/api/companies/{company_id}",
                                 headers=auth, timeout=10).json()
        journey_seen = httpx.get(f"{settings.url_of('journey')}/journeys/{company_id}",
                                 headers=auth, timeout=10).json()
        return (company_seen, deliveries_seen, journey_seen,
                console_seen["stage"], console_seen["legal_name"])

    before = seen()
    stack.down()
    stack.up()
    until(lambda: _safe(seen) == before, message="the same company, deliveries, journey and stage")
    assert asyncio.run(journey_status()) == "RUNNING"
    # The new broker is empty: the journey's relay publishes its retained commands again. Wait until
    # notifications has seen each notification request again and recognised it as a duplicate, then
    # count the mail: a request sent twice would have arrived by then.
    requested = len(before[1])  # one request per delivery
    until(lambda: (_safe(lambda: duplicates(settings.url_of("notifications"), "notifications",
                                            "notification-requested")) or 0) >= requested,
          message=f"notifications recognising the {requested} republished requests as duplicates")
    assert sorted(subjects(mails(stack))) == sorted(subjects(arrived))
