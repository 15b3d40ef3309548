"""Use cases: coordinate the store, the broker and the pure domain rules.

``api/`` (REST) and ``realtime/`` (WebSocket) both call these; neither talks to the store for
anything that a rule governs. Nothing here imports FastAPI.
"""
