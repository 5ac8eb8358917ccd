"""The portals and products a person can sign in to (the sign-in page's two drop-downs)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    slug: str
    name: str


PORTALS = [("accounting", "Accounting Portal")]
PRODUCTS = [
    Product("accounting", "Business Cloud Accounting"),
    Product("payroll", "Payroll"),
    Product("partner", "Partner Edition"),
]
PRODUCTS_BY_SLUG = {product.slug: product for product in PRODUCTS}
