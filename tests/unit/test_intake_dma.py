"""The DMA SME questionnaire data and its v1 scoring rule, against cases computed by hand: each
question type, the negative item of Q7, the band boundaries (read from the rounded overall) and
half-up rounding; answers that break the rules are named item by item; and a property: ticking
one more item or raising a rating never lowers any score."""

from __future__ import annotations

import copy
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.intake import dma

CHECKBOXES = {"q2": 10, "q3": 10, "q5": 7, "q6": 8, "q7": 8, "q8": 6, "q10": 10}


def answers(
    *, q1_invested: int = 0, q1_both: int = 0, q1_planned: int = 0, q2: int = 0, q3: int = 0,
    q4: tuple[int, ...] = (0,) * 7, q5: int = 0, q6: int = 0, q7: int = 0, q7_not_digital: bool = False,
    q8: int = 0, q9: tuple[int, ...] = (0,) * 5, q10: int = 0, q11: tuple[str, ...] = ("no",) * 5,
) -> dict[str, Any]:
    """Q1: the first `q1_invested` areas "already invested" (of which the first `q1_both` also
    "plan to invest"), the next `q1_planned` areas only "plan to invest". Q7: `q7` of the items
    other than q7.2 ticked, and q7.2 when `q7_not_digital`."""
    q1 = {}
    for n in range(1, 11):
        invested = n <= q1_invested
        planned = n <= q1_both or q1_invested < n <= q1_invested + q1_planned
        q1[f"q1.{n}"] = {"invested": invested, "planned": planned}
    ticks = {"q2": q2, "q3": q3, "q5": q5, "q6": q6, "q8": q8, "q10": q10}
    result: dict[str, Any] = {"q1": q1}
    for qid, total in CHECKBOXES.items():
        if qid == "q7":
            others = [n for n in range(1, 9) if n != 2]
            result[qid] = {f"q7.{n}": n in others[:q7] for n in range(1, 9)}
            result[qid]["q7.2"] = q7_not_digital
        else:
            result[qid] = {f"{qid}.{n}": n <= ticks[qid] for n in range(1, total + 1)}
    result["q4"] = {f"q4.{n}": r for n, r in enumerate(q4, 1)}
    result["q9"] = {f"q9.{n}": r for n, r in enumerate(q9, 1)}
    result["q11"] = {f"q11.{n}": v for n, v in enumerate(q11, 1)}
    return {k: result[k] for k in sorted(result, key=lambda q: int(q[1:]))}


ALL = answers(
    q1_invested=10, q2=10, q3=10, q4=(5,) * 7, q5=7, q6=8, q7=7, q8=6, q9=(5,) * 5, q10=10, q11=("yes",) * 5
)
AT_50 = {"q1_invested": 5, "q2": 5, "q3": 10, "q5": 7, "q8": 6, "q9": (3,) * 5, "q10": 8}
AT_75 = {"q1_invested": 10, "q2": 5, "q3": 10, "q4": (2,) * 7, "q5": 7, "q6": 4, "q7": 7, "q8": 3,
         "q9": (4,) * 5, "q10": 10, "q11": ("yes", "yes", "partially", "no", "no")}

# Computed by hand with the rule of DOMAIN.md: (six dimension scores, overall, band), shown rounded.
# Dimensions in order: strategy (Q1, Q2), readiness (Q3, Q4), human-centric (Q5, Q6),
# data (Q7, Q8), automation and AI (Q9), green (Q10, Q11).
CASES: dict[str, tuple[dict[str, Any], tuple[str, ...], str, str]] = {
    "nothing ticked": ({}, ("0.0",) * 6, "0.0", "basic"),
    "everything ticked, rated 5 and yes": ("all", ("100.0",) * 6, "100.0", "advanced"),
    # Q1 = (3 invested, one of them also planned: 3 x 1; 2 only planned: 2 x 0.5) / 10 x 10 = 4;
    # strategy = (4 + 0) x 5 = 20; overall 20 / 6 = 3.33
    "Q1 invested counts 1, only planned 0.5": (
        {"q1_invested": 3, "q1_both": 1, "q1_planned": 2}, ("20.0", "0.0", "0.0", "0.0", "0.0", "0.0"),
        "3.3", "basic"),
    # Q2 = 7 / 10 x 10 = 7; strategy = 35; overall 5.83
    "Q2 checkboxes": ({"q2": 7}, ("35.0", "0.0", "0.0", "0.0", "0.0", "0.0"), "5.8", "basic"),
    # Q3 = 3; Q4 = (5+4+3+1) / 35 x 10 = 26/7; readiness = (3 + 26/7) x 5 = 235/7 = 33.571;
    # overall 235/42 = 5.595
    "Q3 checkboxes and Q4 ratings": (
        {"q3": 3, "q4": (5, 4, 3, 0, 0, 0, 1)}, ("0.0", "33.6", "0.0", "0.0", "0.0", "0.0"), "5.6", "basic"),
    # Q5 = 2/7 x 10 = 20/7; Q6 = 3/8 x 10 = 15/4; human-centric = 185/28 x 5 = 33.036; overall 5.506
    "Q5 and Q6 checkboxes": ({"q5": 2, "q6": 3}, ("0.0", "0.0", "33.0", "0.0", "0.0", "0.0"), "5.5", "basic"),
    # Q6 = 1/8 x 10 = 1.25; human-centric = 6.25 exactly: half-up gives 6.3 (half-even would give 6.2)
    "a dimension of exactly x.x5 rounds up": (
        {"q6": 1}, ("0.0", "0.0", "6.3", "0.0", "0.0", "0.0"), "1.0", "basic"),
    # q7.2 alone scores 0: Q7 = 0; Q8 = 10; data = 50; overall 8.33
    "Q7 negative item scores nothing": (
        {"q7_not_digital": True, "q8": 6}, ("0.0", "0.0", "0.0", "50.0", "0.0", "0.0"), "8.3", "basic"),
    # Q7 = 3 of the 7 other items = 30/7; Q8 = 1/6 x 10 = 5/3; data = 125/21 x 5 = 29.762; overall 4.960
    "Q7 counts the seven other items": (
        {"q7": 3, "q8": 1}, ("0.0", "0.0", "0.0", "29.8", "0.0", "0.0"), "5.0", "basic"),
    # Q9 = 15 / 25 x 10 = 6; automation = 6 x 10 = 60; overall 10
    "Q9 ratings alone make their dimension": (
        {"q9": (1, 2, 3, 4, 5)}, ("0.0", "0.0", "0.0", "0.0", "60.0", "0.0"), "10.0", "basic"),
    # Q10 = 5; Q11 = (1 + 0.5 + 0 + 0.5 + 1) / 5 x 10 = 6; green = 55; overall 9.17
    "Q10 checkboxes and Q11 no/partially/yes": (
        {"q10": 5, "q11": ("yes", "partially", "no", "partially", "yes")},
        ("0.0", "0.0", "0.0", "0.0", "0.0", "55.0"), "9.2", "basic"),
    # Q11 = 0.5 / 5 x 10 = 1; green = 5
    "Q11 partially is half": (
        {"q11": ("partially", "no", "no", "no", "no")}, ("0.0", "0.0", "0.0", "0.0", "0.0", "5.0"), "0.8",
        "basic"),
    # human-centric = (0 + 2/8 x 10) x 5 = 12.5; data = (0 + 3/6 x 10) x 5 = 25; overall 37.5/6 = 6.25
    "an overall of exactly x.x5 rounds up": (
        {"q6": 2, "q8": 3}, ("0.0", "0.0", "12.5", "25.0", "0.0", "0.0"), "6.3", "basic"),
    # human-centric 100, data 50: overall 150 / 6 = 25.0
    "overall 25.0 is basic": ({"q5": 7, "q6": 8, "q8": 6}, ("0.0", "0.0", "100.0", "50.0", "0.0", "0.0"),
                              "25.0", "basic"),
    # readiness (0 + 6/35 x 10) x 5 = 60/7; human-centric 100; data (5/6 x 10) x 5 = 125/3;
    # overall 3155/126 = 25.0397: above 25, but shown as 25.0, so basic
    "overall 25.04 shows as 25.0 and is basic": (
        {"q4": (3, 3, 0, 0, 0, 0, 0), "q5": 7, "q6": 8, "q8": 5},
        ("0.0", "8.6", "100.0", "41.7", "0.0", "0.0"), "25.0", "basic"),
    # readiness 90/7 = 12.857; human-centric (10 + 7.5) x 5 = 87.5; data 50; overall 2105/84 = 25.0595
    "overall 25.06 shows as 25.1 and is average": (
        {"q4": (5, 4, 0, 0, 0, 0, 0), "q5": 7, "q6": 6, "q8": 6},
        ("0.0", "12.9", "87.5", "50.0", "0.0", "0.0"), "25.1", "average"),
    # 50, 50, 50, 50, automation 15/25 x 100 = 60, green (8 + 0) x 5 = 40: overall 300 / 6 = 50
    "overall 50.0 is average": (AT_50, ("50.0", "50.0", "50.0", "50.0", "60.0", "40.0"), "50.0", "average"),
    # one rating point more: readiness (10 + 2/7) x 5 = 51.43; overall (300 + 10/7) / 6 = 50.24
    "overall 50.2 is moderately advanced": (
        {**AT_50, "q4": (1, 0, 0, 0, 0, 0, 0)}, ("50.0", "51.4", "50.0", "50.0", "60.0", "40.0"), "50.2",
        "moderately_advanced"),
    # strategy (10 + 5) x 5 = 75; readiness (10 + 14/35 x 10) x 5 = 70; human-centric (10 + 5) x 5 = 75;
    # data (10 + 5) x 5 = 75; automation 20/25 x 100 = 80; green (10 + 2.5/5 x 10) x 5 = 75: 450 / 6 = 75
    "overall 75.0 is moderately advanced": (
        AT_75, ("75.0", "70.0", "75.0", "75.0", "80.0", "75.0"), "75.0", "moderately_advanced"),
    # one rating point more: readiness (10 + 15/35 x 10) x 5 = 71.43; overall (450 + 10/7) / 6 = 75.24
    "overall 75.2 is advanced": (
        {**AT_75, "q4": (3, 2, 2, 2, 2, 2, 2)}, ("75.0", "71.4", "75.0", "75.0", "80.0", "75.0"), "75.2",
        "advanced"),
}


@pytest.mark.parametrize("case", CASES)
def test_scores_match_the_cases_computed_by_hand(case: str) -> None:
    ticks, dimensions, overall, band = CASES[case]
    given_answers = ALL if ticks == "all" else answers(**ticks)
    assert dma.check_answers(given_answers) == []

    scores = dma.score(given_answers)

    shown = tuple(str(dma.rounded(scores.dimensions[d])) for d in dma.DIMENSIONS)
    assert shown == dimensions
    assert str(dma.rounded(scores.overall)) == overall
    assert dma.band(scores.overall) == band


def test_scores_are_kept_exact() -> None:
    scores = dma.score(answers(q3=3, q4=(5, 4, 3, 0, 0, 0, 1)))
    assert scores.dimensions["digital_readiness"] == Fraction(235, 7)
    assert scores.overall == Fraction(235, 42)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(Fraction(1, 20), "0.1"), (Fraction(-1, 20), "-0.1"), (Fraction(5, 4), "1.3"),
     (Fraction(-5, 4), "-1.3"), (Fraction(1249, 1000), "1.2"), (Fraction(0), "0.0"),
     (Fraction(100), "100.0"), (Fraction(-3, 7), "-0.4")],
)
def test_rounding_is_half_up_to_one_decimal_and_symmetric_for_a_negative_delta(
    value: Fraction, shown: str
) -> None:
    assert dma.rounded(value) == Decimal(shown)
    assert str(dma.rounded(value)) == shown


@pytest.mark.parametrize(
    ("overall", "band"),
    [(Fraction(0), "basic"), (Fraction(2504, 100), "basic"), (Fraction(2505, 100), "average"),
     (Fraction(5004, 100), "average"), (Fraction(5005, 100), "moderately_advanced"),
     (Fraction(7504, 100), "moderately_advanced"), (Fraction(7505, 100), "advanced"),
     (Fraction(100), "advanced")],
)
def test_the_band_is_read_from_the_overall_rounded_to_one_decimal(overall: Fraction, band: str) -> None:
    assert dma.band(overall) == band


def test_the_delta_is_computed_from_the_exact_scores() -> None:
    t0 = dma.score(answers(q6=1))  # human-centric 6.25 exactly, shown 6.3
    t1 = dma.score(answers(q6=2))  # 12.5
    delta = t1.minus(t0)
    # From the shown values the delta would be 12.5 - 6.3 = 6.2; from the exact ones 6.25, shown 6.3.
    assert str(dma.rounded(delta.dimensions["human_centric_digitalisation"])) == "6.3"
    assert delta.dimensions["digital_business_strategy"] == 0


def test_every_offending_item_is_named_at_once() -> None:
    bad = answers(q7=2)
    bad["q7"]["q7.2"] = True  # with q7.1 and q7.3
    bad["q2"]["q2.1"] = 1
    bad["q4"]["q4.1"] = 6
    bad["q4"]["q4.2"] = "3"
    bad["q4"]["q4.3"] = True
    bad["q9"]["q9.1"] = -1
    bad["q11"]["q11.1"] = "maybe"
    bad["q1"]["q1.1"] = True
    bad["q1"]["q1.2"] = {"invested": True}
    bad["q1"]["q1.3"] = {"invested": "yes", "planned": False}
    del bad["q3"]["q3.10"]
    bad["q3"]["q3.11"] = True
    del bad["q10"]
    bad["q12"] = {}

    problems = dma.check_answers(bad)

    named = {p.split(":")[0] for p in problems}
    assert named == {"q7.2", "q2.1", "q4.1", "q4.2", "q4.3", "q9.1", "q11.1", "q1.1", "q1.2", "q1.3",
                     "q3.10", "q3.11", "q10", "q12"}
    assert "q7.2: 'not collected digitally' cannot be ticked with q7.1, q7.3" in problems
    assert "q4.1: 6 is out of range 0 to 5" in problems
    assert "q3.10: missing" in problems
    assert "q3.11: unknown item of q3" in problems
    assert "q10: missing" in problems
    assert "q12: unknown question" in problems


@pytest.mark.parametrize("not_answers", [None, [], "q1", 3])
def test_answers_that_are_no_object_are_refused(not_answers: Any) -> None:
    assert dma.check_answers(not_answers) == ["answers: must be an object mapping q1..q11 to their items"]


def test_a_question_that_is_no_object_is_named() -> None:
    bad = answers()
    bad["q5"] = [True] * 7
    assert dma.check_answers(bad) == ["q5: must be an object mapping its items to answers"]


def test_the_questionnaire_has_the_items_of_the_sme_module_in_english_and_dutch() -> None:
    data = dma.questionnaire_data("sme-v1")
    counts = {q["id"]: len(q["items"]) for q in data["questions"]}
    assert counts == {"q1": 10, "q2": 10, "q3": 10, "q4": 7, "q5": 7, "q6": 8, "q7": 8, "q8": 6, "q9": 5,
                      "q10": 10, "q11": 5}
    for question in data["questions"]:
        assert [i["id"] for i in question["items"]] == [
            f"{question['id']}.{n}" for n in range(1, len(question["items"]) + 1)
        ]
        for text in [question["text"], *(i["text"] for i in question["items"])]:
            assert set(text) == {"en", "nl"} and text["en"].strip() and text["nl"].strip()
    q7 = next(q for q in data["questions"] if q["id"] == "q7")
    assert q7["items"][1]["text"]["en"] == "Data is not collected digitally"
    assert [d["questions"] for d in data["dimensions"]] == [
        ["q1", "q2"], ["q3", "q4"], ["q5", "q6"], ["q7", "q8"], ["q9"], ["q10", "q11"]
    ]


def test_the_questionnaire_is_given_in_one_language() -> None:
    dutch = dma.localised("sme-v1", "nl")
    assert dutch["language"] == "nl"
    assert dutch["questions"][6]["items"][1]["text"] == "Gegevens worden niet digitaal verzameld"
    assert dutch["scales"]["rating"][5]["text"] == "In gebruik"
    with pytest.raises(LookupError, match="sme-v9"):
        dma.questionnaire_data("sme-v9")


# The property: from any valid answers, one step up never lowers a score.

@st.composite
def valid_answers(draw: st.DrawFn) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for question in dma.questions():
        items = question.items
        if question.type == "invested_planned":
            result[question.id] = {
                i: {"invested": draw(st.booleans()), "planned": draw(st.booleans())} for i in items
            }
        elif question.type == "rating":
            result[question.id] = {i: draw(st.integers(0, 5)) for i in items}
        elif question.type == "no_partially_yes":
            result[question.id] = {i: draw(st.sampled_from(["no", "partially", "yes"])) for i in items}
        elif question.exclusive_item and draw(st.booleans()):
            result[question.id] = {i: i == question.exclusive_item for i in items}
        else:
            ticked = {i: draw(st.booleans()) for i in items}
            if question.exclusive_item:
                ticked[question.exclusive_item] = False
            result[question.id] = ticked
    return result


def _steps_up(given_answers: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """Every (question, item, field) that can go one step up."""
    steps: list[tuple[str, str, str | None]] = []
    for question in dma.questions():
        for item, value in given_answers[question.id].items():
            if question.type == "invested_planned":
                steps += [(question.id, item, f) for f in ("invested", "planned") if not value[f]]
            elif question.type == "rating":
                steps += [(question.id, item, None)] if value < 5 else []
            elif question.type == "no_partially_yes":
                steps += [(question.id, item, None)] if value != "yes" else []
            elif not value and item != question.exclusive_item:
                steps.append((question.id, item, None))
    return steps


def _step_up(given_answers: dict[str, Any], step: tuple[str, str, str | None]) -> dict[str, Any]:
    raised = copy.deepcopy(given_answers)
    question_id, item, field = step
    value = raised[question_id][item]
    if field is not None:
        value[field] = True
    elif isinstance(value, bool):
        raised[question_id][item] = True
        if question_id == "q7":
            raised["q7"]["q7.2"] = False  # ticking a real data item replaces "not collected digitally"
    elif isinstance(value, int):
        raised[question_id][item] = value + 1
    else:
        raised[question_id][item] = {"no": "partially", "partially": "yes"}[value]
    return raised


@settings(max_examples=200, deadline=None)
@given(valid_answers(), st.data())
def test_one_more_tick_or_a_higher_rating_never_lowers_any_score(
    given_answers: dict[str, Any], data: st.DataObject
) -> None:
    steps = _steps_up(given_answers)
    if not steps:
        return
    raised = _step_up(given_answers, data.draw(st.sampled_from(steps)))
    assert dma.check_answers(raised) == []

    before, after = dma.score(given_answers), dma.score(raised)

    for dimension in dma.DIMENSIONS:
        assert after.dimensions[dimension] >= before.dimensions[dimension], dimension
    assert after.overall >= before.overall
