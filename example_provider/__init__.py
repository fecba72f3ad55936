from __future__ import annotations

from example_provider.app import create_app
from example_provider.store import Product, ProductStore

__all__ = ["Product", "ProductStore", "create_app"]
