"""Kernel inputs: refs to attached sources, where Kaggle mounts each one, and finding them in a running kernel.

Generic Kaggle plumbing (no `kaggle` import, stdlib only, nothing about any competition). A kernel carries refs,
not guessed paths: a competition slug, a dataset `owner/slug[/N]`, a model instance version
`owner/model/framework/variation/N` (the official client's `validate_model_instance_version_string`: a 4-part
model handle is not a kernel source). Kaggle has mounted them in two layouts:

| source      | 2025-26 layout                                                | 2024 layout                       |
|-------------|---------------------------------------------------------------|-----------------------------------|
| competition | competitions/<slug>                                           | <slug>                            |
| dataset     | datasets/<owner>/<slug>                                       | <slug>                            |
| model       | models/<owner>/<model>/<framework lower-case>/<variation>/<N> | <model>/<framework>/<variation>/<N> |

No official page states which one a kernel gets (some 2026 kernels still see old places), so `resolve` tries
the 2025-26 path, then the 2024 path, then a bounded search of the input root for the source's marker file.
The sandbox uses `mount_path` to place sources, so both sides share one definition of each layout.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kit.errors import ConfigError, InputError

KAGGLE_INPUT = "/kaggle/input"
LAYOUTS = ("2025", "2024")  # newest first: the order `resolve` tries them in
DEFAULT_LAYOUT = "2025"
SEARCH_DEPTH = 6  # models/<owner>/<model>/<framework>/<variation>/<version> is six levels below the root
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_FORMS = ("a competition 'slug', a dataset 'owner/slug' or 'owner/slug/N', or a model "
          "'owner/model/framework/variation/N'")


@dataclass(frozen=True)
class Ref:
    """One attached source: its kind and the parts of its ref."""

    kind: str  # competition | dataset | model
    parts: tuple[str, ...]

    @property
    def text(self) -> str:
        return "/".join(self.parts)


def parse_ref(text: str) -> Ref:
    """A Ref for `text`, or ConfigError naming the malformed ref (checked before anything is sent)."""
    raw = str(text or "").strip()
    parts = tuple(raw.split("/"))
    if not raw or not all(_SLUG.match(p) for p in parts):
        raise ConfigError(f"malformed source ref {raw!r}", hint=f"use {_FORMS}")
    if len(parts) == 1:
        return Ref("competition", parts)
    if len(parts) == 2 or (len(parts) == 3 and parts[2].isdigit()):
        return Ref("dataset", parts)
    if len(parts) == 5 and parts[4].isdigit():
        return Ref("model", parts)
    if len(parts) == 4:
        raise ConfigError(f"model handle {raw!r} has no version: a kernel mounts a model instance version",
                          hint="append the version number: owner/model/framework/variation/N")
    raise ConfigError(f"malformed source ref {raw!r}", hint=f"use {_FORMS}")


def check_layout(layout: str, where: str = "input layout") -> str:
    """`layout` when it is one Kaggle has ('2025' for 2025-26, '2024'); else a ConfigError naming `where`."""
    if layout not in LAYOUTS:
        raise ConfigError(f"{where}: unknown input layout {layout!r}", hint=f"use one of {', '.join(LAYOUTS)}")
    return layout


def mount_path(ref: Ref | str, layout: str = DEFAULT_LAYOUT) -> str:
    """Where Kaggle mounts `ref`, relative to /kaggle/input, in `layout` ('2025' for 2025-26, or '2024')."""
    ref = parse_ref(ref) if isinstance(ref, str) else ref
    check_layout(layout)
    p = ref.parts
    if ref.kind == "competition":
        return f"competitions/{p[0]}" if layout == "2025" else p[0]
    if ref.kind == "dataset":
        return f"datasets/{p[0]}/{p[1]}" if layout == "2025" else p[1]
    if layout == "2025":
        return f"models/{p[0]}/{p[1]}/{p[2].lower()}/{p[3]}/{p[4]}"
    return f"{p[1]}/{p[2]}/{p[3]}/{p[4]}"


def _search(root: Path, marker: str, ref: Ref) -> list[Path]:
    """Folders up to SEARCH_DEPTH below `root` holding `marker`, those named like the ref first."""
    found: list[Path] = []
    base = len(root.parts)
    for folder, dirs, files in os.walk(root, followlinks=True):
        depth = len(Path(folder).parts) - base
        if depth >= SEARCH_DEPTH:
            dirs[:] = []
        dirs.sort()
        if marker in files:
            found.append(Path(folder))
    named = [f for f in found if set(ref.parts[1:2] or ref.parts) & set(f.parts)]
    return named + [f for f in found if f not in named]


def listing(root: Path, depth: int = 3, limit: int = 30) -> str:
    """What `root` holds, a few levels deep, as one line ('empty' / 'missing')."""
    if not root.is_dir():
        return f"{root} does not exist"
    seen: list[str] = []
    base = len(root.parts)
    for folder, dirs, _ in os.walk(root, followlinks=True):
        dirs.sort()
        rel = Path(folder).relative_to(root)
        if len(Path(folder).parts) - base >= depth or not dirs:
            if str(rel) != ".":
                seen.append(str(rel))
            dirs[:] = []
    if not seen:
        return f"{root} is empty"
    more = f" (+{len(seen) - limit} more)" if len(seen) > limit else ""
    return f"{root} holds: " + ", ".join(seen[:limit]) + more


def resolve(ref: Ref | str, marker: str | None = None, root: str | os.PathLike = KAGGLE_INPUT) -> Path:
    """The folder of an attached source: 2025-26 layout, then 2024, then a bounded search for `marker`.

    With a marker a layout path counts only when it holds the marker. Not found: InputError naming the ref
    and listing what the input root holds."""
    ref = parse_ref(ref) if isinstance(ref, str) else ref
    root = Path(root)
    for layout in LAYOUTS:
        path = root / mount_path(ref, layout)
        if path.is_dir() and (marker is None or (path / marker).is_file()):
            return path
    if marker:
        hits = _search(root, marker, ref)
        if hits:
            return hits[0]
    what = f" (no {marker} found)" if marker else ""
    raise InputError(f"input {ref.kind} {ref.text} not found under {root}{what}; {listing(root)}")


def resolve_all(sources: Mapping[str, str], markers: Mapping[str, str] | None = None,
                root: str | os.PathLike = KAGGLE_INPUT) -> dict[str, Path]:
    """{name: folder} for a kernel's {name: ref} mapping; empty refs are skipped, `markers` by name."""
    markers = markers or {}
    return {name: resolve(ref, markers.get(name), root) for name, ref in sources.items() if str(ref or "").strip()}


def check_sources(sources: Mapping[str, str]) -> dict[str, Ref]:
    """Parse every non-empty ref of a {name: ref} mapping (ConfigError on the first bad one, with its name)."""
    parsed: dict[str, Ref] = {}
    for name, text in sources.items():
        if not str(text or "").strip():
            continue
        try:
            parsed[name] = parse_ref(text)
        except ConfigError as exc:
            raise ConfigError(f"source '{name}': {exc.message}", hint=exc.hint) from None
    return parsed
