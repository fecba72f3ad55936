from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from example_provider.app import create_app
from example_provider.store import ProductStore
from pipeline.settings import VARIABLES
from states import create_verification_app
from tests.proofs.budget import check_budget
from tests.support.broker import BrokerDouble
from tests.support.runs import TEST_DEFAULTS, TOKEN


def pytest_configure() -> None:
    """An unknown PROOFS_BUDGET stops the run before it starts."""
    check_budget()


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (make test): two workers per core this process may use. Much of the suite waits (on timeouts,
    on uvicorn's servers, which take up to a fifth of a second to stop), and the other worker runs meanwhile:
    on 2 cores, 4 workers took 34 to 35 s where 3 took 39 to 43 s."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return 2 * cores


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the developer's broker settings or `.env`: each runs in an empty folder, with the
    `TEST_DEFAULTS` that `tests.support.runs.environment` gives the steps a test runs."""
    for name in VARIABLES & set(os.environ):
        monkeypatch.delenv(name)
    for name, value in TEST_DEFAULTS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture
def store() -> ProductStore:
    return ProductStore.with_baseline()


@pytest.fixture
def client(store: ProductStore) -> Iterator[TestClient]:
    with TestClient(create_app(store)) as client:
        yield client


@pytest.fixture
def states_client(store: ProductStore) -> Iterator[TestClient]:
    """A client of the verification app, whose states path is on `client.app.state.states_path`."""
    with TestClient(create_verification_app(store), base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture
def broker() -> Iterator[BrokerDouble]:
    """A started broker double that takes the tests' token."""
    with BrokerDouble(token=TOKEN) as double:
        yield double
