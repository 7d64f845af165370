"""A kernel notebook's parameters, defined once as a pack's dataclass and validated before anything is written.

A pack declares its kernel's parameters as a dataclass (`KernelSpec.params`) whose fields come from `param`:
default, help text, the lowest allowed value and the kit.toml key that sets it. From that one definition
- `sync_notebook` (run by `make notebooks`) rewrites the notebook's `parameters` cell in place from it
  (`cell_source`), leaving the hand-written cells alone, and a test fails while the two disagree;
- `kit build-submission` and `kit run-local` build the values (`from_config`: kit.toml, then the command's own);
- the instance checks itself (`check_fields` for types and ranges, from the pack's `__post_init__`), and
  `validate` checks it against the notebook actually rendered, so a value the rehearsal refuses never reaches a
  Kaggle kernel run. Nothing here knows any pack.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kit.errors import ConfigError
from kit.typecheck import check, field_types

CELL_HEADER = "# Parameters (papermill injects overrides below this cell).\n"
_LINE = 120  # ruff's line length: a longer `name = value  # help` line puts its help above instead


def param(default: Any, help: str, *, config: str = "", minimum: float | None = None, unit: str = "",
          content: bool = True) -> Any:
    """A kernel parameter: `config` is the kit.toml key ('section.key') whose value it takes; `minimum` (with
    `unit` for the message) the lowest value allowed; `content` False for a parameter that does not decide the
    predictions (where things live, how much of the work a rehearsal does): it stays out of the content key
    that links a local run to a submission (kit/chain/experiments.py)."""
    meta = {"help": help, "config": config, "minimum": minimum, "unit": unit, "content": content}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def defaults(cls: type) -> dict[str, Any]:
    """{name: default} of a params dataclass."""
    return {f.name: _default(f) for f in dataclasses.fields(cls)}


def _default(f: dataclasses.Field) -> Any:
    return f.default_factory() if f.default is dataclasses.MISSING else f.default  # type: ignore[misc]


def check_fields(obj: Any) -> None:
    """ConfigError naming the first field of a params instance whose value has the wrong type (its default
    decides) or lies under the field's minimum. Call it from the dataclass's `__post_init__`."""
    hints = field_types(type(obj))
    for f in dataclasses.fields(obj):
        value = check(getattr(obj, f.name), hints[f.name], f"parameter {f.name}")
        object.__setattr__(obj, f.name, value)  # coerced: an int where a float is expected becomes a float
        low = f.metadata.get("minimum")
        if low is not None and value < low:
            raise ConfigError(f"parameter {f.name} = {value}: must be >= {low} {f.metadata.get('unit', '')}".rstrip())


def from_config(cls: type, cfg: Any, **overrides: Any) -> Any:
    """An instance of params dataclass `cls`: each field from the command's override when not None, else from
    the kit.toml key its `config` metadata names, else its default. Validation is the dataclass's own."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if overrides.get(f.name) is not None:
            values[f.name] = overrides[f.name]
        elif f.metadata.get("config"):
            values[f.name] = _lookup(cfg, f.metadata["config"])
    unknown = sorted({k for k, v in overrides.items() if v is not None} - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise ConfigError(f"{cls.__name__}: unknown parameter(s) {', '.join(unknown)}")
    return cls(**values)


def _lookup(cfg: Any, dotted: str) -> Any:
    """The value of kit.toml key 'section.key' in `cfg` (a KitConfig)."""
    name, _, key = dotted.partition(".")
    section = cfg.section(name) if name in cfg.section_names() else None
    if section is None or not hasattr(section, key):
        raise ConfigError(f"kernel parameter reads kit.toml key '{dotted}', which this workspace's config lacks")
    return getattr(section, key)


def content_values(params: Any) -> dict[str, Any]:
    """The {name: value} of a params instance's fields that decide the predictions (`param(content=True)`)."""
    return {f.name: getattr(params, f.name) for f in dataclasses.fields(params) if f.metadata.get("content", True)}


def values(params: Any) -> dict[str, Any]:
    """A params instance (or mapping) as the plain {name: value} papermill injects."""
    return dataclasses.asdict(params) if dataclasses.is_dataclass(params) else dict(params)


def cell_source(cls: type) -> str:
    """The notebook `parameters` cell for params dataclass `cls`: one `name = default  # help` per field."""
    lines = [CELL_HEADER]
    for f in dataclasses.fields(cls):
        assign = f"{f.name} = {_literal(_default(f))}"
        help_text = f.metadata.get("help", "")
        if not help_text:
            lines.append(assign + "\n")
        elif len(assign) + len(help_text) + 4 <= _LINE:
            lines.append(f"{assign}  # {help_text}\n")
        else:  # papermill reads only same-line comments as help; a long one is kept above, for the reader
            lines += [f"# {chunk}\n" for chunk in _wrap(help_text, _LINE - 2)] + [assign + "\n"]
    return "".join(lines)


def sync_notebook(notebook: Path, cls: type, *, check: bool = False) -> bool:
    """Whether `notebook`'s `parameters` cell differs from `cell_source(cls)`; unless `check`, rewrite that one cell
    in place (every other cell stays byte for byte as it was: kit.notebooks.write_parameters)."""
    from kit.notebooks import parameters_source, write_parameters

    wanted = cell_source(cls)
    if check:
        return parameters_source(notebook) != wanted
    return write_parameters(notebook, wanted)


def _literal(value: Any) -> str:
    # JSON-like double quotes, as the notebook has always been written; repr for everything else
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [""]


def validate(params: Any, notebook: Path) -> dict[str, Any]:
    """The {name: value} to inject, after checking them against `notebook`'s parameters cell: ConfigError for a
    parameter the notebook does not declare or a value of another type than the notebook's default.

    `params` is a params dataclass instance (already checked by its own `__post_init__`) or a plain mapping."""
    from kit.notebooks import parameters

    given = values(params)
    known = parameters(notebook)
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ConfigError(f"{notebook.name}: unknown parameter(s) {', '.join(unknown)}",
                          hint="its parameters cell must declare every parameter the pack's kernel takes")
    for name, value in given.items():
        default = known[name]
        try:  # papermill's inspect_notebook gives defaults as source text: "32", "True", "'best'"
            typed = ast.literal_eval(default) if isinstance(default, str) else default
        except (ValueError, SyntaxError):
            continue  # not a literal default: nothing to compare with
        given[name] = _check_type(name, value, typed)
    return given


def _check_type(name: str, value: Any, default: Any) -> Any:
    """`value` checked against the type of a notebook cell's literal default (the cell has no annotations)."""
    hint = dict if isinstance(default, Mapping) else type(default)
    if hint not in (dict, bool, int, float, str, list):
        return value  # not a literal kind a parameter takes: nothing to compare with
    return dict(check(value, dict, f"parameter {name}")) if hint is dict else check(value, hint, f"parameter {name}")


