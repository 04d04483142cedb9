"""Intake's use cases: what the service does, without HTTP, one module per job (registration,
contacts, exits, interviews, assessments, plans, personal data, the questionnaire link).

A use case is an `async` function that takes its command (a pydantic model) or the ids it acts on,
a session (the caller's transaction), the hub id and the clock, plus the narrow things it needs
(the outbox for the events it records, the staff principal, a settings value). It answers with a
model and raises the domain errors of `shared.errors` (NotFound, Conflict, Invalid, Forbidden),
which `build_app` answers as 404/409/422/403. Routes (`api/`), the questionnaire's HTML form and
the event handlers call the same functions.
"""
