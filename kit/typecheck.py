"""The one type check for every typed record the kit reads: kit.toml sections, kernel parameters, artefacts.

Each of them is a dataclass, and a value read from TOML, JSON, a notebook cell or the command line is checked
against its field's annotation here, so a kit.toml key, the kernel parameter it feeds and the artefact that records
it accept exactly the same values.

Hand-written on purpose (about forty lines): it runs inside internet-off Kaggle kernels, and a validation library
such as pydantic would have to travel in the offline wheel bundle at a version the image may already hold another
of. Standard library only.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from kit.errors import ConfigError


def field_types(cls: type) -> dict[str, Any]:
    """{field name: resolved annotation} of a dataclass (string annotations evaluated)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def conforms(value: Any, hint: Any) -> bool:
    """Whether a JSON- or TOML-like `value` fits the annotation `hint` (unions, None, containers, plain types;
    bool is not an int here, an int is a float)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, arg) for arg in typing.get_args(hint))
    if hint is Any:
        return True
    if hint is type(None) or hint is None:
        return value is None
    if origin in (list, tuple):  # a JSON array read for a tuple field is a list
        args = [a for a in typing.get_args(hint) if a is not Ellipsis] or [Any]
        kinds = (list,) if origin is list else (list, tuple)
        return isinstance(value, kinds) and all(conforms(v, args[0]) for v in value)
    if origin is dict or hint is dict:
        return isinstance(value, dict)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint if isinstance(hint, type) else object)


def checked(value: Any, hint: Any) -> Any:
    """`value` when it fits `hint` (an int given for a float comes back as a float); TypeError saying what was
    expected and what came otherwise."""
    if not conforms(value, hint):
        raise TypeError(f"expected {type_name(hint)}, got {type(value).__name__} {value!r}")
    if hint is float and isinstance(value, int):
        return float(value)
    return value


def type_name(hint: Any) -> str:
    """The annotation as a reader writes it: `float | None`, `list[str]`, `int`."""
    return hint.__name__ if isinstance(hint, type) and not typing.get_args(hint) else \
        str(hint).replace("typing.", "").replace("NoneType", "None")


def check(value: Any, hint: Any, where: str) -> Any:
    """`checked`, with a mismatch as one ConfigError line naming `where` (the file and key, or the parameter)."""
    try:
        return checked(value, hint)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None
