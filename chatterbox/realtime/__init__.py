"""The WebSocket endpoint and the connection hub."""
