"""The local platform's mail catcher: an SMTP server on 127.0.0.1 that `hp up` runs, which
keeps every message it is sent in a Maildir (`<state>/mail`) instead of delivering it;
`hp mail local` reads them back (local/mail_catcher.py). The API sends to it over SMTP, as
it sends through SES on AWS, so what leaves the API is a whole message on the wire.

aiosmtpd (the maintained successor of the standard library's smtpd) speaks the protocol;
this module only says where a message goes.

    python -m health_platform.local.smtp_sink --port 1025 --maildir .local/mail
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from health_platform.api.mail import open_maildir

# Larger than any message the API writes (a link and a few lines), far below a disk's worth.
MAX_MESSAGE_BYTES = 1024 * 1024


class MaildirSink:
    """aiosmtpd's handler: each accepted message is added to the Maildir, as sent."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        content = envelope.original_content or b""
        open_maildir(self.folder).add(content)
        return "250 Message kept"


def sink(folder: Path, port: int) -> Controller:
    """A catcher on 127.0.0.1:`port`, not yet started."""
    return Controller(
        MaildirSink(folder),
        hostname="127.0.0.1",
        port=port,
        data_size_limit=MAX_MESSAGE_BYTES,
        # Only this machine reaches it, and it relays nothing: no authentication to offer.
        auth_require_tls=False,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", type=Path, required=True)
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    controller = sink(args.maildir, args.port)
    controller.start()
    print(f"catching mail on 127.0.0.1:{args.port} into {args.maildir}", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
