"""The named deadlines of a journey, pure: no Temporal, the workflow passes `now` in.

A timer is a name and the moment it fires, kept in the journey's state (so continue-as-new carries
it). Pausing turns each deadline into the time it still had to run; resuming turns it back into a
deadline from the moment of resumption. A timer set while paused waits with the others.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from workflows.models import JourneyState


def set_timer(state: JourneyState, name: str, due: datetime, now: datetime) -> None:
    if state.paused_remaining is not None:
        state.paused_remaining[name] = max(due - now, timedelta(0))
    else:
        state.timers[name] = due


def cancel_timers(state: JourneyState, *prefixes: str) -> None:
    """Cancel every timer whose name starts with one of `prefixes` ("" cancels all)."""
    _cancel(state, lambda name: name.startswith(prefixes))


def cancel_timers_except(state: JourneyState, kept: tuple[str, ...]) -> None:
    """Cancel every timer whose name starts with none of `kept`."""
    _cancel(state, lambda name: not name.startswith(kept))


def _cancel(state: JourneyState, doomed: Callable[[str], bool]) -> None:
    for table in (state.timers, state.paused_remaining or {}):
        for name in [n for n in table if doomed(n)]:
            del table[name]


def pause(state: JourneyState, now: datetime) -> None:
    state.paused_remaining = {name: max(due - now, timedelta(0)) for name, due in state.timers.items()}
    state.timers = {}


def resume(state: JourneyState, now: datetime) -> None:
    state.timers = {name: now + left for name, left in (state.paused_remaining or {}).items()}
    state.paused_remaining = None


def next_timer(state: JourneyState) -> tuple[str, datetime] | None:
    """The timer that fires first (by moment, then name), or None."""
    if not state.timers:
        return None
    return min(state.timers.items(), key=lambda t: (t[1], t[0]))


def time_to_next(state: JourneyState, now: datetime) -> timedelta | None:
    first = next_timer(state)
    return None if first is None else max(first[1] - now, timedelta(0))
