"""The company's questionnaire as a web page, over HTTP with intake in-process, on SQLite and
PostgreSQL: the invitation link opens every question and item of the SME module in Dutch or
English with the right control for each; the posted form is scored exactly as the JSON API scores
the same answers and the link then shows the scores; refused answers come back with the company's
answers kept and each offending item marked, storing nothing; a double submit is stored once;
expired, forged and other links, a withdrawn company and a T1 before the T0 get a page saying so;
API clients still get JSON."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from services.intake import dma
from services.intake.links import issue_link_token
from services.intake.records import Assessment
from shared.idempotency import StoredResponse
from shared.settings import Settings
from tests.integration.test_intake_api import Intake, registration, running_intake
from tests.integration.test_intake_assessments_api import T0_ANSWERS, assessment
from tests.support.html import Element, Page

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"}
# The SME module of DOMAIN.md: its six dimensions with their questions, and each question's items.
DIMENSIONS = {"digital_business_strategy": ["q1", "q2"], "digital_readiness": ["q3", "q4"],
              "human_centric_digitalisation": ["q5", "q6"], "data_management": ["q7", "q8"],
              "automation_ai": ["q9"], "green_digitalisation": ["q10", "q11"]}
ITEMS = {"q1": 10, "q2": 10, "q3": 10, "q4": 7, "q5": 7, "q6": 8, "q7": 8, "q8": 6, "q9": 5, "q10": 10,
         "q11": 5}
RATINGS = {"nl": ["Niet gebruikt", "Overwegen", "Prototype", "Testen", "Invoeren", "In gebruik"],
           "en": ["Not used", "Considering", "Prototyping", "Testing", "Implementing", "Operational"]}
NO_PARTIALLY_YES = {"nl": ["Nee", "Gedeeltelijk", "Ja"], "en": ["No", "Partially", "Yes"]}
Q1_CHOICES = {"nl": ["Al in geïnvesteerd", "Investering gepland"],
              "en": ["Already invested", "Plan to invest"]}
DUTCH_CONTACT = [{"name": "Sanne de Vries", "role": "director", "email": "sanne@metaal-assen.nl"}]


@pytest.fixture
async def intake(settings: Settings) -> AsyncIterator[Intake]:
    async with running_intake(settings) as running:
        yield running


async def register(intake: Intake, kvk_number: str = "01234567", contacts: Any = None) -> str:
    body = registration(kvk_number, **({"contacts": contacts} if contacts else {}))
    response = await intake.register(body)
    assert response.json()["cohort_status"] == "admitted", response.text
    return str(response.json()["id"])


async def link(intake: Intake, company: str, stage: str = "T0") -> str:
    """The path of the company's invitation link, as staff create it."""
    response = await intake.call("POST", f"/companies/{company}/questionnaire-link", {"stage": stage})
    assert response.status_code == 201, response.text
    return str(response.json()["url"]).removeprefix(intake.settings.url_of("intake"))


async def open_page(intake: Intake, path: str, **params: str) -> tuple[httpx.Response, Page]:
    response = await intake.client.get(path, params=params or None, headers=BROWSER)
    return response, Page.parse(response.text)


def answering(answers: dict[str, Any]) -> Callable[[Element], bool]:
    """What a company clicks on the page to give `answers`: for each box or button, whether it is
    ticked or chosen."""

    def choose(control: Element) -> bool:
        name, value = control.attrs["name"], control.attrs.get("value")
        question = name.split(".")[0]
        if name.endswith((".invested", ".planned")):
            item, part = name.rsplit(".", 1)
            return bool(answers[question][item][part])
        if control.attrs["type"] == "checkbox":
            return answers[question][name] is True
        return str(answers[question][name]) == value

    return choose


def without(*items: str) -> Callable[[Element], bool]:
    """T0_ANSWERS, with nothing chosen for `items`."""
    chosen = answering(T0_ANSWERS)
    return lambda control: control.attrs["name"] not in items and chosen(control)


async def send(intake: Intake, path: str, fields: list[tuple[str, str]]) -> tuple[httpx.Response, Page]:
    """Post the form as a browser does (form-encoded, asking for a page)."""
    body = httpx.QueryParams(fields)
    response = await intake.client.post(
        path, content=str(body), headers={**BROWSER, "Content-Type": "application/x-www-form-urlencoded"}
    )
    return response, Page.parse(response.text)


def shown_scores(page: Page) -> dict[str, Decimal]:
    """dimension (and "overall") -> the score the page shows for it."""
    scores = {}
    for row in page.find("tr"):
        if "data-dimension" in row.attrs:
            [score] = [e for e in page.find("span", class_="score")
                       if e.has_ancestor(lambda node, row=row: node is row)]
            scores[row.attrs["data-dimension"]] = Decimal(score.attrs["data-score"])
    return scores


def api_scores(body: dict[str, Any]) -> dict[str, Decimal]:
    scores = {d: Decimal(str(v)) for d, v in body["dimensions"].items()}
    return {**scores, "overall": Decimal(str(body["overall"]))}


async def stored(intake: Intake) -> tuple[int, int, int]:
    """(assessments, assessment-completed events, stored responses)."""
    return (await intake.count(Assessment), len(await intake.events("assessment-completed")),
            await intake.count(StoredResponse))


@pytest.mark.parametrize("language", ["nl", "en"])
async def test_the_link_opens_every_question_and_item_with_its_control_in_the_company_language(
    intake: Intake, language: str
):
    company = await register(intake, contacts=DUTCH_CONTACT)
    path = await link(intake, company)
    response, page = await open_page(intake, path, **({"lang": "en"} if language == "en" else {}))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"  # the token is in the URL
    assert page.one("html").attrs["lang"] == language
    assert "Staalbouw Noord B.V." in page.text
    # The link expires 42 days after 2 March 2026, 09:30 UTC: 11:30 in Amsterdam (summer time).
    assert {"nl": "13 april 2026, 11:30", "en": "13 April 2026, 11:30"}[language] in page.text
    stage = {"nl": "Nulmeting (T0)", "en": "First assessment (T0)"}[language]
    assert page.one(data_testid="stage").text.startswith(stage)
    other = "en" if language == "nl" else "nl"
    assert page.one("a", hreflang=other).attrs["href"] == f"?lang={other}"

    questionnaire = dma.localised("sme-v1", language)
    headings = [h.text for h in page.find("h2")]
    legends = [legend.text for legend in page.find("legend")]
    texts = {q["id"]: q for q in questionnaire["questions"]}
    for dimension, questions in zip(questionnaire["dimensions"], DIMENSIONS.items(), strict=True):
        assert (dimension["id"], dimension["questions"]) == questions
        assert any(h.endswith(dimension["text"]) for h in headings), dimension["text"]
    for qid, count in ITEMS.items():
        question = texts[qid]
        assert len(question["items"]) == count
        assert any(legend.endswith(question["text"]) for legend in legends), question["text"]
        for n, item in enumerate(question["items"], 1):
            assert item["id"] == f"{qid}.{n}"
            controls = {(c.attrs["type"], c.attrs["name"], c.attrs["value"]): page.label_of(c)
                        for c in page.inputs if c.attrs["name"].split(".")[:2] == item["id"].split(".")}
            if question["type"] == "invested_planned":
                assert item["text"] in legends
                parts = zip(("invested", "planned"), Q1_CHOICES[language], strict=True)
                assert controls == {("checkbox", f"{item['id']}.{p}", "yes"): label for p, label in parts}
            elif question["type"] == "checkbox":
                assert controls == {("checkbox", item["id"], "yes"): item["text"]}
            elif question["type"] == "rating":
                assert item["text"] in legends
                assert controls == {("radio", item["id"], str(v)): f"{v} {label}"
                                    for v, label in enumerate(RATINGS[language])}
            else:
                assert item["text"] in legends
                assert controls == {("radio", item["id"], v): label for v, label in
                                    zip(("no", "partially", "yes"), NO_PARTIALLY_YES[language], strict=True)}
    not_digital = texts["q7"]["items"][1]["text"]
    assert not_digital == {"nl": "Gegevens worden niet digitaal verzameld",
                           "en": "Data is not collected digitally"}[language]
    # The item, and the note that it excludes the others.
    assert page.one("fieldset", id="q7").text.count(not_digital) == 2
    assert {"nl": "sluit de andere antwoorden", "en": "excludes the other answers"}[language] in page.text
    # Every control is labelled, no button is chosen before the company chooses, every radio needs an answer.
    visible = [c for c in page.inputs if c.attrs["type"] != "hidden"]
    assert len(visible) == 20 + 59 + 12 * 6 + 5 * 3
    assert all(page.label_of(c) for c in visible)
    assert page.checked() == {}
    assert all("required" in c.attrs for c in visible if c.attrs["type"] == "radio")
    style = await intake.client.get("/static/questionnaire.css")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")


async def test_the_page_is_in_the_contact_language_unless_the_company_switches(intake: Intake):
    company = await register(intake)  # the primary contact, Anna, reads English
    path = await link(intake, company)

    _, english = await open_page(intake, path)
    _, dutch = await open_page(intake, path, lang="nl")
    _, unknown = await open_page(intake, path, lang="de")

    assert english.one("html").attrs["lang"] == "en"
    assert english.one("button").text == "Send answers"
    assert dutch.one("html").attrs["lang"] == "nl"
    assert dutch.one("button").text == "Antwoorden versturen"
    assert unknown.one("html").attrs["lang"] == "en"


async def test_api_clients_still_get_the_json_questionnaire(intake: Intake):
    company = await register(intake)
    path = await link(intake, company)

    response = await intake.client.get(path, headers={"Accept": "application/json"})
    wrong = await intake.client.get(path, params={"lang": "de"}, headers={"Accept": "application/json"})

    assert response.headers["content-type"] == "application/json"
    assert (response.json()["language"], response.json()["stage"]) == ("en", "T0")
    assert wrong.status_code == 422
    assert "lang" in wrong.json()["message"]


async def test_a_submitted_form_is_scored_exactly_as_the_json_api_scores_the_same_answers(intake: Intake):
    by_form = await register(intake, "01234567", DUTCH_CONTACT)
    by_api = await register(intake, "07654321", DUTCH_CONTACT)
    path = await link(intake, by_form)
    _, form = await open_page(intake, path)

    response, thanks = await send(intake, path, form.submitted(answering(T0_ANSWERS)))
    api = await intake.client.post(await link(intake, by_api), json={"answers": T0_ANSWERS})

    assert response.status_code == 201, response.text
    assert api.status_code == 201, api.text
    assert thanks.one("h1").text == "Bedankt voor het invullen"
    assert shown_scores(thanks) == api_scores(api.json())
    assert shown_scores(thanks)["overall"] == Decimal("38.6")
    assert thanks.one("strong", data_band="average").text == "gemiddeld"
    assert "33,6" in thanks.one("table").text  # digital readiness, with the Dutch decimal comma
    [(_, event)] = [e for e in await intake.events("assessment-completed") if e[1]["company_id"] == by_form]
    assert api_scores(event) == api_scores(api.json())
    async with intake.ctx.db.reading() as session:
        rows = (await session.execute(Assessment.__table__.select())).all()  # type: ignore[attr-defined]
    assert {row.company_id: (row.entered_by, row.answers) for row in rows}[by_form] == ("company", T0_ANSWERS)

    reopened, answered = await open_page(intake, path)
    assert reopened.status_code == 200
    assert answered.one("h1").text == "Deze vragenlijst is al ingevuld"
    assert "2 maart 2026, 10:30" in answered.text
    assert shown_scores(answered) == api_scores(api.json())
    assert answered.find("form") == []


async def test_refused_answers_come_back_with_the_answers_kept_and_each_offending_item_marked(intake: Intake):
    company = await register(intake, contacts=DUTCH_CONTACT)
    path = await link(intake, company)
    _, form = await open_page(intake, path)
    chosen = without("q4.3", "q11.2")
    fields = form.submitted(lambda c: chosen(c) or c.attrs["name"] == "q7.2")

    response, again = await send(intake, path, fields)

    assert response.status_code == 422
    assert again.one("title").text.startswith("Fout: ")
    summary = [li.text for li in again.find("li")
               if li.has_ancestor(lambda node: node.attrs.get("id") == "error-summary")]
    assert summary == [
        "Vraag 4, CAD/CAM: Kies een antwoord.",
        'Vraag 7, Gegevens worden niet digitaal verzameld: "Gegevens worden niet digitaal verzameld" kan '
        "niet samen met een ander antwoord van deze vraag worden aangevinkt.",
        "Vraag 11, Een milieumanagementsysteem of -certificering: Kies een antwoord.",
    ]
    for item in ("q4-3", "q7-2", "q11-2"):
        assert "invalid" in again.one(id=f"item-{item}").attrs["class"]
        assert again.one(id=f"error-{item}").text.startswith("Fout:")
    assert again.one("input", id="q7-2").attrs["aria-invalid"] == "true"
    posted = {name: value for name, value in fields if name not in ("submission", "lang")}
    assert again.checked() == posted
    submission = dict(fields)["submission"]
    assert again.one("input", name="submission").attrs["value"] == submission
    assert await stored(intake) == (0, 0, 0)

    corrected, thanks = await send(intake, path, form.submitted(answering(T0_ANSWERS)))
    assert corrected.status_code == 201
    assert shown_scores(thanks)["overall"] == Decimal("38.6")
    assert (await stored(intake))[:2] == (1, 1)


async def test_a_double_submit_of_the_form_is_stored_once_and_shows_the_same_scores(intake: Intake):
    company = await register(intake, contacts=DUTCH_CONTACT)
    path = await link(intake, company)
    _, form = await open_page(intake, path)
    fields = form.submitted(answering(T0_ANSWERS))

    first, first_page = await send(intake, path, fields)
    second, second_page = await send(intake, path, fields)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second_page.one("h1").text == "Bedankt voor het invullen"
    assert shown_scores(first_page) == shown_scores(second_page)
    assert await stored(intake) == (1, 1, 1)

    # Another tab's form (another submission id) finds the questionnaire answered.
    other_tab = [(n, str(uuid.uuid4()) if n == "submission" else v) for n, v in fields]
    late, late_page = await send(intake, path, other_tab)
    assert late.status_code == 409
    assert late_page.one("h1").text == "Deze vragenlijst is al ingevuld"
    assert shown_scores(late_page) == shown_scores(first_page)
    assert await stored(intake) == (1, 1, 1)


async def test_a_double_submit_at_the_same_moment_is_stored_once(intake: Intake):
    company = await register(intake, contacts=DUTCH_CONTACT)
    path = await link(intake, company)
    _, form = await open_page(intake, path)
    fields = form.submitted(answering(T0_ANSWERS))

    answers = await asyncio.gather(*(send(intake, path, fields) for _ in range(3)))

    assert 201 in [response.status_code for response, _ in answers]
    assert {response.status_code for response, _ in answers} <= {201, 409}
    assert all(shown_scores(page)["overall"] == Decimal("38.6") for _, page in answers)
    assert (await stored(intake))[:2] == (1, 1)


async def test_expired_forged_and_other_links_get_a_page_in_both_languages(intake: Intake):
    company = await register(intake, contacts=DUTCH_CONTACT)
    path = await link(intake, company)
    token = path.removeprefix("/questionnaire/")
    forged = path[:-4] + ("AAAA" if not path.endswith("AAAA") else "BBBB")
    staff_token = intake.auth("admin")["Authorization"].removeprefix("Bearer ")
    unknown_company, _ = issue_link_token(intake.ctx.settings, intake.ctx.clock, str(uuid.uuid4()), "T0")

    for opened, code in [(forged, 403), (f"/questionnaire/{staff_token}", 403),
                         (f"/questionnaire/{unknown_company}", 404)]:
        response, page = await open_page(intake, opened)
        assert response.status_code == code, opened
        assert [s.attrs["lang"] for s in page.find("section")] == ["nl", "en"]
        assert "Deze link is niet geldig" in page.text and "This link is not valid" in page.text
        assert page.find("form") == []

    intake.clock.advance(timedelta(days=42))
    expired, page = await open_page(intake, path)
    assert expired.status_code == 410
    assert "Deze link is verlopen" in page.text and "This link has expired" in page.text
    posted, posted_page = await send(intake, path, [("submission", str(uuid.uuid4())), ("q2.1", "yes")])
    assert posted.status_code == 410
    assert "This link has expired" in posted_page.text
    as_api = await intake.client.get(f"/questionnaire/{token}", headers={"Accept": "application/json"})
    assert (as_api.status_code, as_api.json()["detail"]) == (403, "this questionnaire link has expired")
    assert await stored(intake) == (0, 0, 0)


async def test_a_company_that_withdrew_finds_its_questionnaire_closed(intake: Intake):
    company = await register(intake, contacts=DUTCH_CONTACT)
    path = await link(intake, company)
    _, form = await open_page(intake, path)
    withdrawn = await intake.call("POST", f"/companies/{company}/withdrawal", {"reason": "no time this year"})
    assert withdrawn.status_code == 200, withdrawn.text

    response, page = await open_page(intake, path)
    posted, posted_page = await send(intake, path, form.submitted(answering(T0_ANSWERS)))

    assert response.status_code == 410
    assert page.one("h1").text == "De vragenlijst is gesloten"
    assert posted.status_code == 410
    assert posted_page.one("h1").text == "De vragenlijst is gesloten"
    assert await stored(intake) == (0, 0, 0)


async def test_a_t1_link_opens_only_after_the_t0(intake: Intake):
    company = await register(intake)
    t1 = await link(intake, company, "T1")
    t0 = await link(intake, company, "T0")
    _, t0_form = await open_page(intake, t0)

    early, early_page = await open_page(intake, t1)
    posted, _ = await send(intake, t1, t0_form.submitted(answering(T0_ANSWERS)))
    assert early.status_code == 409
    assert early_page.one("h1").text == "The follow-up assessment is not open yet"
    assert posted.status_code == 409
    assert await stored(intake) == (0, 0, 0)

    await intake.call("POST", f"/companies/{company}/assessments", assessment())
    opened, page = await open_page(intake, t1)
    assert opened.status_code == 200
    assert page.one(data_testid="stage").text.startswith("Follow-up assessment (T1)")
    assert page.find("form")
