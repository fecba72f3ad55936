from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from example_provider.store import BASELINE, InvalidProduct, Product, ProductStore
from states.registry import StateRegistry

registry = StateRegistry()

DEFAULT_TYPE = "CREDIT_CARD"


def _text(values: Mapping[str, Any], key: str, default: str) -> str:
    """A field value as text: strings as they are, numbers written out, anything else refused."""
    value = values.get(key, default)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidProduct(f"{key} must be a string, got {type(value).__name__}")
    if not str(value).strip():
        raise InvalidProduct(f"{key} must not be empty")
    return str(value)


@registry.state("a product with ID {id} exists")
def product_exists(store: ProductStore, values: Mapping[str, Any]) -> dict[str, Any]:
    """Put the product in the catalogue, with any `type` and `name` the consumer asked for; answers the product."""
    product_id = _text(values, "id", "")
    current = store.get(product_id)
    product = Product(
        id=product_id,
        type=_text(values, "type", current.type if current else DEFAULT_TYPE),
        name=_text(values, "name", current.name if current else f"Product {product_id}"),
    )
    store.put(product)
    return product.to_json()


@registry.state("a product with ID {id} does not exist")
def product_does_not_exist(store: ProductStore, values: Mapping[str, Any]) -> dict[str, Any]:
    """Take the product out of the catalogue; answers `{"id": ...}`."""
    product_id = _text(values, "id", "")
    store.remove(product_id)
    return {"id": product_id}


@registry.state("products exist")
def products_exist(store: ProductStore, values: Mapping[str, Any]) -> dict[str, Any]:
    """Make sure the catalogue holds products (the baseline ones when it is empty); answers `{"ids": [...]}`."""
    if not store.all():
        store.replace(BASELINE)
    return {"ids": [product.id for product in store.all()]}


@registry.state("no products exist")
def no_products_exist(store: ProductStore, values: Mapping[str, Any]) -> dict[str, Any]:
    """Empty the catalogue; answers `{"ids": []}`."""
    store.clear()
    return {"ids": []}
