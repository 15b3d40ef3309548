"""Baseline (c): a raw ``websockets`` echo server, the ceiling for request/reply (ack) rates.

Each text frame is answered once, with the same text. No validation, no storage.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

import uvloop
import websockets
from websockets.asyncio.server import ServerConnection, serve


async def handler(connection: ServerConnection) -> None:
    """Answer every frame with itself."""
    try:
        async for message in connection:
            await connection.send(message)
    except websockets.ConnectionClosed:
        pass


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
        print(f"raw_ws_echo listening on {port}", flush=True)
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    uvloop.run(main(parser.parse_args().port))
