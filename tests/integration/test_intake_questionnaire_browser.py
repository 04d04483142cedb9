"""The company's questionnaire in a real browser, at a phone's size: the company opens its
invitation link, switches to English, fills in the questionnaire by clicking, is told which answer
it forgot, sends it and reads its scores, and finds them again when it opens the link later.
Debian's Chromium, driven by Playwright; without Chromium the test is skipped, except in CI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.intake import dma
from services.intake.app import create_app
from shared.auth import issue_token
from shared.settings import Settings
from tests.integration.test_intake_api import registration
from tests.integration.test_intake_assessments_api import T0_ANSWERS
from tests.support.browser import CHROMIUM_ARGS
from tests.support.served import served

PHONE = {"width": 390, "height": 844}
# T0_ANSWERS as scored by hand (tests/integration/test_intake_assessments_api.py), as the page shows them.
SCORES = {"Digital business strategy": "20.0", "Digital readiness": "33.6",
          "Human-centric digitalisation": "33.0", "Data management and connectedness": "29.8",
          "Automation and artificial intelligence": "60.0", "Green digitalisation": "55.0",
          "Overall score": "38.6"}


@pytest.fixture
async def intake_url(settings: Settings) -> AsyncIterator[str]:
    async with served(create_app(settings), "intake") as url:
        yield url


async def invitation_link(settings: Settings, base: str) -> str:
    """Register a company with a Dutch contact and create its T0 link, as staff do."""
    headers = {"Authorization": f"Bearer {issue_token(settings, 'advisor-1', 'admin')}"}
    contacts = [{"name": "Sanne de Vries", "role": "director", "email": "sanne@metaal-assen.nl"}]
    async with httpx.AsyncClient(base_url=base, headers=headers) as staff:
        company = await staff.post("/companies", json=registration(contacts=contacts))
        assert company.status_code == 201, company.text
        link = await staff.post(f"/companies/{company.json()['id']}/questionnaire-link", json={"stage": "T0"})
        assert link.status_code == 201, link.text
    return f"{base}/questionnaire/{link.json()['token']}"


async def test_a_company_fills_in_its_questionnaire_in_a_browser_and_reads_its_scores(
    chromium_path: str, intake_url: str, settings: Settings, tmp_path: Any
):
    from playwright.async_api import Page, async_playwright, expect

    url = await invitation_link(settings, intake_url)
    english = dma.localised("sme-v1", "en")
    scales = english["scales"]

    async def answer(page: Page, answers: dict[str, Any], skip: str | None = None) -> None:
        """Click what `answers` says, question by question, leaving `skip` unanswered."""
        for question in english["questions"]:
            given = answers[question["id"]]
            for item in question["items"]:
                value = given[item["id"]]
                if item["id"] == skip:
                    continue
                if question["type"] == "invested_planned":
                    area = page.get_by_role("group", name=item["text"], exact=True)
                    for part in ("invested", "planned"):
                        if value[part]:
                            await area.get_by_role("checkbox", name=scales["invested_planned"][part]).check()
                elif question["type"] == "checkbox":
                    if value:
                        await page.get_by_role("checkbox", name=item["text"], exact=True).check()
                else:
                    [option] = [o for o in scales[question["type"]] if o["value"] == value]
                    label = f"{value} {option['text']}" if question["type"] == "rating" else option["text"]
                    group = page.get_by_role("group", name=item["text"], exact=True)
                    await group.get_by_role("radio", name=label, exact=True).check()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport=PHONE)
            heading = page.get_by_role("heading", level=1)
            await page.goto(url)
            await expect(heading).to_have_text("Digitale volwassenheidsscan (mkb-module)")
            await page.get_by_role("link", name="English").click()
            await expect(heading).to_have_text("Digital maturity assessment (SME module)")
            await expect(page.get_by_text("For Staalbouw Noord B.V.")).to_be_visible()
            # Readable on a phone: nothing wider than the screen.
            assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

            # "Not collected digitally" excludes the other data items: ticking one unticks the other.
            stored_digitally = page.get_by_label("Relevant data is stored digitally", exact=True)
            not_digital = page.get_by_label("Data is not collected digitally", exact=True)
            await stored_digitally.check()
            await not_digital.check()
            await expect(stored_digitally).not_to_be_checked()
            await stored_digitally.check()
            await expect(not_digital).not_to_be_checked()
            await stored_digitally.uncheck()

            await answer(page, T0_ANSWERS, skip="q9.2")
            await page.get_by_role("button", name="Send answers").click()
            summary = page.get_by_role("alert")
            await expect(summary).to_contain_text("Question 9, Computer vision: Choose an answer.")
            await expect(summary).to_be_focused()
            await page.screenshot(path=str(tmp_path / "refused.png"), full_page=True)
            # The answers given are kept: only the forgotten one is left to choose.
            await expect(page.get_by_role("checkbox", name="Website", exact=True)).to_be_checked()
            await summary.get_by_role("link").click()
            computer_vision = page.get_by_role("group", name="Computer vision", exact=True)
            await computer_vision.get_by_role("radio", name="2 Prototyping").check()
            await page.get_by_role("button", name="Send answers").click()

            await expect(heading).to_have_text("Thank you for your answers")
            for dimension, score in SCORES.items():
                await expect(page.get_by_role("row", name=dimension)).to_contain_text(score)
            await expect(page.get_by_text("Level: average")).to_be_visible()
            await page.screenshot(path=str(tmp_path / "scores.png"), full_page=True)

            await page.goto(url)
            await expect(heading).to_have_text("Deze vragenlijst is al ingevuld")
            await expect(page.get_by_role("row", name="Totaalscore")).to_contain_text("38,6")
            await expect(page.get_by_role("button")).to_have_count(0)
        finally:
            await browser.close()
