"""Baseline (b): the naive FastAPI chat, the ``ConnectionManager`` of the FastAPI WebSockets docs.

As in the docs: a list of accepted connections and a ``broadcast`` that awaits ``send_text`` on
each in turn; no validation, no storage. Two changes so that it can run the same scenarios: one
manager per room (``?room=`` in the URL; the docs have a single room), and the frame is
broadcast as received (the docs prefix it with ``Client #id says:`` and also echo it back to
the sender, which would count twice). It runs under uvicorn with **the same options as
Chatterbox** (:func:`chatterbox.server.uvicorn_options`), only the app differs.
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from chatterbox.config import Settings
from chatterbox.server import uvicorn_options


class ConnectionManager:
    """The FastAPI docs' connection manager."""

    def __init__(self) -> None:
        self.active_connections: list[WebSocket] = []

    async def connect(self, websocket: WebSocket) -> None:
        """Accept and remember the connection."""
        await websocket.accept()
        self.active_connections.append(websocket)

    def disconnect(self, websocket: WebSocket) -> None:
        """Forget the connection."""
        self.active_connections.remove(websocket)

    async def broadcast(self, message: str) -> None:
        """Send the message to every connection, one after the other."""
        for connection in self.active_connections:
            await connection.send_text(message)


app = FastAPI()
rooms: dict[str, ConnectionManager] = {}


@app.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket, room: str = "default") -> None:
    """Join the room's manager; broadcast every frame received."""
    manager = rooms.setdefault(room, ConnectionManager())
    await manager.connect(websocket)
    try:
        while True:
            data = await websocket.receive_text()
            await manager.broadcast(data)
    except WebSocketDisconnect:
        manager.disconnect(websocket)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    options = uvicorn_options(
        Settings(env="test", secret_key="bench-secret-0123456789", log_level="warning")
    )
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, **options)
