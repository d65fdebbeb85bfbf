"""The API's docs work without the internet: /docs and /redoc load every script, style and icon from the service."""

import re

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_page_and_every_asset_it_references_come_from_the_service(client: TestClient, page: str) -> None:
    html = client.get(page)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""", html.text)
    urls = [a or b for a, b in references]
    assert urls, html.text
    assert not [u for u in urls if u.startswith(("http://", "https://", "//"))], urls
    for url in urls:
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert answer.content, url
    assert "/openapi.json" in html.text
