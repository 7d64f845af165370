"""Helpers for tests that drive the emulator: a tiny generic competition pack and kernel-folder writers.

`SimplePack` needs no model: its hidden test set has a few ids, and a submission scores the share of rows whose
prediction equals the label. Public and private parts are a fixed split of the ids, as in the real pack.
"""

from __future__ import annotations

import csv
import json
import urllib.request
from pathlib import Path

SIMPLE_LABELS = {"1": "alpha", "2": "beta", "3": "gamma", "4": "delta"}
PUBLIC_IDS = {"1", "2"}


def admin(url: str, path: str, data: object | None = None, method: str | None = None) -> dict:
    """Call the emulator's `/_admin/<path>` endpoint directly (no proxy), e.g. to switch faults on or off."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    body = json.dumps(data).encode() if data is not None else None
    req = urllib.request.Request(f"{url}/_admin/{path}", data=body, method=method)
    with opener.open(req, timeout=5) as resp:
        return json.loads(resp.read())


def set_state(url: str, *, participation: str = "joined", submissions_open: bool = True) -> dict:
    """Put the emulator's account in a participation state: 'joined', 'not_joined' (GetSubmissionLimits all
    zero, submit and download 403) or 'rules_not_accepted' (listing, submit and download 403); and open or
    close the competition to (late) submissions."""
    from kit.kaggle.emulator.state import PARTICIPATION

    if participation not in PARTICIPATION:
        raise ValueError(f"participation must be one of {PARTICIPATION}")
    return admin(url, "config", {"participation": participation, "submissions_open": submissions_open})


def lose_answer(url: str, method: str, *, status: int | None = None, times: int = 1) -> dict:
    """The next `times` calls of `method` are performed, then their answer is lost: the connection closes
    (default) or the client gets `status` (a 5xx)."""
    rule = {"method": method, "times": times, **({"status": status, "after": True} if status else {"drop": True})}
    return admin(url, "faults", rule)


class SimplePack:
    """A competition with a 4-row hidden test set; the metric is exact-match accuracy."""

    submission_file = "submission.csv"
    mechanism = "file"
    seed_leaderboard = (("Seeded Team Alpha", 0.75), ("Seeded Team Beta", 0.25))

    def __init__(self, slug: str = "llm-prompt-recovery") -> None:
        self.slug = slug

    def mount(self, dest: Path, hidden: bool) -> Path:
        dest.mkdir(parents=True, exist_ok=True)
        ids = list(SIMPLE_LABELS) if hidden else ["-1"]
        with open(dest / "test.csv", "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "text"])
            writer.writerows([i, f"text {i}"] for i in ids)
        (dest / "sample_submission.csv").write_text("id,answer\n1,alpha\n")
        return dest

    def score(self, submission: Path) -> dict[str, float]:
        with open(submission, newline="") as fh:
            rows = {r["id"]: r.get("answer", "") for r in csv.DictReader(fh)}
        missing = sorted(set(SIMPLE_LABELS) - set(rows))
        if missing:
            raise ValueError(f"submission is missing ids {', '.join(missing)}")

        def part(ids: set[str]) -> float:
            return sum(rows[i] == SIMPLE_LABELS[i] for i in ids) / len(ids)

        return {"public": part(PUBLIC_IDS), "private": part(set(SIMPLE_LABELS) - PUBLIC_IDS)}


def write_kernel(folder: Path, ref: str, source: str, *, kernel_type: str = "script",
                 dataset_sources: list[str] | None = None,
                 competition_sources: list[str] | None = None, model_sources: list[str] | None = None) -> Path:
    """A kernel folder (kernel-metadata.json + code) the official client can push."""
    folder.mkdir(parents=True, exist_ok=True)
    code_file = "kernel.py" if kernel_type == "script" else "kernel.ipynb"
    if kernel_type == "script":
        (folder / code_file).write_text(source)
    else:
        (folder / code_file).write_text(json.dumps(notebook(source)))
    meta = {"id": ref, "title": ref.split("/")[1].replace("-", " "), "code_file": code_file, "language": "python",
            "kernel_type": kernel_type, "is_private": True, "enable_gpu": False, "enable_internet": False,
            "dataset_sources": dataset_sources or [], "competition_sources": competition_sources or [],
            "kernel_sources": [], "model_sources": model_sources or []}
    (folder / "kernel-metadata.json").write_text(json.dumps(meta, indent=1))
    return folder


def notebook(source: str, parameters: str = "input_dir = '/kaggle/input'") -> dict:
    """A minimal papermill-ready notebook: a `parameters` cell, then `source`."""
    def cell(src: str, tags: list[str]) -> dict:
        return {"cell_type": "code", "execution_count": None, "metadata": {"tags": tags}, "outputs": [],
                "source": src}

    return {"cells": [cell(parameters, ["parameters"]), cell(source, [])],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}
