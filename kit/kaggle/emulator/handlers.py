"""The RPC handlers: Kaggle's request/response shapes (camelCase JSON, status fields always present).

Each handler takes (user, body) and returns a JSON-able dict or raises `ApiError(status, message)`.
Kernel runs and submission scoring happen in background threads; the competition-specific part (files,
hidden test set, scorer) is the emulator view of the competition's pack (kit.pack, by slug), so this module
knows nothing of any competition.
"""

from __future__ import annotations

import secrets
import shutil
import tarfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

from kit.kaggle.emulator import runner
from kit.kaggle.emulator.catalog import CatalogRpcs, Redirect
from kit.kaggle.emulator.competitions import CompetitionRpcs
from kit.kaggle.emulator.faults import Faults
from kit.kaggle.emulator.models import ModelRpcs
from kit.kaggle.emulator.packs import PackHost, load_pack
from kit.kaggle.emulator.state import ApiError, State, iso, link_model
from kit.kaggle.kernel_metadata import SOURCE_LIMIT_BYTES
from kit.kernel.inputs import DEFAULT_LAYOUT, mount_path

__all__ = ["ROUTES", "UNAUTHENTICATED", "Api", "ApiError", "Redirect", "load_pack"]

TERMINAL = ("COMPLETE", "ERROR", "CANCEL_ACKNOWLEDGED")


class Api(PackHost, CompetitionRpcs, CatalogRpcs, ModelRpcs):
    """All RPCs over one State (competition, read-side and model RPCs in their mixins)."""

    def __init__(self, state: State, faults: Faults, base_url: str, pack: Any = None) -> None:
        self.state = state
        self.faults = faults
        self.base_url = base_url
        # Pinned to one competition: an in-process pack object (tests), else config["pack"] loaded on first use.
        self._pack: Any = pack
        self._packs: dict[str, Any] = {}  # by slug, when none is pinned
        self._pack_lock = threading.Lock()

    # ------------------------------------------------------------------ helpers

    def _own(self, user: str, owner: str) -> None:
        if owner != user:
            raise ApiError(403, f"Permission denied: {user} cannot write to {owner}'s resources")

    # ------------------------------------------------------------------ auth

    def token_user(self, token: str) -> str | None:
        """The user a bearer token belongs to: the configured token (its username) or '<token>:<username>'."""
        base = str(self.state.config["token"])
        if token == base:
            return str(self.state.config["username"])
        if token.startswith(base + ":") and len(token) > len(base) + 1:
            return token[len(base) + 1:]
        return None

    def introspect_token(self, user: str | None, body: dict) -> dict:
        owner = self.token_user(str(body.get("token") or ""))
        return {"active": owner is not None, "username": owner or ""}

    # ------------------------------------------------------------------ blobs

    def start_blob_upload(self, user: str, body: dict) -> dict:
        token = "blob-" + secrets.token_hex(12)
        with self.state.lock:
            self.state.data["blobs"][token] = {"name": body.get("name", "file"),
                                               "size": int(body.get("contentLength", 0)), "created": time.time()}
            self.state.save()
        self.state.blob_path(token).write_bytes(b"")
        return {"token": token, "createUrl": f"{self.base_url}/upload/{token}"}

    def blob(self, token: str) -> dict | None:
        return self.state.data["blobs"].get(token)

    def _take_blobs(self, files: list[dict], dest: Path) -> list[str]:
        """Move uploaded blobs into a dataset version folder (zip and tar archives unpacked, as Kaggle does)."""
        names = []
        for item in files:
            blob = self.blob(item.get("token", ""))
            path = self.state.blob_path(item.get("token", ""))
            if blob is None or not path.exists() or path.stat().st_size != blob["size"]:
                raise ApiError(400, f"Blob token {item.get('token')!r} is unknown or its upload is incomplete")
            dest.mkdir(parents=True, exist_ok=True)
            _unpack(path, blob["name"], dest)
            names.append(blob["name"])
        return names

    # ------------------------------------------------------------------ datasets

    def _ref(self, owner: str, slug: str) -> str:
        return f"{owner}/{slug}"

    def _quota_refusal(self) -> str:
        fault = self.faults.take(kind="dataset_quota")
        return "" if fault is None else fault.get("message", "Your private datasets quota would be exceeded")

    def _new_version(self, ref: str, files: list[dict], notes: str) -> dict:
        ds = self.state.dataset(ref)
        number = len(ds["versions"]) + 1
        names = self._take_blobs(files, self.state.dataset_dir(ref, number))
        failed = self.faults.take(kind="dataset_failed") is not None
        version = {"number": number, "created": time.time(), "notes": notes, "files": names, "failed": failed}
        ds["versions"].append(version)
        return version

    def create_dataset(self, user: str, body: dict) -> dict:
        owner, slug = body.get("ownerSlug", ""), body.get("slug", "")
        self._own(user, owner)
        ref = self._ref(owner, slug)
        with self.state.lock:
            if self.state.dataset(ref) is not None:
                return _create_answer(ref, self.base_url, f"The requested slug '{slug}' is already in use")
            if not body.get("files"):
                return _create_answer(ref, self.base_url, "A dataset needs at least one file")
            refusal = self._quota_refusal()
            if refusal:
                return _create_answer(ref, self.base_url, refusal)
            self.state.data["datasets"][ref] = {"title": body.get("title", slug), "license": body.get("licenseName"),
                                                "private": bool(body.get("isPrivate", False)), "versions": []}
            try:
                self._new_version(ref, body["files"], "Initial release")
            except ApiError:
                del self.state.data["datasets"][ref]
                raise
            self.state.save()
        return _create_answer(ref, self.base_url)

    def create_dataset_version(self, user: str, body: dict) -> dict:
        owner, slug = body.get("ownerSlug", ""), body.get("datasetSlug", "")
        ref = self._ref(owner, slug)
        with self.state.lock:
            if self.state.dataset(ref) is None:
                raise ApiError(404, f"Dataset '{ref}' not found")
            self._own(user, owner)
            inner = body.get("body") or {}
            if not inner.get("files"):
                return _create_answer(ref, self.base_url, "A dataset version needs at least one file")
            refusal = self._quota_refusal()
            if refusal:
                return _create_answer(ref, self.base_url, refusal)
            self._new_version(ref, inner["files"], inner.get("versionNotes", ""))
            self.state.save()
        return _create_answer(ref, self.base_url)

    def _dataset_or_404(self, body: dict) -> tuple[str, dict]:
        ref = self._ref(body.get("ownerSlug", ""), body.get("datasetSlug", ""))
        ds = self.state.dataset(ref)
        if ds is None:
            raise ApiError(404, f"Dataset '{ref}' not found")
        return ref, ds

    def get_dataset_status(self, user: str, body: dict) -> dict:
        _, ds = self._dataset_or_404(body)
        return {"status": self.state.dataset_status(ds["versions"][-1])}

    def get_dataset(self, user: str, body: dict) -> dict:
        ref, ds = self._dataset_or_404(body)
        last = self.state.current_version(ref)  # a new version is current only once processed
        return {
            "ref": ref, "title": ds["title"], "ownerName": ref.split("/")[0], "ownerRef": ref.split("/")[0],
            "isPrivate": ds["private"], "licenseName": ds["license"] or "", "url": f"{self.base_url}/datasets/{ref}",
            "currentVersionNumber": last["number"], "lastUpdated": iso(last["created"]),
            "versions": [{"versionNumber": v["number"], "creationDate": iso(v["created"]), "versionNotes": v["notes"],
                          "status": self.state.dataset_status(v)} for v in ds["versions"]],
            "files": [{"name": n} for n in last["files"]],
        }

    # ------------------------------------------------------------------ kernels

    def save_kernel(self, user: str, body: dict) -> dict:
        ref = body.get("slug") or ""
        if ref.count("/") != 1:
            raise ApiError(400, f"Kernel slug {ref!r} must be owner/slug")
        self._own(user, ref.split("/")[0])
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
            self._start(self._run_kernel, ref, number)
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
                self.pack(comp)
            except ApiError:
                invalid["invalidCompetitionSources"].append(comp)
        return mounts, invalid

    def register_model(self, ref: str, path: str) -> dict:
        """Publish a local folder as model source `owner/model/framework/variation/version` (admin only)."""
        if ref.count("/") != 4 or not Path(path).is_dir():
            raise ValueError("a model needs ref 'owner/model/framework/variation/version' and an existing folder")
        link_model(self.state.root, ref, Path(path))
        return {"ref": ref, "path": str(Path(path).resolve())}

    def _start(self, fn: Any, *args: Any) -> None:
        threading.Thread(target=fn, args=args, daemon=True, name=f"emulator-{fn.__name__}").start()

    def _prepare(self, ref: str, version: dict, run_dir: Path, hidden: bool, **mount_options: Any) -> Path:
        """The run folder of one kernel run, its sources mounted; `mount_options` go to the competition's view
        (a scoring re-run's `part` and `rows`, which only views that take them are given)."""
        layout = str(self.state.config.get("input_layout") or DEFAULT_LAYOUT)
        mounts: dict[str, Path] = {}
        for key, path in version["mounts"].items():
            kind, _, src = key.partition(":")
            if not src:  # a version recorded before refs were kept: its folder name is all that is known
                kind, src = "legacy", key
            mounts[_mount_path(kind, src, layout)] = Path(path)
        for comp in version["competitions"]:
            comp_dir = run_dir.parent / f"{run_dir.name}-competition-{comp}"
            if comp_dir.exists():
                shutil.rmtree(comp_dir)
            self.pack(comp).mount(comp_dir, hidden=hidden, **mount_options)
            mounts[mount_path(comp, layout)] = comp_dir
        return runner.prepare_run(run_dir, text=version["text"], kernel_type=version["kernelType"], mounts=mounts,
                                  timeout=version["timeout"], rerun=hidden)

    def _run_kernel(self, ref: str, number: int) -> None:
        version = self.state.kernel_version(ref, number)
        self._set(version, status="RUNNING")
        fault = self.faults.take(kind="kernel_error")
        if fault is not None:  # fail without spending a run
            self._set(version, status="ERROR", failureMessage=fault.get("message", "Injected kernel failure"))
            return
        try:
            run_dir = self._prepare(ref, version, self.state.kernel_dir(ref, number) / "run", hidden=False)
            result = runner.execute_run(run_dir)
        except Exception as exc:
            result = {"status": "ERROR", "failureMessage": f"emulator could not run the kernel: {exc}"}
        self._set(version, **result)

    def _set(self, record: dict, **fields: Any) -> None:
        with self.state.lock:
            record.update(fields)
            self.state.save()

    def _kernel_or_404(self, body: dict) -> tuple[str, dict]:
        ref = f"{body.get('userName', '')}/{body.get('kernelSlug', '')}"
        label = str(body.get("versionLabel") or "").lstrip("v")
        version = self.state.kernel_version(ref, int(label) if label.isdigit() else None)
        if version is None:
            raise ApiError(404, f"Kernel '{ref}' version '{label or 'latest'}' not found")
        return ref, version

    def get_kernel_session_status(self, user: str, body: dict) -> dict:
        _, version = self._kernel_or_404(body)
        return {"status": version["status"], "failureMessage": version.get("failureMessage", "")}

    def list_kernel_session_output(self, user: str, body: dict) -> dict:
        ref, version = self._kernel_or_404(body)
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
    if kind == "legacy":
        return src
    return mount_path(src, layout)


def _unpack(blob: Path, name: str, dest: Path) -> None:
    """Store an uploaded file: zip and tar archives unpacked into a folder named after them, others copied."""
    lower = name.lower()
    if lower.endswith(".zip"):
        with zipfile.ZipFile(blob) as zf:
            zf.extractall(dest / name[:-4])
        return
    for suffix in (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar"):
        if lower.endswith(suffix):
            with tarfile.open(blob) as tf:
                # the "data" filter (Python 3.10.12+/3.11.4+) refuses members escaping the folder
                kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tf.extractall(dest / name[: -len(suffix)], **kwargs)
            return
    shutil.copyfile(blob, dest / name)


def _create_answer(ref: str, base_url: str, error: str = "") -> dict:
    return {"ref": ref if not error else "", "url": f"{base_url}/datasets/{ref}" if not error else "",
            "status": "error" if error else "ok", "error": error, "invalidTags": []}


# Kaggle method name -> Api attribute
ROUTES = {
    "IntrospectToken": "introspect_token",
    "StartBlobUpload": "start_blob_upload",
    "CreateDataset": "create_dataset",
    "CreateDatasetVersion": "create_dataset_version",
    "GetDatasetStatus": "get_dataset_status",
    "GetDataset": "get_dataset",
    "SaveKernel": "save_kernel",
    "GetKernelSessionStatus": "get_kernel_session_status",
    "ListKernelSessionOutput": "list_kernel_session_output",
    "CreateCodeSubmission": "create_code_submission",
    "GetSubmission": "get_submission",
    "ListSubmissions": "list_submissions",
    "GetSubmissionLimits": "get_submission_limits",
    "GetLeaderboard": "get_leaderboard",
    "DownloadLeaderboard": "download_leaderboard",
    "StartSubmissionUpload": "start_submission_upload",
    "CreateSubmission": "create_submission",
    "ListDatasets": "list_datasets",
    "ListDatasetFiles": "list_dataset_files",
    "GetDatasetMetadata": "get_dataset_metadata",
    "DownloadDataset": "download_dataset",
    "ListKernels": "list_kernels",
    "GetKernel": "get_kernel",
    "ListKernelFiles": "list_kernel_files",
    "GetAcceleratorQuotaStatistics": "get_accelerator_quota_statistics",
    "ListCompetitions": "list_competitions",
    "ListDataFiles": "list_data_files",
    "DownloadDataFiles": "download_data_files",
    "DownloadDataFile": "download_data_file",
    "CreateModel": "create_model",
    "CreateModelInstance": "create_model_instance",
    "CreateModelInstanceVersion": "create_model_instance_version",
}
UNAUTHENTICATED = {"IntrospectToken"}
