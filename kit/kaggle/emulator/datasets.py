"""Dataset RPCs of the emulator: create a dataset or a new version from uploaded blobs, its status and its
metadata (a version is served once processed, or failed when a fault says so)."""

from __future__ import annotations

import time

from kit.kaggle.emulator.blobs import Blobs
from kit.kaggle.emulator.faults import Faults
from kit.kaggle.emulator.state import ApiError, State, iso, require_owner


class Datasets:
    """Datasets in `state`, their files taken from `blobs`; `faults` may refuse a push or fail a version."""

    def __init__(self, state: State, faults: Faults, base_url: str, blobs: Blobs) -> None:
        self.state = state
        self.faults = faults
        self.base_url = base_url
        self.blobs = blobs

    def _ref(self, owner: str, slug: str) -> str:
        return f"{owner}/{slug}"

    def _quota_refusal(self) -> str:
        fault = self.faults.take(kind="dataset_quota")
        return "" if fault is None else fault.get("message", "Your private datasets quota would be exceeded")

    def _new_version(self, ref: str, files: list[dict], notes: str) -> dict:
        ds = self.state.dataset(ref)
        number = len(ds["versions"]) + 1
        names = self.blobs.take(files, self.state.dataset_dir(ref, number))
        failed = self.faults.take(kind="dataset_failed") is not None
        version = {"number": number, "created": time.time(), "notes": notes, "files": names, "failed": failed}
        ds["versions"].append(version)
        return version

    def create_dataset(self, user: str, body: dict) -> dict:
        owner, slug = body.get("ownerSlug", ""), body.get("slug", "")
        require_owner(user, owner)
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
            require_owner(user, owner)
            inner = body.get("body") or {}
            if not inner.get("files"):
                return _create_answer(ref, self.base_url, "A dataset version needs at least one file")
            refusal = self._quota_refusal()
            if refusal:
                return _create_answer(ref, self.base_url, refusal)
            self._new_version(ref, inner["files"], inner.get("versionNotes", ""))
            self.state.save()
        return _create_answer(ref, self.base_url)

    def dataset_or_404(self, body: dict) -> tuple[str, dict]:
        ref = self._ref(body.get("ownerSlug", ""), body.get("datasetSlug", ""))
        ds = self.state.dataset(ref)
        if ds is None:
            raise ApiError(404, f"Dataset '{ref}' not found")
        return ref, ds

    def get_dataset_status(self, user: str, body: dict) -> dict:
        _, ds = self.dataset_or_404(body)
        return {"status": self.state.dataset_status(ds["versions"][-1])}

    def get_dataset(self, user: str, body: dict) -> dict:
        ref, ds = self.dataset_or_404(body)
        last = self.state.current_version(ref)  # a new version is current only once processed
        return {
            "ref": ref, "title": ds["title"], "ownerName": ref.split("/")[0], "ownerRef": ref.split("/")[0],
            "isPrivate": ds["private"], "licenseName": ds["license"] or "", "url": f"{self.base_url}/datasets/{ref}",
            "currentVersionNumber": last["number"], "lastUpdated": iso(last["created"]),
            "versions": [{"versionNumber": v["number"], "creationDate": iso(v["created"]), "versionNotes": v["notes"],
                          "status": self.state.dataset_status(v)} for v in ds["versions"]],
            "files": [{"name": n} for n in last["files"]],
        }


def _create_answer(ref: str, base_url: str, error: str = "") -> dict:
    return {"ref": ref if not error else "", "url": f"{base_url}/datasets/{ref}" if not error else "",
            "status": "error" if error else "ok", "error": error, "invalidTags": []}
