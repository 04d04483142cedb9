"""The console in a real browser: a staff member signs in through the form, opens a company and reads
its journey stage and timeline, and finds a caught e-mail on the Mail page. Debian's Chromium, driven
by Playwright; without Chromium the test is skipped, except in CI where it must run."""

from __future__ import annotations

import mailbox
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from services.console.app import create_app
from services.console.settings import ConsoleSettings
from shared.contracts import build_event
from shared.contracts.intake import CompanyRegistered
from shared.contracts.journey import JourneyStageChanged
from shared.kafka import make_broker
from shared.settings import Settings
from tests.support.browser import CHROMIUM_ARGS
from tests.support.served import served
from tests.support.waiting import eventually

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
async def console_url(settings: Settings) -> AsyncIterator[str]:
    async with served(create_app(settings), "console") as url:
        yield url


async def publish_company(settings: Settings, company_id: str) -> None:
    broker = make_broker(settings, "test-publisher")
    await broker.start()
    try:
        registered = CompanyRegistered(
            hub_id="nl-noord", company_id=company_id, kvk_number="07654321",
            legal_name="Friese Kunststoffen BV", region="friesland", nace_code="C22.29",
            cohort_status="admitted",
        )
        started = JourneyStageChanged(
            hub_id="nl-noord", company_id=company_id, from_stage=None, to_stage="registered",
            at=AT + timedelta(seconds=5), reason="company admitted to the cohort", actor="journey",
        )
        for name, data, sender in (("company-registered", registered, "intake"),
                                   ("journey-stage-changed", started, "journey")):
            contract, event = build_event(name, data, sender=sender, at=AT)
            await broker.publish(event.to_bytes(), settings.topic(contract.topic),
                                 key=company_id.encode())
    finally:
        await broker.stop()


def catch_mail(maildir: Path, subject: str) -> None:
    maildir.parent.mkdir(parents=True, exist_ok=True)
    message = EmailMessage()
    message["From"] = "EDIH Noord-Nederland <noreply@edih-noord.nl>"
    message["To"] = "jan@friese-kunststoffen.example"
    message["Subject"] = subject
    message["Date"] = "Mon, 02 Mar 2026 10:00:00 +0100"
    message.set_content("Welkom bij EDIH Noord-Nederland.\n")
    mailbox.Maildir(maildir, create=True).add(message)


async def test_staff_sign_in_and_read_a_company_and_the_caught_mail(
    chromium_path, console_url, settings, tmp_path
):
    from playwright.async_api import async_playwright, expect

    company_id = str(uuid.uuid4())
    await publish_company(settings, company_id)
    catch_mail(settings.mail_dir, "Welkom bij EDIH Noord-Nederland")

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(f"{console_url}/companies/{company_id}")
            await expect(page).to_have_url(f"{console_url}/login?next=/companies/{company_id}")
            await page.get_by_label("E-mail address").fill(ConsoleSettings.of(settings).console_admin_email)
            await page.get_by_label("Password").fill(ConsoleSettings.of(settings).console_admin_password)
            await page.get_by_role("button", name="Sign in").click()
            await expect(page).to_have_url(f"{console_url}/companies/{company_id}")

            async def timeline_complete() -> bool:
                await page.reload()
                return await page.locator("[data-testid=timeline] li").count() == 2

            await eventually(timeline_complete, message="both events on the company page")
            await expect(page.get_by_role("heading", level=1)).to_have_text("Friese Kunststoffen BV")
            await expect(page.get_by_test_id("stage")).to_have_text("Registered")
            entries = page.locator("[data-testid=timeline] li")
            await expect(entries.nth(0)).to_contain_text("Journey started at stage Registered")
            await expect(entries.nth(1)).to_contain_text("Registered Friese Kunststoffen BV")
            await page.screenshot(path=str(tmp_path / "company.png"), full_page=True)

            await page.get_by_role("link", name="Mail").click()
            link = page.get_by_role("link", name="Welkom bij EDIH Noord-Nederland")
            await expect(link).to_be_visible()
            await expect(page.get_by_text("jan@friese-kunststoffen.example")).to_be_visible()
            await link.click()
            await expect(page.locator("pre.body")).to_contain_text("Welkom bij EDIH Noord-Nederland.")
            await page.screenshot(path=str(tmp_path / "mail.png"), full_page=True)
        finally:
            await browser.close()
