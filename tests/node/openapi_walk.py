"""Reads a node's OpenAPI document the way a client generator would: what a caller may send."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def caller_schemas(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node of every parameter and request body, with where it is."""
    components = document.get("components", {}).get("schemas", {})

    def walk(node: Any, where: str, seen: tuple[str, ...]) -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(node, list):
            for item in node:
                yield from walk(item, where, seen)
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                yield from walk(components[name], f"{where} {name}", (*seen, name))
            return
        yield where, node
        for key, value in node.items():
            yield from walk(value, f"{where}.{key}", seen)

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            label = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                yield from walk(parameter.get("schema", {}), f"{label} {parameter['name']}", ())
            if "requestBody" in operation:
                yield from walk(operation["requestBody"], f"{label} body", ())


def unbounded_integers(document: dict[str, Any]) -> list[str]:
    return [
        where
        for where, schema in caller_schemas(document)
        if schema.get("type") == "integer" and ("minimum" not in schema or "maximum" not in schema)
    ]


def errors_not_in_the_error_schema(document: dict[str, Any]) -> list[str]:
    """Every documented 4xx/5xx answer whose JSON is not `Error` (or a model of the route's own)."""
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.isdigit() or int(status) < 400:
                    continue
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if schema is None or "ValidationError" in schema.get("$ref", ""):
                    found.append(f"{method.upper()} {path} {status}")
    return found
