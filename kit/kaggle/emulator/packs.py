"""Which competition packs the emulator serves: one pinned pack (an in-process object, or config `pack`: a slug or
'module:attr'), else every installed pack (kit.pack's registry), each by its competition slug. A pack here is
its emulator view (`Pack.emulator()`): `slug`, `submission_file`, `mount(dest, hidden)`, `score(path)`.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from kit.kaggle.emulator.state import ApiError


def load_pack(spec: str) -> Any:
    """A competition slug: the installed pack's emulator view; 'module:attr': that object (or the zero-argument
    factory's result)."""
    if ":" not in spec:
        from kit.pack import get_pack

        return get_pack(spec).emulator()
    from kit.pack import Pack

    module, _, attr = spec.partition(":")
    obj = getattr(importlib.import_module(module), attr or "PACK")
    obj = obj() if callable(obj) and not hasattr(obj, "slug") else obj
    return obj.emulator() if isinstance(obj, Pack) else obj  # a whole pack (its entry-point target) or a view


class Packs:
    """The packs the emulator serves over `state`: one pinned (an in-process view, or config 'pack' loaded on first
    use), else each installed pack by slug, loaded once."""

    def __init__(self, state: Any, pinned: Any = None) -> None:
        self.state = state
        self._pack: Any = pinned
        self._packs: dict[str, Any] = {}  # by slug, when none is pinned
        self._pack_lock = threading.Lock()

    def load_pack(self, competition: str = "") -> Any:
        """The pinned pack (in-process, or config 'pack'), else the installed pack serving `competition`."""
        from kit.errors import ConfigError
        from kit.pack import available

        pinned = str(self.state.config["pack"])
        with self._pack_lock:
            if self._pack is None and pinned:
                try:
                    self._pack = load_pack(pinned)
                except Exception as exc:
                    raise ApiError(500, f"competition pack {pinned!r} failed to load: {exc}") from None
            if self._pack is not None:
                return self._pack
            if competition not in self._packs:
                try:
                    self._packs[competition] = load_pack(competition)
                except ConfigError as exc:  # not installed: Kaggle's 404; installed but broken: say why
                    if competition in available():
                        raise ApiError(500, exc.message) from None
                    raise ApiError(404, f"Competition '{competition}' not found") from None
            return self._packs[competition]

    def served_packs(self) -> list[Any]:
        """Every competition served: the pinned pack, or each installed one."""
        from kit.pack import available

        pinned = self._pack or (self.load_pack() if self.state.config["pack"] else None)
        if pinned is not None:
            return [pinned]
        served = []
        for slug in sorted(available()):
            try:
                served.append(self.load_pack(slug))
            except ApiError:  # a broken installed pack is not listed; the others still are
                continue
        return served

    def pack(self, competition: str) -> Any:
        """The pack when it serves `competition`, else Kaggle's 404."""
        pack = self.load_pack(competition)
        if competition != pack.slug:
            raise ApiError(404, f"Competition '{competition}' not found")
        return pack
