"""The certificate of attendance: a one-page PDF per participant who attended a session, in the
participant's language, made with fpdf2 (docs/training.md says why). Its text is a template in
`templates/certificate.<language>.txt`: the first line is the title, the rest the body.

The PDF core font (Helvetica) covers Latin-1, which spells Dutch and English names; a character
outside it is printed as "?" rather than refused, so a certificate is never withheld for a name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

from fpdf import FPDF
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.catalogue import course_or_404, session_or_404
from services.training.context import Training
from services.training.domain import Language
from services.training.enrolments import enrolment_or_404
from services.training.models import TrainingCompany
from shared.auth import Principal
from shared.clock import MONTHS, Clock
from shared.errors import Conflict
from shared.settings import hub_name

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=False,
    autoescape=False,
)


@dataclass(frozen=True)
class Attended:
    """What a certificate says: who attended what, when, for how long, delivered by whom."""

    enrolment_id: str
    participant: str
    company: str
    course_title: str
    day: date
    duration_hours: str
    partner: str
    language: Language


def spelled(day: date, language: Language) -> str:
    return f"{day.day} {MONTHS[language][day.month - 1]} {day.year}"


def text_of(attended: Attended, hub_name: str, issued: date) -> list[str]:
    template = TEMPLATES.get_template(f"certificate.{attended.language}.txt")
    text = template.render(
        hub_name=hub_name,
        participant=attended.participant,
        company=attended.company,
        course_title=attended.course_title,
        date=spelled(attended.day, attended.language),
        duration=attended.duration_hours,
        partner=attended.partner,
        enrolment_id=attended.enrolment_id,
        issued=spelled(issued, attended.language),
    )
    return text.splitlines()


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def certificate_pdf(attended: Attended, hub_name: str, issued: date) -> bytes:
    """The certificate as PDF bytes."""
    title, *body = text_of(attended, hub_name, issued)
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(_latin1(title))
    pdf.set_author(_latin1(hub_name))
    # The day it was issued, not the moment: the same certificate gives the same bytes that day.
    pdf.set_creation_date(datetime.combine(issued, time(), tzinfo=UTC))
    pdf.add_page()
    pdf.set_font("helvetica", style="B", size=28)
    pdf.ln(20)
    pdf.cell(0, 16, _latin1(title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    for line in body:
        emphasised = line in (attended.participant, attended.course_title)
        pdf.set_font("helvetica", style="B" if emphasised else "", size=20 if emphasised else 14)
        pdf.multi_cell(0, 10, _latin1(line), align="C", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


async def issue(
    session: AsyncSession,
    hub_id: str,
    clock: Clock,
    training: Training,
    *,
    enrolment_id: str,
    staff: Principal | None,
) -> bytes:
    """The certificate of an enrolment whose participant attended; 409 for anyone else, and once
    the participant's personal data was erased."""
    enrolment = await enrolment_or_404(session, hub_id, enrolment_id, staff)
    if enrolment.attendance != "attended":
        raise Conflict(f"enrolment {enrolment_id} has no attendance recorded as attended: no certificate")
    if enrolment.participant_name is None:
        raise Conflict(f"the participant of enrolment {enrolment_id} was erased: no certificate")
    row = await session_or_404(session, hub_id, enrolment.session_id)
    course = await course_or_404(session, hub_id, enrolment.course_id)
    company = await session.get(TrainingCompany, enrolment.company_id)
    zone = training.calendar.timezone
    attended = Attended(
        enrolment_id=enrolment.id,
        participant=enrolment.participant_name,
        company=(company.legal_name if company else None) or enrolment.company_id,
        course_title=course.title_nl if enrolment.language == "nl" else course.title_en,
        day=row.starts_at.astimezone(zone).date(),
        duration_hours=f"{course.duration_hours:g}",
        partner=course.partner,
        language=enrolment.language,
    )
    return certificate_pdf(attended, hub_name(training.settings), clock.now().astimezone(zone).date())
