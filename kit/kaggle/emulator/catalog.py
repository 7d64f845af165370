"""Read-side RPCs of the emulator: the listings, metadata and downloads behind the CLI verbs a competitor uses
every day (datasets list/files/metadata/download, kernels list/pull/files/logs, competitions list/files/download,
quota). Shapes follow kagglesdk's Api*Response types (camelCase, paged by token).
"""

from __future__ import annotations

import io
import json
import secrets
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kit.kaggle.emulator.datasets import Datasets
from kit.kaggle.emulator.kernels import TERMINAL, Kernels
from kit.kaggle.emulator.packs import Packs
from kit.kaggle.emulator.state import ApiError, State, iso

# Kaggle's 403 for a data download before the rules are accepted (quoted in openai/mle-bench#29).
RULES_DOWNLOAD = "You must accept this competition's rules before you'll be able to download files."
LOG_END = "END_OF_LOG"  # the official client's _LOG_STREAM_END_SENTINEL


class Redirect:
    """A file answer: Kaggle answers download RPCs with a redirect to storage; the client follows it."""

    def __init__(self, url: str) -> None:
        self.url = url


def page(items: list[Any], body: dict, default: int) -> tuple[list[Any], str]:
    """One page of `items` for a request's pageSize/pageToken (the token is the next offset)."""
    size = int(body.get("pageSize") or default) or default
    token = str(body.get("pageToken") or "")
    start = int(token) if token.isdigit() else 0
    end = start + size
    return items[start:end], (str(end) if end < len(items) else "")


def _zip_folder(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, str(path.relative_to(folder)))
    return buf.getvalue()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


class Catalog:
    """What `state` holds, as the read-side RPCs list and serve it: kernels through `kernels`, datasets through
    `datasets`, competitions through `packs`; downloads are redirects under `base_url`."""

    def __init__(self, state: State, base_url: str, packs: Packs, kernels: Kernels, datasets: Datasets) -> None:
        self.state = state
        self.base_url = base_url
        self.packs = packs
        self.kernels = kernels
        self.datasets = datasets

    # ------------------------------------------------------------------ downloads

    def _download(self, name: str, data: bytes) -> Redirect:
        token = secrets.token_hex(8)
        target = self.state.root / "downloads" / token / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return Redirect(f"{self.base_url}/downloads/{token}/{name}")

    def download_file(self, rel: str) -> Path | None:
        """Resolve /downloads/<token>/<name> inside the downloads folder."""
        root = (self.state.root / "downloads").resolve()
        path = (root / rel).resolve()
        return path if path.is_file() and root in path.parents else None

    # ------------------------------------------------------------------ datasets

    def _visible(self, user: str) -> list[tuple[str, dict]]:
        return [(ref, ds) for ref, ds in self.state.data["datasets"].items()
                if ds["versions"] and (not ds["private"] or ref.split("/")[0] == user)]

    def _dataset_row(self, ref: str, ds: dict) -> dict:
        current = self.state.current_version(ref)
        folder = self.state.dataset_dir(ref, current["number"])
        return {"ref": ref, "title": ds["title"], "subtitle": "", "ownerName": ref.split("/")[0],
                "ownerRef": ref.split("/")[0], "url": f"{self.base_url}/datasets/{ref}",
                "isPrivate": ds["private"], "licenseName": ds["license"] or "", "lastUpdated": iso(current["created"]),
                "currentVersionNumber": current["number"], "totalBytes": sum(p.stat().st_size for p in _files(folder)),
                "downloadCount": 0, "voteCount": 0, "usabilityRating": 0.0}

    def list_datasets(self, user: str, body: dict) -> dict:
        search, owner = str(body.get("search") or "").lower(), str(body.get("user") or "")
        mine = "MY" in str(body.get("group") or "").upper()
        rows = [self._dataset_row(ref, ds) for ref, ds in self._visible(user)
                if search in ref.lower() + " " + ds["title"].lower()
                and (not owner or ref.split("/")[0] == owner) and (not mine or ref.split("/")[0] == user)]
        rows, token = page(rows, body, int(self.state.config["page_size"]))
        return {"datasets": rows, "nextPageToken": token}

    def _version_folder(self, body: dict) -> tuple[str, dict, Path]:
        ref, ds = self.datasets.dataset_or_404(body)
        number = body.get("datasetVersionNumber")
        version = (next((v for v in ds["versions"] if v["number"] == int(number)), None) if number
                   else self.state.current_version(ref))
        if version is None:
            raise ApiError(404, f"Dataset '{ref}' version {number} not found")
        return ref, version, self.state.dataset_dir(ref, version["number"])

    def list_dataset_files(self, user: str, body: dict) -> dict:
        ref, version, folder = self._version_folder(body)
        rows = [{"ref": str(p.relative_to(folder)), "name": str(p.relative_to(folder)), "datasetRef": ref,
                 "totalBytes": p.stat().st_size, "creationDate": iso(version["created"])} for p in _files(folder)]
        rows, token = page(rows, body, int(self.state.config["page_size"]))
        return {"datasetFiles": rows, "nextPageToken": token, "errorMessage": ""}

    def get_dataset_metadata(self, user: str, body: dict) -> dict:
        ref, ds = self.datasets.dataset_or_404(body)
        return {"info": {"datasetSlug": ref.split("/")[1], "ownerUser": ref.split("/")[0], "title": ds["title"],
                         "subtitle": "", "description": "", "isPrivate": ds["private"], "keywords": [],
                         "licenses": [{"name": ds["license"] or "unknown"}], "totalViews": 0, "totalVotes": 0,
                         "totalDownloads": 0}, "errorMessage": ""}

    def download_dataset(self, user: str, body: dict) -> Redirect:
        ref, _, folder = self._version_folder(body)
        name = str(body.get("fileName") or "")
        if name:
            path = (folder / name).resolve()
            if not path.is_file() or folder.resolve() not in path.parents:
                raise ApiError(404, f"File '{name}' not found in dataset '{ref}'")
            return self._download(path.name, path.read_bytes())
        return self._download(f"{ref.split('/')[1]}.zip", _zip_folder(folder))

    # ------------------------------------------------------------------ kernels

    def _kernel_metadata(self, ref: str, kernel: dict) -> dict:
        last = kernel["versions"][-1]
        return {"ref": ref, "slug": ref.split("/")[1], "title": kernel["title"], "author": ref.split("/")[0],
                "lastRunTime": iso(last["created"]), "language": "python", "kernelType": last["kernelType"],
                "isPrivate": True, "enableGpu": False, "enableInternet": False, "totalVotes": 0,
                "currentVersionNumber": last["number"],
                "competitionDataSources": list(last.get("competitions") or []),
                "datasetDataSources": [], "kernelDataSources": [], "modelDataSources": []}

    def list_kernels(self, user: str, body: dict) -> dict:
        search, owner = str(body.get("search") or "").lower(), str(body.get("user") or "")
        rows = [self._kernel_metadata(ref, k) for ref, k in self.state.data["kernels"].items()
                if k["versions"] and ref.split("/")[0] == (owner or user) and search in ref.lower()]
        rows, token = page(rows, body, int(self.state.config["page_size"]))
        return {"kernels": rows, "nextPageToken": token}

    def get_kernel(self, user: str, body: dict) -> dict:
        ref, version = self.kernels.kernel_or_404(body)
        return {"metadata": self._kernel_metadata(ref, self.state.data["kernels"][ref]),
                "blob": {"source": version.get("text", ""), "language": "python", "kernelType": version["kernelType"],
                         "slug": ref.split("/")[1]}}

    def list_kernel_files(self, user: str, body: dict) -> dict:
        ref, version = self.kernels.kernel_or_404(body)
        working = self.state.kernel_dir(ref, version["number"]) / "run" / "working"
        rows = [{"name": str(p.relative_to(working)), "size": p.stat().st_size,
                 "creationDate": iso(p.stat().st_mtime)} for p in _files(working)]
        rows, token = page(rows, body, int(self.state.config["page_size"]))
        return {"files": rows, "nextPageToken": token}

    def log_events(self, rel: str, label: str) -> tuple[bool, Iterator[str]]:
        """(live, events) for the log stream of `owner/slug`: a running version yields its log entries (JSON)
        once the run ends, then END_OF_LOG (the emulator's runner writes the log at the end); a finished one
        yields its whole log once."""
        owner, _, slug = rel.strip("/").partition("/")
        ref, version = self.kernels.kernel_or_404({"userName": owner, "kernelSlug": slug, "versionLabel": label})
        from kit.kaggle.emulator import runner

        run_dir = self.state.kernel_dir(ref, version["number"]) / "run"
        if version["status"] in TERMINAL:
            return False, iter([runner.run_log(run_dir) or "[]"])

        def stream() -> Iterator[str]:
            while version["status"] not in TERMINAL:
                time.sleep(0.2)
            for entry in json.loads(runner.run_log(run_dir) or "[]"):
                yield json.dumps(entry)
            yield LOG_END

        return True, stream()

    def get_accelerator_quota_statistics(self, user: str, body: dict) -> dict:
        used = int(float(self.state.config["gpu_hours_used"]) * 3600)
        week = 30 * 3600  # Kaggle's usual weekly GPU allowance
        return {"gpuQuota": {"timeUsed": f"{used}s", "totalTimeAllowed": f"{week}s", "minimumTimeAllowed": f"{week}s",
                             "timeReserved": "0s", "hasEverRun": used > 0},
                "tpuQuota": {"timeUsed": "0s", "totalTimeAllowed": f"{20 * 3600}s", "timeReserved": "0s"},
                "quotaRefreshTime": iso(time.time() + 3 * 86400)}

    # ------------------------------------------------------------------ competitions

    def list_competitions(self, user: str, body: dict) -> dict:
        search = str(body.get("search") or "").lower()
        rows = [{
            "id": n, "ref": f"https://www.kaggle.com/competitions/{pack.slug}",
            "title": getattr(pack, "title", pack.slug),
            "url": f"https://www.kaggle.com/competitions/{pack.slug}", "category": "Featured",
            "reward": "Knowledge", "deadline": iso(time.time() + 30 * 86400), "teamCount": 3,
            "userHasEntered": self.state.config["participation"] == "joined",
            "isKernelsSubmissionsOnly": True, "submissionsDisabled": not self.state.config["submissions_open"],
            "maxDailySubmissions": int(self.state.config["daily_limit"]), "maxTeamSize": 5}
            for n, pack in enumerate(self.packs.served_packs(), start=1) if not search or search in pack.slug]
        rows, token = page(rows, body, int(self.state.config["page_size"]))
        return {"competitions": rows, "nextPageToken": token}

    def _public_files(self, comp: str) -> Path:
        folder = self.state.root / "competition-files" / comp
        if not folder.is_dir():
            self.packs.pack(comp).mount(folder, hidden=False)
        return folder

    def list_data_files(self, user: str, body: dict) -> dict:
        comp = str(body.get("competitionName") or "")
        folder = self._public_files(comp)
        rows = [{"ref": str(p.relative_to(folder)), "name": str(p.relative_to(folder)),
                 "totalBytes": p.stat().st_size, "creationDate": iso(p.stat().st_mtime)} for p in _files(folder)]
        rows, token = page(rows, body, int(self.state.config["page_size"]))
        return {"files": rows, "nextPageToken": token}

    def _may_download(self, comp: str) -> Path:
        self.packs.pack(comp)
        if self.state.config["participation"] != "joined":
            raise ApiError(403, RULES_DOWNLOAD)
        return self._public_files(comp)

    def download_data_files(self, user: str, body: dict) -> Redirect:
        comp = str(body.get("competitionName") or "")
        return self._download(f"{comp}.zip", _zip_folder(self._may_download(comp)))

    def download_data_file(self, user: str, body: dict) -> Redirect:
        comp, name = str(body.get("competitionName") or ""), str(body.get("fileName") or "")
        folder = self._may_download(comp)
        path = (folder / name).resolve()
        if not path.is_file() or folder.resolve() not in path.parents:
            raise ApiError(404, f"File '{name}' not found in competition '{comp}'")
        return self._download(path.name, path.read_bytes())

