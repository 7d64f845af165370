"""`kit build-submission`: the rendered kernel, its kernel-metadata.json and kit_kernel.json.

The generic build runs on `chain_pack` (each toy pack in turn, tests/chain_packs.py); pack 1 (prompt recovery)
keeps what is its own: the model, adapter and wheels sources its kernel mounts and the pushes they need."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import pr_config

from kit.chain.build import build_submission, load_kernel
from kit.cli import run
from kit.config import KitConfig, config_from_dict
from kit.errors import ConfigError, InputError
from kit.kaggle import kernel_metadata as km
from kit.ledger import Ledger

PR_TOML = ('[competition]\nslug = "llm-prompt-recovery"\n'
           '[kaggle]\nusername = "alice"\nbase_model = "alice/mistral-7b-it-v02"\n')  # pack 1's workspace


def _config(**kaggle) -> KitConfig:
    """Pack 1's config, named explicitly."""
    return config_from_dict({"competition": {"slug": "llm-prompt-recovery"},
                             "kaggle": {"username": "alice", "base_model": "alice/mistral-7b-it-v02", **kaggle}})


@pytest.fixture()
def pushed() -> None:
    """The ledger knows adapter v3 and wheels v2 were pushed to Kaggle (and a sandbox adapter that must not count)."""
    with Ledger() as led:
        led.add_dataset_version("adapter", "alice/kit-lora-adapter", 3, "h3")
        led.add_dataset_version("adapter", "alice/kit-lora-adapter", 9, "h9", sandbox=True)
        led.add_dataset_version("wheels", "alice/kit-offline-wheels", 2, "w2")


def _cells(path: Path) -> tuple[dict, str]:
    nb = json.loads(path.read_text())
    return nb["metadata"], "\n".join("".join(c["source"]) for c in nb["cells"])


# ============================================================================ the generic build, on each toy pack


def test_a_toy_build_writes_faithful_metadata_and_its_record(chain_pack, tmp_path):
    info = build_submission(chain_pack.config(), out=tmp_path / "kernel")
    folder = tmp_path / "kernel"
    code_file = chain_pack.pack.kernel.notebook.name
    kaggle = chain_pack.pack.config_defaults()["kaggle"]
    meta = json.loads((folder / "kernel-metadata.json").read_text())
    assert meta == km.load(folder) and meta["id"] == f"alice/{kaggle['kernel_slug']}"
    assert meta["title"] == kaggle["kernel_title"] and meta["code_file"] == code_file
    assert (meta["language"], meta["kernel_type"], meta["is_private"]) == ("python", "notebook", True)
    assert meta["enable_internet"] is False and meta["competition_sources"] == [chain_pack.slug]
    assert meta["dataset_sources"] == [] and meta["model_sources"] == []  # the toy kernel mounts nothing else
    _, source = _cells(folder / code_file)
    assert f'"competition": "{chain_pack.slug}"' in source and f'template = "{chain_pack.templates[0]}"' in source
    saved = json.loads((folder / "kit_kernel.json").read_text())
    assert list(saved) == sorted(saved)  # sorted JSON beside the artefact
    assert (saved["competition"], saved["template"], saved["kernel_ref"]) == (chain_pack.slug,
                                                                              chain_pack.templates[0], meta["id"])
    assert saved["submission_columns"] == list(chain_pack.columns)
    assert (saved["submission_file"], saved["submission_mechanism"]) == (chain_pack.file_name, chain_pack.mechanism)
    assert saved["sources"] == {"competition": chain_pack.slug} and saved["required_sources"] == ["competition"]
    assert saved["adapter"] is None and saved["wheels"] is None and saved["sandbox"] is False
    assert len(saved["notebook_sha256"]) == 64 and saved["kernel_hash"] == info["kernel_hash"]
    assert len(saved["content_key"]) == 64 and saved["local_score"] is None


def test_a_rebuild_keeps_the_hash_and_another_recipe_changes_it(chain_pack, tmp_path):
    first, other = chain_pack.templates[:2]
    a = build_submission(chain_pack.config(), template=first, out=tmp_path / "a")
    b = build_submission(chain_pack.config(), template=first, out=tmp_path / "b")
    assert a["kernel_hash"] == b["kernel_hash"] == load_kernel(tmp_path / "b")[2]
    assert a["content_key"] == b["content_key"]
    c = build_submission(chain_pack.config(), template=other, out=tmp_path / "c")
    assert c["kernel_hash"] != a["kernel_hash"] and c["content_key"] != a["content_key"]
    assert c["parameters"]["template"] == other


@pytest.mark.parametrize(("kaggle", "message"), [
    ({"kernel_slug": "Bad_Slug"}, "invalid kernel slug"),
    ({"kernel_slug": "abc"}, "invalid kernel slug"),
    ({"kernel_title": "another title"}, "slugifies to 'another-title'"),
    ({"accelerator": "NvidiaGTX1080"}, "unknown accelerator"),
    ({"docker_image_pinning_type": "newest"}, "docker_image_pinning_type"),
    ({"username": ""}, "no Kaggle username"),
])
def test_invalid_settings_fail_before_writing(chain_pack, tmp_path, kaggle, message):
    with pytest.raises(ConfigError, match=message):
        build_submission(chain_pack.config(**kaggle), out=tmp_path / "k")
    assert not (tmp_path / "k" / "kernel-metadata.json").exists()


def test_an_unknown_recipe_fails_naming_the_packs_own(chain_pack, tmp_path):
    with pytest.raises(ConfigError, match=f"unknown template 'nope' for {chain_pack.slug}"):
        build_submission(chain_pack.config(), template="nope", out=tmp_path / "k")
    assert not (tmp_path / "k").exists()


def test_source_over_one_megabyte_is_refused(chain_pack, tmp_path):
    fat = json.loads(chain_pack.pack.kernel.notebook.read_text())
    fat["cells"].append({"cell_type": "markdown", "metadata": {}, "source": ["x" * 1_100_000]})
    src = tmp_path / "fat.ipynb"
    src.write_text(json.dumps(fat))
    with pytest.raises(InputError, match="not under Kaggle's 1,000,000-byte limit"):
        build_submission(chain_pack.config(), out=tmp_path / "k", notebook=src)
    assert not (tmp_path / "k" / "kernel-metadata.json").exists()


def test_cli_json_and_unknown_template(chain_workspace, capsys):
    kaggle = chain_workspace.pack.config_defaults()["kaggle"]
    assert run(["build-submission", "--out", "kern", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kernel_ref"] == f"alice/{kaggle['kernel_slug']}"
    assert Path("kern", chain_workspace.pack.kernel.notebook.name).is_file()
    assert run(["build-submission", "--template", "nope", "--out", "kern2"]) == ConfigError.exit_code
    assert f"unknown template 'nope' for {chain_workspace.slug}" in capsys.readouterr().err
    assert not Path("kern2").exists()


def test_local_score_is_the_one_measured_for_this_content_never_a_guess(chain_pack, tmp_path):
    first, other = chain_pack.templates[:2]
    info = build_submission(chain_pack.config(), template=first, out=tmp_path / "k")
    assert info["local_score"] is None and info["local_experiment"] is None  # no run-local of this content
    with Ledger() as led:
        led.add_local_experiment("run-local", content_key="another", score=0.9)
        run_id = led.add_local_experiment("run-local", content_key=info["content_key"], score=0.51)
    again = build_submission(chain_pack.config(), template=first, out=tmp_path / "k")
    assert (again["local_score"], again["local_experiment"]) == (0.51, run_id)
    assert json.loads((tmp_path / "k" / "kit_kernel.json").read_text())["local_score"] == 0.51
    changed = build_submission(chain_pack.config(), template=other, out=tmp_path / "k2")  # another key
    assert changed["content_key"] != info["content_key"] and changed["local_score"] is None


# ============================================================================ pack 1: its model and dataset sources


def test_build_binds_pushed_versions_and_writes_faithful_metadata(pushed, tmp_path):
    info = build_submission(_config(), template="best", out=tmp_path / "kernel")
    folder = tmp_path / "kernel"
    meta = json.loads((folder / "kernel-metadata.json").read_text())
    assert meta["id"] == "alice/kit-prompt-recovery-infer" and meta["title"] == "kit prompt recovery infer"
    assert meta["code_file"] == "infer.ipynb" and (folder / "infer.ipynb").is_file()
    assert (meta["language"], meta["kernel_type"], meta["is_private"]) == ("python", "notebook", True)
    assert meta["enable_internet"] is False and meta["enable_gpu"] is True
    assert meta["machine_shape"] == "NvidiaTeslaT4" and "accelerator" not in meta
    assert meta["competition_sources"] == ["llm-prompt-recovery"]
    # datasets pinned to the versions the ledger recorded (owner/slug/N, as the client accepts)
    assert meta["dataset_sources"] == ["alice/kit-lora-adapter/3", "alice/kit-offline-wheels/2",
                                       "alice/mistral-7b-it-v02"]
    assert meta["model_sources"] == [] and meta["docker_image_pinning_type"] == "original"
    nb_meta, source = _cells(folder / "infer.ipynb")
    assert nb_meta["kernelspec"]["name"] == "python3"
    # papermill's injected cell: refs, not paths (the kernel finds them under either Kaggle layout)
    sources = {"competition": "llm-prompt-recovery", "model": "alice/mistral-7b-it-v02",
               "adapter": "alice/kit-lora-adapter/3", "wheels": "alice/kit-offline-wheels/2"}
    for line in ('"adapter": "alice/kit-lora-adapter/3"', 'template = "best"', "budget_seconds = 32400"):
        assert line in source
    saved = json.loads((folder / "kit_kernel.json").read_text())
    assert list(saved) == sorted(saved)  # sorted JSON beside the artefact
    assert {k: saved["adapter"][k] for k in ("ref", "version")} == {"ref": "alice/kit-lora-adapter", "version": 3}
    assert {k: saved["wheels"][k] for k in ("ref", "version")} == {"ref": "alice/kit-offline-wheels", "version": 2}
    assert saved["adapter"]["content_hash"] and len(saved["content_key"]) == 64
    assert saved["base_model"] == "alice/mistral-7b-it-v02" and saved["template"] == "best"
    assert saved["sources"] == sources and saved["kit_version"] and saved["docker_image_pinning_type"] == "original"
    assert len(saved["notebook_sha256"]) == 64 and saved["kernel_hash"] == info["kernel_hash"]
    assert saved["submission_columns"] == ["id", "rewrite_prompt"]


def test_a_model_handle_mounts_as_a_model_source(pushed, tmp_path):
    cfg = _config(base_model="google/gemma/transformers/2b-it/3", accelerator="none")
    a = build_submission(cfg, template="best", out=tmp_path / "a")
    assert a["metadata"]["model_sources"] == ["google/gemma/transformers/2b-it/3"]
    assert a["parameters"]["sources"]["model"] == "google/gemma/transformers/2b-it/3"
    assert a["metadata"]["enable_gpu"] is False and "machine_shape" not in a["metadata"]


def test_mean_template_mounts_no_model_and_no_adapter(pushed, tmp_path):
    info = build_submission(_config(base_model=""), template="mean", out=tmp_path / "k")
    assert info["metadata"]["dataset_sources"] == ["alice/kit-offline-wheels/2"]
    assert info["metadata"]["model_sources"] == []
    assert info["parameters"]["sources"] == {"competition": "llm-prompt-recovery",
                                             "wheels": "alice/kit-offline-wheels/2"}
    assert info["adapter"] is None and info["required_sources"] == ["competition", "wheels"]


def test_unpushed_wheels_refuse_the_build_naming_the_push_command(tmp_path):
    """Nothing pushed: the kernel would die on Kaggle installing the kit ("wheels dataset None not found") after
    its GPU session started. The build refuses, naming the dataset and the command that pushes it."""
    with pytest.raises(InputError, match=r"never pushed to Kaggle: wheels dataset alice/kit-offline-wheels .*"
                                         r"run `kit wheels --push`, then `kit build-submission` again"):
        build_submission(_config(), template="mean", out=tmp_path / "k")
    assert not (tmp_path / "k").exists()
    with Ledger() as led:  # a push to the sandbox does not count for Kaggle, nor the reverse
        led.add_dataset_version("wheels", "alice/kit-offline-wheels", 5, "w5", sandbox=True)
    with pytest.raises(InputError, match="wheels dataset alice/kit-offline-wheels"):
        build_submission(_config(), template="mean", out=tmp_path / "k")
    with pytest.raises(InputError, match=r"never pushed to the sandbox: wheels dataset sandbox-user/kit-offline-wh"
                                         r"eels .*`kit wheels --kit-only --push --sandbox`"):
        build_submission(config_from_dict({"competition": {"slug": "llm-prompt-recovery"}}), template="mean",
                         out=tmp_path / "k", sandbox=True)
    built = build_submission(_config(), template="mean", out=tmp_path / "k", sandbox=True)
    assert built["sources"]["wheels"] == "alice/kit-offline-wheels/5"


def test_a_configured_adapter_must_be_pushed_for_a_recipe_that_loads_a_model(tmp_path):
    """`[infer] adapter_path` says the kernel runs with that adapter: a build without its push is refused; a
    recipe that loads no model does not need it."""
    adapter = tmp_path / "my adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text('{"r": 8}')
    (adapter / "adapter_model.safetensors").write_bytes(b"weights v1")
    cfg = pr_config({"kaggle": {"username": "alice", "base_model": "alice/mistral-7b-it-v02"},
                            "infer": {"adapter_path": str(adapter)}})
    quoted = f"'{adapter}'"  # the hint is a command to paste: the space is quoted
    with pytest.raises(InputError, match=r"adapter dataset alice/kit-lora-adapter \(\[infer\] adapter_path = .*; "
                                         r"wheels dataset alice/kit-offline-wheels .*"
                                         rf"run `kit push-adapter {re.escape(quoted)}` and `kit wheels --push`"):
        build_submission(cfg, template="best", out=tmp_path / "k")
    with Ledger() as led:
        led.add_dataset_version("wheels", "alice/kit-offline-wheels", 2, "w2")
    with pytest.raises(InputError, match="never pushed to Kaggle: adapter dataset alice/kit-lora-adapter"):
        build_submission(cfg, template="best", out=tmp_path / "k")
    assert not (tmp_path / "k").exists()
    mean = build_submission(cfg, template="mean", out=tmp_path / "m")  # no model: no adapter to put on it
    assert "adapter" not in mean["sources"]
    files = ["adapter_config.json", "adapter_model.safetensors"]
    from kit.kaggle.metadata import content_hash

    with Ledger() as led:
        led.add_dataset_version("adapter", "alice/kit-lora-adapter", 4,
                                content_hash(adapter, [Path(f) for f in files]), files=files)
    info = build_submission(cfg, template="best", out=tmp_path / "k")
    assert info["sources"]["adapter"] == "alice/kit-lora-adapter/4"
    assert set(info["required_sources"]) == {"competition", "model", "wheels", "adapter"}
    assert not any("has changed" in n for n in info["notes"])
    (adapter / "adapter_model.safetensors").write_bytes(b"weights v2, retrained and not pushed")
    again = build_submission(cfg, template="best", out=tmp_path / "k")
    assert any(f"{adapter} has changed since alice/kit-lora-adapter/4 was pushed" in n for n in again["notes"])


def test_a_push_made_without_waiting_is_pinned_and_noted(tmp_path):
    from kit.artefacts import DatasetStatus

    with Ledger() as led:
        led.add_dataset_version("wheels", "alice/kit-offline-wheels", 2, "w2")
        led.add_dataset_version("wheels", "alice/kit-offline-wheels", 3, "w3", status=DatasetStatus.PENDING)
        led.add_dataset_version("wheels", "alice/kit-offline-wheels", 9, "w9", status=DatasetStatus.FAILED)
    info = build_submission(_config(), template="mean", out=tmp_path / "k")
    assert info["metadata"]["dataset_sources"] == ["alice/kit-offline-wheels/3"]
    assert any("alice/kit-offline-wheels/3 was pushed without waiting" in n for n in info["notes"])


def test_a_kernel_takes_the_sources_its_parameters_name():
    """Generic: a pack's kernel needs the wheels when its parameters take that source (the prompt-recovery
    kernel installs the kit from it); a kernel that imports nothing of the kit takes none."""
    from dataclasses import dataclass, field

    from kit.chain.build import taken_sources
    from kit.pack import get_pack

    @dataclass
    class Bare:
        sources: dict = field(default_factory=lambda: {"competition": "some-competition"})

    assert {"wheels", "adapter", "model"} <= taken_sources(get_pack("llm-prompt-recovery").kernel.params)
    assert taken_sources(Bare) == {"competition"}


@pytest.mark.parametrize(("kaggle", "message"), [
    ({"base_model": ""}, "base_model is empty"),
    ({"base_model": "just-a-name"}, "invalid source"),
    ({"base_model": "google/gemma/transformers/2b-it"}, "has no version"),  # a 4-part model handle
])
def test_an_invalid_base_model_fails_before_writing(tmp_path, kaggle, message):
    with pytest.raises(ConfigError, match=message):
        build_submission(_config(**kaggle), template="best", out=tmp_path / "k")
    assert not (tmp_path / "k" / "kernel-metadata.json").exists()


def test_validate_catches_hand_edits(tmp_path):
    meta = km.build(owner="alice", slug="my-kernel", title="My kernel", code_file="k.ipynb", accelerator="NvidiaL4",
                    competition="some-competition", datasets=["alice/data-set"], models=[])
    km.validate(dict(meta))
    for key, value, message in (("enable_internet", True, "enable_internet"), ("accelerator", "x", "machine_shape"),
                                ("competition_sources", [], "competition_sources")):
        with pytest.raises(InputError, match=message):
            km.validate({**meta, key: value})
    assert km.slugify("Kit: Prompt  Recovery!") == "kit-prompt-recovery"


def test_set_overrides_any_key_of_any_section_with_kit_toml_checks(tmp_path, capsys, pushed):
    """--set reaches a generic key and the pack's own alike, typed as kit.toml values are."""
    Path("kit.toml").write_text(PR_TOML)
    argv = ["build-submission", "--template", "best", "--out", "kern", "--json"]
    assert run([*argv, "--set", 'kaggle.kernel_slug="tuned-kernel"', "--set", "kaggle.kernel_title=tuned kernel",
                "--set", "infer.max_new_tokens=12", "--set", "infer.load_in_4bit=true"]) == 0
    out = json.loads(capsys.readouterr().out)  # a string key takes a TOML string or plain text
    assert out["kernel_ref"] == "alice/tuned-kernel" and out["metadata"]["title"] == "tuned kernel"
    assert (out["parameters"]["max_new_tokens"], out["parameters"]["load_in_4bit"]) == (12, True)
    for setting, message in (
        ("infer.max_new_tokens=many", "--set [infer] max_new_tokens: expected int, got str 'many'"),
        ("infer.beams=2", "--set [infer]: unknown key 'beams' (known: template, "),
        ("aimo.problems=3", "--set: unknown section [aimo] (known: kaggle, infer, train, score, mean_prompt)"),
        ("competition.slug=x", "--set: unknown section [competition]"),
        ("kaggle.model_sources={judge = 'a/b'}", "--set kaggle.model_sources: unknown source 'judge' (competition "
                                                 "llm-prompt-recovery's sources: rewriter)"),
        ("max_new_tokens=3", "--set 'max_new_tokens=3': expected section.key=value"),
    ):
        assert run([*argv, "--set", setting]) == ConfigError.exit_code, setting
        err = capsys.readouterr().err
        assert err.startswith(f"error: {message}") and err.count("\n") == 1, err


def test_cli_mount_summary_names_the_pinned_versions(tmp_path, capsys, pushed):
    Path("kit.toml").write_text(PR_TOML)
    assert run(["build-submission", "--template", "best", "--out", "kern"]) == 0
    out = capsys.readouterr().out
    assert "adapter: alice/kit-lora-adapter v3; wheels: alice/kit-offline-wheels v2;" in out
    assert out.rstrip().endswith("next: kit submit")
    assert run(["build-submission", "--template", "mean", "--out", "kern"]) == 0
    assert "adapter: not mounted; wheels: alice/kit-offline-wheels v2;" in capsys.readouterr().out


def test_cli_refuses_a_build_with_nothing_pushed(tmp_path, capsys):
    Path("kit.toml").write_text(PR_TOML)
    assert run(["build-submission", "--template", "best", "--out", "kern"]) == InputError.exit_code
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "`kit wheels --push`" in captured.err
    assert "next:" not in captured.out and not Path("kern").exists()


def test_an_adapters_validation_score_is_never_taken_for_a_local_score(pushed, tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "kit_adapter.json").write_text(json.dumps({"val_score": {"mean": 0.4242, "n": 4}, "val_loss": 1.0}))
    cfg = config_from_dict({"competition": {"slug": "llm-prompt-recovery"},
                            "kaggle": {"username": "alice", "base_model": "alice/mistral-7b-it-v02"},
                            "infer": {"adapter_path": str(adapter)}})
    info = build_submission(cfg, template="best", out=tmp_path / "k")
    assert info["local_score"] is None and info["local_experiment"] is None  # no run-local of this content
