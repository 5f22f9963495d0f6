"""Free loopback ports for test servers.

aiosmtpd's Controller cannot bind port 0 (it connects to its own port to check it is up),
and Dovecot needs the port written into its config, so we pick a free port up front.
"""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago.

    The kernel hands out ephemeral ports round-robin, so the port is unlikely to be taken
    again before the caller binds it; callers that can retry on EADDRINUSE should do so.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])
