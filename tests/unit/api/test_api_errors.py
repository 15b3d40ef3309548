"""The one error shape: handlers on a minimal app, and the OpenAPI documentation of errors."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict

from chatterbox.api.errors import ErrorBody, error_responses, install_error_handlers
from chatterbox.app import create_app
from chatterbox.config import Settings
from chatterbox.service.errors import InvalidInput, RateLimited


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/things")
    async def create(body: Body) -> dict[str, str]:
        return {"name": body.name}

    @app.get("/things")
    async def list_things() -> list[str]:
        raise RateLimited("slow down", retry_after_s=7)

    @app.get("/bad")
    async def bad() -> None:
        raise InvalidInput("nope", field="x")

    return app


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


@pytest.mark.anyio
async def test_every_error_has_the_one_shape() -> None:
    client = client_for(make_app())
    r = await client.post("/things", json={"name": "a", "extra": 1})
    assert r.status_code == 422
    assert r.json() == {
        "error": {
            "code": "validation_error",
            "message": "extra: Extra inputs are not permitted",
            "field": "extra",
        }
    }
    r = await client.post(
        "/things", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and ErrorBody.model_validate(r.json())
    r = await client.get("/things")
    assert r.status_code == 429 and r.headers["retry-after"] == "7"
    assert r.json()["error"]["code"] == "rate_limited"
    r = await client.get("/bad")
    assert r.json() == {"error": {"code": "invalid_input", "message": "nope", "field": "x"}}
    r = await client.get("/nowhere")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


@pytest.mark.anyio
async def test_405_lists_every_method_of_the_path() -> None:
    r = await client_for(create_app(Settings())).request("PUT", "/api/rooms")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, POST"
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_error_responses_document_the_model() -> None:
    docs = error_responses(401, 429)
    assert docs[401]["model"] is ErrorBody and "WWW-Authenticate" in docs[401]["headers"]
    assert "Retry-After" in docs[429]["headers"]


def test_every_operation_documents_its_errors() -> None:
    spec = create_app(Settings()).openapi()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if path.startswith("/api/"):
                assert "422" in responses, (method, path)
                assert "400" in responses, (method, path)
                ref = responses["422"]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorBody")
            if path.startswith("/api/") and not path.startswith(
                ("/api/auth/register", "/api/auth/login", "/api/auth/refresh")
            ):
                assert "401" in responses, (method, path)
