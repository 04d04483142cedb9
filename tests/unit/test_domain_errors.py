"""The answer to a refused request (`shared.errors.error_body`): the reason as `detail`, a 422's
also as `message` (as a request that fails validation says it), its problems as `errors`, and what
the error is `about` beside them."""

from shared.errors import Conflict, Invalid, NotFound, error_body


def test_a_refusal_says_its_reason_as_detail():
    assert error_body(NotFound("no company with id c1")) == {"detail": "no company with id c1"}


def test_a_conflict_names_what_is_in_its_way():
    conflict = Conflict("KvK number 12345678 is already registered as company c1", about={"company_id": "c1"})

    assert error_body(conflict) == {
        "detail": "KvK number 12345678 is already registered as company c1", "company_id": "c1",
    }
    assert conflict.status == 409


def test_an_invalid_request_says_every_problem_and_reads_like_a_validation_error():
    invalid = Invalid.of(["q3: missing", "q4.1: must be 0 to 5"])

    assert error_body(invalid) == {
        "detail": "q3: missing; q4.1: must be 0 to 5", "message": "q3: missing; q4.1: must be 0 to 5",
        "errors": ["q3: missing", "q4.1: must be 0 to 5"],
    }
    assert invalid.status == 422
