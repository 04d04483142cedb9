"""Domain errors: what a use case raises when a request cannot be carried out.

Use cases (the HTTP-free functions of a service that take a command, a session, the hub id and the
clock) raise these instead of `HTTPException`; `build_app` maps each to its status once, so routes,
HTML forms and event handlers call the same function. The answer keeps FastAPI's shape,
`{"detail": <the reason>}`, with `errors` when there are several problems and what the error is
`about` (e.g. `company_id`, the record a 409 found). A 422 also says its reason as `message`, as
the answer to a request that fails validation does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class DomainError(Exception):
    """A request this service refuses; `status` is the HTTP status that says why."""

    status = 400

    def __init__(
        self, reason: str, *, problems: Sequence[str] = (), about: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.problems = list(problems)
        self.about = dict(about or {})


class NotFound(DomainError):
    """The request names something this hub does not have (or the caller may not see): 404."""

    status = 404


class Conflict(DomainError):
    """The request is well formed but the current state does not allow it: 409, with the reason."""

    status = 409


class Invalid(DomainError):
    """The request's content breaks a rule of the domain: 422, with each problem."""

    status = 422

    @classmethod
    def of(cls, problems: Sequence[str]) -> Invalid:
        """One error for several problems, joined into one readable reason."""
        return cls("; ".join(problems), problems=problems)


class Forbidden(DomainError):
    """The caller is known but may not do this (a link for another company, a revoked link): 403."""

    status = 403


def error_body(error: DomainError) -> dict[str, object]:
    """The JSON answer of a refused request."""
    body: dict[str, object] = {"detail": error.reason}
    if isinstance(error, Invalid):
        body["message"] = error.reason
    if error.problems:
        body["errors"] = error.problems
    return {**body, **error.about}
