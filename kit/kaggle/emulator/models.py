"""Kaggle Models in the emulator: `kaggle models create`, `models instances create` and `models instances
versions create`, so a base model can be pushed as a Kaggle Model and mounted in kernels. Files land in
`State.model_instance_dir(owner, model, framework, variation, version)`, the folder a kernel mounts at
/kaggle/input/models/<owner>/<model>/<framework>/<variation>/<version>.
"""

from __future__ import annotations

import time

from kit.kaggle.emulator.blobs import Blobs
from kit.kaggle.emulator.state import ApiError, State, require_owner


def framework_folder(value: str) -> str:
    """Kaggle's lower-case framework folder for the wire enum ('MODEL_FRAMEWORK_PY_TORCH' -> 'pytorch')."""
    name = str(value or "").upper().removeprefix("MODEL_FRAMEWORK_")
    return name.replace("_", "").lower() or "other"


def _answer(ref: str, url: str, error: str = "", number: int = 0) -> dict:
    return {"id": number if not error else 0, "ref": "" if error else ref, "url": "" if error else url,
            "error": error}


class Models:
    """Kaggle Models in `state`, their files taken from `blobs`."""

    def __init__(self, state: State, base_url: str, blobs: Blobs) -> None:
        self.state = state
        self.base_url = base_url
        self.blobs = blobs

    def _model(self, owner: str, slug: str) -> dict:
        model = self.state.data["models"].get(f"{owner}/{slug}")
        if model is None:
            raise ApiError(404, f"Model '{owner}/{slug}' not found")
        return model

    def create_model(self, user: str, body: dict) -> dict:
        owner, slug = str(body.get("ownerSlug") or ""), str(body.get("slug") or "")
        require_owner(user, owner)
        ref = f"{owner}/{slug}"
        with self.state.lock:
            if ref in self.state.data["models"]:
                return _answer(ref, "", f"A model with slug '{slug}' already exists")
            self.state.data["models"][ref] = {"title": body.get("title") or slug,
                                              "private": bool(body.get("isPrivate", True)), "instances": {}}
            self.state.save()
        return _answer(ref, f"{self.base_url}/models/{ref}", number=len(self.state.data["models"]))

    def _add_version(self, owner: str, slug: str, framework: str, variation: str, files: list[dict],
                     notes: str) -> int:
        instance = self._model(owner, slug)["instances"][f"{framework}/{variation}"]
        number = len(instance["versions"]) + 1
        names = self.blobs.take(files, self.state.model_instance_dir(owner, slug, framework, variation, number))
        instance["versions"].append({"number": number, "created": time.time(), "notes": notes, "files": names})
        return number

    def create_model_instance(self, user: str, body: dict) -> dict:
        owner, slug = str(body.get("ownerSlug") or ""), str(body.get("modelSlug") or "")
        inner = body.get("body") or {}
        framework, variation = framework_folder(inner.get("framework", "")), str(inner.get("instanceSlug") or "")
        require_owner(user, owner)
        ref = f"{owner}/{slug}/{framework}/{variation}"
        with self.state.lock:
            model = self._model(owner, slug)
            if f"{framework}/{variation}" in model["instances"]:
                return _answer(ref, "", f"Instance '{variation}' ({framework}) already exists")
            if not inner.get("files"):
                return _answer(ref, "", "A model instance needs at least one file")
            model["instances"][f"{framework}/{variation}"] = {"license": inner.get("licenseName", ""),
                                                              "versions": []}
            try:
                number = self._add_version(owner, slug, framework, variation, inner["files"], "Initial version")
            except ApiError:
                del model["instances"][f"{framework}/{variation}"]
                raise
            self.state.save()
        return _answer(ref, f"{self.base_url}/models/{ref}/{number}", number=number)

    def create_model_instance_version(self, user: str, body: dict) -> dict:
        owner, slug = str(body.get("ownerSlug") or ""), str(body.get("modelSlug") or "")
        framework, variation = framework_folder(body.get("framework", "")), str(body.get("instanceSlug") or "")
        inner = body.get("body") or {}
        require_owner(user, owner)
        ref = f"{owner}/{slug}/{framework}/{variation}"
        with self.state.lock:
            if f"{framework}/{variation}" not in self._model(owner, slug)["instances"]:
                raise ApiError(404, f"Model instance '{ref}' not found")
            if not inner.get("files"):
                return _answer(ref, "", "A model instance version needs at least one file")
            number = self._add_version(owner, slug, framework, variation, inner["files"],
                                       str(inner.get("versionNotes") or ""))
            self.state.save()
        return _answer(ref, f"{self.base_url}/models/{ref}/{number}", number=number)
