"""Chatterbox benchmark harness (``make bench``)."""
