"""The emulator's RPC surface: Kaggle's method names, each answered by one of the parts below.

Each handler takes (user, body) and returns a JSON-able dict or raises `ApiError(status, message)`. The parts are
built once over one State and handed what they use: `Blobs` (uploads), `Datasets`, `Kernels` (pushes and runs),
`Competitions` (submissions re-run and scored by the competition's pack view), `Catalog` (listings and downloads)
and `Models`. Kernel runs and scoring happen in background threads; nothing here knows any competition.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kit.kaggle.emulator.blobs import Blobs
from kit.kaggle.emulator.catalog import Catalog, Redirect
from kit.kaggle.emulator.competitions import Competitions
from kit.kaggle.emulator.datasets import Datasets
from kit.kaggle.emulator.faults import Faults
from kit.kaggle.emulator.kernels import Kernels
from kit.kaggle.emulator.models import Models
from kit.kaggle.emulator.packs import Packs, load_pack
from kit.kaggle.emulator.state import ApiError, State, link_model

__all__ = ["UNAUTHENTICATED", "Api", "ApiError", "Redirect", "load_pack"]

UNAUTHENTICATED = {"IntrospectToken"}


class Api:
    """All RPCs over one State, by Kaggle method name (`routes`)."""

    def __init__(self, state: State, faults: Faults, base_url: str, pack: Any = None) -> None:
        self.state = state
        self.blobs = Blobs(state, base_url)
        # Pinned to one competition: an in-process view (tests), else config["pack"] loaded on first use.
        self.packs = Packs(state, pack)
        self.datasets = Datasets(state, faults, base_url, self.blobs)
        self.kernels = Kernels(state, faults, base_url, self.packs)
        self.competitions = Competitions(state, faults, self.packs, self.kernels, self.blobs)
        self.catalog = Catalog(state, base_url, self.packs, self.kernels, self.datasets)
        self.models = Models(state, base_url, self.blobs)
        self.routes: dict[str, Callable[[str, dict], Any]] = {
            "IntrospectToken": self.introspect_token,
            "StartBlobUpload": self.blobs.start_upload,
            "CreateDataset": self.datasets.create_dataset,
            "CreateDatasetVersion": self.datasets.create_dataset_version,
            "GetDatasetStatus": self.datasets.get_dataset_status,
            "GetDataset": self.datasets.get_dataset,
            "SaveKernel": self.kernels.save_kernel,
            "GetKernelSessionStatus": self.kernels.get_kernel_session_status,
            "ListKernelSessionOutput": self.kernels.list_kernel_session_output,
            "CreateCodeSubmission": self.competitions.create_code_submission,
            "GetSubmission": self.competitions.get_submission,
            "ListSubmissions": self.competitions.list_submissions,
            "GetSubmissionLimits": self.competitions.get_submission_limits,
            "GetLeaderboard": self.competitions.get_leaderboard,
            "DownloadLeaderboard": self.competitions.download_leaderboard,
            "StartSubmissionUpload": self.competitions.start_submission_upload,
            "CreateSubmission": self.competitions.create_submission,
            "ListDatasets": self.catalog.list_datasets,
            "ListDatasetFiles": self.catalog.list_dataset_files,
            "GetDatasetMetadata": self.catalog.get_dataset_metadata,
            "DownloadDataset": self.catalog.download_dataset,
            "ListKernels": self.catalog.list_kernels,
            "GetKernel": self.catalog.get_kernel,
            "ListKernelFiles": self.catalog.list_kernel_files,
            "GetAcceleratorQuotaStatistics": self.catalog.get_accelerator_quota_statistics,
            "ListCompetitions": self.catalog.list_competitions,
            "ListDataFiles": self.catalog.list_data_files,
            "DownloadDataFiles": self.catalog.download_data_files,
            "DownloadDataFile": self.catalog.download_data_file,
            "CreateModel": self.models.create_model,
            "CreateModelInstance": self.models.create_model_instance,
            "CreateModelInstanceVersion": self.models.create_model_instance_version,
        }

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

    def register_model(self, ref: str, path: str) -> dict:
        """Publish a local folder as model source `owner/model/framework/variation/version` (admin only)."""
        if ref.count("/") != 4 or not Path(path).is_dir():
            raise ValueError("a model needs ref 'owner/model/framework/variation/version' and an existing folder")
        link_model(self.state.root, ref, Path(path))
        return {"ref": ref, "path": str(Path(path).resolve())}
