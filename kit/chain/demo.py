"""`kit demo` / `make demo`: the whole chain on embedded defaults, against the local sandbox.

For a recipe that loads a model, train a small adapter through the pack (a few steps on the embedded instruct
model) and show what it predicts for a few held-out rows beside the answers, publish the base model as a sandbox
Model source and push the adapter as a dataset. Then build and push the wheels bundle (the kit's own wheel only),
render the kernel with the recipe (default: the config's [infer] template, the pack's default), submit it (push,
run, check the output, code-submit that version, poll the score) and print the ledger. Each step is the same
library call the individual commands make; nothing here talks to kaggle.com.
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
TRAIN_STEPS = 2
# A short time budget: CPU generation over the hidden rows dominates the demo's run time, and the kernel's time
# guard leaves the rows it cannot reach on the fallback (the submission stays whole). The pack's `demo_config`
# adds its own knobs (shorter answers and fields for prompt recovery).
DEMO_INFER = {"batch_size": 8, "budget_seconds": 150, "margin_seconds": 30}
DEMO_MODEL_REF = "sandbox-user/kit-demo-base/transformers/default/1"


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def demo_config(base: KitConfig | None = None, template: str | None = None, model: Path | None = None) -> KitConfig:
    """The demo's config: the workspace's competition, slugs and template (`template` overrides it), with sandbox
    identity and embedded defaults (`model`, or empty for the embedded instruct model), tuned by the competition
    pack for a short CPU run."""
    from kit.pack import get_pack

    cfg = base or load_config()
    local = str(model) if model else ""
    kaggle = dataclasses.replace(cfg.kaggle, username="", base_model="")  # sandbox account; the demo publishes one
    infer = dataclasses.replace(cfg.infer, template=template or cfg.infer.template, base_model_path=local,
                                **DEMO_INFER)
    cfg = dataclasses.replace(cfg, kaggle=kaggle, infer=infer)
    return get_pack(cfg.competition.slug).demo_config(cfg, local)


def _wheels(cfg: KitConfig, out: Path) -> dict[str, Any]:
    from kit.chain.wheels import (
        SANDBOX_PLATFORM,
        SANDBOX_PYTHON,
        build_bundle,
        push_bundle,
        sandbox_bundle,
        sandbox_image_freeze,
    )

    # The sandbox's stand-in image holds every dependency: the kernel installs just the kit's wheel (--no-deps).
    build_bundle(out, kit_only=True, kit_wheel=next(sandbox_bundle().glob("*.whl")), verify=False,
                 python_version=SANDBOX_PYTHON, platform=SANDBOX_PLATFORM, image_freeze=sandbox_image_freeze())
    return push_bundle(out, cfg, sandbox=True)


def run_demo(config: KitConfig | None = None, *, workdir: Path = DEMO_DIR, steps: int = TRAIN_STEPS,
             template: str | None = None, model: Path | None = None, say: Callable[[str], None] | None = None,
             timeout: float = 900.0, keep_sandbox: bool = False) -> dict[str, Any]:
    """Run every step against the sandbox; returns the ledger row of the scored submission plus step timings.

    `model` is the base model (default: the embedded instruct model); it is trained on and published to the
    sandbox as a Model source that the kernel mounts, as a Kaggle Model would be. A sandbox emulator the demo had
    to start is stopped at the end (and it says so) unless `keep_sandbox`."""
    from kit.kaggle.sandbox import recorded, sandbox_dir, stop_emulator

    say = say or _say
    was_running = recorded(sandbox_dir() / "state") is not None
    try:
        return _run_demo(config, workdir, steps, template, model, say, timeout)
    finally:
        if not was_running and not keep_sandbox and stop_emulator():
            say("stopped the sandbox emulator the demo started (--keep-sandbox leaves it running)")


def _run_demo(config: KitConfig | None, workdir: Path, steps: int, template: str | None, model: Path | None,
              say: Callable[[str], None], timeout: float) -> dict[str, Any]:
    from kit.assets import default_model_path
    from kit.chain.adapter import push_adapter
    from kit.chain.build import build_submission
    from kit.chain.submit import submit
    from kit.kaggle.client import kaggle_client
    from kit.kaggle.isolation import degraded_notice, isolation_problem
    from kit.kaggle.sandbox import publish_model
    from kit.pack import get_pack, get_recipe

    base = config or load_config()
    pack = get_pack(base.competition.slug)
    template = template or base.infer.template
    recipe = get_recipe(pack, template)  # a bad name fails here, before the instruct model is converted
    uses_model = recipe.needs_model  # a model-free recipe (mean) mounts no model or adapter
    model = (Path(model) if model else default_model_path()) if uses_model else None
    cfg = demo_config(base, template, model)
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

    adapter, meta = workdir / "adapter", {}
    if model is not None:
        meta = step(f"train a LoRA adapter on {model.name} ({steps} steps)",
                    lambda: pack.train_adapter(cfg, adapter, steps))
        for example in (meta.get("val_score") or {}).get("examples", []):
            say(f"   recovered: {example['prediction']}\n   true:      {example['label']}")
        cfg = dataclasses.replace(cfg, infer=dataclasses.replace(cfg.infer, adapter_path=str(adapter)),
                                  kaggle=dataclasses.replace(cfg.kaggle, base_model=DEMO_MODEL_REF))
    client = step("start the sandbox", lambda: kaggle_client(cfg, sandbox=True))
    if model is not None:
        step(f"publish {model.name} as the sandbox Model {DEMO_MODEL_REF}",
             lambda: publish_model(DEMO_MODEL_REF, model))
        pushed = step("push the adapter", lambda: push_adapter(cfg, adapter, notes="kit demo", client=client))
        say(f"   {pushed['ref']} v{pushed['version']}{' (unchanged, not uploaded)' if pushed['skipped'] else ''}")
    wheels = step("build and push the wheels bundle (kit wheel only)", lambda: _wheels(cfg, workdir / "wheels"))
    say(f"   {wheels['ref']} v{wheels['version']}")
    kernel = step(f"build the submission (template {template})",
                  lambda: build_submission(cfg, template=template, out=workdir / "kernel", sandbox=True))
    row = step("submit and wait for the score", lambda: submit(
        cfg, workdir / "kernel", message="kit demo", allow_dirty=True, sandbox=True, timeout=timeout, say=say,
        client=client))
    return {"row": row, "timings": timings, "adapter": str(adapter), "val_score": (meta.get("val_score") or {}),
            "kernel": kernel["folder"]}
