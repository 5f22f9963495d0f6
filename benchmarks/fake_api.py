"""The fake Bot API (tests/fakes) in a process of its own, for benchmarks: the bot
or sender under measurement then shares no CPU with it.

    python -m benchmarks.fake_api [--port 0]

Prints one ready line, `FAKE_TELEGRAM_READY port=... base_url=... base_file_url=...`,
and serves until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Iterable

from tests.fakes.telegram_api import FakeTelegramServer


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(level=logging.WARNING)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = FakeTelegramServer(args.host, args.port).start()
    print(
        f"FAKE_TELEGRAM_READY port={server.port} base_url={server.base_url} "
        f"base_file_url={server.base_file_url}",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
