"""The protocol docs page, served by the app, renders every event offline under its CSP."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx

from tests.support.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[2]


def test_protocol_docs_render_every_message(browser: Any, shared_server: LiveServer) -> None:
    doc = json.loads((ROOT / "static/docs/protocol/asyncapi.json").read_text(encoding="utf-8"))
    messages = set(doc["components"]["messages"])
    operations = set(doc["operations"])
    assert len(messages) == 23

    response = httpx.get(shared_server.url + "/docs/protocol/")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]

    context = browser.new_context(viewport={"width": 1700, "height": 1800})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(r.url) if r.status >= 400 else None)
    external: list[str] = []
    page.on(
        "request",
        lambda r: external.append(r.url) if not r.url.startswith(shared_server.url) else None,
    )
    page.goto(shared_server.url + "/docs/protocol/", wait_until="networkidle")
    page.wait_for_selector("#introduction", timeout=20_000)
    text = page.inner_text("body")
    assert not problems, problems
    assert not external, external  # works with no network: everything is vendored
    missing = {m for m in messages | operations if m not in text}
    assert not missing
    if os.environ.get("CHATTERBOX_SCREENSHOTS"):
        page.screenshot(path=str(ROOT / "docs/protocol-docs.png"))
    context.close()
