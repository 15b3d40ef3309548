"""Baseline (a): a raw ``websockets`` broadcast server, the practical ceiling in Python.

No validation, no storage: every text frame received is sent as is, with
``websockets.broadcast``, to every connection of the same room (``?room=`` in the URL, the
sender included). Permessage-deflate off, asyncio on uvloop like uvicorn's default loop.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from urllib.parse import parse_qs, urlsplit

import uvloop
import websockets
from websockets.asyncio.server import ServerConnection, broadcast, serve

ROOMS: dict[str, set[ServerConnection]] = {}


def _room(connection: ServerConnection) -> str:
    path = connection.request.path if connection.request else "/"
    return parse_qs(urlsplit(path).query).get("room", ["default"])[0]


async def handler(connection: ServerConnection) -> None:
    """Join the room, broadcast every frame received to it."""
    members = ROOMS.setdefault(_room(connection), set())
    members.add(connection)
    try:
        async for message in connection:
            broadcast(members, message)
    except websockets.ConnectionClosed:
        pass
    finally:
        members.discard(connection)


async def main(port: int) -> None:
    """Serve until SIGTERM/SIGINT."""
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(
        handler,
        "127.0.0.1",
        port,
        compression=None,
        max_size=64 * 1024,
        max_queue=16,
        ping_interval=20,
        ping_timeout=20,
    ):
        print(f"raw_ws_broadcast listening on {port}", flush=True)
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    uvloop.run(main(parser.parse_args().port))
