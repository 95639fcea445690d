"""Lists page by id: `limit` with `offset` or `after`, and `next` is the URL of the following page."""

from __future__ import annotations

from tests.e2e.api.conftest import V1, Api
from tests.factories import uid


def test_follow_next_through_every_page(api: Api) -> None:
    created = [api.ok(api.post("/customers", {"code": uid("C"), "name": f"c{n}"}), 201)["id"] for n in range(5)]
    seen: list[int] = []
    url: str | None = V1 + "/customers?limit=2"
    pages = 0
    while url:
        body = api.ok(api.client.get(url, headers=api.headers("viewer")))
        seen += [c["id"] for c in body["items"]]
        url, pages = body["next"], pages + 1
    assert seen == created and pages == 3


def test_offset_and_after(api: Api) -> None:
    ids = [api.ok(api.post("/customers", {"code": uid("C"), "name": "c"}), 201)["id"] for _ in range(4)]
    assert [c["id"] for c in api.ok(api.get("/customers", limit=2, offset=1))["items"]] == ids[1:3]
    assert [c["id"] for c in api.ok(api.get("/customers", after=ids[1]))["items"]] == ids[2:]


def test_limit_is_bounded_by_the_configuration(api: Api) -> None:
    most = api.erp.settings.api.page_size_max
    too_many = api.get("/customers", limit=most + 1)
    assert too_many.status_code == 422 and "limit" in too_many.json()["detail"]
    assert api.get("/customers", limit=0).status_code == 422
    assert api.get("/customers", limit=most).status_code == 200
