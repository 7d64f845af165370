"""The contract every competition pack keeps: `check_pack(pack)`, for a pack's own test suite.

Generic code trusts a pack only through `kit.pack.Pack`; this checks what the protocol's types cannot: the kernel
notebook and its parameters dataclass agree with what generic code fills in, every recipe is reachable by its
name, the mini-competition passes the pack's own data check and its metric, the labels never reach a kernel's
folder, and the emulator view's mechanism is registered. A pack that passes can be built, rehearsed, submitted to
the sandbox and recorded without an edit to generic code.

    from kit.testing import check_pack
    def test_my_pack_keeps_the_contract(tmp_path):
        check_pack(MY_PACK, tmp_path)
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

from kit.mechanisms.registry import get_mechanism
from kit.pack import EmulatorView, Pack, get_recipe
from kit.tables import read_header, read_rows


class PackContractError(AssertionError):
    """A pack breaks the contract generic code relies on; the message names the pack and the broken part."""


def _require(ok: Any, pack: Any, what: str) -> None:
    if not ok:
        raise PackContractError(f"pack {getattr(pack, 'slug', pack)!r}: {what}")


def check_pack(pack: Any, work: Path) -> None:
    """PackContractError naming the first broken part of `pack`'s contract; `work` is a scratch folder."""
    _require(isinstance(pack, Pack), pack, "does not implement kit.pack.Pack")
    _require(pack.slug and pack.title, pack, "needs a slug and a title")
    _check_kernel(pack)
    _check_recipes(pack)
    _check_data_and_metric(pack, Path(work))
    _check_emulator(pack, Path(work))
    _check_demo(pack, Path(work))


def _check_kernel(pack: Pack) -> None:
    spec = pack.kernel
    _require(Path(spec.notebook).is_file(), pack, f"kernel notebook {spec.notebook} does not exist")
    _require(dataclasses.is_dataclass(spec.params), pack, "kernel params must be a dataclass")
    fields = {f.name: f for f in dataclasses.fields(spec.params)}
    _require("sources" in fields, pack, "kernel params need a `sources` field (attached source name -> ref)")
    _require(not spec.recipe_param or spec.recipe_param in fields, pack,
             f"kernel params have no field {spec.recipe_param!r} (KernelSpec.recipe_param)")
    undocumented = [name for name, f in fields.items() if not f.metadata.get("help")]
    _require(not undocumented, pack, f"kernel params without help text: {', '.join(undocumented)}")
    _require(spec.hidden_rows > 0, pack, "KernelSpec.hidden_rows must be the hidden test set's size")
    get_mechanism(pack.submission.mechanism)  # ConfigError naming the unknown mechanism
    _check_params_follow_config(pack, fields.values())
    _check_notebook_defaults(pack, fields.values())


def _check_params_follow_config(pack: Pack, fields: Any) -> None:
    """A parameter read from a kit.toml key has that key's default: the notebook run with no injected values (opened
    on Kaggle as it is) behaves like a workspace that sets nothing."""
    from kit.config import section_classes
    from kit.kernel.params import defaults

    classes, overrides, params = section_classes(pack), pack.config_defaults(), defaults(pack.kernel.params)
    for f in fields:
        key = f.metadata.get("config")
        if not key:
            continue
        section, _, name = key.partition(".")
        keys = defaults(classes[section]) if section in classes else {}
        _require(name in keys, pack, f"kernel parameter {f.name} reads kit.toml key {key!r}, which no section has")
        default = overrides.get(section, {}).get(name, keys[name])
        _require(default == params[f.name], pack, f"kernel parameter {f.name} defaults to {params[f.name]!r} "
                 f"but kit.toml's {key} to {default!r}: define it once")


def _check_notebook_defaults(pack: Pack, fields: Any) -> None:
    """The notebook's parameters cell declares every parameter with the dataclass's default: what a person opening
    the notebook reads is what the kit would inject for a workspace that sets nothing."""
    import ast

    from kit.kernel.params import defaults
    from kit.notebooks import parameters

    cell, params = parameters(pack.kernel.notebook), defaults(pack.kernel.params)
    for f in fields:
        _require(f.name in cell, pack, f"{Path(pack.kernel.notebook).name}'s parameters cell lacks {f.name}")
        try:
            written = ast.literal_eval(cell[f.name])
        except (ValueError, SyntaxError):
            continue  # not a literal (an expression the notebook computes): nothing to compare
        _require(written == params[f.name], pack, f"{Path(pack.kernel.notebook).name} sets {f.name} = "
                 f"{written!r} but its params dataclass defaults to {params[f.name]!r}")


def _check_recipes(pack: Pack) -> None:
    recipes = pack.recipes()
    _require(recipes, pack, "offers no recipe")
    declared = pack.model_sources()
    for name, recipe in recipes.items():
        _require(recipe.name == name, pack, f"recipe registered as {name!r} calls itself {recipe.name!r}")
        _require(get_recipe(pack, name) is recipe or get_recipe(pack, name) == recipe, pack,
                 f"recipe {name!r} is not found by its name")
        undeclared = [s for s in recipe.model_sources if s not in declared]
        _require(not undeclared, pack, f"recipe {name!r} mounts model source(s) {', '.join(undeclared)} that "
                                       "model_sources() does not declare")
    kind = pack.adapter_fields()
    _require(kind is None or (isinstance(kind, type) and dataclasses.is_dataclass(kind)), pack,
             "adapter_fields() must return a dataclass type or None")


def _check_data_and_metric(pack: Pack, work: Path) -> None:
    mini = Path(pack.mini_competition())
    labels = mini / pack.kernel.labels_file
    _require(labels.is_file(), pack, f"the mini-competition has no labels file {labels.name}")
    rows = pack.check_data(mini)
    _require(isinstance(rows, int) and rows > 0, pack, f"check_data({mini}) must return the test row count")
    columns = pack.submission.columns
    _require(set(columns) <= set(read_header(labels)), pack,
             f"{labels.name} must hold the submission columns {', '.join(columns)}")
    perfect = work / "perfect" / pack.submission.file_name
    perfect.parent.mkdir(parents=True, exist_ok=True)
    _write_submission(perfect, columns, read_rows(labels, required=columns))
    result = pack.score(perfect, labels)
    missing = {"mean", "ci_low", "ci_high", "n"} - set(result)
    _require(not missing, pack, f"score() must give mean, ci_low, ci_high and n (missing {', '.join(missing)})")
    _require(result["n"] == len(read_rows(labels)), pack, "score() of the labels must cover every labelled row")
    _require(result["ci_low"] <= result["mean"] <= result["ci_high"], pack, "score(): ci_low <= mean <= ci_high")


def _write_submission(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    if path.suffix == ".parquet":
        import pandas as pd

        pd.DataFrame([{c: r[c] for c in columns} for r in rows]).to_parquet(path, index=False)
        return
    from kit.tables import write_rows

    write_rows(path, ({c: r[c] for c in columns} for r in rows), columns)


def _check_emulator(pack: Pack, work: Path) -> None:
    view = pack.emulator()
    _require(isinstance(view, EmulatorView), pack, "emulator() must give a kit.pack.EmulatorView")
    _require(view.slug == pack.slug, pack, f"emulator view serves {view.slug!r}")
    _require(view.submission_file == pack.submission.file_name, pack,
             "emulator view and SubmissionSpec name different submission files")
    _require(view.mechanism == pack.submission.mechanism, pack,
             "emulator view and SubmissionSpec name different mechanisms")
    for hidden in (False, True):
        dest = work / f"mounted-{'hidden' if hidden else 'public'}"
        shutil.rmtree(dest, ignore_errors=True)
        view.mount(dest, hidden=hidden)
        names = {p.name for p in dest.rglob("*") if p.is_file()}
        _require(pack.kernel.labels_file not in names, pack,
                 f"mount(hidden={hidden}) puts the labels {pack.kernel.labels_file} in the kernel's folder")
        _require(names, pack, f"mount(hidden={hidden}) writes no file")


def _check_demo(pack: Pack, work: Path) -> None:
    """What `kit demo` reads: whether the pack trains, and its rehearsal rows pass its own data check."""
    _require(isinstance(pack.trains, bool), pack, "`trains` must be a bool (whether train_adapter trains anything)")
    rehearsal = pack.demo_rehearsal(work / "demo")
    if rehearsal is not None:
        _require(pack.check_data(Path(rehearsal)) > 0, pack, "demo_rehearsal's folder holds no test rows")
