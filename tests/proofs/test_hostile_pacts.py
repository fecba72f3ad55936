"""Generated hostile pacts: odd names, wrong types, deep and long values. Each gives exit 0, a failed
verdict, or one clear line; never a traceback, a panic, a terminal escape or a line GitHub reads as a command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.verify import main

from .budget import sized
from .report import Proof

PROVIDER = "pactflow-example-provider-python"
ODD = st.one_of(
    st.sampled_from(
        [
            "::error::injected",
            "::add-mask::secret",
            "\x1b[2J\x1b[31mred",
            "a\n::warning::b",
            "\r\n",
            "\u2028::error::c",
            "x" * 20_000,
        ]
    ),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40),
)
WRONG = st.sampled_from([5, 1.5, True, None, [], {}, ["::error::x"], {"name": "::error::x"}])
FIELDS = ("description", "consumer", "provider", "method", "path", "status", "headers", "query", "state", "params")


def base(description: str = "all products", state: str = "products exist") -> dict[str, Any]:
    return {
        "consumer": {"name": "hostile-consumer"},
        "provider": {"name": PROVIDER},
        "interactions": [
            {
                "description": description,
                "providerStates": [{"name": state}],
                "request": {"method": "GET", "path": "/products"},
                "response": {"status": 200},
            }
        ],
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }


def put(document: dict[str, Any], field: str, value: object) -> None:
    """Set one field of the pact's first interaction (or its parties) to `value`."""
    interaction = document["interactions"][0]
    places = {
        "description": (interaction, "description"),
        "consumer": (document["consumer"], "name"),
        "provider": (document["provider"], "name"),
        "method": (interaction["request"], "method"),
        "path": (interaction["request"], "path"),
        "headers": (interaction["request"], "headers"),
        "query": (interaction["request"], "query"),
        "status": (interaction["response"], "status"),
        "state": (interaction["providerStates"][0], "name"),
        "params": (interaction["providerStates"][0], "params"),
    }
    target, key = places[field]
    target[key] = value


@st.composite
def hostile_pacts(draw: st.DrawFn) -> str:
    """A pact's JSON text, with odd or wrong values and perhaps a deeply nested body."""
    document = base()
    for field in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3, unique=True)):
        text_fields = ("description", "consumer", "provider", "state")
        put(document, field, draw(ODD if field in text_fields and draw(st.booleans()) else WRONG))
    levels = draw(st.sampled_from([0, 0, 50, 99, 101, 127, 129, 3_000, 200_000]))
    document["interactions"][0]["response"]["body"] = "DEEP"
    return json.dumps(document).replace('"DEEP"', "[" * levels + "]" * levels if levels else '"deep"')


def assert_one_clear_outcome(code: int, out: str, err: str) -> None:
    text = out + err
    assert "Traceback" not in text and "panicked" not in text, text[-2000:]
    assert "\x1b" not in text
    assert not [line for line in text.splitlines() if line.lstrip().startswith("::")]
    if code == 0:
        assert out.splitlines()[-1].startswith("verification passed: ")
    elif code == 1:
        assert out.splitlines()[-1].startswith("verification FAILED ("), text[-2000:]
    else:
        assert code == 2 and out == "", text[-2000:]
        (line,) = err.splitlines()
        assert line.startswith("verify: ")


def known(field: str, value: object, description: str = "a\n::error::injected\x1b[31m") -> str:
    """A fixed hostile pact: an injecting description and one wrong value."""
    document = base(description=description)
    put(document, field, value)
    return json.dumps(document)


@given(document=hostile_pacts())
@example(document=known("consumer", "::add-mask::\x1b[2Jweb"))  # verifies, with names that would inject
@example(document=known("status", "200"))  # the verifier panics on a status that is text
@settings(
    max_examples=sized(6, 200),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
def test_a_hostile_pact_gives_one_clear_outcome(
    proof: Proof, tmp_path: Path, capfd: pytest.CaptureFixture[str], document: str
) -> None:
    proof.count("pacts")
    path = tmp_path / "hostile.json"
    path.write_text(document, encoding="utf-8")
    capfd.readouterr()
    code = main(["--pact-url", str(path)])
    captured = capfd.readouterr()
    proof.count(f"exit {code}")
    assert_one_clear_outcome(code, captured.out, captured.err)
