"""kit/artefacts.py: the typed artefacts round-trip as sorted JSON, files of earlier versions load, bad files are
one line naming the file, and the submission states the ledger keeps."""

from __future__ import annotations

import dataclasses
import json

import pytest

from kit.artefacts import AdapterInfo, Artefact, DatasetPin, KernelInfo, RunConfig, SubmissionRow, SubmissionStatus
from kit.config import setting
from kit.errors import InputError
from kit.packs.prompt_recovery.adapter import PromptRecoveryAdapter

KERNEL = {"template": "simple", "kernel_ref": "sandbox-user/kit-infer", "submission_file": "submission.csv",
          "submission_columns": ["id", "answer"]}


@pytest.mark.parametrize("artefact", [
    KernelInfo(**KERNEL, adapter=DatasetPin("alice/kit-lora-adapter", 3, "h3"), local_score=0.5, sandbox=True,
               models={"rewriter": "alice/gemma/transformers/7b-it/1"}),
    AdapterInfo(pack="llm-prompt-recovery", base_signature={"model_type": "mistral"}, loss_history=[[1, 2.5]],
                extra=PromptRecoveryAdapter(template="zeroshot", prime="", val_score={"mean": 0.6, "n": 4})),
    RunConfig(params={"template": "mean", "rows": 3}, data_dir="/d", layout="current", wheels=None),
])
def test_round_trip_as_sorted_json_with_help_on_every_field(artefact, tmp_path):
    path = artefact.save(tmp_path)
    assert path.name == artefact.FILE_NAME
    text = path.read_text()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n" == artefact.to_json()
    assert type(artefact).load(tmp_path) == artefact
    assert all(f.metadata.get("help") for f in dataclasses.fields(artefact))


def test_files_of_earlier_versions_load(tmp_path):
    """Keys a file lacks take their defaults; keys this version does not know are left out."""
    (tmp_path / "kit_kernel.json").write_text(json.dumps({**KERNEL, "adapter": {"ref": "u/a", "version": 2},
                                                          "retired_key": 1}))
    info = KernelInfo.load(tmp_path)
    assert info.adapter == DatasetPin("u/a", 2) and info.pins() == [info.adapter] and info.content_key is None
    (tmp_path / "kit_adapter.json").write_text(json.dumps({"template": "fewshot", "global_step": 2}))
    meta = AdapterInfo.load(tmp_path)  # no `pack`: the generic record only
    assert meta.global_step == 2 and meta.pack is None and meta.extra is None
    assert AdapterInfo.find(tmp_path / "nowhere") is None and AdapterInfo.find(None) is None


@dataclasses.dataclass
class _Fields(Artefact):
    """A pack's own adapter fields."""

    recipe: str = setting("", "The recipe it was trained for.")
    accuracy: float | None = setting(None, "Validation accuracy.")

    def __post_init__(self) -> None:
        self.check_types()


@pytest.fixture
def fields_pack(monkeypatch):
    """An in-process pack whose adapters record `_Fields`."""
    from kit import pack as kpack

    class FieldsPack(kpack.PackDefaults):
        slug = "fields-comp"

        def adapter_fields(self):
            return _Fields

    monkeypatch.setitem(kpack._PACKS, "fields-comp", FieldsPack())


def test_the_pack_key_picks_the_class_of_the_pack_fields(fields_pack, tmp_path):
    """kit_adapter.json is one flat object; its `pack` picks the dataclass that reads the pack's keys, as peft's
    `peft_type` picks a config class."""
    made = AdapterInfo(pack="fields-comp", global_step=3, extra=_Fields(recipe="upper", accuracy=0.5))
    saved = json.loads(made.save(tmp_path).read_text())
    assert saved["recipe"] == "upper" and saved["accuracy"] == 0.5 and "extra" not in saved
    assert AdapterInfo.load(tmp_path) == made
    (tmp_path / "kit_adapter.json").write_text(json.dumps({**saved, "accuracy": "high"}))
    with pytest.raises(InputError, match=r"kit_adapter.json: accuracy: expected float \| None, got str 'high'"):
        AdapterInfo.load(tmp_path)  # the pack's fields are type-checked too
    (tmp_path / "kit_adapter.json").write_text(json.dumps({**saved, "pack": "gone-comp"}))
    with pytest.raises(InputError, match=r"kit_adapter.json: pack: no competition pack for \[competition\] slug "
                                         r"'gone-comp'"):
        AdapterInfo.load(tmp_path)  # a record another pack wrote, that pack not installed here


def test_pack_fields_may_not_shadow_generic_ones():
    @dataclasses.dataclass
    class Shadow:
        global_step: str = "many"

    with pytest.raises(ValueError, match="Shadow redefines generic field"):
        AdapterInfo(extra=Shadow())
    with pytest.raises(ValueError, match="extra must be a dataclass instance, not dict"):
        AdapterInfo(extra={"template": "x"})


@pytest.mark.parametrize("text, why", [
    ("{not json", r"kit_kernel.json: not valid JSON"),
    ("[1, 2]", r"kit_kernel.json: must hold a JSON object, not list"),
    (json.dumps({"template": "t"}), r"kit_kernel.json: missing field\(s\) kernel_ref, submission_file, "),
    (json.dumps({**KERNEL, "submission_columns": ["id"]}), r"kit_kernel.json: submission_columns needs an id col"),
    (json.dumps({**KERNEL, "kernel_ref": "no-owner"}), r"kit_kernel.json: kernel_ref 'no-owner' is not owner/slug"),
    (json.dumps({**KERNEL, "local_score": "0.5"}), r"kit_kernel.json: local_score: expected float \| None, got str"),
    (json.dumps({**KERNEL, "wheels": {"version": 1}}), r"kit_kernel.json: wheels: missing field\(s\) ref$"),
    (json.dumps({**KERNEL, "sandbox": 1}), r"kit_kernel.json: sandbox: expected bool \| None, got int 1"),
])
def test_a_bad_file_is_one_line_naming_it(tmp_path, text, why):
    (tmp_path / "kit_kernel.json").write_text(text)
    with pytest.raises(InputError, match=why) as caught:
        KernelInfo.load(tmp_path)
    assert str(tmp_path / "kit_kernel.json") in str(caught.value) and "\n" not in str(caught.value)


def test_missing_file_and_values_checked_where_made(tmp_path):
    with pytest.raises(InputError, match="run_config.json: file not found"):
        RunConfig.load(tmp_path)
    with pytest.raises(ValueError, match="params has no template"):
        RunConfig(params={}, data_dir="/d", layout="current")
    with pytest.raises(ValueError, match="params has no recipe"):  # keyed off the pack's KernelSpec.recipe_param
        RunConfig(params={"template": "x"}, recipe_param="recipe", data_dir="/d", layout="current")
    assert RunConfig(params={}, recipe_param="", data_dir="/d", layout="current").params == {}  # takes no recipe
    with pytest.raises(ValueError, match="val_score has no mean"):
        PromptRecoveryAdapter(val_score={"n": 3})
    with pytest.raises(ValueError, match="rows: expected dict"):
        AdapterInfo(rows=[1, 2])  # type: ignore[arg-type]


def test_submission_states():
    assert {s.value for s in SubmissionStatus.finals()} == {"complete", "error", "kernel_error", "invalid_output",
                                                            "refused"}
    assert not SubmissionStatus.PENDING.final and SubmissionStatus.REFUSED.final
    assert SubmissionStatus.COMPLETE == "complete" and f"{SubmissionStatus.KERNEL_ERROR}" == "kernel_error"
    assert [SubmissionStatus.from_kaggle(s) for s in ("COMPLETE", "ERROR", "PENDING")] == [
        SubmissionStatus.COMPLETE, SubmissionStatus.ERROR, SubmissionStatus.PENDING]
    row = SubmissionRow.from_row({"id": 1, "created_at": 0, "updated_at": 0, "competition": "c", "status": "running",
                                  "sandbox": 1, "git_dirty": 0, "parameters": "not json"})
    assert (row.status, row.sandbox, row.git_dirty, row.parameters) == (SubmissionStatus.RUNNING, True, False,
                                                                        "not json")
    with pytest.raises(ValueError, match="'done' is not a valid SubmissionStatus"):
        SubmissionRow.from_dict({"id": 1, "created_at": 0, "updated_at": 0, "competition": "c", "status": "done"})
