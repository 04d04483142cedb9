"""The company's questionnaire pages, rendered on the server in Dutch or English: the form (with
the answers kept and each offending item marked after a refused submission), the scores after a
submission or when the link is opened again, and the notices for a link that does not open the
questionnaire. Texts live here; the markup in `templates/`, the style and a little optional
script in `static/` (the form works without them).

Every page answers with headers that keep the link private: the token in its URL must not leak
through caches, the Referer header or another site's frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from services.intake import dma
from services.intake.domain import LANGUAGES, Language
from services.intake.questionnaire_form import ItemProblem, field_id
from shared.clock import MONTHS

# Where the pages find their style and script, relative to /questionnaire/{token}, so the
# pages also work behind a proxy that serves intake under a path prefix.
STATIC = "../static"
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
}

NoticeKind = Literal["invalid", "expired", "closed", "not_admitted", "needs_t0"]

TEXTS: dict[Language, dict[str, str]] = {
    "nl": {
        "language_name": "Nederlands",
        "switch_label": "Taal",
        "for_company": "Voor {company}",
        "stage_T0": "Nulmeting (T0): de meting bij de start van uw traject",
        "stage_T1": "Vervolgmeting (T1): de meting na de ondersteuning",
        "open_until": "Deze link werkt tot {moment}.",
        "intro": (
            "Deze vragenlijst laat zien hoe ver uw bedrijf is met digitalisering, in zes onderdelen "
            "met samen elf vragen. Na het versturen ziet u direct de scores van uw bedrijf."
        ),
        "how_to": (
            "Bij de vragen met vakjes vinkt u aan wat van toepassing is; niets aanvinken mag ook. "
            "Bij de vragen met rondjes (vraag 4, 9 en 11) kiest u voor elk onderdeel één antwoord."
        ),
        "question": "Vraag {number}",
        "dimension": "Onderdeel {number}",
        "hint_invested_planned": (
            "Vink per bedrijfsonderdeel aan of u er al in heeft geïnvesteerd en/of een investering plant."
        ),
        "hint_checkbox": "Vink aan wat van toepassing is.",
        "hint_rating": "Kies per onderdeel hoe ver uw bedrijf is, van 0 (niet gebruikt) tot 5 (in gebruik).",
        "hint_no_partially_yes": "Kies per onderdeel nee, gedeeltelijk of ja.",
        "exclusive": (
            'Let op: "{item}" sluit de andere antwoorden van deze vraag uit. Vink het alleen aan als '
            "geen van de andere van toepassing is."
        ),
        "submit": "Antwoorden versturen",
        "errors_title": "Nog niet alles is goed ingevuld",
        "errors_intro": "Er is nog niets opgeslagen. Controleer deze antwoorden en verstuur opnieuw:",
        "error_missing": "Kies een antwoord.",
        "error_exclusive": '"{item}" kan niet samen met een ander antwoord van deze vraag worden aangevinkt.',
        "error_invalid": "Kies een van de gegeven antwoorden.",
        "error_prefix": "Fout",
        "thanks_title": "Bedankt voor het invullen",
        "thanks_intro": "Uw antwoorden zijn ontvangen. Dit zijn de scores van {company}:",
        "answered_title": "Deze vragenlijst is al ingevuld",
        "answered_intro": "{company} heeft deze vragenlijst ingevuld op {moment}. Dit zijn de scores:",
        "scores_caption": "Scores per onderdeel (0 tot 100)",
        "dimension_heading": "Onderdeel",
        "score_heading": "Score",
        "overall": "Totaalscore",
        "band": "Niveau",
        "band_basic": "basis",
        "band_average": "gemiddeld",
        "band_moderately_advanced": "redelijk gevorderd",
        "band_advanced": "gevorderd",
        "next_steps": "Uw adviseur bespreekt de uitkomst met u en kijkt samen met u wat de volgende stap is.",
    },
    "en": {
        "language_name": "English",
        "switch_label": "Language",
        "for_company": "For {company}",
        "stage_T0": "First assessment (T0): the measurement at the start of your journey",
        "stage_T1": "Follow-up assessment (T1): the measurement after the support",
        "open_until": "This link works until {moment}.",
        "intro": (
            "This questionnaire shows how far your company has come with digitalisation, in six "
            "dimensions with eleven questions. After sending it you see your company's scores at once."
        ),
        "how_to": (
            "For the questions with boxes, tick what applies; ticking nothing is an answer too. For the "
            "questions with round buttons (questions 4, 9 and 11), choose one answer for every line."
        ),
        "question": "Question {number}",
        "dimension": "Dimension {number}",
        "hint_invested_planned": (
            "For every business area, tick whether you have already invested and/or plan to invest."
        ),
        "hint_checkbox": "Tick what applies.",
        "hint_rating": (
            "For every line, choose how far your company is, from 0 (not used) to 5 (operational)."
        ),
        "hint_no_partially_yes": "For every line, choose no, partially or yes.",
        "exclusive": (
            'Note: "{item}" excludes the other answers of this question. Tick it only if none of the '
            "others applies."
        ),
        "submit": "Send answers",
        "errors_title": "Some answers need your attention",
        "errors_intro": "Nothing has been saved yet. Check these answers and send again:",
        "error_missing": "Choose an answer.",
        "error_exclusive": '"{item}" cannot be ticked together with another answer of this question.',
        "error_invalid": "Choose one of the answers given.",
        "error_prefix": "Error",
        "thanks_title": "Thank you for your answers",
        "thanks_intro": "Your answers have been received. These are the scores of {company}:",
        "answered_title": "This questionnaire has already been answered",
        "answered_intro": "{company} answered this questionnaire on {moment}. These are the scores:",
        "scores_caption": "Scores per dimension (0 to 100)",
        "dimension_heading": "Dimension",
        "score_heading": "Score",
        "overall": "Overall score",
        "band": "Level",
        "band_basic": "basic",
        "band_average": "average",
        "band_moderately_advanced": "moderately advanced",
        "band_advanced": "advanced",
        "next_steps": "Your advisor will discuss the outcome with you and look at the next step together.",
    },
}

NOTICES: dict[NoticeKind, dict[Language, tuple[str, str]]] = {
    "invalid": {
        "nl": ("Deze link is niet geldig",
               "Open de volledige link uit de uitnodiging, of vraag uw adviseur om een nieuwe link."),
        "en": ("This link is not valid",
               "Open the whole link from the invitation, or ask your advisor for a new link."),
    },
    "expired": {
        "nl": ("Deze link is verlopen", "Vraag uw adviseur om een nieuwe link naar de vragenlijst."),
        "en": ("This link has expired", "Ask your advisor for a new link to the questionnaire."),
    },
    "closed": {
        "nl": ("De vragenlijst is gesloten",
               "Uw bedrijf neemt niet meer deel aan het programma, dus de vragenlijst kan niet meer "
               "worden ingevuld. Neem bij vragen contact op met uw adviseur."),
        "en": ("The questionnaire is closed",
               "Your company no longer takes part in the programme, so the questionnaire can no longer "
               "be answered. Please contact your advisor with any questions."),
    },
    "not_admitted": {
        "nl": ("De vragenlijst is nog niet open",
               "Uw bedrijf heeft nog geen plaats in het programma. Zodra dat zo is, krijgt u bericht."),
        "en": ("The questionnaire is not open yet",
               "Your company does not have a place in the programme yet. You will hear from us when it "
               "does."),
    },
    "needs_t0": {
        "nl": ("De vervolgmeting is nog niet open",
               "De vervolgmeting (T1) kan pas worden ingevuld na de nulmeting (T0). Neem contact op met uw "
               "adviseur."),
        "en": ("The follow-up assessment is not open yet",
               "The follow-up assessment (T1) can only be answered after the first assessment (T0). Please "
               "contact your advisor."),
    },
}

_templates = Environment(
    loader=PackageLoader("services.intake", "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Page:
    """What every page of one link shows around its content: whose questionnaire it is, and in
    which language and timezone the company reads it."""

    token: str
    language: Language
    hub: str
    company: str
    stage: str
    zone: ZoneInfo


@dataclass(frozen=True)
class Result:
    """An assessment's scores as the API shows them (rounded half-up to one decimal)."""

    dimensions: dict[str, Decimal]
    overall: Decimal
    band: str
    completed_at: datetime | None = None


def form_page(
    page: Page, version: str, expires_at: datetime, submission: str,
    answers: dict[str, Any] | None = None, problems: dict[str, ItemProblem] | None = None,
) -> HTMLResponse:
    """The questionnaire to fill in, or filled in again after `problems` were found (422)."""
    questionnaire = dma.localised(version, page.language)
    summary = _summary(page.language, questionnaire, problems or {})
    return _render(
        "questionnaire.html", page.hub, page, status_code=422 if summary else 200,
        questionnaire=questionnaire, questions={q["id"]: q for q in questionnaire["questions"]},
        answers=answers or {}, summary=summary,
        messages={line["item_id"]: line["message"] for line in summary},
        submission=submission, open_until=moment(expires_at, page),
    )


def result_page(
    page: Page, version: str, result: Result, *, just_sent: bool, status_code: int
) -> HTMLResponse:
    """The scores: a thank-you after the submission, or the answered questionnaire opened again."""
    questionnaire = dma.localised(version, page.language)
    answered_on = moment(result.completed_at, page) if result.completed_at else ""
    return _render("result.html", page.hub, page, status_code=status_code, questionnaire=questionnaire,
                   result=result, just_sent=just_sent, answered_on=answered_on)


def notice_page(kind: NoticeKind, status_code: int, hub: str, page: Page | None = None) -> HTMLResponse:
    """Why the link does not open the questionnaire: in the company's language when the link says
    who it is for, else in both languages (a forged or expired link names no one we trust)."""
    languages = [page.language] if page else list(LANGUAGES)
    notices = [(language, *NOTICES[kind][language]) for language in languages]
    return _render("notice.html", hub, page, status_code=status_code, notices=notices)


def moment(at: datetime, page: Page) -> str:
    """`at` as the company reads it: "13 april 2026, 11:30" in the hub's timezone."""
    local = at.astimezone(page.zone)
    return f"{local.day} {MONTHS[page.language][local.month - 1]} {local.year}, {local:%H:%M}"


def score_text(value: Decimal, language: Language) -> str:
    """A score with one decimal, with the decimal comma in Dutch."""
    text = f"{value:.1f}"
    return text.replace(".", ",") if language == "nl" else text


def _summary(
    language: Language, questionnaire: dict[str, Any], problems: dict[str, ItemProblem]
) -> list[dict[str, str]]:
    """One line per offending item, in questionnaire order, linking to it."""
    texts = TEXTS[language]
    lines = []
    for question in questionnaire["questions"]:
        for item in question["items"]:
            problem = problems.get(item["id"])
            if problem is not None:
                lines.append({
                    "item_id": item["id"],
                    "anchor": f"item-{field_id(item['id'])}",
                    "question": texts["question"].format(number=question["id"][1:]),
                    "item": item["text"],
                    "message": texts[f"error_{problem}"].format(item=item["text"]),
                })
    return lines


def _render(
    template: str, hub: str, page: Page | None, *, status_code: int, **context: Any
) -> HTMLResponse:
    language = page.language if page else "nl"
    html = _templates.get_template(template).render(
        hub=hub, page=page, lang=language, t=TEXTS[language], texts=TEXTS, languages=LANGUAGES, static=STATIC,
        field_id=field_id, score_text=score_text, **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=HEADERS)
