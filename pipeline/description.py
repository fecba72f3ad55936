"""What openapi.yaml describes, as the usage map reads it: operations, the schemas of their answers, fields."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from attrs import field, frozen

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEMA_REF = "#/components/schemas/"
INJECTED = re.compile(r"\$\{[^}]*\}")  # a value a provider state injects into a path: `/product/${id}`


@frozen
class Operation:
    """A method on a path template of the description (`GET /product/{id}`)."""

    method: str
    template: str
    spec: dict[str, Any] = field(eq=False, repr=False)
    regex: re.Pattern[str] = field(init=False, eq=False, repr=False)

    @regex.default
    def _regex(self) -> re.Pattern[str]:
        parts = re.split(r"(\{[^{}/]*\})", self.template)
        return re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts) + r"\Z")

    @property
    def name(self) -> str:
        """The operation as people write it: `GET /product/{id}`."""
        return f"{self.method} {self.template}"


@frozen
class Description:
    """An OpenAPI document and its operations, in the document's order."""

    document: dict[str, Any]
    operations: tuple[Operation, ...]

    @classmethod
    def read(cls, document: dict[str, Any]) -> Description:
        """The operations of a parsed OpenAPI document."""
        paths = document.get("paths") or {}
        return cls(
            document,
            tuple(
                Operation(method.upper(), template, spec)
                for template, item in paths.items()
                for method, spec in item.items()
                if method in METHODS and isinstance(spec, dict)
            ),
        )

    def operation(self, method: str, path: str) -> tuple[Operation | None, str]:
        """The operation a request calls, or None and why not: the description lacks its path or its method.
        A path without parameters goes before a template that also matches it; an injected value matches any."""
        path = INJECTED.sub("x", path)
        on_path = sorted((op for op in self.operations if op.regex.match(path)), key=lambda op: "{" in op.template)
        found = next((op for op in on_path if op.method == method.upper()), None)
        if found is not None:
            return found, ""
        return None, f"no {method.upper()} on {on_path[0].template}" if on_path else "no such path"

    def resolve(self, schema: Any, owner: str) -> tuple[dict[str, Any], str]:
        """A schema with its `$ref`s followed, and its name: the referenced schema's, else `owner`."""
        for _ in range(32):
            if not isinstance(schema, dict) or not isinstance(schema.get("$ref"), str):
                break
            reference = schema["$ref"]
            owner = reference.removeprefix(SCHEMA_REF) if reference.startswith(SCHEMA_REF) else owner
            schema = self.document
            for part in reference.removeprefix("#/").split("/"):
                schema = schema.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(schema, dict) else None
        return (schema if isinstance(schema, dict) else {}), owner

    def properties(self, schema: Any, owner: str) -> dict[str, tuple[str, Any]]:
        """The properties an object schema names (with allOf, oneOf and anyOf), each with its owner's name."""
        found: dict[str, tuple[str, Any]] = {}
        pending, seen = [(schema, owner)], 0
        while pending and seen < 64:
            schema, owner = self.resolve(*pending.pop(0))
            seen += 1
            for key, value in (schema.get("properties") or {}).items():
                found.setdefault(key, (owner, value))
            for combined in ("allOf", "oneOf", "anyOf"):
                pending.extend((member, owner) for member in schema.get(combined) or [])
        return found

    def response_schema(self, operation: Operation, status: int | str) -> tuple[Any, str]:
        """The schema of an operation's JSON answer for a status (else its range, `4XX`, else `default`), or
        None; and the name of an unnamed schema there: the operationId, else the operation and status."""
        responses = operation.spec.get("responses") or {}
        keys = (str(status), f"{str(status)[:1]}XX", "default")
        answer, _ = self.resolve(next((responses[key] for key in keys if key in responses), None), "")
        media = [media for media in (answer.get("content") or {}).values() if isinstance(media, dict)]
        owner = operation.spec.get("operationId") or f"{operation.name} {status}"
        return next((found["schema"] for found in media if "schema" in found), None), str(owner)

    def fields(self) -> list[str]:
        """Every field of every operation's answers, `Schema.property`, in the description's order."""
        pending = [
            self.response_schema(operation, status)
            for operation in self.operations
            for status in operation.spec.get("responses") or {}
        ]
        names: list[str] = []
        seen: set[tuple[int, str]] = set()
        while pending:
            schema, owner = self.resolve(*pending.pop(0))
            if (id(schema), owner) in seen:
                continue
            seen.add((id(schema), owner))
            pending.append((schema.get("items"), owner))
            for key, (field_owner, value) in self.properties(schema, owner).items():
                names.append(f"{field_owner}.{key}")
                pending.append((value, f"{field_owner}.{key}"))
        return list(dict.fromkeys(names))

    def body_fields(self, body: Any, schema: Any, owner: str) -> Iterator[tuple[str, bool]]:
        """Each key of an expected body at any depth, arrays included, named `Schema.property` after the schema it
        meets there; and whether the description names it."""
        pending = [(body, schema, owner)]
        while pending:
            value, schema, owner = pending.pop()
            resolved, owner = self.resolve(schema, owner)
            if isinstance(value, list):
                pending.extend((item, resolved.get("items"), owner) for item in reversed(value))
            elif isinstance(value, dict):
                known = self.properties(resolved, owner)
                for key, child in reversed(value.items()):
                    field_owner, child_schema = known.get(key, (owner, None))
                    yield f"{field_owner}.{key}", key in known
                    pending.append((child, child_schema, f"{field_owner}.{key}"))
