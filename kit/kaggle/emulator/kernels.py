"""Kernel RPCs of the emulator: push (SaveKernel) and run a kernel version in the background, its status and output;
`prepare` mounts a version's sources for any run of it, a scoring re-run's included."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

from kit.kaggle.emulator import runner
from kit.kaggle.emulator.faults import Faults
from kit.kaggle.emulator.packs import Packs
from kit.kaggle.emulator.state import ApiError, State, require_owner
from kit.kaggle.kernel_metadata import SOURCE_LIMIT_BYTES
from kit.kernel.inputs import DEFAULT_LAYOUT, mount_path

TERMINAL = ("COMPLETE", "ERROR", "CANCEL_ACKNOWLEDGED")


def start_thread(fn: Any, *args: Any) -> None:
    """Run `fn(*args)` in the background, as Kaggle runs kernels and scoring after answering the request."""
    threading.Thread(target=fn, args=args, daemon=True, name=f"emulator-{fn.__name__}").start()


class Kernels:
    """Kernel versions in `state`, run with the competition views of `packs`; `faults` may fail a run."""

    def __init__(self, state: State, faults: Faults, base_url: str, packs: Packs) -> None:
        self.state = state
        self.faults = faults
        self.base_url = base_url
        self.packs = packs

    def save_kernel(self, user: str, body: dict) -> dict:
        ref = body.get("slug") or ""
        if ref.count("/") != 1:
            raise ApiError(400, f"Kernel slug {ref!r} must be owner/slug")
        require_owner(user, ref.split("/")[0])
        if len(str(body.get("text", "")).encode()) >= SOURCE_LIMIT_BYTES:
            raise ApiError(400, "The kernel source must be less than 1 megabytes in size.")
        mounts, invalid = self._mounts(body)
        timeout = float(body.get("sessionTimeoutSeconds") or self.state.config["max_session_seconds"])
        timeout = min(timeout, float(self.state.config["max_session_seconds"]))
        with self.state.lock:
            kernel = self.state.data["kernels"].setdefault(ref, {"title": body.get("newTitle") or ref, "versions": []})
            number = len(kernel["versions"]) + 1
            quick = body.get("kernelExecutionType") == "QUICK_SAVE"
            version = {"number": number, "created": time.time(), "status": "COMPLETE" if quick else "QUEUED",
                       "failureMessage": "", "text": body.get("text", ""),
                       "kernelType": body.get("kernelType", "notebook"), "timeout": timeout,
                       "mounts": {k: str(v) for k, v in mounts.items()},
                       "competitions": list(body.get("competitionDataSources") or [])}
            kernel["versions"].append(version)
            self.state.save()
        if not quick:
            start_thread(self._run_kernel, ref, number)
        return {"ref": ref, "url": f"{self.base_url}/code/{ref}", "versionNumber": number, "error": "",
                "kernelId": abs(hash(ref)) % 10**8, "invalidTags": [], **invalid}

    def _mounts(self, body: dict) -> tuple[dict[str, Path], dict[str, list[str]]]:
        """{source ref: host folder} for a kernel's dataset, model and kernel sources, plus the invalid ones.

        Refs are kept, not paths: where each one appears under /kaggle/input depends on the layout of the run."""
        mounts: dict[str, Path] = {}
        invalid: dict[str, list[str]] = {"invalidDatasetSources": [], "invalidCompetitionSources": [],
                                         "invalidKernelSources": [], "invalidModelSources": []}
        for src in body.get("datasetDataSources") or []:
            parts = src.split("/")
            version = self.state.ready_version("/".join(parts[:2]), int(parts[2]) if len(parts) > 2 else None)
            if version is None:
                invalid["invalidDatasetSources"].append(src)
                continue
            mounts[f"dataset:{src}"] = self.state.dataset_dir("/".join(parts[:2]), version["number"])
        for src in body.get("modelDataSources") or []:
            path = self.state.model_dir(src)
            if not path.is_dir():
                invalid["invalidModelSources"].append(src)
                continue
            mounts[f"model:{src}"] = path
        for src in body.get("kernelDataSources") or []:
            parts = src.split("/")
            label = parts[2] if len(parts) > 2 and parts[2].isdigit() else None
            version = self.state.kernel_version("/".join(parts[:2]), int(label) if label else None)
            if version is None or version.get("status") != "COMPLETE":
                invalid["invalidKernelSources"].append(src)
                continue
            mounts[f"kernel:{src}"] = self.state.kernel_dir("/".join(parts[:2]), version["number"]) / "run" / "working"
        for comp in body.get("competitionDataSources") or []:
            try:
                self.packs.pack(comp)
            except ApiError:
                invalid["invalidCompetitionSources"].append(comp)
        return mounts, invalid

    def prepare(self, ref: str, version: dict, run_dir: Path, hidden: bool, **mount_options: Any) -> Path:
        """The run folder of one kernel run, its sources mounted; `mount_options` go to the competition's view
        (a scoring re-run's `part` and `rows`, which only views that take them are given)."""
        layout = str(self.state.config.get("input_layout") or DEFAULT_LAYOUT)
        mounts: dict[str, Path] = {}
        for key, path in version["mounts"].items():
            kind, _, src = key.partition(":")
            mounts[_mount_path(kind, src, layout)] = Path(path)
        for comp in version["competitions"]:
            comp_dir = run_dir.parent / f"{run_dir.name}-competition-{comp}"
            if comp_dir.exists():
                shutil.rmtree(comp_dir)
            self.packs.pack(comp).mount(comp_dir, hidden=hidden, **mount_options)
            mounts[mount_path(comp, layout)] = comp_dir
        return runner.prepare_run(run_dir, text=version["text"], kernel_type=version["kernelType"], mounts=mounts,
                                  timeout=version["timeout"], rerun=hidden)

    def _run_kernel(self, ref: str, number: int) -> None:
        version = self.state.kernel_version(ref, number)
        self.state.update(version, status="RUNNING")
        fault = self.faults.take(kind="kernel_error")
        if fault is not None:  # fail without spending a run
            self.state.update(version, status="ERROR", failureMessage=fault.get("message", "Injected kernel failure"))
            return
        try:
            run_dir = self.prepare(ref, version, self.state.kernel_dir(ref, number) / "run", hidden=False)
            result = runner.execute_run(run_dir)
        except Exception as exc:
            result = {"status": "ERROR", "failureMessage": f"emulator could not run the kernel: {exc}"}
        self.state.update(version, **result)

    def kernel_or_404(self, body: dict) -> tuple[str, dict]:
        ref = f"{body.get('userName', '')}/{body.get('kernelSlug', '')}"
        label = str(body.get("versionLabel") or "").lstrip("v")
        version = self.state.kernel_version(ref, int(label) if label.isdigit() else None)
        if version is None:
            raise ApiError(404, f"Kernel '{ref}' version '{label or 'latest'}' not found")
        return ref, version

    def get_kernel_session_status(self, user: str, body: dict) -> dict:
        _, version = self.kernel_or_404(body)
        return {"status": version["status"], "failureMessage": version.get("failureMessage", "")}

    def list_kernel_session_output(self, user: str, body: dict) -> dict:
        ref, version = self.kernel_or_404(body)
        run_dir = self.state.kernel_dir(ref, version["number"]) / "run"
        files: list[dict] = []
        if version["status"] in TERMINAL:
            files = [{"fileName": name, "url": f"{self.base_url}/files/{ref}/{version['number']}/{name}"}
                     for name in runner.output_files(run_dir)]
        return {"files": files, "log": runner.run_log(run_dir), "nextPageToken": ""}

    def output_file(self, rel: str) -> Path | None:
        """Resolve /files/<owner>/<slug>/<version>/<name> to a file inside that run's working dir."""
        parts = rel.split("/", 3)
        if len(parts) != 4 or not parts[2].isdigit():
            return None
        working = (self.state.kernel_dir(f"{parts[0]}/{parts[1]}", int(parts[2])) / "run" / "working").resolve()
        path = (working / parts[3]).resolve()
        return path if path.is_file() and working in path.parents else None


def _mount_path(kind: str, src: str, layout: str) -> str:
    """Where a kernel source appears under /kaggle/input in `layout`."""
    if kind == "kernel":  # another kernel's output; the 2025-26 folder is inferred from the dataset/model pattern
        owner, slug = src.split("/")[:2]
        return f"notebooks/{owner}/{slug}" if layout == "2025" else slug
    return mount_path(src, layout)
