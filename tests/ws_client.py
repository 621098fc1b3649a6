#!/usr/bin/env python3
"""A third-party WebSocket client for examples/ws_echo/tests.rs.

Drives goro's ws_echo server with Python's `websockets` library (installed
into .venv-ws by .ci/venv-ws): text, binary, fragmented and large messages,
pings, a normal close, and a message over the server's limit, which must be
answered with close code 1009. Checks every echo and every close code; exits
non-zero with a message on the first difference.

usage: ws_client.py URL MAX_MESSAGE_BYTES
"""

import asyncio
import os
import sys

from websockets.exceptions import ConnectionClosedError

try:
    # websockets 11 and newer (the pinned version .ci/venv-ws installs).
    from websockets.sync.client import connect
except ImportError:
    # Older releases, such as Debian 12's python3-websockets 10.4, which
    # .ci/venv-ws falls back to without access to PyPI: the asyncio client
    # behind the same small synchronous interface.
    connect = None

TIMEOUT = 20


class _Pong:
    """What `ping` returns: `wait(timeout)` says whether the pong came."""

    def __init__(self, loop, waiter):
        self.loop, self.waiter = loop, waiter

    def wait(self, timeout):
        try:
            self.loop.run_until_complete(asyncio.wait_for(asyncio.shield(self.waiter), timeout))
            return True
        except asyncio.TimeoutError:
            return False


class _AsyncioClient:
    """The part of websockets.sync.client.ClientConnection this script uses,
    over the asyncio client of websockets 10."""

    def __init__(self, url, **options):
        import websockets

        options.pop("proxy", None)  # no proxy support before 15: nothing to turn off
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)  # websockets 10 looks it up
        self.ws = self.loop.run_until_complete(websockets.connect(url, **options))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self.loop.run_until_complete(self.ws.close())
        finally:
            self.loop.close()

    def send(self, message):
        self.loop.run_until_complete(self.ws.send(message))

    def recv(self, timeout=None):
        return self.loop.run_until_complete(asyncio.wait_for(self.ws.recv(), timeout))

    def ping(self, payload):
        return _Pong(self.loop, self.loop.run_until_complete(self.ws.ping(payload)))

    def close(self, code=1000, reason=""):
        self.loop.run_until_complete(self.ws.close(code, reason))

    @property
    def close_code(self):
        return self.ws.close_code


def fail(what):
    print(f"ws_client.py: FAILED: {what}", file=sys.stderr)
    sys.exit(1)


def describe(data):
    kind = "text" if isinstance(data, str) else "binary"
    return f"{kind} message of {len(data)} {'chars' if kind == 'text' else 'bytes'}"


def open_connection(url):
    # No compression offer (the server does not do permessage-deflate, so it
    # would be declined anyway) and no proxy from the environment: the
    # server is on loopback.
    return (connect or _AsyncioClient)(
        url,
        compression=None,
        proxy=None,
        max_size=None,
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
        ping_interval=None,
    )


def echo(ws, message, expected=None):
    """Sends `message` (a str/bytes, or a list of fragments) and checks the echo."""
    if expected is None:
        expected = message
    ws.send(message)
    got = ws.recv(timeout=TIMEOUT)
    if type(got) is not type(expected):
        fail(f"sent a {describe(expected)}, got a {describe(got)} back")
    if got != expected:
        at = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), None)
        fail(f"sent a {describe(expected)}, got a different {describe(got)} (first difference at {at})")


def main():
    if len(sys.argv) != 3:
        fail(f"usage: {sys.argv[0]} URL MAX_MESSAGE_BYTES")
    url, max_message = sys.argv[1], int(sys.argv[2])
    echoed = 0

    with open_connection(url) as ws:
        for text in ["hello", "", "héllo wörld ✓ 🦀", "x" * 125, "y" * 126, "z" * 65536]:
            echo(ws, text)
            echoed += 1
        for data in [b"", b"\x00", bytes(range(256)), os.urandom(65535), os.urandom(65536)]:
            echo(ws, data)
            echoed += 1

        # Fragmented: the library sends each list item as a frame of one
        # message; the server echoes the whole message.
        echo(ws, ["frag", "mented ", "", "text ✓"], "fragmented text ✓")
        parts = [b"\x01" * 10, os.urandom(100_000), b"", b"\x02"]
        echo(ws, parts, b"".join(parts))
        echoed += 2

        # Large: just under the server's limit, binary and text.
        echo(ws, os.urandom(max_message - 16))
        echo(ws, "€" * ((max_message - 16) // 3))
        echoed += 2

        # Pings, with and without payload, the largest one allowed (125),
        # and between messages.
        for payload in [b"", b"ping!", bytes(125)]:
            pong = ws.ping(payload)
            if not pong.wait(TIMEOUT):
                fail(f"no pong for a ping of {len(payload)} bytes")
        pongs = [ws.ping(str(i).encode()) for i in range(10)]
        echo(ws, "after pings")
        echoed += 1
        if not all(p.wait(TIMEOUT) for p in pongs):
            fail("not every one of 10 pings in a row got its pong")

        ws.close(code=1000, reason="bye")
    if ws.close_code != 1000:
        fail(f"close handshake: expected the server to answer 1000, got {ws.close_code}")

    # The server answers a close with the client's own code.
    with open_connection(url) as ws:
        echo(ws, "custom close next")
        echoed += 1
        ws.close(code=4321, reason="custom")
    if ws.close_code != 4321:
        fail(f"close with 4321: the server answered {ws.close_code}")

    # Over the limit: close 1009 (message too big), sent before the TCP close.
    with open_connection(url) as ws:
        try:
            ws.send(b"\x00" * (max_message + 1))
            got = ws.recv(timeout=TIMEOUT)
            fail(f"a message over the limit was echoed ({describe(got)}) instead of closed")
        except ConnectionClosedError as e:
            if e.rcvd is None:
                fail(f"a message over the limit: the connection dropped without a close frame ({e})")
            if e.rcvd.code != 1009:
                fail(f"a message over the limit: expected close 1009, got {e.rcvd.code} ({e.rcvd.reason!r})")

    print(f"ws_client.py: ok: {echoed} echoes checked, pings answered, close codes 1000, 4321 and 1009")


if __name__ == "__main__":
    main()
