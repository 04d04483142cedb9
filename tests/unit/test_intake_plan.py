"""The plan proposal: training on the two weakest dimensions, test-before-invest for technologies
being considered or prototyped, financing for planned investments without secured finance,
networking, and the needs noted in the interview."""

from __future__ import annotations

from services.intake import dma, plan
from tests.unit.test_intake_dma import answers


def test_training_covers_the_two_weakest_dimensions_and_networking_the_weakest() -> None:
    given = answers(q1_invested=8, q2=10, q3=10, q5=7, q6=8, q7=1, q9=(5,) * 5, q10=10, q11=("yes",) * 5)
    scores = dma.score(given)  # data (q7 1/7, q8 0) and readiness (q3 10, q4 0) are the weakest

    proposal = plan.propose(scores.dimensions, given)

    assert [(p.kind, p.title) for p in proposal] == [
        ("training", "Training: Data management and cybersecurity"),
        ("training", "Training: Digital technologies for manufacturing (ERP, IoT, CAD/CAM)"),
        ("networking", "Meet regional front-runners: Data management and cybersecurity"),
    ]


def test_ties_between_weakest_dimensions_follow_the_questionnaire_order() -> None:
    given = answers()
    assert plan.weakest(dma.score(given).dimensions) == ["digital_business_strategy", "digital_readiness"]


def test_technologies_being_considered_or_prototyped_suggest_test_before_invest() -> None:
    given = answers(q4=(0, 1, 2, 3, 5, 0, 0), q9=(0, 0, 0, 2, 4))

    proposal = plan.propose(dma.score(given).dimensions, given)

    [test] = [p for p in proposal if p.kind == "test_before_invest"]
    assert test.title == "Test before invest: q4.2, q4.3, q9.4"


def test_planned_investments_without_secured_finance_suggest_a_financing_need_left_to_the_advisor() -> None:
    given = answers(q1_invested=2, q1_planned=3)
    secured = answers(q1_invested=2, q1_planned=3, q2=2)  # q2.2: finance secured for a year

    [need] = [p for p in plan.propose(dma.score(given).dimensions, given) if p.kind == "financing"]
    assert need.purpose == "Investments planned in business areas q1.3, q1.4, q1.5"
    assert need.amount_eur is None
    assert not [p for p in plan.propose(dma.score(secured).dimensions, secured) if p.kind == "financing"]


def test_a_need_noted_in_the_interview_adds_an_item_only_when_none_of_its_kind_is_proposed() -> None:
    given = answers()

    proposal = plan.propose(dma.score(given).dimensions, given, ["financing", "training", "financing"])

    assert [p.kind for p in proposal] == ["training", "training", "networking", "financing"]
