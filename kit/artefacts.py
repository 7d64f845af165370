"""Typed artefacts: the JSON files the kit writes beside what it builds, and the states of a submission attempt.

Each artefact is a dataclass whose fields carry their help text and whose `__post_init__` checks the values, so a
bad value fails where it is made, not in a later command. `save(folder)` writes the sorted JSON file the kit has
always written (same keys: files from earlier versions still load); `load(folder)` reads it back and turns a
missing, malformed or incomplete file into one InputError line naming that file.

- `KernelInfo` (kit_kernel.json): written by `kit build-submission`, read by `kit submit` into the ledger;
- `AdapterInfo` (kit_adapter.json): written by a pack's training, read by push-adapter, the base-model check and
  the kernel (with the pack's own fields, `Pack.adapter_fields`);
- `RunConfig` (run_config.json): what `kit run-local` ran;
- `SubmissionStatus`: the states of a ledger submission row.

Standard library only: the kernel reads kit_adapter.json on Kaggle before any model loads.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from kit.config import setting as _f
from kit.errors import ConfigError, InputError
from kit.files import write_json
from kit.typecheck import checked

KIT_KERNEL_NAME = "kit_kernel.json"
ADAPTER_META_NAME = "kit_adapter.json"
RUN_CONFIG_NAME = "run_config.json"

A = TypeVar("A", bound="Artefact")
_REQUIRED = dataclasses.MISSING


def _req(help: str) -> Any:
    """A field without a default: a file lacking it does not load."""
    return dataclasses.field(metadata={"help": help})


class Artefact:
    """Base of the artefact dataclasses: type checks, sorted JSON, load/save under `FILE_NAME`."""

    FILE_NAME: ClassVar[str] = ""

    def check_types(self) -> None:
        """ValueError naming the first field whose value does not fit its annotation. Values read from JSON or
        SQLite are converted first: a nested artefact given as a dict, a state given as its value."""
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value, hint = getattr(self, f.name), hints[f.name]
            nested = [a for a in typing.get_args(hint) if isinstance(a, type) and issubclass(a, Artefact)]
            if nested and isinstance(value, dict):
                try:
                    value = nested[0].from_dict(value)
                except (TypeError, ValueError) as exc:
                    raise ValueError(f"{f.name}: {exc}") from None
                object.__setattr__(self, f.name, value)
            if isinstance(hint, type) and issubclass(hint, enum.Enum) and not isinstance(value, hint):
                value = hint(value)  # ValueError naming the value when it is not one of the states
                object.__setattr__(self, f.name, value)
            if not (nested and isinstance(value, tuple(nested))):
                try:
                    object.__setattr__(self, f.name, checked(value, hint))
                except TypeError as exc:
                    raise ValueError(f"{f.name}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        """Plain data (nested artefacts as dicts)."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def to_json(self) -> str:
        """Sorted, indented JSON: the form every artefact is saved in."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, default=str) + "\n"

    def save(self, folder: Path | str) -> Path:
        """Write `FILE_NAME` into `folder` (atomically); returns its path."""
        return write_json(Path(folder) / self.FILE_NAME, self.to_dict())

    @classmethod
    def from_dict(cls: type[A], data: dict[str, Any]) -> A:
        """The artefact from parsed JSON; ValueError naming a missing or ill-typed field. Keys this version
        does not know (written by a newer kit) are left out."""
        if not isinstance(data, dict):
            raise ValueError(f"must hold a JSON object, not {type(data).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        missing = [n for n, f in fields.items() if n not in data and f.default is _REQUIRED
                   and f.default_factory is _REQUIRED]
        if missing:
            raise ValueError(f"missing field(s) {', '.join(missing)}")
        return cls(**{k: v for k, v in data.items() if k in fields})

    @classmethod
    def load(cls: type[A], folder: Path | str) -> A:
        """Read `FILE_NAME` from `folder`: InputError (one line, naming the file) when it is missing, is not
        JSON, or lacks a field or holds a wrong value."""
        path = Path(folder) / cls.FILE_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{path}: file not found") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{path}: not valid JSON ({str(exc).splitlines()[0]})") from None
        try:
            return cls.from_dict(data)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{path}: {str(exc).splitlines()[0]}") from None


# ---------------------------------------------------------------------------- kit_kernel.json


@dataclass
class DatasetPin(Artefact):
    """A dataset the kernel mounts, pinned to the version the ledger recorded when the kernel was built."""

    ref: str = _req("owner/slug of the dataset.")
    version: int | None = _f(None, "The pushed version the kernel mounts; None when none was pushed yet.")
    content_hash: str | None = _f(None, "Content hash of that pushed version (links a run-local to it).")

    def __post_init__(self) -> None:
        self.check_types()
        if self.ref.count("/") != 1:
            raise ValueError(f"dataset ref {self.ref!r} is not owner/slug")


@dataclass
class KernelInfo(Artefact):
    """kit_kernel.json: the resolved parameters and provenance of a kernel built by `kit build-submission`."""

    FILE_NAME: ClassVar[str] = KIT_KERNEL_NAME

    template: str = _req("The recipe (template) the kernel runs.")
    kernel_ref: str = _req("owner/slug of the kernel on Kaggle (kernel-metadata.json id).")
    submission_file: str = _req("The file the kernel writes and Kaggle scores.")
    submission_columns: list[str] = _req("The submission's header, the id column first.")
    submission_mechanism: str = _f("file", "How the kernel's predictions reach the scorer (kit.pack mechanisms).")
    parameters: dict[str, Any] = _f({}, "The notebook parameters rendered into the kernel.")
    sources: dict[str, str] = _f({}, "name -> ref of every source the kernel mounts (competition, model, ...).")
    required_sources: list[str] | None = _f(None, "The source names the kernel cannot run without (the wheels it "
                                                  "installs the kit from, ...): `kit submit` refuses a kernel lacking "
                                                  "one. None: built by a kit that did not record them.")
    adapter: DatasetPin | None = _f(None, "The adapter dataset, pinned.")
    wheels: DatasetPin | None = _f(None, "The offline wheels dataset, pinned.")
    base_model: str | None = _f(None, "The base model source the kernel mounts.")
    models: dict[str, str | None] = _f({}, "Further model sources the recipe mounts ([kaggle] model_sources), by "
                                           "the source name its pack declares.")
    competition: str | None = _f(None, "The competition slug.")
    sandbox: bool | None = _f(None, "Built for the sandbox emulator (True) or Kaggle (False).")
    session_timeout: int | None = _f(None, "Seconds the kernel session may run.")
    docker_image_pinning_type: str | None = _f(None, "original | latest, as in kernel-metadata.json.")
    git_sha: str | None = _f(None, "HEAD of the work tree the kernel was built from.")
    git_dirty: bool | None = _f(None, "Whether that work tree had uncommitted changes.")
    kit_version: str | None = _f(None, "The kit version that built the kernel.")
    notebook_sha256: str | None = _f(None, "sha256 of the rendered notebook file.")
    kernel_hash: str | None = _f(None, "Hash of what Kaggle would run (cells, kernelspec, metadata).")
    content_key: str | None = _f(None, "Links the kernel to the local run of the same content.")
    local_score: float | None = _f(None, "The score `kit run-local` measured for this content, if it ran.")
    local_experiment: int | None = _f(None, "The ledger id of that local run.")

    def __post_init__(self) -> None:
        self.check_types()
        if self.kernel_ref.count("/") != 1:
            raise ValueError(f"kernel_ref {self.kernel_ref!r} is not owner/slug")
        if len(self.submission_columns) < 2:
            raise ValueError("submission_columns needs an id column and at least one value column")
        if not self.submission_file:
            raise ValueError("submission_file is empty")

    def pins(self) -> list[DatasetPin]:
        """The pinned datasets (adapter, wheels) the kernel was built for."""
        return [p for p in (self.adapter, self.wheels) if p is not None]


# ---------------------------------------------------------------------------- kit_adapter.json


@dataclass
class AdapterInfo(Artefact):
    """kit_adapter.json: how an adapter was trained, as any pack's training records it. Every field may be absent:
    an adapter trained elsewhere records less, and readers do without what is not there.

    `pack` names the competition pack that trained it; that pack's `adapter_fields()` dataclass holds what it
    records beyond these fields (a prompt format, a validation score), in `extra`, saved flat beside them in the one
    JSON object, as peft reads a config class from `peft_type`. A file without `pack` reads as the generic part."""

    FILE_NAME: ClassVar[str] = ADAPTER_META_NAME

    pack: str | None = _f(None, "Slug of the competition pack that trained it: picks the class of `extra`.")
    base_model: str | None = _f(None, "The base model folder trained on.")
    base_signature: dict[str, Any] | None = _f(None, "The base model's shape signature (kit.llm.modelsig).")
    kit_version: str | None = _f(None, "The kit version that trained it.")
    git_sha: str | None = _f(None, "HEAD of the work tree it was trained from.")
    data_file: str | None = _f(None, "The training data file.")
    data_sha256: str | None = _f(None, "sha256 of the training data file.")
    rows: dict[str, int] | None = _f(None, "Row counts: total, train, val, dropped, truncated.")
    knobs: dict[str, Any] | None = _f(None, "The resolved training config (LoRA settings included).")
    train_loss: float | None = _f(None, "Mean training loss.")
    val_loss: float | None = _f(None, "Validation loss.")
    loss_history: list[Any] | None = _f(None, "[step, loss] pairs as logged.")
    global_step: int | None = _f(None, "Optimizer steps taken.")
    resumed_from: str | None = _f(None, "The checkpoint training resumed from, if any.")
    train_seconds: float | None = _f(None, "Training wall time.")
    device: str | None = _f(None, "cuda | cpu.")
    extra: Any = _f(None, "The pack's own fields: an instance of its `adapter_fields()` dataclass, or None.")

    def __post_init__(self) -> None:
        self.check_types()
        if self.extra is not None:
            if not dataclasses.is_dataclass(self.extra) or isinstance(self.extra, type):
                raise ValueError(f"extra must be a dataclass instance, not {type(self.extra).__name__}")
            clash = sorted(_field_names(type(self.extra)) & _field_names(AdapterInfo))
            if clash:  # saved flat, a pack field of a generic name would overwrite it
                raise ValueError(f"{type(self.extra).__name__} redefines generic field(s) {', '.join(clash)}")

    def to_dict(self) -> dict[str, Any]:
        """One flat object: the generic fields, then the pack's."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        return {**dataclasses.asdict(self.extra), **data} if self.extra is not None else data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AdapterInfo:
        """The record from parsed JSON; `pack` picks the dataclass that reads the pack's own fields (keys neither
        knows are left out). ValueError for a pack not installed here or an ill-typed field."""
        if not isinstance(data, dict):
            raise ValueError(f"must hold a JSON object, not {type(data).__name__}")
        own = {k: v for k, v in data.items() if k in _field_names(cls) - {"extra"}}
        kind = _adapter_fields(own.get("pack"))
        extra = None if kind is None else kind(**{k: v for k, v in data.items() if k in _field_names(kind)})
        return cls(**own, extra=extra)

    @classmethod
    def find(cls, adapter_dir: Path | str | None) -> AdapterInfo | None:
        """The adapter folder's record; None without a folder or without a kit_adapter.json in it."""
        if not adapter_dir or not (Path(adapter_dir) / cls.FILE_NAME).is_file():
            return None
        return cls.load(adapter_dir)


def _field_names(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _adapter_fields(pack: Any) -> type | None:
    """The adapter-fields dataclass of the pack named `pack` (None for no pack, or one that records nothing more)."""
    if not isinstance(pack, str) or not pack:
        return None  # a wrong type is check_types' to report
    from kit.pack import get_pack  # lazily: the registry is needed only for a record that names a pack

    try:
        return get_pack(pack).adapter_fields()
    except ConfigError as exc:
        raise ValueError(f"pack: {exc.message}") from None


# ---------------------------------------------------------------------------- run_config.json


@dataclass
class RunConfig(Artefact):
    """run_config.json: what `kit run-local` ran (parameters, mounted folders, the resolved kit.toml)."""

    FILE_NAME: ClassVar[str] = RUN_CONFIG_NAME

    params: dict[str, Any] = _req("The notebook parameters the kernel ran with.")
    data_dir: str = _req("The competition data folder mounted (labels left out).")
    layout: str = _req("How inputs were mounted under /kaggle/input.")
    recipe_param: str = _f("template", "The parameter that took the recipe's name (the pack's; '': none).")
    model: str | None = _f(None, "The base model folder mounted, if the template loads one.")
    adapter: str | None = _f(None, "The adapter folder mounted, if any.")
    wheels: str | None = _f(None, "The wheels folder mounted; None means the sandbox's kit-only bundle.")
    kit_config: dict[str, Any] = _f({}, "The resolved kit.toml.")

    def __post_init__(self) -> None:
        self.check_types()
        if self.recipe_param and self.recipe_param not in self.params:
            raise ValueError(f"params has no {self.recipe_param}")


# ---------------------------------------------------------------------------- ledger rows


class SubmissionStatus(str, enum.Enum):
    """Where a submission attempt (one ledger row) got to. Stored as its value; compares equal to it."""

    STARTING = "starting"              # row created, nothing sent yet
    PUSHING = "pushing"                # kernel push under way
    RUNNING = "running"                # kernel pushed, its run not finished
    SUBMITTING = "submitting"          # output valid, code submission not yet created
    PENDING = "pending"                # submitted, not scored yet
    COMPLETE = "complete"              # scored
    ERROR = "error"                    # failed (scoring error, a dataset that never became ready, ...)
    KERNEL_ERROR = "kernel_error"      # the kernel run failed: nothing was submitted
    INVALID_OUTPUT = "invalid_output"  # the kernel's output failed the checks: nothing was submitted
    REFUSED = "refused"                # refused before anything was spent (dirty tree, daily limit, resubmission)

    __str__ = str.__str__  # f-strings and the tables print the value, as the plain strings did
    __format__ = str.__format__

    @property
    def final(self) -> bool:
        """An attempt in a final state is over; any other state is continued by a re-run."""
        return self in _FINAL

    @classmethod
    def finals(cls) -> tuple[SubmissionStatus, ...]:
        """Every final state."""
        return tuple(s for s in cls if s.final)

    @classmethod
    def from_kaggle(cls, state: str) -> SubmissionStatus:
        """Our state for a Kaggle submission status (PENDING, COMPLETE, ERROR): anything not scored or failed
        is still pending."""
        return {"COMPLETE": cls.COMPLETE, "ERROR": cls.ERROR}.get(state.upper(), cls.PENDING)


_FINAL = frozenset({SubmissionStatus.COMPLETE, SubmissionStatus.ERROR, SubmissionStatus.KERNEL_ERROR,
                    SubmissionStatus.INVALID_OUTPUT, SubmissionStatus.REFUSED})


@dataclass
class SubmissionRow(Artefact):
    """One submission attempt as the ledger keeps it (the `submissions` table, decoded): SQLite's integers back
    to booleans, the parameters' JSON back to a dict, the status to its enum."""

    id: int = _req("The ledger id of the attempt.")
    created_at: float = _req("When the attempt started (Unix time; Kaggle's date for imported submissions).")
    updated_at: float = _req("When the row last changed.")
    competition: str = _req("The competition slug.")
    status: SubmissionStatus = _req("Where the attempt got to.")
    sandbox: bool = _f(False, "Made against the sandbox emulator (never listed with real submissions).")
    origin: str = _f("kit", "kit (made by `kit submit`) or kaggle (found by `kit history --sync`).")
    message: str | None = _f(None, "The submission description.")
    kernel_ref: str | None = _f(None, "owner/slug of the pushed kernel.")
    kernel_version: int | None = _f(None, "The pushed kernel version.")
    kernel_hash: str | None = _f(None, "Hash of the kernel content pushed (a re-run of the same one continues).")
    kernel_dir: str | None = _f(None, "The kernel folder `kit submit` ran from.")
    template: str | None = _f(None, "The recipe the kernel ran.")
    parameters: dict[str, Any] | str | None = _f(None, "The rendered notebook parameters (text if not JSON).")
    adapter_ref: str | None = _f(None, "The adapter dataset.")
    adapter_version: int | None = _f(None, "The adapter dataset version mounted.")
    wheels_ref: str | None = _f(None, "The wheels dataset.")
    wheels_version: int | None = _f(None, "The wheels dataset version mounted.")
    base_model_source: str | None = _f(None, "The base model source mounted.")
    git_sha: str | None = _f(None, "HEAD of the work tree submitted from.")
    git_dirty: bool | None = _f(None, "Whether that work tree had uncommitted changes.")
    kit_version: str | None = _f(None, "The kit version that submitted.")
    local_score: float | None = _f(None, "The local score recorded when the attempt started.")
    content_key: str | None = _f(None, "Links the attempt to the local run of the same kernel content.")
    submission_ref: int | None = _f(None, "Kaggle's submission id.")
    submission_file: str | None = _f(None, "The output file submitted.")
    public_score: float | None = _f(None, "The public leaderboard score.")
    private_score: float | None = _f(None, "The private leaderboard score, once Kaggle shows it.")
    error: str | None = _f(None, "What went wrong, for an attempt that failed or was interrupted.")

    def __post_init__(self) -> None:
        self.check_types()

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SubmissionRow:
        """Decode a `submissions` row (a dict of its columns) as SQLite returns it."""
        data = dict(row)
        data["sandbox"] = bool(data.get("sandbox"))
        if data.get("git_dirty") is not None:
            data["git_dirty"] = bool(data["git_dirty"])
        if isinstance(data.get("parameters"), str):
            try:
                data["parameters"] = json.loads(data["parameters"])
            except json.JSONDecodeError:
                pass  # shown as the text it is
        return cls.from_dict(data)


class DatasetStatus(str, enum.Enum):
    """What a ledger `datasets` row records about one push."""

    READY = "ready"      # pushed and processed: a kernel can mount this version
    PENDING = "pending"  # pushed without waiting for Kaggle to process it
    FAILED = "failed"    # Kaggle failed to process it
    SKIPPED = "skipped"  # not uploaded: the content equals the last recorded version's

    __str__ = str.__str__
    __format__ = str.__format__
