from __future__ import annotations

import inspect
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from example_provider.store import BASELINE, ProductStore
from states import ProviderState, ProviderStates, StateRegistry, UnknownState, products, registry

ROOT = Path(__file__).resolve().parent.parent
PACTS, README = ROOT / "pacts", ROOT / "README.md"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_registry_parses_values_out_of_state_names() -> None:
    state, values = registry.find("a product with ID 4711 exists")
    assert state.pattern == "a product with ID {id} exists"
    assert values == {"id": "4711"}
    assert registry.find("a product with ID abc does not exist")[1] == {"id": "abc"}
    assert registry.find("products exist")[1] == {}


def pact_states() -> set[str]:
    """Every provider state name the project's pacts in pacts/ use (`providerStates`, or a V2 `providerState`)."""
    names: set[str] = set()
    for path in PACTS.glob("*.json"):
        for item in json.loads(path.read_text(encoding="utf-8"))["interactions"]:
            names.update(state["name"] for state in item.get("providerStates", []))
            names.update([item["providerState"]] if item.get("providerState") else [])
    return names


def assert_well_declared(declared: StateRegistry) -> None:
    """What any set of declared states must be, whatever states it holds: each pattern unique, without stray
    blanks or braces, found as itself (no earlier pattern takes its names), its transition with a docstring
    for `make states`; and together they know every state the pacts in pacts/ use."""
    assert len(set(declared.patterns)) == len(declared.patterns)
    for state in declared.states:
        pattern, names = state.pattern, PLACEHOLDER.findall(state.pattern)
        assert pattern and " ".join(pattern.split()) == pattern
        assert not {"{", "}"} & set(PLACEHOLDER.sub("", pattern)), f"{pattern!r}: a brace outside a {{name}}"
        assert declared.find(PLACEHOLDER.sub("7", pattern)) == (state, dict.fromkeys(names, "7"))
        assert inspect.getdoc(state.transition), f"{pattern!r}: its transition has no docstring"
    for name in sorted(pact_states()):
        declared.find(name)  # UnknownState names it


def test_the_declared_states_are_well_formed_and_know_the_pacts_vocabulary() -> None:
    assert {"a product with ID 10 exists", "no products exist"} <= pact_states()  # the check reads the pacts
    assert_well_declared(registry)


def documented(store: ProductStore, values: Mapping[str, Any]) -> dict[str, Any]:
    """Change nothing."""
    return {}


@pytest.mark.parametrize(
    "pattern", ["a product {id", "a product id} exists", " products exist", "a product with ID {a} exists"]
)
def test_the_checks_see_a_badly_declared_state(pattern: str) -> None:
    broken = StateRegistry(list(registry.states))
    broken.state(pattern)(documented)
    with pytest.raises(AssertionError):
        assert_well_declared(broken)


def test_the_checks_see_a_missing_docstring_and_a_state_the_pacts_need() -> None:
    undocumented = StateRegistry(list(registry.states))
    undocumented.state("a product {id} is on sale")(lambda store, values: {})
    with pytest.raises(AssertionError, match="docstring"):
        assert_well_declared(undocumented)
    with pytest.raises(UnknownState):
        assert_well_declared(StateRegistry(registry.states[1:]))
    assert_well_declared(StateRegistry([*registry.states, ProviderState("a product {id} is on sale", documented)]))


def readme_example() -> str:
    """The Python block under the README's heading about adding a provider state."""
    text = README.read_text(encoding="utf-8")
    heading = re.search(r"^#+ .*adding a provider state.*$", text, re.IGNORECASE | re.MULTILINE)
    assert heading is not None
    block = re.search(r"^```python\n(.*?)^```", text[heading.end() :], re.DOTALL | re.MULTILINE)
    assert block is not None
    return block.group(1)


def test_the_readmes_example_is_one_declaration_and_the_checks_still_hold(store: ProductStore) -> None:
    example = StateRegistry()
    exec(readme_example(), {**vars(products), "registry": example})  # as if written in states/products.py
    (added,) = example.states
    declared = StateRegistry([*(state for state in registry.states if state.pattern != added.pattern), added])
    assert_well_declared(declared)
    machine = ProviderStates(store, declared)
    name = PLACEHOLDER.sub("7", added.pattern)
    assert isinstance(machine.setup(name, {}), dict)
    machine.teardown(name)
    assert tuple(store.all()) == BASELINE


def test_unknown_state_names_itself_and_the_known_ones() -> None:
    with pytest.raises(UnknownState) as raised:
        registry.find("a widget exists")
    assert raised.value.name == "a widget exists"
    assert "products exist" in raised.value.known


def test_a_pattern_cannot_be_declared_twice() -> None:
    fresh = StateRegistry()
    fresh.state("x {n}")(lambda store, values: {})
    with pytest.raises(ValueError, match="declared twice"):
        fresh.state("x {n}")(lambda store, values: {})


def test_pattern_special_characters_are_literal() -> None:
    fresh = StateRegistry()
    fresh.state("a (b) {id}.")(lambda store, values: {})
    assert fresh.find("a (b) 7.")[1] == {"id": "7"}
    with pytest.raises(UnknownState):
        fresh.find("a b 7x")


@pytest.fixture
def machine(store: ProductStore) -> ProviderStates:
    return ProviderStates(store, registry)


def test_product_exists_for_any_id_with_params(machine: ProviderStates, store: ProductStore) -> None:
    produced = machine.setup("a product with ID 42 exists", {"type": "PERSONAL_LOAN", "name": "Loan"})
    assert produced == {"id": "42", "type": "PERSONAL_LOAN", "name": "Loan"}
    assert store.get("42") is not None


def test_params_win_over_values_in_the_name(machine: ProviderStates, store: ProductStore) -> None:
    assert machine.setup("a product with ID 10 exists", {"id": 77})["id"] == "77"
    assert store.get("77").type == "CREDIT_CARD"  # type: ignore[union-attr]


def test_existing_product_keeps_its_fields(machine: ProviderStates) -> None:
    assert machine.setup("a product with ID 11 exists", {}) == BASELINE[2].to_json()


def test_product_does_not_exist_removes_it(machine: ProviderStates, store: ProductStore) -> None:
    assert machine.setup("a product with ID 10 does not exist", {}) == {"id": "10"}
    assert store.get("10") is None


def test_no_products_then_products_exist(machine: ProviderStates, store: ProductStore) -> None:
    assert machine.setup("no products exist", {}) == {"ids": []}
    assert machine.setup("products exist", {}) == {"ids": ["09", "10", "11"]}


def test_several_states_all_apply_and_teardown_restores_baseline(machine: ProviderStates, store: ProductStore) -> None:
    machine.setup("a product with ID 31 exists", {})
    machine.setup("a product with ID 10 does not exist", {})
    assert [p.id for p in store.all()] == ["09", "11", "31"]
    assert machine.teardown("a product with ID 31 exists") == {}
    assert tuple(store.all()) == BASELINE
    assert machine.active == {}


def test_empty_state_is_accepted_and_changes_nothing(machine: ProviderStates, store: ProductStore) -> None:
    assert machine.setup("", {"anything": 1}) == {}
    assert tuple(store.all()) == BASELINE


@pytest.mark.parametrize("params", [{"name": ""}, {"id": ["x"]}, {"type": True}, {"name": None}])
def test_bad_param_values_are_refused(machine: ProviderStates, params: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        machine.setup("a product with ID 5 exists", params)
