#!/usr/bin/env python3
"""A third-party WebSocket client for the `/ws` route of examples/http_app.rs.

Python's `websockets` library upgrades an HTTP/1.1 request on goro's HTTP
server, then checks echoes of text, binary, a 1 MiB message and a ping,
and a normal close (1000). Exits non-zero with a message on the first
difference.

usage: http_ws_client.py URL
"""

import os
import sys

# The connection helper of tests/ws_client.py: websockets' sync client, or
# its asyncio client behind the same interface on websockets 10 (Debian's,
# which .ci/venv-ws falls back to without PyPI).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ws_client import TIMEOUT, open_connection  # noqa: E402


def fail(what):
    print(f"http_ws_client.py: FAILED: {what}", file=sys.stderr)
    sys.exit(1)


def main():
    url = sys.argv[1]
    with open_connection(url) as ws:
        messages = ["hello, goro", "", "ünïcødé ✓", b"\x00\x01\x02binary", b"x" * (1 << 20)]
        for m in messages:
            ws.send(m)
            got = ws.recv(timeout=TIMEOUT)
            if got != m:
                fail(f"sent {type(m).__name__} of {len(m)}, got {type(got).__name__} of {len(got)}")
        pong = ws.ping(b"are you there")
        if not pong.wait(TIMEOUT):
            fail("no pong")
        ws.close()
        if ws.close_code != 1000:
            fail(f"close code {ws.close_code}, want 1000")
    print(f"ok: {len(messages)} echoes, a pong and a normal close")


if __name__ == "__main__":
    main()
