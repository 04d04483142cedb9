"""The `edih` command line: `up`, `down`, `status` of the local platform, `token`,
`journeys list`, and `dead-letters list` / `dead-letters retry`."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta

from edih.settings import PlatformSettings
from edih.stack import SERVICES
from shared.auth import ROLES, issue_token
from shared.settings import settings_from_environment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="edih", description="The EDIH journey platform.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="run the whole platform on embedded infrastructure")
    commands.add_parser("down", help="stop a platform started with `edih up`")
    commands.add_parser("status", help="show which parts of the local platform run")
    token = commands.add_parser("token", help="print a bearer token for the local stack")
    token.add_argument("--role", choices=ROLES, default="admin")
    token.add_argument("--subject", default="local-admin",
                       help="who the token names: a staff account id (see the console), or a name")
    token.add_argument("--email", help="the staff member's e-mail address, shown beside the id")
    token.add_argument("--region", action="append", default=[], help="an advisor's region")
    token.add_argument("--hours", type=float, default=12, help="how long it is valid")
    journeys = commands.add_parser("journeys", help="list company journeys (Temporal visibility)")
    journeys_commands = journeys.add_subparsers(dest="journeys_command", required=True)
    listing = journeys_commands.add_parser("list", help="journeys by stage, region, advisor, overdue")
    listing.add_argument("--stage", help="e.g. in_services, follow_up_due")
    listing.add_argument("--region", help="drenthe, groningen or friesland")
    listing.add_argument("--advisor", help="the advisor's staff account id")
    listing.add_argument("--overdue", action="store_true", help="only journeys with something overdue")
    listing.add_argument("--limit", type=int, default=1000)
    letters = commands.add_parser("dead-letters", help="records the services could not process")
    letters_commands = letters.add_subparsers(dest="dead_letters_command", required=True)
    letters_list = letters_commands.add_parser("list", help="each service's dead letters, newest first")
    letters_list.add_argument("--service", choices=SERVICES, help="only this service's")
    letters_list.add_argument("--open", action="store_true", help="only those not resolved yet")
    letters_retry = letters_commands.add_parser(
        "retry", help="run a dead letter through its service's consumer again (once its cause is fixed)")
    letters_retry.add_argument("service", choices=SERVICES)
    letters_retry.add_argument("id", type=int, help="the dead letter's id (from `list`)")
    args = parser.parse_args(argv)

    settings = settings_from_environment(PlatformSettings)
    if args.command == "token":
        print(f"Bearer token for {args.subject} ({args.role}), valid {args.hours:g} h:", file=sys.stderr)
        print(issue_token(settings, args.subject, args.role, regions=args.region, email=args.email,
                          ttl=timedelta(hours=args.hours)))
        return 0

    if args.command == "journeys":
        import asyncio

        from workflows.listing import print_journeys

        return asyncio.run(print_journeys(settings, args.stage, args.region, args.advisor, args.overdue,
                                          args.limit))

    if args.command == "dead-letters":
        from edih.dead_letters import list_dead_letters, retry_dead_letter

        if args.dead_letters_command == "list":
            return list_dead_letters(settings, [args.service] if args.service else SERVICES, args.open)
        return retry_dead_letter(settings, args.service, args.id)

    from edih.stack import Stack

    stack = Stack(settings)
    if args.command == "up":
        return stack.up()
    if args.command == "down":
        return stack.down()
    return stack.status()


# Commands that run a Temporal client: its Rust runtime's threads can abort CPython's teardown
# ("PyGILState_Release: thread state ... must be current", temporalio/sdk-python#300), so the
# process ends without it once their output is flushed.
TEMPORAL_COMMANDS = frozenset({"journeys"})


def run() -> None:
    """The `edih` console script."""
    try:
        try:
            code = main()
        finally:  # also when argparse exits after `--help`
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`edih journeys list | head`): end quietly like any Unix tool. Python
        # would flush stdout again at exit and print the same error, so stdout goes to /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 141  # what a shell reports for a process ended by SIGPIPE (128 + 13)
    if TEMPORAL_COMMANDS.intersection(sys.argv[1:2]):
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
