"""`kit demo`: the whole chain against the sandbox on embedded defaults."""

from __future__ import annotations

import pytest
from helpers import run_kit_fresh

from kit.config import config_from_dict
from kit.demo import demo_config


def test_demo_config_uses_sandbox_identity_and_embedded_defaults():
    cfg = demo_config(config_from_dict({"kaggle": {"username": "alice", "base_model": "alice/mistral-7b",
                                                   "adapter_dataset": "my-adapter"},
                                        "infer": {"template": "mean"}}))
    assert (cfg.kaggle.username, cfg.kaggle.base_model) == ("", "")
    assert cfg.kaggle.adapter_dataset == "my-adapter"  # the workspace's slugs are kept
    assert cfg.infer.template == "best" and cfg.train.base_model_path == ""


def test_demo_help_is_light():
    out, heavy = run_kit_fresh(["demo", "--help"])
    assert out.returncode == 0, out.stderr
    assert heavy == [] and "--steps" in out.stdout


def _kernel_log(ref: str) -> str:
    import json

    from kit.kaggle.sandbox import sandbox_dir

    path = sandbox_dir() / "state" / "kernels" / ref / "1" / "run" / "src" / "log.json"
    return "".join(entry["data"] for entry in json.loads(path.read_text()))


@pytest.mark.slow
@pytest.mark.parametrize(("layout", "template"), [("2025", "zeroshot"), ("2024", "mean")])
def test_demo_runs_the_whole_chain_in_the_sandbox(tmp_path, monkeypatch, tiny_model, layout, template):
    """Acceptance: `kit demo` in a fresh KIT_HOME; the kernel installs the kit from the wheels dataset with no
    network, finds every source under the selected layout, and is scored. The 2024 run uses the model-free
    `mean` template to keep the suite fast (no training, no generation): its sources are the competition and
    the wheels; models and datasets in the 2024 layout are covered by the emulator's hand-written notebook."""
    from kit import demo
    from kit.demo import run_demo
    from kit.history import history
    from kit.kaggle.isolation import isolation_problem
    from kit.kaggle.sandbox import stop_emulator
    from kit.ledger import Ledger
    from kit.packs.prompt_recovery import edges

    # the chain is under test here, not generation quality: the tiny model and one short prime keep the hidden-set
    # re-run quick (`make demo` runs the same chain on the embedded instruct model with the `best` template)
    monkeypatch.setattr(demo, "DEMO_INFER", {"batch_size": 20})
    monkeypatch.setattr(edges, "DEMO_INFER", {"max_new_tokens": 4, "max_field_tokens": 32})
    monkeypatch.setitem(edges.DEMO_TRAIN, "eval_rows", 0)  # no local score: saves loading the embedder
    said: list[str] = []
    try:
        result = run_demo(config_from_dict({"kaggle": {"sandbox_input_layout": layout}}), workdir=tmp_path / "demo",
                          steps=1, template=template, model=tiny_model, say=said.append, timeout=600)
        from kit.kaggle.sandbox import recorded, sandbox_dir

        assert recorded(sandbox_dir() / "state") is None  # the demo started it, the demo stopped it
        assert any(m.startswith("stopped the sandbox emulator the demo started") for m in said)
    finally:
        stop_emulator()
    row = result["row"]
    assert row["status"] == "complete", row["error"]
    assert row["public_score"] is not None and row["private_score"] is not None
    assert row["wheels_ref"] == "sandbox-user/kit-offline-wheels" and row["wheels_version"] == 1
    assert row["template"] == template and row["sandbox"] == 1
    with Ledger() as led:
        kinds = {d["kind"] for d in led.datasets()}
    if template == "zeroshot":
        assert (row["adapter_ref"], row["adapter_version"]) == ("sandbox-user/kit-lora-adapter", 1)
        assert row["base_model_source"] == demo.DEMO_MODEL_REF  # the base model went in as a Model source
        assert {"adapter", "wheels"} <= kinds
    else:
        assert kinds == {"wheels"} and not any("train" in name for name in result["timings"])
    assert [o["id"] for o in history("llm-prompt-recovery", sandbox=True)] == [row["id"]]
    assert any(m.startswith("kernel output submission.csv") for m in said)
    assert "submit and wait for the score" in result["timings"]
    log = _kernel_log("sandbox-user/kit-prompt-recovery-infer")
    assert "Successfully installed kaggle-kit" in log  # the offline install ran: the image lacked the kit
    if isolation_problem():  # degraded here: said once, plainly, in the output and the log
        assert sum("NOT isolated" in m for m in said) == 1 and "NOT isolated" in log
        return
    assert "sandbox kernel: network interfaces lo;" in log  # loopback only, seen from inside the kernel
    where = {"2025": {"wheels": "datasets/sandbox-user/kit-offline-wheels",
                      "adapter": "datasets/sandbox-user/kit-lora-adapter",
                      "model": "models/sandbox-user/kit-demo-base/transformers/default/1",
                      "competition": "competitions/llm-prompt-recovery"},
             "2024": {"wheels": "kit-offline-wheels", "competition": "llm-prompt-recovery"}}[layout]
    assert f"installing kaggle-kit offline from /kaggle/input/{where['wheels']} --no-deps" in log
    found = next(line for line in log.splitlines() if line.startswith("inputs: "))  # what the kernel resolved
    assert set(found[len("inputs: "):].split(", ")) == {f"{n} /kaggle/input/{rel}" for n, rel in where.items()}
