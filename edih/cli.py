"""The `edih` command line: `up`, `down`, `status` of the local platform, and `token`."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from shared.auth import ROLES, issue_token
from shared.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="edih", description="The EDIH journey platform.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="run the whole platform on embedded infrastructure")
    commands.add_parser("down", help="stop a platform started with `edih up`")
    commands.add_parser("status", help="show which parts of the local platform run")
    token = commands.add_parser("token", help="print a bearer token for the local stack")
    token.add_argument("--role", choices=ROLES, default="admin")
    token.add_argument("--subject", default="local-admin", help="who the token names")
    token.add_argument("--region", action="append", default=[], help="an advisor's region")
    token.add_argument("--hours", type=float, default=12, help="how long it is valid")
    args = parser.parse_args(argv)

    settings = Settings()
    if args.command == "token":
        print(f"Bearer token for {args.subject} ({args.role}), valid {args.hours:g} h:", file=sys.stderr)
        print(issue_token(settings, args.subject, args.role, regions=args.region,
                          ttl=timedelta(hours=args.hours)))
        return 0

    from edih.stack import Stack

    stack = Stack(settings)
    if args.command == "up":
        return stack.up()
    if args.command == "down":
        return stack.down()
    return stack.status()


if __name__ == "__main__":
    sys.exit(main())
