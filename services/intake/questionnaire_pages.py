"""The company's questionnaire pages, rendered on the server in Dutch or English: the form (with
the answers kept and each offending item marked after a refused submission), the scores after a
submission or when the link is opened again, and the notices for a link that does not open the
questionnaire. The texts live in `templates/texts/<language>.html`, the markup in `templates/`, the
style and a little optional script in `static/` (the form works without them).

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

_templates = Environment(
    loader=PackageLoader("services.intake", "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# Each language's texts: the names `templates/texts/<language>.html` sets, read as attributes.
TEXTS: dict[Language, Any] = {
    language: _templates.get_template(f"texts/{language}.html").module for language in LANGUAGES
}


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
    return _render("notice.html", hub, page, status_code=status_code, kind=kind, notice_languages=languages)


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
                    "question": texts.question.format(number=question["id"][1:]),
                    "item": item["text"],
                    "message": getattr(texts, f"error_{problem}").format(item=item["text"]),
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
