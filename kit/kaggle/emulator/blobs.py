"""Uploads in the emulator: the blob tokens every push starts with (StartBlobUpload, then a PUT to /upload/<token>),
and moving the uploaded files into the version folder they were pushed for."""

from __future__ import annotations

import secrets
import shutil
import tarfile
import time
import zipfile
from pathlib import Path

from kit.kaggle.emulator.state import ApiError, State


class Blobs:
    """The uploads recorded in `state`, and the URL base they are PUT to."""

    def __init__(self, state: State, base_url: str) -> None:
        self.state = state
        self.base_url = base_url

    def start_upload(self, user: str, body: dict) -> dict:
        """Kaggle's StartBlobUpload: a token and the URL the client PUTs the file to."""
        token = "blob-" + secrets.token_hex(12)
        with self.state.lock:
            self.state.data["blobs"][token] = {"name": body.get("name", "file"),
                                               "size": int(body.get("contentLength", 0)), "created": time.time()}
            self.state.save()
        self.state.blob_path(token).write_bytes(b"")
        return {"token": token, "createUrl": f"{self.base_url}/upload/{token}"}

    def get(self, token: str) -> dict | None:
        """The record of an upload (name, size), or None for an unknown token."""
        return self.state.data["blobs"].get(token)

    def take(self, files: list[dict], dest: Path) -> list[str]:
        """Move uploaded blobs into a dataset version folder (zip and tar archives unpacked, as Kaggle does)."""
        names = []
        for item in files:
            blob = self.get(item.get("token", ""))
            path = self.state.blob_path(item.get("token", ""))
            if blob is None or not path.exists() or path.stat().st_size != blob["size"]:
                raise ApiError(400, f"Blob token {item.get('token')!r} is unknown or its upload is incomplete")
            dest.mkdir(parents=True, exist_ok=True)
            _unpack(path, blob["name"], dest)
            names.append(blob["name"])
        return names


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
