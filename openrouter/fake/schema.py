"""Values that fit a JSON schema, for the double's tool-call arguments and structured
answers: the smallest instance that validates, filled with words chosen by a seed so
that answers differ between prompts and repeat for the same one.

Covers what function parameters and ``json_schema`` response formats use in practice
(pydantic's and zod's output included): ``type`` (one or a list), ``properties`` with
``required``, ``enum``, ``const``, ``default``, ``items``/``prefixItems`` with
``minItems``, numeric bounds and ``multipleOf``, string lengths, common ``format``\\ s,
``anyOf``/``oneOf``/``allOf``, ``$ref`` into ``$defs``/``definitions``, and
``additionalProperties`` (only required and listed properties are produced).
"""

from __future__ import annotations

import math
import re
import re._parser as re_parser  # the standard library's own reader of patterns
from typing import Any

from .media import digest

_WORDS = "alpha bravo cedar delta ember fjord glade harbor iris juniper kestrel lumen maple nectar".split()
_FORMATS = {
    "date-time": "2025-01-01T12:00:00Z",
    "date": "2025-01-01",
    "time": "12:00:00",
    "email": "someone@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "hostname": "example.com",
}
MAX_DEPTH = 12


class SchemaError(ValueError):
    """The schema is not one the double can satisfy (a broken ``$ref``, say)."""


def instance(schema: Any, *, seed: str = "") -> Any:
    """A value that validates against ``schema`` (a JSON schema as a dict)."""
    if schema is True or schema is None or schema == {}:
        return {}
    if not isinstance(schema, dict):
        raise SchemaError("A schema must be an object.")
    return _Builder(schema, seed).value(schema, "", 0)


class _Builder:
    def __init__(self, root: dict, seed: str) -> None:
        self.root = root
        self.seed = seed

    def word(self, path: str) -> str:
        return _WORDS[digest(f"{self.seed}\n{path}")[0] % len(_WORDS)]

    def resolve(self, ref: str) -> dict:
        if not ref.startswith("#"):
            raise SchemaError(f"Only local $ref values are supported: {ref}")
        node: Any = self.root
        for part in [p for p in ref[1:].split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise SchemaError(f"$ref {ref} points nowhere.")
            node = node[part]
        if not isinstance(node, dict):
            raise SchemaError(f"$ref {ref} is not a schema.")
        return node

    def value(self, schema: Any, path: str, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise SchemaError("The schema nests too deeply (a $ref cycle without an exit?).")
        if not isinstance(schema, dict) or not schema:
            return self.word(path)
        if "$ref" in schema:
            merged = {**self.resolve(schema["$ref"]), **{k: v for k, v in schema.items() if k != "$ref"}}
            return self.value(merged, path, depth + 1)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        if "allOf" in schema and isinstance(schema["allOf"], list):
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                part = self.resolve(part["$ref"]) if isinstance(part, dict) and "$ref" in part else part
                merged = _merge(merged, part if isinstance(part, dict) else {})
            return self.value(merged, path, depth + 1)
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                # The first option that is not null: a nullable field still gets a value.
                chosen = next((o for o in options if not (isinstance(o, dict) and o.get("type") == "null")), options[0])
                rest = {k: v for k, v in schema.items() if k != key}
                return self.value(_merge(rest, chosen) if isinstance(chosen, dict) else chosen, path, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = _implied_type(schema)
        maker = getattr(self, f"_{kind}", None)
        if maker is None:
            raise SchemaError(f"Unknown type {kind!r}.")
        return maker(schema, path, depth)

    def _object(self, schema: dict, path: str, depth: int) -> dict:
        properties: dict = schema["properties"] if isinstance(schema.get("properties"), dict) else {}
        required = [name for name in schema.get("required") or [] if isinstance(name, str)]
        result = {}
        for name in required:
            result[name] = self.value(properties.get(name, {}), f"{path}.{name}", depth + 1)
        # Honour minProperties with listed properties, in order.
        for name, sub in properties.items():
            if len(result) >= int(schema.get("minProperties") or 0):
                break
            result.setdefault(name, self.value(sub, f"{path}.{name}", depth + 1))
        return result

    def _array(self, schema: dict, path: str, depth: int) -> list:
        prefix: list = schema["prefixItems"] if isinstance(schema.get("prefixItems"), list) else []
        items = schema.get("items")
        count = max(int(schema.get("minItems") or 0), len(prefix), 1)
        if schema.get("maxItems") is not None:
            count = min(count, int(schema["maxItems"]))
        values = []
        for index in range(count):
            sub = prefix[index] if index < len(prefix) else items
            if sub is False:
                break
            values.append(self.value(sub if isinstance(sub, dict) else {}, f"{path}[{index}]", depth + 1))
        if schema.get("uniqueItems") and len(values) > 1:
            step = items.get("multipleOf") if isinstance(items, dict) else None
            values = _made_unique(values, step if isinstance(step, (int, float)) and step > 0 else 1)
        return values

    def _string(self, schema: dict, path: str, depth: int) -> str:
        text = _FORMATS.get(str(schema.get("format")), self.word(path))
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and not _matches(pattern, text):
            candidates = [_pattern_example(pattern), *_pattern_candidates(self.word(path))]
            text = next((c for c in candidates if c is not None and _matches(pattern, c)), text)
        low, high = int(schema.get("minLength") or 0), schema.get("maxLength")
        if len(text) < low:
            text = (text + " ") * (low // (len(text) + 1) + 1)
            text = text[:low] if high is None or low <= int(high) else text
        if high is not None and len(text) > int(high):
            text = text[: int(high)]
        return text

    def _integer(self, schema: dict, path: str, depth: int) -> int:
        return int(self._number(schema, path, depth, integer=True))

    def _number(self, schema: dict, path: str, depth: int, *, integer: bool = False) -> float | int:
        low, low_strict = _bound(schema, "minimum", "exclusiveMinimum")
        high, high_strict = _bound(schema, "maximum", "exclusiveMaximum")
        if low is not None and high is not None:
            value = (low + high) / 2 if (low_strict or high_strict) else low
        elif low is not None:
            value = low + 1 if low_strict else low
        elif high is not None:
            value = min(1, high - 1 if high_strict else high)
        else:
            value = 1
        if integer:
            value = math.floor(low) + 1 if low is not None and low_strict and value == low else math.ceil(value)
        step = schema.get("multipleOf")
        if isinstance(step, (int, float)) and step > 0:
            value = math.ceil(value / step) * step
        return int(value) if integer else value

    def _boolean(self, schema: dict, path: str, depth: int) -> bool:
        return True

    def _null(self, schema: dict, path: str, depth: int) -> None:
        return None


def _implied_type(schema: dict) -> str:
    if "properties" in schema or "required" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
        return "number"
    return "string"


def _bound(schema: dict, inclusive: str, exclusive: str) -> tuple[float | None, bool]:
    """(the bound, whether it is exclusive) on one side of a number."""
    value, strict = schema.get(inclusive), schema.get(exclusive)
    if isinstance(strict, bool):  # draft 4: "exclusiveMinimum": true beside "minimum"
        return (value if isinstance(value, (int, float)) else None), strict
    if isinstance(strict, (int, float)):
        return strict, True
    return (value if isinstance(value, (int, float)) else None), False


def _merge(base: dict, extra: dict) -> dict:
    merged = {**base, **{k: v for k, v in extra.items() if k not in ("properties", "required")}}
    if "properties" in base or "properties" in extra:
        merged["properties"] = {**(base.get("properties") or {}), **(extra.get("properties") or {})}
    if "required" in base or "required" in extra:
        merged["required"] = list(dict.fromkeys([*(base.get("required") or []), *(extra.get("required") or [])]))
    return merged


def _matches(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return True  # a pattern Python cannot read: leave it to the caller


def _pattern_example(pattern: str) -> str | None:
    """The shortest text the regular expression's structure spells out (first branch,
    least repeats, first character of each set); None when it cannot tell."""
    try:
        parsed = re_parser.parse(pattern)
    except re.error:
        return None
    try:
        return _spell(list(parsed))
    except (ValueError, TypeError):
        return None


def _spell(items: list) -> str:
    text = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            text.append(chr(arg))
        elif name == "NOT_LITERAL":
            text.append("a" if arg != ord("a") else "b")
        elif name == "ANY":
            text.append("a")
        elif name == "IN":
            text.append(_set_member(arg))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _, sub = arg
            text.append(_spell(list(sub)) * low)
        elif name == "SUBPATTERN":
            text.append(_spell(list(arg[-1])))
        elif name == "ATOMIC_GROUP":
            text.append(_spell(list(arg)))
        elif name == "BRANCH":
            text.append(_spell(list(arg[1][0])))
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue
        else:
            raise ValueError(name)
    return "".join(text)


def _set_member(items: list) -> str:
    negate = any(str(op) == "NEGATE" for op, _ in items)
    if negate:
        for candidate in "a1A_-. ":
            if not re.fullmatch("[" + "".join(_set_text(items)) + "]", candidate):
                return candidate
        raise ValueError("negated set")
    op, arg = items[0]
    name = str(op)
    if name == "LITERAL":
        return chr(arg)
    if name == "RANGE":
        return chr(arg[0])
    if name == "CATEGORY":
        return {"CATEGORY_DIGIT": "1", "CATEGORY_SPACE": " ", "CATEGORY_WORD": "a"}.get(str(arg), "a")
    raise ValueError(name)


def _set_text(items: list) -> list[str]:
    parts = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            parts.append(re.escape(chr(arg)))
        elif name == "RANGE":
            parts.append(f"{re.escape(chr(arg[0]))}-{re.escape(chr(arg[1]))}")
        elif name == "CATEGORY":
            parts.append({"CATEGORY_DIGIT": r"\d", "CATEGORY_SPACE": r"\s", "CATEGORY_WORD": r"\w"}.get(str(arg), ""))
    return parts


def _pattern_candidates(word: str) -> list[str]:
    return [word.upper(), "A1", "a1", "1", "123", "abc-123", "ABC", word + "1", "x" * 8, "2025-01-01"]


def _made_unique(values: list, step: float) -> list:
    """Repeated strings and numbers told apart (numbers moved on by ``step``, so a
    ``multipleOf`` still holds)."""
    unique: list = []
    for index, value in enumerate(values):
        if isinstance(value, str):
            value = f"{value}{index}" if value in unique else value
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            value = value + index * step
        unique.append(value)
    return unique
