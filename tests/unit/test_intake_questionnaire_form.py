"""The questionnaire page's form, without I/O: whatever valid answers a company gives, the fields
its browser sends stand for exactly those answers; what it leaves unchosen is missing; and every
problem `dma.check_answers` finds is put on its item with its kind."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from starlette.datastructures import FormData

from services.intake import dma
from services.intake.questionnaire_form import answers_from_form, field_id, item_problems
from services.intake.questionnaire_pages import Page, moment, score_text
from tests.unit.test_intake_dma import answers, valid_answers


def sent_by_browser(given_answers: dict[str, Any]) -> FormData:
    """The fields of the ticked boxes and chosen buttons (a browser sends nothing for the others)."""
    fields = [("submission", "5f0c8a2e-0000-4000-8000-000000000000"), ("lang", "nl")]
    for question in dma.questions():
        for item, value in given_answers[question.id].items():
            if question.type == "invested_planned":
                fields += [(f"{item}.{part}", "yes") for part in ("invested", "planned") if value[part]]
            elif question.type == "checkbox":
                fields += [(item, "yes")] if value else []
            else:
                fields.append((item, str(value)))
    return FormData(fields)


@given(valid_answers())
def test_the_fields_a_browser_sends_stand_for_the_answers_given(given_answers: dict[str, Any]) -> None:
    mapped = answers_from_form(sent_by_browser(given_answers))
    assert mapped == given_answers
    assert dma.check_answers(mapped) == []


def test_a_radio_group_left_unchosen_is_missing_and_an_unticked_box_is_false() -> None:
    form = sent_by_browser(answers(q4=(5, 4, 3, 0, 0, 0, 1)))
    without = FormData([(name, value) for name, value in form.multi_items() if name not in ("q4.2", "q11.5")])

    mapped = answers_from_form(without)

    assert "q4.2" not in mapped["q4"] and "q11.5" not in mapped["q11"]
    assert mapped["q4"]["q4.1"] == 5
    assert mapped["q2"] == {f"q2.{n}": False for n in range(1, 11)}
    assert mapped["q1"]["q1.1"] == {"invested": False, "planned": False}
    problems = dma.check_answers(mapped)
    assert item_problems(problems, mapped) == {"q4.2": "missing", "q11.5": "missing"}


def test_each_problem_is_put_on_its_item_with_its_kind() -> None:
    form = sent_by_browser(answers(q7=2, q7_not_digital=True))
    # Not what the page lets a browser send: a value no button has, and a field that is no item.
    kept = [(name, value) for name, value in form.multi_items() if name not in ("q4.3", "q9.1")]
    tampered = FormData([*kept, ("q4.3", "7"), ("q9.1", "three"), ("q12.1", "yes")])

    mapped = answers_from_form(tampered)

    assert "q12" not in mapped  # a field that is no item is no answer
    assert (mapped["q4"]["q4.3"], mapped["q9"]["q9.1"]) == ("7", "three")  # for dma to refuse
    problems = dma.check_answers(mapped)
    assert item_problems(problems, mapped) == {"q7.2": "exclusive", "q4.3": "invalid", "q9.1": "invalid"}


def test_field_ids_and_what_the_page_shows() -> None:
    zone = ZoneInfo("Europe/Amsterdam")
    page = Page(token="t", language="nl", hub="EDIH", company="X", stage="T0", zone=zone)
    english = Page(token="t", language="en", hub="EDIH", company="X", stage="T0", zone=zone)

    assert field_id("q1.10.invested") == "q1-10-invested"
    assert (score_text(Decimal("33.6"), "nl"), score_text(Decimal("20"), "en")) == ("33,6", "20.0")
    at = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # already New Year in Amsterdam
    assert (moment(at, page), moment(at, english)) == ("1 januari 2027, 00:30", "1 January 2027, 00:30")
