"""The Swagger page works offline: every script, stylesheet and icon it loads is served by the API itself."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from erpcore.api import docs
from tests.e2e.api.conftest import V1, Api


class _Links(HTMLParser):
    """Every URL the page makes the browser fetch: script src, link href, img src, plus URLs in inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.urls += re.findall(r"""url:\s*['"]([^'"]+)['"]""", data)
            self.urls += re.findall(r"https?://[^\s'\"]+", data)


def _fetched(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.urls


def test_the_docs_page_references_only_local_urls_and_each_answers(api: Api) -> None:
    assert api.client.app.docs_url == f"{V1}/docs"
    page = api.client.get(f"{V1}/docs")
    assert page.status_code == 200
    urls = _fetched(page.text)
    assert urls, "the page loads no assets at all?"
    remote = [u for u in urls if "//" in u]
    assert not remote, f"the docs page loads from elsewhere: {remote}"
    assert {f"{V1}/docs-assets/swagger-ui-bundle.js", f"{V1}/docs-assets/swagger-ui.css",
            f"{V1}/openapi.json"} <= set(urls)
    for url in urls:
        answer = api.client.get(url)  # no token: static assets and the schema carry no data
        assert answer.status_code == 200, f"{url}: {answer.status_code}"
        assert answer.content, url


def test_the_assets_are_swagger_ui_5_which_renders_openapi_3_1(api: Api) -> None:
    schema = api.client.get(f"{V1}/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    bundle = (docs.assets_dir() / "swagger-ui-bundle.js").read_text()
    # Swagger UI 4 shows "Unable to render this definition" for OpenAPI 3.1; version 5 added it.
    assert re.search(r'version:"5\.\d+\.\d+"|swagger-ui@5|"5\.\d+\.\d+"', bundle), "not Swagger UI 5"


@pytest.mark.parametrize("asset", docs.ASSETS)
def test_each_asset_has_its_content_type(api: Api, asset: str) -> None:
    answer = api.client.get(f"{V1}/docs-assets/{asset}")
    assert answer.status_code == 200
    expected = {"js": "javascript", "css": "text/css", "png": "image/png"}[asset.rsplit(".", 1)[1]]
    assert expected in answer.headers["content-type"]
