"""`edih dead-letters list [--service S] [--open]` and `edih dead-letters retry <service> <id>`: the
dead-letter admin endpoints of the running services (shared/dead_letters.py), called with an admin
token issued from the local settings."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import httpx

from shared.auth import issue_token
from shared.settings import Settings

CLI_SUBJECT = "edih-cli"


def _call(settings: Settings, service: str, method: str, path: str, **params: str) -> httpx.Response | None:
    """The service's answer, or None (said on stderr) when it is not reachable."""
    token = issue_token(settings, CLI_SUBJECT, "admin", ttl=timedelta(minutes=5))
    try:
        with httpx.Client(base_url=settings.url_of(service), timeout=30.0,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            return client.request(method, path, params=params or None)
    except httpx.TransportError as error:
        print(f"{service}: not reachable at {settings.url_of(service)} ({error})", file=sys.stderr)
        return None


def list_dead_letters(settings: Settings, services: Iterable[str], open_only: bool = False) -> int:
    """Print each service's dead letters, newest first; 1 when a service could not be asked."""
    status = 0
    for service in services:
        response = _call(settings, service, "GET", "/admin/dead-letters", open=str(open_only).lower())
        if response is None or response.status_code != 200:
            if response is not None:
                print(f"{service}: {_explain(response)}", file=sys.stderr)
            status = 1
            continue
        letters = response.json()
        still_open = sum(1 for letter in letters if letter["resolved_at"] is None)
        print(f"{service}: {len(letters)} dead letter(s), {still_open} open")
        for letter in letters:
            print("  " + _line(letter))
    return status


def retry_dead_letter(settings: Settings, service: str, letter_id: int) -> int:
    """Run one dead letter through its service's consumer again; 0 when it was applied."""
    response = _call(settings, service, "POST", f"/admin/dead-letters/{letter_id}/retry")
    if response is None:
        return 1
    if response.status_code != 200:
        print(f"{service} dead letter {letter_id}: {_explain(response)}", file=sys.stderr)
        return 1
    outcome = response.json()
    print(f"{service} dead letter {letter_id}: {outcome['outcome']}, resolved at "
          f"{outcome['resolved_at']} by {outcome['resolved_by']}")
    return 0


def _line(letter: dict[str, Any]) -> str:
    state = (f"resolved {letter['resolved_at']} by {letter['resolved_by']}" if letter["resolved_at"]
             else "open")
    return (f"#{letter['id']}  {letter['created_at']}  {letter['consumer']}  "
            f"{letter['topic']}[{letter['partition']}]@{letter['offset']}  "
            f"event {letter['event_id'] or '-'}  {state}\n      {letter['error']}")


def _explain(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} {response.text}"
    error = f" (error: {body['error']})" if "error" in body else ""
    return f"{response.status_code} {body.get('detail', '')}{error}"
