"""The inference notebook's parameters, validated once: `kit run-local` and `kit build-submission` both call
`validate` before anything is written, so a value the rehearsal refuses can never reach a Kaggle kernel run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kit.errors import ConfigError

# name -> (lowest allowed value, what it means); ints only. margin_seconds is also checked against the budget.
_RANGES = {"budget_seconds": (1, "seconds"), "margin_seconds": (0, "seconds"), "batch_size": (1, "rows"),
           "max_new_tokens": (1, "tokens"), "max_field_tokens": (0, "tokens (0: no cut)"), "rows": (0, "rows"),
           "workers": (0, "processes")}


def validate(params: dict[str, Any], notebook: Path) -> dict[str, Any]:
    """ConfigError naming the first bad parameter: unknown to the notebook, of the wrong type (the notebook's
    default decides the type), out of range, an unregistered template, or a margin that leaves no budget."""
    from kit.notebooks import parameters
    from kit.packs.prompt_recovery.templates import get_template

    known = parameters(notebook)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ConfigError(f"{notebook.name}: unknown parameter(s) {', '.join(unknown)}")
    for name, value in params.items():
        default = known[name]
        _check_type(name, value, default)
        if name in _RANGES and value < _RANGES[name][0]:
            raise ConfigError(f"parameter {name} = {value}: must be >= {_RANGES[name][0]} {_RANGES[name][1]}")
    if "template" in params:
        get_template(str(params["template"]))
    budget, margin = params.get("budget_seconds"), params.get("margin_seconds")
    if budget is not None and margin is not None and margin >= budget:
        raise ConfigError(f"margin ({margin}s) leaves nothing of the budget ({budget}s)")
    return params


def _check_type(name: str, value: Any, default: Any) -> None:
    # papermill's inspect_notebook gives defaults as source text: "32", "True", "'best'"
    import ast

    from kit.config import coerce

    try:
        typed = ast.literal_eval(default) if isinstance(default, str) else default
    except (ValueError, SyntaxError):
        return  # not a literal default: nothing to compare with
    if isinstance(typed, (bool, int, float, str, list)):
        coerce(value, typed, f"parameter {name}")
