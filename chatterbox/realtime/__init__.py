"""The WebSocket endpoint and the connection hub (see ``docs/architecture.md``)."""
