"""Chatterbox: a real-time chat server whose WebSocket protocol is a published contract."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
"""The server's version, reported in `hello.server_version`."""
