from __future__ import annotations

from collections.abc import Iterable

from attrs import Attribute, define, field, frozen


class InvalidProduct(ValueError):
    """A product record was given a field it cannot hold."""


def _non_empty_string(instance: Product, attribute: Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise InvalidProduct(f"{attribute.name} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidProduct(f"{attribute.name} must not be empty")


@frozen
class Product:
    """One product of the catalogue; ids are strings such as "10"."""

    id: str = field(validator=_non_empty_string)
    type: str = field(validator=_non_empty_string)
    name: str = field(validator=_non_empty_string)

    def to_json(self) -> dict[str, str]:
        """The product as the API serves it."""
        return {"id": self.id, "type": self.type, "name": self.name}


BASELINE: tuple[Product, ...] = (
    Product(id="09", type="CREDIT_CARD", name="Gem Visa"),
    Product(id="10", type="CREDIT_CARD", name="28 Degrees"),
    Product(id="11", type="PERSONAL_LOAN", name="MyFlexiPay"),
)


@define
class ProductStore:
    """The in-memory catalogue: the only place products live."""

    _products: dict[str, Product] = field(factory=dict, alias="products")

    @classmethod
    def with_baseline(cls) -> ProductStore:
        """A store holding the baseline catalogue."""
        store = cls()
        store.replace(BASELINE)
        return store

    def all(self) -> list[Product]:
        """Every product, in id order."""
        return [self._products[key] for key in sorted(self._products)]

    def get(self, product_id: str) -> Product | None:
        """The product with this id, or None."""
        return self._products.get(product_id)

    def put(self, product: Product) -> None:
        """Add a product, or replace the one with the same id."""
        self._products[product.id] = product

    def remove(self, product_id: str) -> None:
        """Remove the product with this id, if there is one."""
        self._products.pop(product_id, None)

    def replace(self, products: Iterable[Product]) -> None:
        """Make these products the whole catalogue."""
        self._products = {product.id: product for product in products}

    def clear(self) -> None:
        """Empty the catalogue."""
        self.replace(())

    def snapshot(self) -> tuple[Product, ...]:
        """The catalogue as it is now, to restore later."""
        return tuple(self.all())

    def restore(self, snapshot: Iterable[Product]) -> None:
        """Return the catalogue to a snapshot."""
        self.replace(snapshot)
