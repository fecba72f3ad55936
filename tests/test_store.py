from __future__ import annotations

import pytest
from attrs import evolve
from attrs.exceptions import FrozenInstanceError

from example_provider.store import BASELINE, InvalidProduct, Product, ProductStore


def test_product_serialises_with_string_id() -> None:
    assert Product(id="10", type="CREDIT_CARD", name="28 Degrees").to_json() == {
        "id": "10",
        "type": "CREDIT_CARD",
        "name": "28 Degrees",
    }


@pytest.mark.parametrize("bad", ["", "   ", 10, None, ["10"]])
def test_product_refuses_empty_or_non_string_fields(bad: object) -> None:
    with pytest.raises(InvalidProduct):
        Product(id=bad, type="CREDIT_CARD", name="x")  # type: ignore[arg-type]


def test_product_is_frozen_and_changes_by_evolve() -> None:
    product = BASELINE[0]
    with pytest.raises(FrozenInstanceError):
        product.name = "other"  # type: ignore[misc]
    assert evolve(product, name="other").name == "other"
    with pytest.raises(InvalidProduct):
        evolve(product, name="")


def test_baseline_catalogue() -> None:
    store = ProductStore.with_baseline()
    assert [p.id for p in store.all()] == ["09", "10", "11"]
    assert store.get("10") == Product(id="10", type="CREDIT_CARD", name="28 Degrees")
    assert store.get("99") is None


def test_put_replaces_by_id_and_remove_forgets() -> None:
    store = ProductStore.with_baseline()
    store.put(Product(id="10", type="PERSONAL_LOAN", name="Changed"))
    store.put(Product(id="42", type="CREDIT_CARD", name="New"))
    assert store.get("10").name == "Changed"  # type: ignore[union-attr]
    assert [p.id for p in store.all()] == ["09", "10", "11", "42"]
    store.remove("42")
    store.remove("does-not-exist")
    assert store.get("42") is None


def test_snapshot_restore_and_clear() -> None:
    store = ProductStore.with_baseline()
    saved = store.snapshot()
    store.clear()
    assert store.all() == []
    store.restore(saved)
    assert tuple(store.all()) == BASELINE
