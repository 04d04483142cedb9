"""The EU digital maturity assessment (SME module), without I/O: the versioned questionnaire data,
checking a set of answers, scoring it by the platform's v1 rule (see `../shared/DOMAIN.md`), and
the order of the stages (the T1 follows the T0).

The v1 rule: every question scores 0-10 (checkboxes: ticked / items x 10; 0-5 ratings: sum /
(items x 5) x 10; no / partially / yes: 0 / 0.5 / 1 each, summed / items x 10; Q1: a business area
counts 1 when "already invested" is ticked, else 0.5 when only "plan to invest" is, summed / 10 x
10; Q7: the negative item q7.2 is exclusive and counts 0, so Q7 = other items ticked / 7 x 10).
A dimension (0-100) is the sum of its two questions x 5; automation and AI is Q9 x 10. Overall is
the mean of the six. Everything is exact (`Fraction`); only the output is rounded, half-up to one
decimal (half away from zero for a negative delta), and the band is read from the rounded overall.
"""

from __future__ import annotations

import json
from collections.abc import Container
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache
from importlib import resources
from typing import Any, Literal

from shared.contracts.intake import AssessmentStage, Band

QuestionType = Literal["invested_planned", "checkbox", "rating", "no_partially_yes"]
DIMENSIONS = (
    "digital_business_strategy", "digital_readiness", "human_centric_digitalisation",
    "data_management", "automation_ai", "green_digitalisation",
)
VERSIONS = ("sme-v1",)
NPY = {"no": Fraction(0), "partially": Fraction(1, 2), "yes": Fraction(1)}
_BANDS: tuple[tuple[Decimal, Band], ...] = (
    (Decimal("25.0"), "basic"), (Decimal("50.0"), "average"), (Decimal("75.0"), "moderately_advanced"),
)


@dataclass(frozen=True)
class Question:
    id: str
    type: QuestionType
    dimension: str
    items: tuple[str, ...]
    exclusive_item: str | None = None


@cache
def questionnaire_data(version: str) -> dict[str, Any]:
    """The questionnaire document of `version` (texts in en and nl), as stored with the service."""
    if version not in VERSIONS:
        raise LookupError(f"unknown questionnaire version {version!r}; one of {', '.join(VERSIONS)}")
    text = resources.files("services.intake").joinpath(f"questionnaire/{version}.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


@cache
def questions(version: str = "sme-v1") -> tuple[Question, ...]:
    return tuple(
        Question(
            id=q["id"], type=q["type"], dimension=q["dimension"],
            items=tuple(item["id"] for item in q["items"]), exclusive_item=q.get("exclusive_item"),
        )
        for q in questionnaire_data(version)["questions"]
    )


def localised(version: str, language: str) -> dict[str, Any]:
    """The questionnaire with every text in `language` (for the company's own form)."""

    def pick(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"en", "nl"}:
                return node[language]
            return {key: pick(value) for key, value in node.items()}
        if isinstance(node, list):
            return [pick(value) for value in node]
        return node

    return {**pick(questionnaire_data(version)), "language": language}  # type: ignore[no-any-return]


def check_answers(answers: Any, version: str = "sme-v1") -> list[str]:
    """Every problem with `answers`, one sentence each naming the question or item; [] if valid."""
    if not isinstance(answers, dict):
        return ["answers: must be an object mapping q1..q11 to their items"]
    problems: list[str] = []
    known = {q.id: q for q in questions(version)}
    problems += [f"{qid}: unknown question" for qid in answers if qid not in known]
    for question in known.values():
        if question.id not in answers:
            problems.append(f"{question.id}: missing")
            continue
        given = answers[question.id]
        if not isinstance(given, dict):
            problems.append(f"{question.id}: must be an object mapping its items to answers")
            continue
        problems += [f"{item}: unknown item of {question.id}" for item in given if item not in question.items]
        for item in question.items:
            if item not in given:
                problems.append(f"{item}: missing")
            else:
                problem = _check_item(question.type, given[item])
                if problem:
                    problems.append(f"{item}: {problem}")
        exclusive = question.exclusive_item
        if exclusive and given.get(exclusive) is True:
            others = [i for i in question.items if i != exclusive and given.get(i) is True]
            if others:
                problems.append(
                    f"{exclusive}: 'not collected digitally' cannot be ticked with {', '.join(others)}"
                )
    return problems


def _check_item(kind: QuestionType, value: Any) -> str | None:
    if kind == "checkbox":
        return None if isinstance(value, bool) else "must be true or false"
    if kind == "rating":
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be an integer from 0 to 5"
        return None if 0 <= value <= 5 else f"{value} is out of range 0 to 5"
    if kind == "no_partially_yes":
        return None if isinstance(value, str) and value in NPY else 'must be "no", "partially" or "yes"'
    if not isinstance(value, dict) or set(value) != {"invested", "planned"}:
        return 'must be {"invested": true/false, "planned": true/false}'
    if not all(isinstance(v, bool) for v in value.values()):
        return "invested and planned must be true or false"
    return None


def question_score(question: Question, answers: dict[str, Any]) -> Fraction:
    """The 0-10 score of one (valid) question."""
    values = [answers[item] for item in question.items]
    if question.type == "invested_planned":
        points = sum(
            (Fraction(1) if v["invested"] else Fraction(1, 2) if v["planned"] else Fraction(0)
             for v in values), Fraction(0),
        )
        return points / len(values) * 10
    if question.type == "rating":
        return Fraction(sum(values), len(values) * 5) * 10
    if question.type == "no_partially_yes":
        return sum((NPY[v] for v in values), Fraction(0)) / len(values) * 10
    scored = [i for i in question.items if i != question.exclusive_item]
    return Fraction(sum(1 for i in scored if answers[i]), len(scored)) * 10


@dataclass(frozen=True)
class Scores:
    """Exact scores: per dimension (0-100) and overall."""

    dimensions: dict[str, Fraction]

    @property
    def overall(self) -> Fraction:
        return sum(self.dimensions.values(), Fraction(0)) / len(self.dimensions)

    def minus(self, earlier: Scores) -> Scores:
        return Scores({d: self.dimensions[d] - earlier.dimensions[d] for d in DIMENSIONS})


def score(answers: dict[str, Any], version: str = "sme-v1") -> Scores:
    """The exact scores of valid `answers` (check them with `check_answers` first)."""
    by_dimension: dict[str, list[Fraction]] = {d: [] for d in DIMENSIONS}
    for question in questions(version):
        by_dimension[question.dimension].append(question_score(question, answers[question.id]))
    return Scores({
        d: (sum(scores, Fraction(0)) * 5 if len(scores) == 2 else scores[0] * 10)
        for d, scores in by_dimension.items()
    })


def rounded(value: Fraction) -> Decimal:
    """`value` rounded half-up to one decimal (a negative half rounds away from zero)."""
    tenths = abs(value) * 10
    whole = int(tenths + Fraction(1, 2))  # floor, as the value is not negative
    return Decimal(whole if value >= 0 else -whole).scaleb(-1)


def band(overall: Fraction) -> Band:
    """The band of an overall score, read from the score rounded to one decimal."""
    shown = rounded(overall)
    return next((name for limit, name in _BANDS if shown <= limit), "advanced")


def needs_t0_first(stage: AssessmentStage, assessed: Container[str]) -> bool:
    """Whether an assessment of `stage` must wait for the T0, given the stages `assessed` so far:
    the follow-up (T1) measures the change since the first assessment, so it comes after it."""
    return stage == "T1" and "T0" not in assessed
