"""Regenerate the project's consumer pacts in pacts/ (or the folder given) with pact-python's consumer DSL:
`make pacts`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ["PACT_DO_NOT_TRACK"] = "true"

import httpx
from pact import Pact, generate, match

PROVIDER = "pactflow-example-provider-python"
PACT_DIR = Path(__file__).resolve().parent.parent / "pacts"
JSON_UTF8 = "application/json; charset=utf-8"

WEB_CONSUMER = "pactflow-example-consumer"
PYTHON_CONSUMER = "pactflow-example-consumer-python"
STATES_CONSUMER = "example-provider-states"

TOKEN = "Bearer 2019-01-14T11:34:18.045Z"
PRODUCT_10 = {"id": "10", "type": "CREDIT_CARD", "name": "28 Degrees"}
BASELINE = [
    {"id": "09", "type": "CREDIT_CARD", "name": "Gem Visa"},
    {"id": "10", "type": "CREDIT_CARD", "name": "28 Degrees"},
    {"id": "11", "type": "PERSONAL_LOAN", "name": "MyFlexiPay"},
]


class MockServerMismatch(RuntimeError):
    """The mock server did not answer the way the interaction says it should."""


def new_pact(consumer: str, specification: str = "V4") -> Pact:
    """A pact between `consumer` and the provider, to hold one interaction."""
    return Pact(consumer, PROVIDER).with_specification(specification)


def exercise(
    folder: Path, pact: Pact, path: str, status: int, body: Any = None, headers: dict[str, str] | None = None
) -> None:
    """Send the GET of `pact`'s one interaction to its mock server, check the answer, merge the pact into its file."""
    with pact.serve() as srv:  # raises MismatchesError on leaving when the request did not match
        response = httpx.get(f"{srv.url}{path}", headers=headers, trust_env=False)
    if response.status_code != status or (body is not None and response.json() != body):
        raise MockServerMismatch(f"{pact}: GET {path} answered {response.status_code} {response.text!r}")
    pact.write_file(folder, overwrite=False)


def web_consumer(folder: Path) -> None:
    """The React web app's pact, with the same three interactions as the real consumer."""
    pact = new_pact(WEB_CONSUMER)
    (
        pact.upon_receiving("a request to get a product")
        .given("a product with ID 10 exists")
        .with_request("GET", "/product/10")
        .with_header("Authorization", match.like(TOKEN))
        .will_respond_with(200)
        .with_header("Content-Type", JSON_UTF8)
        .with_body(match.like(PRODUCT_10), JSON_UTF8)
    )
    exercise(folder, pact, "/product/10", 200, PRODUCT_10, headers={"Authorization": TOKEN})

    pact = new_pact(WEB_CONSUMER)
    (
        pact.upon_receiving("a request to get a product")
        .given("a product with ID 11 does not exist")
        .with_request("GET", "/product/11")
        .with_header("Authorization", match.like(TOKEN))
        .will_respond_with(404)
    )
    exercise(folder, pact, "/product/11", 404, headers={"Authorization": TOKEN})

    pact = new_pact(WEB_CONSUMER)
    (
        pact.upon_receiving("a request to get all products")
        .given("products exist")
        .with_request("GET", "/products")
        .with_header("Authorization", match.like(TOKEN))
        .will_respond_with(200)
        .with_header("Content-Type", JSON_UTF8)
        .with_body(match.each_like(PRODUCT_10, min=1), JSON_UTF8)
    )
    exercise(folder, pact, "/products", 200, [PRODUCT_10], headers={"Authorization": TOKEN})


def python_consumer(folder: Path) -> None:
    """The Python client's pact, written in the V2 format it was written in."""
    pizza = {"id": "27", "name": "Margharita", "type": "Pizza"}
    pact = new_pact(PYTHON_CONSUMER, "V2")
    (
        pact.upon_receiving("a request to get a product")
        .given("a product with ID 10 exists")
        .with_request("GET", "/product/10")
        .will_respond_with(200)
        .with_body(match.like(pizza), "application/json")
    )
    exercise(folder, pact, "/product/10", 200, pizza)


def states_consumer(folder: Path) -> None:
    """A pact that exercises every provider state, with params, injected values and several states at once."""
    platinum = {"id": "42", "type": "PERSONAL_LOAN", "name": "Platinum Loan"}
    pact = new_pact(STATES_CONSUMER)
    (
        pact.upon_receiving("a request for a product that a state creates with params")
        .given("a product with ID 42 exists", type="PERSONAL_LOAN", name="Platinum Loan")
        .with_request("GET", "/product/42")
        .will_respond_with(200)
        .with_header("Content-Type", JSON_UTF8)
        .with_body(platinum, JSON_UTF8)
    )
    exercise(folder, pact, "/product/42", 200, platinum)

    overridden = {"id": "77", "type": "CREDIT_CARD", "name": "Overridden"}
    pact = new_pact(STATES_CONSUMER)
    (
        pact.upon_receiving("a request for a product whose id and name the state params override")
        .given("a product with ID 10 exists", {"id": "77", "name": "Overridden"})
        .with_request("GET", "/products/77")
        .will_respond_with(200)
        .with_header("Content-Type", JSON_UTF8)
        .with_body(overridden, JSON_UTF8)
    )
    exercise(folder, pact, "/products/77", 200, overridden)

    # The example asks for product 1; the verifier asks for the id the state setup answers (123).
    pact = new_pact(STATES_CONSUMER)
    (
        pact.upon_receiving("a request for a product at a path injected from the provider state")
        .given("a product with ID 123 exists")
        .with_request("GET", match.like("/product/1", generator=generate.provider_state("/product/${id}")))
        .will_respond_with(200)
        .with_header("Content-Type", JSON_UTF8)
        .with_body(
            {
                "id": match.like("1", generator=generate.provider_state("${id}")),
                "type": "CREDIT_CARD",
                "name": "Product 123",
            },
            JSON_UTF8,
        )
    )
    exercise(folder, pact, "/product/1", 200, {"id": "1", "type": "CREDIT_CARD", "name": "Product 123"})

    pact = new_pact(STATES_CONSUMER)
    (
        pact.upon_receiving("a request for a product that does not exist")
        .given("a product with ID 999 does not exist")
        .with_request("GET", "/products/999")
        .will_respond_with(404)
        .with_header("Content-Type", JSON_UTF8)
        .with_body({"error": match.like("no product with ID 999")}, JSON_UTF8)
    )
    exercise(folder, pact, "/products/999", 404, {"error": "no product with ID 999"})

    pact = new_pact(STATES_CONSUMER)
    (
        pact.upon_receiving("a request for all products when none exist")
        .given("no products exist")
        .with_request("GET", "/products")
        .will_respond_with(200)
        .with_header("Content-Type", JSON_UTF8)
        .with_body("[]", JSON_UTF8)
    )
    exercise(folder, pact, "/products", 200, [])

    two_added = [
        *BASELINE,
        {"id": "31", "type": "CREDIT_CARD", "name": "Thirty One"},
        {"id": "32", "type": "CREDIT_CARD", "name": "Thirty Two"},
    ]
    pact = new_pact(STATES_CONSUMER)
    (
        pact.upon_receiving("a request for all products after two states each add one")
        .given("a product with ID 31 exists", name="Thirty One")
        .given("a product with ID 32 exists", name="Thirty Two")
        .with_request("GET", "/products")
        .will_respond_with(200)
        .with_header("Content-Type", JSON_UTF8)
        .with_body(json.dumps(two_added), JSON_UTF8)
    )
    exercise(folder, pact, "/products", 200, two_added)

    product_11 = {"id": "11", "type": "PERSONAL_LOAN", "name": "MyFlexiPay"}
    pact = new_pact(STATES_CONSUMER)
    (
        pact.upon_receiving("a request for an existing product that keeps its own fields")
        .given("a product with ID 11 exists")
        .with_request("GET", "/products/11")
        .will_respond_with(200)
        .with_header("Content-Type", JSON_UTF8)
        .with_body(product_11, JSON_UTF8)
    )
    exercise(folder, pact, "/products/11", 200, product_11)

    # Pact files list interactions sorted by description, and the verifier replays them in
    # that order: this description sorts last, so it proves every teardown restored the baseline.
    pact = new_pact(STATES_CONSUMER)
    (
        pact.upon_receiving("the baseline catalogue, with no state, after every other interaction")
        .with_request("GET", "/products")
        .will_respond_with(200)
        .with_header("Content-Type", JSON_UTF8)
        .with_body(json.dumps(BASELINE), JSON_UTF8)
    )
    exercise(folder, pact, "/products", 200, BASELINE)


def main(folder: Path = PACT_DIR) -> None:
    """Delete the pacts this script writes in `folder`, then write them afresh."""
    for consumer in (WEB_CONSUMER, PYTHON_CONSUMER, STATES_CONSUMER):
        (folder / f"{consumer}-{PROVIDER}.json").unlink(missing_ok=True)
    web_consumer(folder)
    python_consumer(folder)
    states_consumer(folder)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else PACT_DIR)
