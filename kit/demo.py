"""`kit demo` / `make demo`: the whole chain on embedded defaults, against the local sandbox.

Train a tiny LoRA adapter (a few steps on the embedded tiny model and sample data), push it as a dataset,
build and push the wheels bundle (the kit's own wheel only), render the kernel with the `best` template,
submit it (push, run, check the output, code-submit that version, poll the score) and print the ledger.
Each step is the same library call the individual commands make; nothing here talks to kaggle.com.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kit.config import KitConfig, load_config

DEMO_DIR = Path("kit-demo")
TRAIN_STEPS = 4
DEMO_TRAIN_ROWS = 40  # 36 to train on, 4 held out for the adapter's local validation score
DEMO_TRAIN = {"batch_size": 2, "grad_accum": 1, "gradient_checkpointing": False, "val_fraction": 0.1,
              "eval_rows": 4, "eval_max_new_tokens": 12}
# Short fields and answers: the tiny model's CPU generation over the hidden rows dominates the demo's run time.
DEMO_INFER = {"batch_size": 16, "max_new_tokens": 12, "max_field_tokens": 96}


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def demo_config(base: KitConfig | None = None, template: str = "best") -> KitConfig:
    """The demo's config: the workspace's competition and slugs, with sandbox identity and embedded defaults."""
    cfg = base or load_config()
    kaggle = dataclasses.replace(cfg.kaggle, username="", base_model="")  # sandbox account, embedded tiny model
    infer = dataclasses.replace(cfg.infer, template=template, base_model_path="", **DEMO_INFER)
    train = dataclasses.replace(cfg.train, base_model_path="", data="", template="fewshot")
    return dataclasses.replace(cfg, kaggle=kaggle, infer=infer, train=train)


def _sample_rows(dest: Path, rows: int) -> Path:
    """The first `rows` records of the bundled train.csv: a few steps never reach the rest."""
    import csv
    import itertools

    from kit.assets import sample_data_dir

    with open(sample_data_dir() / "train.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        head = list(itertools.islice(reader, rows))
        columns = list(reader.fieldnames or [])
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(head)
    return dest


def _train(cfg: KitConfig, out: Path, steps: int) -> dict[str, Any]:
    from kit.recovery.train import train

    data = _sample_rows(out.parent / "train.csv", DEMO_TRAIN_ROWS)
    knobs = dataclasses.replace(cfg.train, data=str(data), out=str(out), checkpoint_dir="", max_steps=steps,
                                save_steps=max(steps, 1), logging_steps=1, resume=False, **DEMO_TRAIN)
    return train(knobs, progress=False).meta


def _wheels(cfg: KitConfig, out: Path) -> dict[str, Any]:
    from kit.wheels import build_bundle, push_bundle, sandbox_bundle

    # The sandbox's stand-in image holds every dependency: the kernel installs just the kit's wheel (--no-deps).
    build_bundle(out, kit_only=True, kit_wheel=next(sandbox_bundle().glob("*.whl")), verify=False)
    return push_bundle(out, cfg, sandbox=True)


def run_demo(config: KitConfig | None = None, *, workdir: Path = DEMO_DIR, steps: int = TRAIN_STEPS,
             template: str = "best", say: Callable[[str], None] | None = None,
             timeout: float = 900.0) -> dict[str, Any]:
    """Run every step against the sandbox; returns the ledger row of the scored submission plus step timings."""
    from kit.build import build_submission
    from kit.kaggle.client import kaggle_client
    from kit.kaggle.isolation import degraded_notice, isolation_problem
    from kit.pushes import push_dataset
    from kit.submit import submit

    say = say or _say
    cfg = demo_config(config, template)
    problem = isolation_problem()
    say(degraded_notice(problem) if problem else "sandbox kernels run isolated: user, mount and network namespaces, "
        f"inputs at /kaggle/input ({cfg.kaggle.sandbox_input_layout} layout), the kit installed from the wheels")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    def step(name: str, fn: Callable[[], Any]) -> Any:
        say(f"== {name}")
        started = time.monotonic()
        result = fn()
        timings[name] = round(time.monotonic() - started, 1)
        say(f"   done in {timings[name]:.1f} s")
        return result

    from kit.recovery.templates import get_template

    adapter, meta = workdir / "adapter", {}
    uses_model = bool(get_template(template).primes)  # a model-free template (mean) mounts no adapter
    if uses_model:
        meta = step(f"train a tiny LoRA adapter ({steps} steps)", lambda: _train(cfg, adapter, steps))
        cfg = dataclasses.replace(cfg, infer=dataclasses.replace(cfg.infer, adapter_path=str(adapter)))
    client = step("start the sandbox", lambda: kaggle_client(cfg, sandbox=True))
    if uses_model:
        pushed = step("push the adapter", lambda: push_dataset(client, adapter, cfg.kaggle.adapter_dataset,
                                                                 kind="adapter", notes="kit demo"))
        say(f"   {pushed.ref} v{pushed.version}{' (unchanged, not uploaded)' if pushed.skipped else ''}")
    wheels = step("build and push the wheels bundle (kit wheel only)", lambda: _wheels(cfg, workdir / "wheels"))
    say(f"   {wheels['ref']} v{wheels['version']}")
    kernel = step(f"build the submission (template {template})",
                  lambda: build_submission(cfg, template=template, out=workdir / "kernel", sandbox=True))
    row = step("submit and wait for the score", lambda: submit(
        cfg, workdir / "kernel", message="kit demo", allow_dirty=True, sandbox=True, timeout=timeout, say=say,
        client=client))
    return {"row": row, "timings": timings, "adapter": str(adapter), "val_score": (meta.get("val_score") or {}),
            "kernel": kernel["folder"]}
