"""The items API handler (functions/items_api), run in-process against the embedded engine."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from app_support import ItemsApi

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def create(api: ItemsApi, **attributes: object) -> dict:
    response = api.call("POST", "/items", {"name": "widget", **attributes})
    assert response.status == 201, response.body
    return response.json  # type: ignore[no-any-return]


# -- create ------------------------------------------------------------------------------------


def test_create_stores_the_item_with_service_attributes(items_api: ItemsApi) -> None:
    response = items_api.call(
        "POST",
        "/items",
        {
            "name": "widget",
            "price": 9.99,
            "tags": ["a", "b"],
            "dims": {"w": 0.1, "h": 2},
            "ok": True,
        },
    )

    assert response.status == 201
    item = response.json
    assert uuid.UUID(item["id"]).version == 4
    assert item["name"] == "widget" and item["price"] == 9.99
    assert item["tags"] == ["a", "b"] and item["dims"] == {"w": 0.1, "h": 2} and item["ok"] is True
    assert item["version"] == 1
    assert ISO_UTC.fullmatch(item["createdAt"]) and item["updatedAt"] == item["createdAt"]
    assert response.headers["location"] == f"/items/{item['id']}"
    assert response.headers["etag"] == '"1"'
    assert response.headers["content-type"] == "application/json"
    # numbers are stored exactly (as decimals), not as binary floats
    stored = items_api.stored(item["id"])
    assert stored is not None
    assert stored["price"] == Decimal("9.99") and stored["dims"]["w"] == Decimal("0.1")


def test_create_with_an_id_then_get_returns_the_same_item(items_api: ItemsApi) -> None:
    created = create(items_api, id="sku-1", price=0)

    response = items_api.call("GET", "/items/sku-1")

    assert response.status == 200
    assert response.json == created
    assert created["id"] == "sku-1" and created["price"] == 0


def test_create_with_a_taken_id_is_409_and_keeps_the_first_item(items_api: ItemsApi) -> None:
    create(items_api, id="dup", price=1)

    response = items_api.call("POST", "/items", {"id": "dup", "name": "other"})

    assert response.status == 409
    assert "dup" in response.json["message"]
    stored = items_api.stored("dup")
    assert stored is not None and stored["name"] == "widget" and stored["price"] == 1


def test_create_accepts_a_base64_encoded_body(items_api: ItemsApi) -> None:
    response = items_api.call("POST", "/items", {"name": "ünïcode"}, base64_body=True)

    assert response.status == 201
    assert response.json["name"] == "ünïcode"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param("{not json", "body", id="invalid-json"),
        pytest.param("", "body", id="empty-body"),
        pytest.param('["name"]', "body", id="not-an-object"),
        pytest.param('{"name": NaN}', "body", id="nan"),
        pytest.param("{}", "name", id="missing-name"),
        pytest.param('{"name": ""}', "name", id="empty-name"),
        pytest.param('{"name": "   "}', "name", id="blank-name"),
        pytest.param('{"name": "' + "n" * 201 + '"}', "name", id="long-name"),
        pytest.param('{"name": 42}', "name", id="name-not-string"),
        pytest.param('{"name": null}', "name", id="null-name"),
        pytest.param('{"name": "w", "price": -0.01}', "price", id="negative-price"),
        pytest.param('{"name": "w", "price": "10"}', "price", id="price-string"),
        pytest.param('{"name": "w", "price": true}', "price", id="price-bool"),
        pytest.param('{"name": "w", "id": 7}', "id", id="id-number"),
        pytest.param('{"name": "w", "id": "a/b"}', "id", id="id-with-slash"),
        pytest.param('{"name": "w", "id": ""}', "id", id="id-empty"),
        pytest.param('{"name": "w", "version": 3}', "version", id="version-read-only"),
        pytest.param('{"name": "w", "createdAt": "x"}', "createdAt", id="createdAt-read-only"),
        pytest.param('{"name": "w", "expiresAt": "tomorrow"}', "expiresAt", id="ttl-string"),
        pytest.param('{"name": "w", "weight": 1' + "0" * 40 + "}", "weight", id="number-too-big"),
        pytest.param('{"name": "w", "": 1}', "''", id="empty-attribute-name"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_writes_nothing(
    items_api: ItemsApi, body: str, field: str
) -> None:
    response = items_api.call("POST", "/items", raw_body=body)

    assert response.status == 400, response.body
    assert set(response.json) == {"message"}
    assert response.json["message"].startswith(f"{field}: "), response.json
    assert items_api.count() == 0


def test_a_body_over_64_kib_is_400_and_writes_nothing(items_api: ItemsApi) -> None:
    response = items_api.call("POST", "/items", {"name": "big", "blob": "x" * 70_000})

    assert response.status == 400
    assert response.json["message"].startswith("body: ")
    assert "65536" in response.json["message"]
    assert items_api.count() == 0


# -- get and list ------------------------------------------------------------------------------


def test_get_of_a_missing_item_is_404(items_api: ItemsApi) -> None:
    response = items_api.call("GET", "/items/nope")

    assert response.status == 404
    assert response.json == {"message": "item not found"}


def test_list_pages_through_every_item_once(items_api: ItemsApi) -> None:
    ids = {create(items_api)["id"] for _ in range(7)}

    seen: list[str] = []
    pages = []
    token = None
    for _ in range(10):
        query = {"limit": "3", **({"next": token} if token else {})}
        response = items_api.call("GET", "/items", query=query)
        assert response.status == 200
        page = response.json
        assert set(page) == {"items", "next"}
        pages.append(len(page["items"]))
        seen.extend(item["id"] for item in page["items"])
        token = page["next"]
        if token is None:
            break

    assert pages == [3, 3, 1]
    assert sorted(seen) == sorted(ids)


def test_the_last_full_page_has_no_next_token(items_api: ItemsApi) -> None:
    for _ in range(4):
        create(items_api)

    first = items_api.call("GET", "/items", query={"limit": "2"}).json
    second = items_api.call("GET", "/items", query={"limit": "2", "next": first["next"]}).json

    assert len(first["items"]) == 2 and first["next"] is not None
    assert len(second["items"]) == 2 and second["next"] is None


def test_list_of_an_empty_table(items_api: ItemsApi) -> None:
    response = items_api.call("GET", "/items")

    assert response.status == 200
    assert response.json == {"items": [], "next": None}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"next": "not-a-token"}, "next"),
        ({"next": "eyJmb28iOiAxfQ"}, "next"),  # valid base64 JSON, but not a key of this table
    ],
)
def test_bad_list_parameters_are_400(items_api: ItemsApi, query: dict, field: str) -> None:
    response = items_api.call("GET", "/items", query=query)

    assert response.status == 400
    assert response.json["message"].startswith(f"{field}: ")


# -- replace -----------------------------------------------------------------------------------


def test_put_replaces_the_item_and_bumps_version_and_updated_at(items_api: ItemsApi) -> None:
    created = create(items_api, id="r1", price=5, color="red")
    items_api.module.items.clock = lambda: "2030-01-01T00:00:00.000Z"

    response = items_api.call("PUT", "/items/r1", {"name": "gadget", "size": "L"})

    assert response.status == 200
    item = response.json
    assert item == {
        "id": "r1",
        "name": "gadget",
        "size": "L",
        "createdAt": created["createdAt"],
        "updatedAt": "2030-01-01T00:00:00.000Z",
        "version": 2,
    }
    assert response.headers["etag"] == '"2"'
    assert items_api.call("GET", "/items/r1").json == item


def test_put_of_a_missing_item_is_404_and_creates_nothing(items_api: ItemsApi) -> None:
    response = items_api.call("PUT", "/items/ghost", {"name": "x"})

    assert response.status == 404
    assert response.json == {"message": "item not found"}
    assert items_api.count() == 0


def test_put_validates_like_create_and_writes_nothing(items_api: ItemsApi) -> None:
    create(items_api, id="r2")

    no_name = items_api.call("PUT", "/items/r2", {"price": 3})
    other_id = items_api.call("PUT", "/items/r2", {"id": "r3", "name": "x"})

    assert no_name.status == 400 and no_name.json["message"].startswith("name: ")
    assert other_id.status == 400 and other_id.json["message"].startswith("id: ")
    stored = items_api.stored("r2")
    assert stored is not None and stored["version"] == 1 and "price" not in stored


# -- patch -------------------------------------------------------------------------------------


def test_patch_sets_attributes_and_null_removes_one(items_api: ItemsApi) -> None:
    created = create(items_api, id="p1", price=5, color="red")
    items_api.module.items.clock = lambda: "2030-01-01T00:00:00.000Z"

    response = items_api.call("PATCH", "/items/p1", {"price": 7.5, "color": None, "stock": 3})

    assert response.status == 200
    item = response.json
    assert item == {
        "id": "p1",
        "name": "widget",
        "price": 7.5,
        "stock": 3,
        "createdAt": created["createdAt"],
        "updatedAt": "2030-01-01T00:00:00.000Z",
        "version": 2,
    }
    stored = items_api.stored("p1")
    assert stored is not None and "color" not in stored


def test_patch_of_a_missing_item_is_404_and_creates_nothing(items_api: ItemsApi) -> None:
    response = items_api.call("PATCH", "/items/ghost", {"price": 1})

    assert response.status == 404
    assert items_api.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"price": -1}, "price"),
        ({"version": 9}, "version"),
        ({"updatedAt": "now"}, "updatedAt"),
        ({"id": "other"}, "id"),
    ],
)
def test_bad_patches_are_400_and_write_nothing(items_api: ItemsApi, body: dict, field: str) -> None:
    create(items_api, id="p2", price=5)

    response = items_api.call("PATCH", "/items/p2", body)

    assert response.status == 400
    assert response.json["message"].startswith(f"{field}: ")
    stored = items_api.stored("p2")
    assert stored is not None and stored["version"] == 1 and stored["price"] == 5


# -- conditional writes (If-Match) -------------------------------------------------------------


@pytest.mark.parametrize("header", ["1", '"1"', "*"])
def test_if_match_with_the_current_version_writes(items_api: ItemsApi, header: str) -> None:
    create(items_api, id="c1")

    put = items_api.call("PUT", "/items/c1", {"name": "v2"}, headers={"If-Match": header})
    patch = items_api.call("PATCH", "/items/c1", {"price": 1}, headers={"if-match": '"2"'})

    assert put.status == 200 and put.json["version"] == 2
    assert patch.status == 200 and patch.json["version"] == 3


@pytest.mark.parametrize(
    ("method", "body"),
    [("PUT", {"name": "stale"}), ("PATCH", {"name": "stale"}), ("DELETE", None)],
)
def test_if_match_with_a_stale_version_is_412_and_writes_nothing(
    items_api: ItemsApi, method: str, body: dict | None
) -> None:
    create(items_api, id="c2")
    assert items_api.call("PATCH", "/items/c2", {"price": 2}).status == 200  # now version 2

    response = items_api.call(method, "/items/c2", body, headers={"If-Match": "1"})

    assert response.status == 412
    assert "version 2" in response.json["message"]
    assert response.headers["etag"] == '"2"'
    stored = items_api.stored("c2")
    assert stored is not None and stored["version"] == 2 and stored["name"] == "widget"


def test_if_match_on_a_missing_item_is_404(items_api: ItemsApi) -> None:
    response = items_api.call("PATCH", "/items/ghost", {"price": 1}, headers={"If-Match": "1"})

    assert response.status == 404


def test_a_malformed_if_match_is_400(items_api: ItemsApi) -> None:
    create(items_api, id="c3")

    for header in ("*x", 'W/"1"', "one", '"1'):
        response = items_api.call("PATCH", "/items/c3", {"price": 1}, headers={"If-Match": header})

        assert response.status == 400, header
        assert response.json["message"].startswith("If-Match: ")
    stored = items_api.stored("c3")
    assert stored is not None and stored["version"] == 1


# -- delete ------------------------------------------------------------------------------------


def test_delete_is_204_then_the_item_is_gone(items_api: ItemsApi) -> None:
    create(items_api, id="d1")

    response = items_api.call("DELETE", "/items/d1")

    assert response.status == 204
    assert response.body == ""
    assert items_api.call("GET", "/items/d1").status == 404
    assert items_api.stored("d1") is None


def test_delete_of_a_missing_item_is_404(items_api: ItemsApi) -> None:
    response = items_api.call("DELETE", "/items/ghost")

    assert response.status == 404
    assert response.json == {"message": "item not found"}


def test_delete_with_the_current_version_deletes(items_api: ItemsApi) -> None:
    create(items_api, id="d2")

    response = items_api.call("DELETE", "/items/d2", headers={"If-Match": '"1"'})

    assert response.status == 204
    assert items_api.stored("d2") is None


# -- items written around the API --------------------------------------------------------------


def test_items_seeded_without_service_attributes_can_be_updated(items_api: ItemsApi) -> None:
    items_api.table.put_item(Item={"id": "seed", "name": "seeded"})

    put = items_api.call("PUT", "/items/seed", {"name": "replaced"})
    patch = items_api.call("PATCH", "/items/seed", {"price": 1})

    assert put.status == 200 and put.json["version"] == 1 and "createdAt" in put.json
    assert patch.status == 200 and patch.json["version"] == 2


def test_an_unknown_route_is_404(items_api: ItemsApi) -> None:
    response = items_api.call("GET", "/orders")

    assert response.status == 404
    assert "GET /orders" in response.json["message"]


def test_an_aws_failure_is_a_500_that_reveals_nothing(items_api: ItemsApi) -> None:
    items_api.table.delete()  # every call now fails with ResourceNotFoundException

    response = items_api.call("GET", "/items/x")

    assert response.status == 500
    assert response.json == {"message": "internal error"}
