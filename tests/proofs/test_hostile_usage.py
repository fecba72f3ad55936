"""Generated hostile pacts for the usage map: odd values wherever the map looks (metadata, path generators,
bodies in every pact version, states). Each gives a map or one clear line; never a traceback or an escape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.usage_report import main

from .budget import sized
from .report import Proof

PROVIDER = "pactflow-example-provider-python"
TEXT = st.one_of(st.sampled_from(["::error::x", "\x1b[31mred", "a\nb", "/product/${id}", "${"]), st.text(max_size=12))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=10,
)
SPOTS = ("metadata", "generators", "body", "v4 body", "path", "states")


@st.composite
def hostile_pacts(draw: st.DrawFn) -> dict[str, Any]:
    """A pact of one HTTP interaction with odd or wrong values where the usage map reads."""
    interaction: dict[str, Any] = {
        "description": draw(TEXT),
        "request": {"method": draw(st.sampled_from(["GET", "get", "POST", "BREW"])), "path": "/products"},
        "response": {"status": draw(st.sampled_from([200, 404, 201])), "body": [{"id": "1", "name": "x"}]},
    }
    document: dict[str, Any] = {"consumer": {"name": draw(TEXT)}, "provider": {"name": PROVIDER}}
    document["interactions"] = [interaction]
    document["metadata"] = {"pactSpecification": {"version": draw(st.sampled_from(["2.0.0", "3.0.0", "4.0"]))}}
    for spot in draw(st.lists(st.sampled_from(SPOTS), min_size=1, max_size=3, unique=True)):
        if spot == "metadata":
            value = draw(JSON)
            document["metadata"] = value if draw(st.booleans()) else {"pactSpecification": value}
        elif spot == "generators":
            interaction["request"]["generators"] = {
                "path": draw(
                    JSON
                    | st.fixed_dictionaries({}, optional={"type": st.just("ProviderState") | TEXT, "expression": JSON})
                )
            }
        elif spot == "body":
            interaction["response"]["body"] = draw(JSON)
        elif spot == "v4 body":
            document["metadata"] = {"pactSpecification": {"version": "4.0"}}
            interaction["type"] = "Synchronous/HTTP"
            encoded = draw(st.sampled_from([False, True, "base64", "JSON", "json", "other"]))
            content_type = draw(st.sampled_from(["application/json", "text/plain", None, 5]))
            interaction["response"]["body"] = {"content": draw(JSON), "encoded": encoded, "contentType": content_type}
        elif spot == "path":
            interaction["request"]["path"] = draw(TEXT)
        else:
            interaction["providerStates"] = [{"name": draw(TEXT)} for _ in range(draw(st.integers(0, 2)))]
    return document


@given(document=hostile_pacts())
@settings(
    max_examples=sized(20, 400),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_a_hostile_pact_gives_a_map_or_one_clear_line(
    proof: Proof, tmp_path: Path, capsys: pytest.CaptureFixture[str], document: dict[str, Any]
) -> None:
    proof.count("pacts")
    (tmp_path / "hostile.json").write_text(json.dumps(document), encoding="utf-8")
    for output_format in ("markdown", "json"):
        code = main(["usage", "--pact-dir", str(tmp_path), "--format", output_format])
        out, err = capsys.readouterr()
        proof.count(f"exit {code}")
        assert "\x1b" not in out + err and not [line for line in (out + err).splitlines() if line.startswith("::")]
        if code == 0:
            assert out.startswith("{" if output_format == "json" else "## Who uses the API") and err == ""
        else:
            assert code == 2 and out == "" and err.startswith("[usage] cannot tell: "), err
            assert len(err.splitlines()) == 1
