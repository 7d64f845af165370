"""Small helpers shared by test modules (pytest puts tests/ on sys.path)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("torch", "transformers", "peft", "sentence_transformers", "kaggle", "matplotlib")
PROMPT_RECOVERY = "llm-prompt-recovery"  # no pack is the kit's default: a test names the one it runs


def pr_config(data: dict | None = None):
    """A validated KitConfig for the prompt-recovery pack: `data` as kit.toml would hold it, the slug added."""
    from kit.config import config_from_dict

    return config_from_dict(data or {}, competition=PROMPT_RECOVERY)


def pr_workspace(toml: str = "", folder: Path | None = None) -> Path:
    """kit.toml in `folder` (default: .) naming the prompt-recovery pack, then the `toml` text given (for the
    CLI and `load_config()`); its path."""
    path = (folder or Path.cwd()) / "kit.toml"
    path.write_text(f'[competition]\nslug = "{PROMPT_RECOVERY}"\n{toml}', encoding="utf-8")
    return path


def run_kit_fresh(argv: list[str], cwd: Path | None = None,
                  watch: tuple[str, ...] = HEAVY) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run `kit ARGV` in a fresh interpreter; return the process and which `watch` modules it imported."""
    code = ("import sys; from kit.cli import run; rc = run(sys.argv[1:]); "
            f"print('HEAVY', [m for m in {watch!r} if m in sys.modules]); sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60, cwd=cwd)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("HEAVY ")), "HEAVY None")
    return out, eval(line[len("HEAVY "):])  # the list literal printed above


def sharpened_cosines(predictions: list[str], labels: list[str], strip: bool = True) -> list[float]:
    """The competition metric per row, computed here from raw embeddings of the bundled proxy embedder:
    max(cos, 0)^3 between each prediction (lucrarea suffix removed when `strip`, as local scoring does for the
    proxy) and its label. An independent check on the kit's own metric code."""
    import numpy as np

    from kit.packs.prompt_recovery.metric import load_embedder
    from kit.packs.prompt_recovery.templates import strip_suffix

    model = load_embedder().model  # loaded once per process
    preds = [strip_suffix(p) for p in predictions] if strip else list(predictions)
    # normalised here in float64: a bf16 model's own normalisation leaves norms ~1e-3 away from 1
    a, b = (np.asarray(model.encode(texts), dtype=np.float64) for texts in (preds, list(labels)))
    a, b = (m / np.linalg.norm(m, axis=1, keepdims=True) for m in (a, b))
    return [float(v) for v in np.clip((a * b).sum(axis=1), 0.0, 1.0) ** 3]


def install_toy_pack(tmp_path: Path, monkeypatch, module: str, slug: str):
    """Register the toy pack `module` (in tests/toy_pack) under the `kit.packs` entry points as `slug`, for this
    process and its children (a real dist-info on sys.path and PYTHONPATH), and write a kit.toml naming it.
    A generator: iterate it once to install, once more to forget the pack (use it from a fixture)."""
    import os

    toy = Path(__file__).resolve().parent / "toy_pack"
    site = tmp_path / "site"
    info = site / f"{module}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[kit.packs]\n{slug} = {module}:PACK\n", encoding="utf-8")
    for folder in (str(toy), str(site)):
        monkeypatch.syspath_prepend(folder)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(toy), str(site), os.environ.get("PYTHONPATH", "")]))
    sys.modules.pop(module, None)  # imported afresh from this fixture's path, and forgotten afterwards
    (Path.cwd() / "kit.toml").write_text(f'[competition]\nslug = "{slug}"\n', encoding="utf-8")
    yield
    from kit import pack

    pack._PACKS.pop(slug, None)
    sys.modules.pop(module, None)
