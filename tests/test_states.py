from __future__ import annotations

import pytest

from example_provider.store import BASELINE, ProductStore
from states import ProviderStates, StateRegistry, UnknownState, registry


def test_registry_parses_values_out_of_state_names() -> None:
    state, values = registry.find("a product with ID 4711 exists")
    assert state.pattern == "a product with ID {id} exists"
    assert values == {"id": "4711"}
    assert registry.find("a product with ID abc does not exist")[1] == {"id": "abc"}
    assert registry.find("products exist")[1] == {}


def test_registry_knows_the_consumers_vocabulary() -> None:
    assert registry.patterns == [
        "a product with ID {id} exists",
        "a product with ID {id} does not exist",
        "products exist",
        "no products exist",
    ]


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
