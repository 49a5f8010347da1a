"""A small JSON-Schema validator for the subset of the standard that the model card schema uses.

Slicer's Python does not ship ``jsonschema``, and a card must be checkable wherever the engine
runs, so the engine validates with this ~100-line interpreter of the keywords it needs (type,
required, properties, additionalProperties, enum, pattern, minimum/maximum and their exclusive
forms, minItems/maxItems, minLength, items, oneOf). The test-suite checks that it agrees with the
reference ``jsonschema`` package on valid and broken cards.
"""

from __future__ import annotations

import re
from typing import Any

_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
}


def schema_errors(instance: Any, schema: dict, path: str = "card") -> list[str]:
    """Return every violation of ``schema`` by ``instance`` as ``'<path>: <problem>'`` strings."""
    expected = schema.get("type")
    if expected is not None and not _is_type(instance, expected):
        return [f"{path}: expected {expected}, got {type(instance).__name__} {instance!r}"]
    errors: list[str] = []
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{path}: {instance!r} is not one of {schema['enum']}")
    if "oneOf" in schema:
        matches = [s for s in schema["oneOf"] if not schema_errors(instance, s, path)]
        if len(matches) != 1:
            errors.append(f"{path}: {instance!r} must match exactly one of the allowed forms")
    if isinstance(instance, str):
        errors += _string_errors(instance, schema, path)
    if isinstance(instance, (int, float)) and not isinstance(instance, bool):
        errors += _number_errors(instance, schema, path)
    if isinstance(instance, list):
        errors += _array_errors(instance, schema, path)
    if isinstance(instance, dict):
        errors += _object_errors(instance, schema, path)
    return errors


def _is_type(instance: Any, expected: str) -> bool:
    if isinstance(instance, bool):
        return expected == "boolean"
    return isinstance(instance, _TYPES[expected])


def _string_errors(value: str, schema: dict, path: str) -> list[str]:
    errors = []
    if len(value) < schema.get("minLength", 0):
        errors.append(f"{path}: must not be empty")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{path}: {value!r} does not match the pattern {schema['pattern']}")
    return errors


def _number_errors(value: float, schema: dict, path: str) -> list[str]:
    checks = [
        ("minimum", lambda bound: value >= bound, ">="),
        ("maximum", lambda bound: value <= bound, "<="),
        ("exclusiveMinimum", lambda bound: value > bound, ">"),
        ("exclusiveMaximum", lambda bound: value < bound, "<"),
    ]
    return [f"{path}: {value} must be {word} {schema[key]}" for key, ok, word in checks
            if key in schema and not ok(schema[key])]


def _array_errors(value: list, schema: dict, path: str) -> list[str]:
    errors = []
    if len(value) < schema.get("minItems", 0):
        errors.append(f"{path}: needs at least {schema['minItems']} items, has {len(value)}")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(f"{path}: allows at most {schema['maxItems']} items, has {len(value)}")
    if "items" in schema:
        for index, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{path}[{index}]")
    return errors


def _object_errors(value: dict, schema: dict, path: str) -> list[str]:
    errors = [f"{path}: missing required field '{key}'" for key in schema.get("required", []) if key not in value]
    properties = schema.get("properties", {})
    for key, item in value.items():
        if key in properties:
            errors += schema_errors(item, properties[key], f"{path}.{key}")
        elif schema.get("additionalProperties", True) is False:
            errors.append(f"{path}: unknown field '{key}' (allowed: {', '.join(sorted(properties))})")
    return errors
