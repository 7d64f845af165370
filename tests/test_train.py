"""LoRA training: completion-only labels, knobs, the adapter folder, resume, bad data, `kit train`."""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import pytest
from helpers import pr_config, pr_workspace, sharpened_cosines

from kit.errors import ConfigError, InputError
from kit.packs.prompt_recovery.samples import sample_data_dir
from kit.packs.prompt_recovery.settings import TrainConfig
from kit.packs.prompt_recovery.train_data import IGNORE_INDEX, encode_row, load_rows, split_rows

pytestmark = pytest.mark.usefixtures("prompt_recovery_workspace")  # the tests run in a pack-1 workspace

N_ROWS = 24


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def one_thread():
    """Tiny-model training is overhead-bound: one thread avoids OpenMP spin-waits on a shared CPU."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory) -> Path:
    """The first rows of the bundled sample data, with its extra id column kept (it must be ignored)."""
    with open(sample_data_dir() / "train.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = [r for _, r in zip(range(N_ROWS), reader, strict=False)]
        columns = list(reader.fieldnames or [])
    return _write_csv(tmp_path_factory.mktemp("data") / "small.csv", rows, columns)


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model))


def _knobs(**extra) -> list[str]:
    flags = []
    for key, value in extra.items():
        flags += [f"--{key.replace('_', '-')}", str(value)]
    return flags


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_model, small_csv, one_thread) -> dict:
    """One 20-step run through `kit train --no-notebook --json` (grad accumulation 4, checkpointing).

    The zeroshot template keeps sequences short (~300 tokens on the tiny tokenizer, against ~1,200 with the
    few-shot prefix), and max_length 256 makes every row go through per-field truncation.
    """
    from kit.cli import run

    root = tmp_path_factory.mktemp("train")
    out = root / "adapter"
    # a module fixture starts before the tests' pack-1 workspace is written: it names its own
    argv = ["--config", str(pr_workspace(folder=root)), "train", "--no-notebook", "--json",
            "--data", str(small_csv), "--base", str(tiny_model),
            "--out", str(out), "--gradient-checkpointing", "--template", "zeroshot"] + _knobs(
        max_steps=20, grad_accum=4, batch_size=2, learning_rate=5e-3, max_length=256, save_steps=5,
        logging_steps=5, val_fraction=0.2, eval_rows=2, eval_max_new_tokens=8, seed=3)
    import contextlib
    import io

    buf, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
        code = run(argv)
    assert code == 0, err.getvalue()[-2000:]
    from kit.ledger import Ledger

    with Ledger() as led:
        experiments = led.local_experiments()
    return {"out": out, "stdout": buf.getvalue(), "stderr": err.getvalue(),
            "meta": json.loads((out / "kit_adapter.json").read_text()), "experiments": experiments}


# ---------------------------------------------------------------------------- data


@pytest.mark.parametrize("model", ["tiny_model", "instruct_model"])
def test_labels_decode_to_exactly_the_target(request, model, small_csv):
    from transformers import AutoTokenizer

    from kit.packs.prompt_recovery.templates import get_template

    tokenizer = AutoTokenizer.from_pretrained(request.getfixturevalue(model))

    template = get_template("fewshot")
    rows = load_rows(small_csv)
    row = dict(rows[0], original_text=rows[0]["original_text"] * 60)  # far longer than the budget
    for max_length in (1100, 2048):
        ex = encode_row(tokenizer, template, row, max_length)
        assert ex is not None and len(ex["input_ids"]) <= max_length
        answer = [t for t, lab in zip(ex["input_ids"], ex["labels"], strict=True) if lab != IGNORE_INDEX]
        assert answer == [lab for lab in ex["labels"] if lab != IGNORE_INDEX]
        assert tokenizer.decode(answer) == " " + row["rewrite_prompt"] + tokenizer.eos_token
        assert ex["input_ids"][-1] == tokenizer.eos_token_id
        prompt = ex["input_ids"][: len(ex["input_ids"]) - len(answer)]
        assert all(lab == IGNORE_INDEX for lab in ex["labels"][: len(prompt)])
        # the prompt part ends at the marker and is a token prefix of what inference feeds the model (prompt +
        # prime, tokenised in one piece): no double space at the answer boundary
        assert tokenizer.decode(prompt).endswith("The request was:")
        text = tokenizer.decode(prompt) + " " + "Improve this text by"
        assert tokenizer(text, add_special_tokens=False)["input_ids"][: len(prompt)] == prompt
    assert ex["truncated"] and len(ex["input_ids"]) > 1900  # the long field was cut to fill the budget
    assert encode_row(tokenizer, template, row, 64) is None  # the few-shot prefix alone is longer


def test_split_is_deterministic_by_seed(small_csv):
    rows = load_rows(small_csv)
    a, b = split_rows(rows, 0.25, seed=7), split_rows(rows, 0.25, seed=7)
    assert a == b and len(a[1]) == 6 and len(a[0]) == N_ROWS - 6
    assert split_rows(rows, 0.25, seed=8)[1] != a[1]
    assert split_rows(rows, 0.0, seed=7)[1] == []


@pytest.mark.parametrize("case, message", [
    ("missing", "missing column(s) rewrite_prompt"),
    ("empty", "file is empty"),
    ("header", "header but no rows"),
    ("nontext", "row 2 column original_text is not text"),
    ("blank", "row 1 has an empty rewrite_prompt"),
    ("format", "unknown data format '.txt'"),
])
def test_bad_data_is_one_clear_line(tmp_path, case, message):
    import pandas as pd

    cols = ["original_text", "rewrite_prompt", "rewritten_text"]
    if case == "missing":
        path = _write_csv(tmp_path / "d.csv", [{"original_text": "a", "rewritten_text": "b"}],
                          ["original_text", "rewritten_text"])
    elif case == "empty":
        (path := tmp_path / "d.csv").write_text("")
    elif case == "header":
        (path := tmp_path / "d.csv").write_text(",".join(cols) + "\n")
    elif case == "nontext":
        path = tmp_path / "d.parquet"
        pd.DataFrame({"original_text": ["a", None], "rewrite_prompt": ["p", "q"],  # a null cell
                      "rewritten_text": ["b", "c"]}).to_parquet(path)
    elif case == "blank":
        path = _write_csv(tmp_path / "d.csv", [{"original_text": "a", "rewrite_prompt": " ", "rewritten_text": "b"}],
                          cols)
    else:
        (path := tmp_path / "d.txt").write_text("x")
    with pytest.raises(InputError) as info:
        load_rows(path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_knobs_are_validated_early():
    from kit.llm.lora import resolve_precision
    from kit.packs.prompt_recovery.train import config_from_params, validate

    with pytest.raises(ConfigError, match="lr_scheduler must be one of"):
        validate(TrainConfig(lr_scheduler="cosine_with_restarts"))
    with pytest.raises(ConfigError, match="unknown knob"):
        config_from_params({"lora_rank": 8})
    with pytest.raises(ConfigError, match="expected int"):
        config_from_params({"lora_r": "8"})
    assert config_from_params({"lora_r": 4, "learning_rate": 1}).learning_rate == 1.0
    assert resolve_precision("auto", cuda=False, bf16_ok=False) == "fp32"
    assert resolve_precision("auto", cuda=True, bf16_ok=False) == "fp16"
    assert resolve_precision("auto", cuda=True, bf16_ok=True) == "bf16"
    with pytest.raises(ConfigError):
        resolve_precision("fp16", cuda=False, bf16_ok=False)


def test_kit_toml_train_keys_and_flags_fail_early(tmp_path, capsys):
    """[train] keys are read from kit.toml, flags override them, and both are checked before torch loads."""
    from kit.cli import run

    pr_workspace('[train]\nlr_scheduler = "bogus"\nlora_r = 4\n', tmp_path / "work")
    assert run(["train", "--no-notebook"]) == ConfigError.exit_code
    assert "lr_scheduler must be one of" in capsys.readouterr().err
    missing = tmp_path / "nope.csv"
    assert run(["train", "--no-notebook", "--lr-scheduler", "linear", "--data", str(missing)]) == InputError.exit_code
    assert f"training data not found: {missing}" in capsys.readouterr().err


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_4bit_without_cuda_is_a_missing_dependency(small_csv, tiny_model, tmp_path):
    import torch

    from kit.errors import MissingDependencyError
    from kit.packs.prompt_recovery.train import train

    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    cfg = TrainConfig(data=str(small_csv), base_model_path=str(tiny_model), out=str(tmp_path / "a"),
                      load_in_4bit=True)
    with pytest.raises(MissingDependencyError, match="CUDA"):
        train(cfg)


# ---------------------------------------------------------------------------- training


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_loss_falls_with_accumulation_and_checkpointing(trained):
    meta = trained["meta"]
    losses = [loss for _, loss in meta["loss_history"]]
    assert meta["global_step"] == 20 and len(losses) == 4
    assert losses[-1] < losses[0] - 0.05, losses
    assert meta["knobs"]["grad_accum"] == 4 and meta["knobs"]["gradient_checkpointing"] is True
    assert json.loads(trained["stdout"])["global_step"] == 20  # --json prints the same metadata


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_adapter_folder_and_metadata(trained, small_csv, tiny_model):
    from kit import __version__
    from kit.assets import file_sha256

    out, meta = trained["out"], trained["meta"]
    names = {p.name for p in out.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "tokenizer_config.json",
            "kit_adapter.json"} <= names
    assert not any(p.is_dir() for p in out.iterdir())  # flat: checkpoints live beside, not inside
    text = (out / "kit_adapter.json").read_text()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    assert meta["data_sha256"] == file_sha256(small_csv) and meta["base_model"] == str(tiny_model)
    assert meta["rows"] == {"total": N_ROWS, "train": 19, "val": 5, "dropped": 0, "truncated": N_ROWS}
    assert meta["template"] == "zeroshot" and meta["kit_version"] == __version__
    assert meta["base_signature"] == {"model_type": "mistral", "architectures": ["MistralForCausalLM"],
                                      "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                                      "num_attention_heads": 4, "num_key_value_heads": 2,
                                      "vocab_size": meta["base_signature"]["vocab_size"]}
    assert set(TrainConfig.__dataclass_fields__) <= set(meta["knobs"])
    assert meta["knobs"]["target_modules"] == ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj",
                                               "v_proj"]
    assert meta["knobs"]["precision"] == "fp32" and meta["device"] == "cpu"
    logged = [loss for _, loss in meta["loss_history"]]  # each the mean of 5 steps, logged to 4 decimals
    assert meta["train_loss"] == pytest.approx(sum(logged) / len(logged), abs=1e-3) and meta["val_loss"] > 0
    score = meta["val_score"]
    assert score["n"] == 2 and len(score["examples"]) == 2
    per_row = sharpened_cosines([e["prediction"] for e in score["examples"]], [e["label"] for e in score["examples"]])
    assert score["mean"] == pytest.approx(sum(per_row) / len(per_row), abs=1e-3)  # of its own predictions
    [recorded] = [e for e in trained["experiments"] if e["adapter_ref"] == str(out)]  # the validation, recorded
    assert recorded["kind"] == "train" and recorded["adapter_ref"] == str(out) and recorded["rows"] == 2
    assert (recorded["score"], recorded["score_ci_low"], recorded["score_ci_high"]) == (
        score["mean"], score["ci_low"], score["ci_high"])
    assert recorded["scorer"] == score["embedder"] and recorded["data_hash"] == meta["data_sha256"]
    assert recorded["adapter_hash"] and recorded["model_hash"] and recorded["rows_per_second"] > 0
    assert "git_sha" in meta  # None here: the test's working folder is not a repository
    assert (Path(meta["knobs"]["checkpoint_dir"]) / "checkpoint-20").is_dir()


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_adapter_loads_in_the_inference_engine(trained, tiny_model):
    from safetensors.torch import load_file

    from kit.llm.engine import Engine

    weights = load_file(str(trained["out"] / "adapter_model.safetensors"))
    lora_b = [v for k, v in weights.items() if "lora_B" in k]
    assert lora_b and any(float(v.abs().sum()) > 0 for v in lora_b)  # B starts at zero: it trained
    engine = Engine(tiny_model, adapter_path=trained["out"])
    texts = engine.generate(["[INST] hello [/INST] The request was: "], max_new_tokens=4, batch_size=1)
    assert len(texts) == 1 and isinstance(texts[0], str)


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_an_adapter_on_another_base_is_refused_before_anything_loads(trained, tiny_model, tmp_path, monkeypatch):
    """The kernel's load_engine and a sandbox build compare the adapter's recorded base signature with the base
    model that is mounted; a different architecture is one line naming both, before any weights load."""
    from kit import assets
    from kit.chain.build import build_submission
    from kit.errors import InputError
    from kit.llm.workers import load_engine

    other = tmp_path / "other-base"
    other.mkdir()
    config = json.loads((tiny_model / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "hidden_size": 576, "num_hidden_layers": 30}))
    with pytest.raises(InputError, match=r"trained on another base model.*hidden_size 64 vs 576.*"
                                         r"num_hidden_layers 2 vs 30"):
        load_engine(other, trained["out"])  # other has no weights at all: the check came first
    monkeypatch.setattr(assets, "default_model_path", lambda: other)  # the sandbox mounts this as the base
    cfg = pr_config({"infer": {"adapter_path": str(trained["out"]), "template": "zeroshot"}})
    with pytest.raises(InputError, match="trained on another base model"):
        build_submission(cfg, out=tmp_path / "kernel", sandbox=True)
    assert not (tmp_path / "kernel").exists()  # refused before anything was written
    monkeypatch.setattr(assets, "default_model_path", lambda: tiny_model)
    from kit.ledger import Ledger

    with Ledger() as led:  # a build needs what its kernel mounts pushed: the configured adapter, the wheels
        led.add_dataset_version("adapter", "sandbox-user/kit-lora-adapter", 1, "a1", sandbox=True)
        led.add_dataset_version("wheels", "sandbox-user/kit-offline-wheels", 1, "w1", sandbox=True)
    built = build_submission(cfg, out=tmp_path / "kernel", sandbox=True)
    assert built["base_model"].startswith("sandbox-user/")


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_resume_continues_from_the_checkpoint(trained, tmp_path):
    """Interrupt after step 15 (drop the later checkpoint), resume: the run continues at step 16."""
    from kit.packs.prompt_recovery.train import train

    meta = trained["meta"]
    ckpt = tmp_path / "ckpt"
    shutil.copytree(Path(meta["knobs"]["checkpoint_dir"]), ckpt)
    shutil.rmtree(ckpt / "checkpoint-20")
    knobs = dict(meta["knobs"], checkpoint_dir=str(ckpt), out=str(tmp_path / "adapter"), resume=True, eval_rows=0)
    cfg = TrainConfig(**{k: knobs[k] for k in TrainConfig.__dataclass_fields__})
    result = train(cfg, progress=False)
    assert result.meta["resumed_from"].endswith("checkpoint-15")
    assert result.meta["global_step"] == 20
    assert [s for s, _ in result.meta["loss_history"]] == [5, 10, 15, 20]  # restored history + new steps
    # same data order and seed: the resumed steps reproduce the uninterrupted run's losses
    assert result.meta["loss_history"][-1][1] == pytest.approx(meta["loss_history"][-1][1], rel=1e-3)
    assert result.meta["val_score"] is None
    with pytest.raises(ConfigError, match="lora_r changed"):  # a checkpoint only resumes the run that made it
        train(TrainConfig(**dict(vars(cfg), lora_r=4)), progress=False)


@pytest.mark.slow
def test_kit_train_through_the_notebook(tmp_path, tiny_model, small_csv, capfd):
    """The notebook's progress reaches the terminal (step, rate, ETA from the first step), `--resume` without a
    checkpoint says so there, once, and the summary prints once (issue 22 items 3 and 4)."""
    import re

    from kit.cli import run
    from kit.ledger import Ledger

    out = tmp_path / "nb-adapter"
    code = run(["train", "--data", str(small_csv), "--base", str(tiny_model), "--out", str(out), "--resume",
                "--auto-batch-size"] + _knobs(
        max_steps=2, grad_accum=1, batch_size=1, max_length=256, eval_rows=0, save_steps=1, template="zeroshot",
        logging_steps=1))
    said = capfd.readouterr()
    assert code == 0, said.err[-3000:]
    err = said.err
    assert err.count(f"[train] --resume: no checkpoint in {tmp_path / 'nb-adapter-checkpoints'}; training from "
                     "scratch") == 1
    assert re.search(r"\[train\] step 1/2  loss \d\.\d{4}  lr \S+  [\d.]+ (s/step|steps/s)  ETA \S+", err), err
    assert "[train] step 2/2  loss" in err  # streamed from the kernel
    assert "IPKernelApp" not in err and "Executing Cell" not in err
    assert (said.out + err).count("train_loss: ") == 1 and said.out.startswith(f"adapter: {out}\n")
    assert [e["kind"] for e in Ledger().local_experiments()] == ["train"]
    meta = json.loads((out / "kit_adapter.json").read_text())
    assert meta["global_step"] == 2 and meta["base_model"] == str(tiny_model)
    assert meta["knobs"]["auto_batch_size"] is True and meta["knobs"]["batch_size"] == 1  # no OOM on CPU
    executed = Path(meta["knobs"]["checkpoint_dir"]) / "train.ipynb"
    assert executed.exists() and "train_from_params" in executed.read_text()
    from kit.packs.prompt_recovery.train import summary

    text = summary(meta)
    assert "{" not in text and "rows: " in text and " train, " in text  # no Python reprs


# ---------------------------------------------------------------------------- GPU benchmark script


def _bench_module():
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "scripts" / "bench_train_gpu.py"
    spec = importlib.util.spec_from_file_location("bench_train_gpu", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("limit, cap", [(0, 64), (1, 64), (37, 64), (64, 64), (200, 64), (5, 5)])
def test_bench_search_finds_the_largest_batch_that_fits(limit, cap):
    tried = []

    def fits(batch: int) -> bool:
        tried.append(batch)
        return batch <= limit

    assert _bench_module().largest_fitting(fits, cap) == min(limit, cap)
    assert len(tried) <= 2 * cap.bit_length() + 1  # doubling then bisection, not a linear scan


def test_bench_script_runs_a_tiny_shape_on_cpu(tmp_path, one_thread, capsys):
    report = _bench_module().main(["--tiny", "--steps", "1", "--max-batch", "4", "--json", str(tmp_path / "b.json")])
    assert json.loads((tmp_path / "b.json").read_text()) == report
    for mode in ("no_checkpointing", "checkpointing"):
        assert report["modes"][mode]["max_batch"] == 4 and report["modes"][mode]["tokens_per_s"] > 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("FIGURE tiny seq 64")


@pytest.mark.slow
@pytest.mark.long  # two training processes: about 50 s
def test_two_processes_train_with_the_same_code(tmp_path, tiny_model, small_csv):
    """torchrun (what `accelerate launch --multi_gpu` runs) with 2 CPU processes: DDP over gloo, rank 0 saves."""
    import os
    import subprocess
    import sys

    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "kit", "train",
           "--no-notebook", "--json", "--data", str(small_csv), "--out", str(out), "--template", "zeroshot",
           *_knobs(max_steps=2, grad_accum=1, batch_size=1, max_length=256, eval_rows=0, save_steps=2, logging_steps=1)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert done.returncode == 0, done.stderr[-3000:]
    meta = json.loads((out / "kit_adapter.json").read_text())
    assert meta["global_step"] == 2 and meta["loss_history"] and (out / "adapter_model.safetensors").exists()
    state = json.loads((Path(meta["knobs"]["checkpoint_dir"]) / "checkpoint-2" / "trainer_state.json").read_text())
    # the training rows are sharded over 2 ranks at batch 1: ceil(rows / 2) steps an epoch, not `rows` as for one
    train_rows = meta["rows"]["train"]
    assert train_rows == 22 and state["epoch"] == pytest.approx(2 / math.ceil(train_rows / 2))


# ---------------------------------------------------------------------------- issue 22: first-hour defects


def _previous_adapter(path: Path) -> dict[str, bytes]:
    """A stand-in for an earlier run's adapter folder (nothing reads its weights here); returns its bytes."""
    path.mkdir(parents=True)
    files = {"adapter_config.json": b'{"r": 8}', "adapter_model.safetensors": b"\1" * 512,
             "kit_adapter.json": b'{"template": "fewshot", "prime": ""}', "tokenizer.json": b"{}"}
    for name, data in files.items():
        (path / name).write_bytes(data)
    return files


def _contents(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in path.iterdir()}


def test_replace_dir_keeps_the_old_folder_until_the_new_one_is_complete(tmp_path):
    import subprocess
    import sys

    from kit.files import replace_dir, restore_replaced

    root = tmp_path / "r"
    target = root / "adapter"
    old = _previous_adapter(target)
    with pytest.raises(RuntimeError), replace_dir(target) as build:
        (build / "adapter_model.safetensors").write_bytes(b"half")
        raise RuntimeError("killed mid-build")
    assert _contents(target) == old and sorted(p.name for p in root.iterdir()) == ["adapter"]
    with replace_dir(target) as build:
        (build / "new.txt").write_text("whole")
    assert _contents(target) == {"new.txt": b"whole"} and sorted(p.name for p in root.iterdir()) == ["adapter"]
    # a process killed between its two renames: the old folder is aside, the target missing; the next call restores it
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    aside = root / f".adapter.replaced-{int(dead.stdout)}"
    target.rename(aside)
    restore_replaced(target)
    assert _contents(target) == {"new.txt": b"whole"} and not aside.exists()
    (root / "file").write_text("x")
    with pytest.raises(NotADirectoryError), replace_dir(root / "file"):
        pass


def _prompt_length(tiny_model: Path, template: str) -> int:
    from transformers import AutoTokenizer

    from kit.packs.prompt_recovery.templates import get_template
    from kit.packs.prompt_recovery.train_data import prompt_tokens

    return prompt_tokens(AutoTokenizer.from_pretrained(str(tiny_model)), get_template(template))


@pytest.mark.parametrize("flags, message", [
    (["--template", "bset"], "template 'bset' is unknown; trainable templates: best, fewshot, rescore, "
                             "rescore-single, rescore-tuned, zeroshot"),
    (["--template", "mean"], "template 'mean' prompts no model, so there is nothing to train"),
    (["--max-length", "300"], "max_length 300 fits no row: the fewshot template's prompt alone is {fewshot} tokens"),
    (["--target-modules", "q_proj,qkv"], "target_modules not in this model: qkv (linear modules: down_proj,"),
    (["--precision", "fp16"], "precision fp16 needs a CUDA GPU"),
    (["--base", "/nonexistent/kit-model"], "base_model_path /nonexistent/kit-model: cannot load its tokenizer"),
])
@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_config_errors_exit_3_before_any_notebook_and_touch_nothing(tmp_path, tiny_model, small_csv, capsys,
                                                                    flags, message):
    """Issue 22 items 1 and 8: a mistyped knob is exit 3 from the host, one line naming the key, the value and what
    fits, before a kernel starts; the previous adapter (weights and record) is left exactly as it was."""
    import torch

    from kit.cli import run

    if flags[0] == "--precision" and torch.cuda.is_available():
        pytest.skip("CUDA present")
    out = tmp_path / "adapter"
    before = _previous_adapter(out)
    code = run(["train", "--data", str(small_csv), "--base", str(tiny_model), "--out", str(out), *flags])
    err = capsys.readouterr().err
    assert code == ConfigError.exit_code, err
    assert message.format(fewshot=_prompt_length(tiny_model, "fewshot")) in err and err.count("\n") == 1, err
    assert _contents(out) == before
    assert not (tmp_path / "adapter-checkpoints" / "train.ipynb").exists()  # no notebook ever started


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_a_too_small_max_length_names_one_that_fits(tiny_model, small_csv, capsys):
    """The suggested --max-length is a power of two that does fit (the check passes with it)."""
    import re

    from transformers import AutoTokenizer

    from kit.cli import run
    from kit.packs.prompt_recovery.templates import get_template
    from kit.packs.prompt_recovery.train_data import check_fits

    assert run(["train", "--no-notebook", "--data", str(small_csv), "--base", str(tiny_model),
                "--max-length", "300"]) == ConfigError.exit_code
    suggested = int(re.search(r"use --max-length (\d+) or more: a typical row needs (\d+)",
                              capsys.readouterr().err).group(1))
    prompt = _prompt_length(tiny_model, "fewshot")
    assert suggested & (suggested - 1) == 0 and suggested > prompt > 300
    check_fits(AutoTokenizer.from_pretrained(str(tiny_model)), get_template("fewshot"), "fewshot",
               load_rows(small_csv), suggested)  # no error: it fits


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_progress_shows_step_rate_and_eta_from_the_first_step(trained):
    """Issue 22 item 3 (--no-notebook): the first micro-batches and step 1 with the rate and time left, the loss on
    logging steps, and no raw log dicts."""
    import re

    from kit.llm.lora import duration, rate

    lines = [line for line in trained["stderr"].splitlines() if line.startswith("[train] ")]
    assert lines[0].startswith("[train] tokenising 19 training and 5 validation rows")
    begun = [i for i, line in enumerate(lines) if line.startswith("[train] training: 20 optimizer steps; ")]
    first_step = next(i for i, line in enumerate(lines) if line.startswith("[train] step "))
    assert len(begun) == 1 and begun[0] == first_step - 1  # once, right before the first step's lines
    micro = [line for line in lines if line.startswith("[train] step ") and "micro-batch" in line]
    assert re.fullmatch(r"\[train\] step 1/20: micro-batch 1/4  [\d.]+ (s/micro-batch|micro-batches/s)  ETA ~\S+",
                        micro[0]), micro  # grad_accum 4: a first pace before the first whole step
    assert all(line.startswith("[train] step 1/20: ") for line in micro)  # the first step only
    steps = [line for line in lines if line.startswith("[train] step ") and "micro-batch" not in line]
    assert re.fullmatch(r"\[train\] step 1/20  [\d.]+ (s/step|steps/s)  ETA \d+(s|m\d\ds)", steps[0]), steps[0]
    assert re.fullmatch(r"\[train\] step 5/20  loss \d\.\d{4}  lr \S+  [\d.]+ (s/step|steps/s)  ETA \S+",
                        next(s for s in steps if "step 5/" in s))
    assert steps[-1].startswith("[train] step 20/20  loss ") and steps[-1].endswith("ETA 0s")
    assert "{'loss'" not in trained["stderr"] and "train_runtime" not in trained["stderr"]
    assert [duration(s) for s in (4.4, 185, 7380)] == ["4s", "3m05s", "2h03m"]
    assert (rate(12.34), rate(0.25)) == ("12.3 s/step", "4.0 steps/s")
    assert rate(0.5, "micro-batch", "micro-batches") == "2.0 micro-batches/s"


def test_checkpoints_fall_at_each_quarter_of_a_short_run():
    """Issue 22 item 4: with save_steps far above the run's length, the schedule still saves at each quarter."""
    from transformers import TrainerControl, TrainerState, TrainingArguments

    from kit.llm.lora import checkpoint_schedule

    schedule = checkpoint_schedule()
    state, args = TrainerState(max_steps=17), TrainingArguments(output_dir="unused", report_to=[])
    schedule.on_train_begin(args, state, TrainerControl())
    saved = []
    for step in range(1, 18):
        state.global_step, control = step, TrainerControl()
        schedule.on_step_end(args, state, control)
        saved += [step] if control.should_save else []
    assert saved == [4, 8, 12]  # the Trainer saves step 17 itself; an interrupt at step 9 keeps checkpoint-8


def test_resume_passes_over_a_checkpoint_cut_off_while_saving(tmp_path):
    """The Trainer writes trainer_state.json last: a checkpoint without it was interrupted mid-save."""
    from kit.llm.lora import newest_checkpoint

    for step, complete in ((4, True), (8, True), (12, False)):
        (tmp_path / f"checkpoint-{step}").mkdir()
        if complete:
            (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    assert newest_checkpoint(tmp_path) == tmp_path / "checkpoint-8"
    assert newest_checkpoint(tmp_path / "none") is None


@pytest.mark.slow
def test_a_run_stopped_after_its_weights_are_written_leaves_the_previous_adapter_whole(tmp_path, tiny_model,
                                                                                        small_csv, monkeypatch):
    """Issue 22 item 1: Ctrl-C during the validation, after the new weights and record exist, leaves the previous
    adapter exactly as it was (the old kit had already overwritten its weights) and no build folder behind."""
    from kit.packs.prompt_recovery import train as train_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # what Ctrl-C raises in the main thread while validation generates

    monkeypatch.setattr(train_module, "evaluate", interrupted)
    out = tmp_path / "adapter"
    before = _previous_adapter(out)
    cfg = TrainConfig(data=str(small_csv), base_model_path=str(tiny_model), out=str(out), template="zeroshot",
                      max_steps=2, batch_size=1, grad_accum=1, max_length=256, eval_rows=1)
    with pytest.raises(KeyboardInterrupt):
        train_module.train(cfg, progress=False)
    assert _contents(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".adapter")] == []
    assert (tmp_path / "adapter-checkpoints" / "checkpoint-2").is_dir()  # what was trained is kept for --resume
    with pytest.raises(InputError, match="embedder folder not found"):  # and a missing embedder is found first
        train_module.train(cfg, embedder_path=str(tmp_path / "no-embedder"), progress=False)


@pytest.mark.slow
def test_ctrl_c_stops_the_notebook_keeps_the_old_adapter_and_resume_continues(tmp_path, tiny_model, small_csv,
                                                                              capsys):
    """Issue 22 items 1 and 4: Ctrl-C (SIGINT to `kit train`, the notebook's kernel running in a session of its
    own) stops the training kernel, leaves the previous adapter whole and, with save_steps far beyond the run, a
    checkpoint from the quarter schedule; the line says so, and --resume continues from that checkpoint."""
    import os
    import re
    import signal
    import subprocess
    import sys
    import threading

    from kit.cli import run

    out = tmp_path / "adapter"
    before = _previous_adapter(out)
    argv = ["train", "--data", str(small_csv), "--base", str(tiny_model), "--out", str(out), "--template",
            "zeroshot"] + _knobs(max_steps=40, batch_size=1, grad_accum=1, max_length=256, logging_steps=1,
                                 save_steps=1000, eval_rows=0, val_fraction=0)
    # SIGINT at its default in the child, as in a terminal (a shell's background job would ignore it)
    proc = subprocess.Popen([sys.executable, "-m", "kit", *argv], stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS="1"),
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    watchdog = threading.Timer(600, proc.kill)
    watchdog.start()
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("[train] step 13/40"):  # after checkpoint-10
            proc.send_signal(signal.SIGINT)
            break
    said = "".join(seen) + proc.stderr.read()
    code = proc.wait()
    watchdog.cancel()
    assert code == 130, said[-3000:]
    steps = [int(m) for m in re.findall(r"\[train\] step (\d+)/40", said)]
    assert 13 <= max(steps) < 40  # the kernel stopped: it did not train on
    assert _contents(out) == before
    match = re.search(rf"\[train\] interrupted; {re.escape(str(out))} is unchanged; newest checkpoint (\S+): rerun "
                      "the same command with --resume", said)
    assert match, said[-3000:]
    checkpoint = match.group(1)
    assert re.search(r"checkpoint-(10|20|30)$", checkpoint)  # a quarter of the run, not save_steps
    assert run(argv + ["--no-notebook", "--resume"]) == 0, capsys.readouterr().err[-3000:]
    assert "no checkpoint" not in capsys.readouterr().err
    meta = json.loads((out / "kit_adapter.json").read_text())
    assert meta["resumed_from"] == checkpoint and meta["global_step"] == 40
    assert (out / "adapter_model.safetensors").read_bytes() != before["adapter_model.safetensors"]
