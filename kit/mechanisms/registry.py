"""Submission mechanisms by name: the `kit.mechanisms` entry-point group, plus any registered in-process (tests).

The same pattern as the pack registry (kit/pack.py) and papermill's engines: a package adds a mechanism by naming
its class under the group; nothing generic lists them.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from kit.errors import ConfigError
from kit.mechanisms.base import Mechanism

ENTRY_POINT_GROUP = "kit.mechanisms"
_LOADED: dict[str, Mechanism] = {}


def register_mechanism(mechanism: Mechanism) -> Mechanism:
    """Make `mechanism` available by its name in this process."""
    _LOADED[mechanism.name] = mechanism
    return mechanism


def available_mechanisms() -> list[str]:
    """Every mechanism name this environment offers."""
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)} | set(_LOADED))


def get_mechanism(name: str) -> Mechanism:
    """The mechanism `name`; ConfigError listing the known ones otherwise (or naming a broken entry point)."""
    if name in _LOADED:
        return _LOADED[name]
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if name not in found:
        raise ConfigError(f"unknown submission mechanism {name!r} (known: {', '.join(available_mechanisms())})")
    try:
        obj = found[name].load()
        mechanism = obj() if isinstance(obj, type) else obj
    except Exception as exc:  # a broken third-party mechanism: one line naming it
        raise ConfigError(f"submission mechanism {name!r} ({found[name].value}) failed to load: {exc}") from None
    if not isinstance(mechanism, Mechanism) or mechanism.name != name:
        raise ConfigError(f"the entry point {found[name].value} registered as mechanism {name!r} is not one")
    _LOADED[name] = mechanism
    return mechanism
