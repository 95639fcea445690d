"""The Swagger page of the API, with its assets served by the API itself: it works offline.

FastAPI's default page loads Swagger UI from a public CDN and is blank without the internet. The assets come
from the `fastapi-offline` package (Swagger UI 5, which renders OpenAPI 3.1), mounted as static files.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png")


def assets_dir() -> Path:
    """The folder holding Swagger UI's script, stylesheet and icon (shipped by `fastapi-offline`)."""
    return Path(str(files("fastapi_offline") / "static"))


def install(app: FastAPI, docs_url: str, openapi_url: str, assets_url: str) -> None:
    """Serve the Swagger page at `docs_url` with its assets under `assets_url`, never from a CDN."""
    # The assets are the same static files for everyone and carry no data, so they need no token, like the
    # page and openapi.json themselves (the API's data routes stay authenticated).
    app.mount(assets_url, StaticFiles(directory=assets_dir()), name="docs-assets")
    title = f"{app.title} - Swagger UI"

    async def swagger_page(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}", title=title,
            swagger_js_url=f"{root}{assets_url}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{assets_url}/swagger-ui.css",
            swagger_favicon_url=f"{root}{assets_url}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters)

    app.add_api_route(docs_url, swagger_page, methods=["GET"], include_in_schema=False)
    app.docs_url = docs_url  # FastAPI's own page was not made (docs_url=None at construction); say where this is
