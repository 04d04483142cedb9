"""The Jinja2 templates of every message, per language: subject, plain text and HTML.

Templates live in this package's `templates/` as `<message type>.<language>.subject.txt`, `.txt`
and `.html`; the text and HTML parts extend `_layout.<language>.txt|html` (greeting, signature and,
for non-essential messages, the unsubscribe link). Only the HTML part is autoescaped; a missing
value is an error, never an empty gap. Dates in a request's context are ISO 8601 strings and are
written out per language in the hub's timezone (`when` and `day` filters).

`SAMPLES` holds the context values each message type uses, for the preview endpoint and tests;
`REQUIRED` names those a request must carry (every other one is optional). A questionnaire message
without its link says the advisor sends it; a staff message shows its `summary`, or its `reason`
(the journey's codes in words, `REASONS`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateError, select_autoescape

from services.notifications.domain import MESSAGE_POLICIES, Language
from shared.clock import MONTHS
from shared.contracts.notifications import MessageType

WEEKDAYS = {
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}

# The journey names what is overdue with these codes; staff read them in their language. Any other
# reason or summary is shown as given.
REASONS = {
    "intake not scheduled": {"nl": "Het intakegesprek is nog niet gepland",
                             "en": "The intake interview has not been scheduled"},
    "questionnaire not answered": {"nl": "De scan digitale volwassenheid is nog niet ingevuld",
                                   "en": "The digital maturity assessment has not been answered"},
    "closed without follow-up": {"nl": "Afgesloten zonder vervolgscan",
                                 "en": "Closed without a follow-up assessment"},
}

# Sample context per message type: every key its templates read. Those in REQUIRED must be in a
# request; every other key is optional and read behind `{% if context.get(...) %}` (a plain
# `context.key` on an absent key fails under StrictUndefined, also inside an `{% if %}`).
SAMPLES: dict[str, dict[str, str]] = {
    "welcome": {},
    "intake-invitation": {"scheduled_at": "2026-03-03T09:00:00Z", "location": "NOM, Groningen"},
    "questionnaire-invitation": {
        "questionnaire_url": "https://edih.example/q/sample", "deadline": "2026-03-20",
    },
    "questionnaire-reminder": {
        "questionnaire_url": "https://edih.example/q/sample", "deadline": "2026-03-20",
    },
    "training-session-reminder": {
        "course_title": "Aan de slag met cobots", "starts_at": "2026-04-14T12:30:00Z",
        "location": "Innovatiecluster Drachten",
    },
    "training-enrolment-promoted": {
        "course_title": "Aan de slag met cobots", "starts_at": "2026-04-14T12:30:00Z",
        "location": "Innovatiecluster Drachten",
    },
    "financing-deadline": {"instrument": "MIT haalbaarheidsproject", "deadline": "2026-04-30"},
    "follow-up-invitation": {"questionnaire_url": "https://edih.example/q/sample-t1"},
    "follow-up-reminder": {
        "questionnaire_url": "https://edih.example/q/sample-t1", "deadline": "2026-10-01",
    },
    "staff-alert": {"reason": "intake not scheduled", "region": "drenthe"},
    "staff-escalation": {
        "summary": "Questionnaire T0 overdue", "company_name": "Metaal BV", "overdue_since": "2026-03-20",
    },
}

# The context keys a request of each type must carry; a staff message needs a `summary` or a
# `reason` (the journey sends a reason, other services a summary: either one alone renders).
REQUIRED: dict[str, frozenset[str]] = {
    "welcome": frozenset(),
    "intake-invitation": frozenset({"scheduled_at"}),
    "questionnaire-invitation": frozenset(),
    "questionnaire-reminder": frozenset(),
    "training-session-reminder": frozenset({"course_title", "starts_at"}),
    "training-enrolment-promoted": frozenset({"course_title", "starts_at"}),
    "financing-deadline": frozenset({"instrument", "deadline"}),
    "follow-up-invitation": frozenset(),
    "follow-up-reminder": frozenset(),
    "staff-alert": frozenset({"reason"}),
    "staff-escalation": frozenset({"summary"}),
}


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


class RenderError(Exception):
    """A template is missing, or the request lacks a value it needs: retrying won't help."""


@functools.cache
def templates_for(timezone: str) -> Templates:
    """The templates writing dates in `timezone` (the hub's business timezone), built once per
    process: the sender and the API share one Jinja environment and its compiled templates."""
    return Templates(timezone)


class Templates:
    """Renders a message type in a language with the recipient's name and the request's values."""

    def __init__(self, timezone: str = "Europe/Amsterdam") -> None:
        self.timezone = ZoneInfo(timezone)
        self.env = Environment(
            loader=PackageLoader("services.notifications", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["when"] = self._when
        self.env.filters["day"] = self._day
        self.env.filters["headline"] = self._headline

    def render(
        self,
        message_type: str,
        language: Language,
        *,
        name: str,
        hub_name: str,
        context: dict[str, str] | None = None,
        company_id: str = "",
        unsubscribe_url: str | None = None,
    ) -> RenderedMessage:
        """Raises RenderError for a message type without templates, or a context lacking a value."""
        values = {
            "name": name.strip(), "hub_name": hub_name, "context": context or {}, "lang": language,
            "company_id": company_id, "unsubscribe_url": unsubscribe_url,
        }
        base = f"{message_type}.{language}"
        try:
            subject = self.env.get_template(f"{base}.subject.txt").render(values)
            return RenderedMessage(
                # A header must be one line, whatever a template editor typed.
                subject=" ".join(subject.split()),
                text=self.env.get_template(f"{base}.txt").render(values),
                html=self.env.get_template(f"{base}.html").render(values),
            )
        except (TemplateError, ValueError) as error:
            raise RenderError(f"cannot render {base}: {type(error).__name__}: {error}") from None

    def sample(self, message_type: MessageType, language: Language, hub_name: str) -> RenderedMessage:
        """The message as a recipient would see it, with sample values, and an unsubscribe link
        exactly when the real message carries one (a non-essential type)."""
        name = "Anna de Vries" if language == "nl" else "Anna Smith"
        optional = MESSAGE_POLICIES[message_type].may_opt_out
        return self.render(
            message_type, language, name=name, hub_name=hub_name,
            context=SAMPLES.get(message_type, {}), company_id="00000000-sample",
            unsubscribe_url="https://edih.example/unsubscribe?token=sample" if optional else None,
        )

    def _when(self, value: str, language: str) -> str:
        """An ISO moment as the hub's local date and time, e.g. `dinsdag 3 maart 2026 om 10:00`."""
        # str() of an absent value raises Jinja's error naming the key (a RenderError, never retried).
        moment = datetime.fromisoformat(str(value))
        if moment.tzinfo is not None:
            moment = moment.astimezone(self.timezone)
        at = "om" if language == "nl" else "at"
        return f"{self._day(moment.date().isoformat(), language)} {at} {moment:%H:%M}"

    @staticmethod
    def _headline(context: dict[str, str], language: str) -> str:
        """What a staff message is about: its `summary`, else its `reason` (a known code in words)."""
        text = context.get("summary") or context.get("reason")
        if not text:
            raise ValueError("a staff message needs a summary or a reason in its context")
        return REASONS.get(text, {}).get(language, text)

    @staticmethod
    def _day(value: str, language: str) -> str:
        """An ISO date written out, e.g. `vrijdag 20 maart 2026` or `Friday 20 March 2026`."""
        day = date.fromisoformat(value[:10])
        lang = "en" if language == "en" else "nl"
        return f"{WEEKDAYS[lang][day.weekday()]} {day.day} {MONTHS[lang][day.month - 1]} {day.year}"
