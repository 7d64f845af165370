"""kit.testing.check_pack: every pack keeps the contract generic code relies on, and a broken one is named."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from kit.pack import SubmissionSpec
from kit.testing import PackContractError, check_pack

TOY = Path(__file__).resolve().parent / "toy_pack"


@pytest.fixture
def toy(monkeypatch):
    """The toy-echo pack object, imported from tests/toy_pack and forgotten afterwards."""
    monkeypatch.syspath_prepend(str(TOY))
    sys.modules.pop("toy_echo", None)
    import toy_echo

    yield toy_echo.PACK
    sys.modules.pop("toy_echo", None)


def test_the_toy_pack_keeps_the_contract(toy, tmp_path):
    check_pack(toy, tmp_path)


@pytest.mark.slow
def test_the_prompt_recovery_pack_keeps_the_contract(tmp_path):
    from kit.packs.prompt_recovery.pack import PACK

    check_pack(PACK, tmp_path)


def test_the_aimo3_pack_keeps_the_contract(tmp_path):
    from kit.packs.aimo.pack import PACK

    check_pack(PACK, tmp_path)


class _Broken:
    """The toy pack with one part changed at a time."""

    def __init__(self, base, **changes):
        self._base, self._changes = base, changes

    def __getattr__(self, name):
        return self._changes[name] if name in self._changes else getattr(self._base, name)


@pytest.mark.parametrize(("change", "message"), [
    ("kernel_params", "kernel params need a `sources` field"),
    ("notebook_default", "echo.ipynb sets input_dir = '/kaggle/input' but its params dataclass defaults to "
                         "'/elsewhere'"),
    ("param_default", "kernel parameter batch_size defaults to 3 but kit.toml's infer.batch_size to 8: define it once"),
    ("submission", "unknown submission mechanism 'carrier-pigeon'"),
    ("recipes", "recipe registered as 'upper' calls itself 'lower'"),
    ("model_sources", "recipe 'upper' mounts model source\\(s\\) judge that model_sources\\(\\) does not declare"),
    ("emulator_mechanism", "emulator view and SubmissionSpec name different mechanisms"),
])
def test_a_broken_pack_is_named_with_the_part_it_breaks(toy, tmp_path, change, message):
    from kit.errors import ConfigError
    from kit.pack import Recipe

    changes = {}
    if change == "kernel_params":
        @dataclasses.dataclass
        class NoSources:
            template: str = dataclasses.field(default="upper", metadata={"help": "the recipe"})

        changes["kernel"] = dataclasses.replace(toy.kernel, params=NoSources)
    elif change == "notebook_default":
        meta = {"help": "where Kaggle mounts the attached sources", "content": False}
        moved = dataclasses.make_dataclass("Moved", [("input_dir", str, dataclasses.field(default="/elsewhere",
                                                                                        metadata=meta))],
                                           bases=(toy.kernel.params,))
        changes["kernel"] = dataclasses.replace(toy.kernel, params=moved)
    elif change == "param_default":
        meta = {"help": "rows per batch", "config": "infer.batch_size"}
        twice = dataclasses.make_dataclass("Twice", [("batch_size", int, dataclasses.field(default=3, metadata=meta))],
                                           bases=(toy.kernel.params,))
        changes["kernel"] = dataclasses.replace(toy.kernel, params=twice)
    elif change == "submission":
        changes["submission"] = SubmissionSpec(toy.submission.columns, mechanism="carrier-pigeon")
    elif change == "recipes":
        changes["recipes"] = lambda: {"upper": Recipe("lower")}
    elif change == "model_sources":
        changes["recipes"] = lambda: {"upper": Recipe("upper", model_sources=("judge",))}
    else:
        view = toy.emulator()
        changes["emulator"] = lambda: _Broken(view, mechanism="inference_server")
    broken = type("BrokenPack", (), {})()
    for name in ("slug", "title", "submission", "kernel", "recipes", "check_data", "mini_competition", "score",
                 "emulator", "commands", "config_sections", "config_defaults", "demo_config", "demo_rehearsal",
                 "sandbox_settings", "trains", "train_adapter", "row_scores", "model_sources", "adapter_fields"):
        setattr(broken, name, changes.get(name, getattr(toy, name)))
    with pytest.raises((PackContractError, ConfigError), match=message):
        check_pack(broken, tmp_path)
