"""The DMA questionnaire as a plain HTML form, without I/O: the name of every form field, the
`answers` a posted form stands for (the structure the JSON API takes, so both are checked and
scored by `dma` alike), and which problem `dma.check_answers` found with which item.

Field names are the item ids: a checkbox item `q2.1` is ticked when the form has `q2.1`; a Q1 area
has `q1.1.invested` and `q1.1.planned`; a rating (`q4.1`: "0" to "5") or a no/partially/yes item
(`q11.1`) has its chosen value, and is absent, so missing, when nothing was chosen. A browser sends
only the ticked checkboxes, so an absent checkbox is False and only radio groups can be missing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from services.intake import dma

Q1_PARTS = ("invested", "planned")
# What was wrong with an item, for the page to say in the company's language.
ItemProblem = Literal["missing", "exclusive", "invalid"]

_RATING = re.compile(r"[0-5]")


def field_id(name: str) -> str:
    """An HTML id for a field or item name (`q1.1.invested` -> `q1-1-invested`)."""
    return name.replace(".", "-")


def answers_from_form(form: Mapping[str, Any], version: str = "sme-v1") -> dict[str, Any]:
    """The `answers` of a posted form: every question and checkbox item, and each rating or
    no/partially/yes item that has a value. Fields that are no item are ignored."""
    answers: dict[str, Any] = {}
    for question in dma.questions(version):
        given: dict[str, Any] = {}
        for item in question.items:
            if question.type == "invested_planned":
                given[item] = {part: f"{item}.{part}" in form for part in Q1_PARTS}
            elif question.type == "checkbox":
                given[item] = item in form
            elif item in form:
                given[item] = _choice(question.type, form[item])
        answers[question.id] = given
    return answers


def _choice(kind: dma.QuestionType, value: Any) -> Any:
    """A radio button's value as the JSON API spells it; anything else stays as it came, for
    `dma.check_answers` to refuse (a hand-made request, not a form a browser sends)."""
    if not isinstance(value, str):
        return None
    if kind == "rating" and _RATING.fullmatch(value):
        return int(value)
    return value


def item_problems(
    problems: list[str], answers: dict[str, Any], version: str = "sme-v1"
) -> dict[str, ItemProblem]:
    """The offending item (or question) of each of `problems` (as `dma.check_answers` names them,
    "<id>: <what is wrong>") and what kind of problem it is."""
    by_item = {item: question for question in dma.questions(version) for item in question.items}
    found: dict[str, ItemProblem] = {}
    for problem in problems:
        target = problem.split(":", 1)[0].strip()
        question = by_item.get(target)
        if question is None:
            found[target] = "invalid"
        elif target not in answers.get(question.id, {}):
            found[target] = "missing"
        elif target == question.exclusive_item and answers[question.id][target] is True:
            found[target] = "exclusive"
        else:
            found[target] = "invalid"
    return found
