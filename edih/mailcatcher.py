"""The embedded mail catcher of `make up`: an SMTP server on loopback that keeps every message.

Messages go into a Maildir (`.edih/mail` by default) that the console's Mail page reads, so a
developer sees what the platform would have sent without any real mail server.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox


def start_mail_catcher(maildir: Path, port: int, host: str = "127.0.0.1") -> Controller:
    """Start catching mail on host:port into `maildir`; stop it with `.stop()`."""
    for part in ("cur", "new", "tmp"):  # Maildir() leaves an existing, empty folder without them
        (maildir / part).mkdir(parents=True, exist_ok=True)
    controller = Controller(Mailbox(maildir), hostname=host, port=port)
    controller.start()
    return controller


def main() -> None:
    parser = argparse.ArgumentParser(description="SMTP mail catcher writing into a Maildir")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--maildir", type=Path, default=Path(".edih/mail"))
    args = parser.parse_args()
    controller = start_mail_catcher(args.maildir, args.port)
    print(f"catching mail on 127.0.0.1:{args.port} into {args.maildir}", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    controller.stop()


if __name__ == "__main__":
    main()
