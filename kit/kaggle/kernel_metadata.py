"""kernel-metadata.json: build it from kit.toml and check it the way Kaggle will, before anything is sent.

Pure data code: no `kaggle` import. The official client reads this file in `kernels_push`; its own checks are
partly client-side (id, language, kernel_type) and partly server-side (slug, sources), and some of its defaults
are wrong for a competition kernel (`enable_internet` defaults to True in code), so the kit writes every key
explicitly and validates slug, title and source size here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from kit.errors import ConfigError, InputError

METADATA_NAME = "kernel-metadata.json"
SOURCE_LIMIT_BYTES = 1_000_000  # Kaggle refuses kernel sources over 1 MB
SLUG_MIN, SLUG_MAX = 5, 50
TITLE_MIN, TITLE_MAX = 5, 50
# machine_shape values: kaggle-cli docs/kernels.md (Feb 2026) less the shapes the official client 2.2.5 calls
# retired (_RETIRED_ACCELERATORS: the server silently runs them on a replacement, so the kit refuses them).
GPU_SHAPES = ("NvidiaTeslaT4", "NvidiaTeslaT4Highmem", "NvidiaTeslaA100", "NvidiaL4", "NvidiaL4X1", "NvidiaH100",
              "NvidiaRtxPro6000")
TPU_SHAPES = ("TpuV5E8", "TpuV6E8")
RETIRED_SHAPES = {"NvidiaTeslaP100": "runs on NvidiaTeslaT4", "TpuV38": "runs on TpuV5E8",
                  "Tpu1VmV38": "runs on TpuV5E8", "TpuV232": "runs on CPU", "TpuV2256": "runs on CPU"}
LIST_KEYS = ("dataset_sources", "competition_sources", "kernel_sources", "model_sources", "keywords")
BOOL_KEYS = ("is_private", "enable_gpu", "enable_tpu", "enable_internet")
NO_ACCELERATOR = "none"
PINNING_TYPES = ("original", "latest")  # the official client's valid_push_pinning_types
_SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_OWNER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def slugify(title: str) -> str:
    """Kaggle's slug for a title: lower case, runs of other characters become one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def check_slug(slug: str, what: str = "kernel slug") -> str:
    """ConfigError unless `slug` is 5-50 lower-case letters, digits and inner hyphens."""
    if not (SLUG_MIN <= len(slug) <= SLUG_MAX) or not _SLUG_RE.match(slug) or "--" in slug:
        raise ConfigError(
            f"invalid {what} {slug!r}: use {SLUG_MIN}-{SLUG_MAX} lower-case letters, digits and single hyphens",
            hint="set [kaggle] kernel_slug in kit.toml",
        )
    return slug


def check_title(title: str, slug: str) -> str:
    """ConfigError unless the title has 5-50 characters and slugifies to `slug`.

    Kaggle derives the slug from the title on later pushes; a title that does not match makes them fail."""
    if not (TITLE_MIN <= len(title.strip()) <= TITLE_MAX):
        raise ConfigError(f"invalid kernel title {title!r}: use {TITLE_MIN}-{TITLE_MAX} characters",
                          hint="set [kaggle] kernel_title in kit.toml")
    if slugify(title) != slug:
        raise ConfigError(
            f"kernel title {title!r} slugifies to {slugify(title)!r}, not the kernel slug {slug!r}",
            hint="make [kaggle] kernel_title and kernel_slug agree",
        )
    return title


def check_owner(owner: str) -> str:
    """ConfigError when the Kaggle username is missing or malformed."""
    if not owner:
        raise ConfigError("no Kaggle username", hint="set [kaggle] username in kit.toml, or use --sandbox")
    if not _OWNER_RE.match(owner):
        raise ConfigError(f"invalid Kaggle username {owner!r}")
    return owner


def check_source_size(path: Path) -> int:
    """InputError when the kernel source file is missing or at/over Kaggle's 1 MB limit (the service refuses
    sources that are not "less than 1 megabytes"); returns its size."""
    if not path.is_file():
        raise InputError(f"kernel source not found: {path}")
    size = path.stat().st_size
    if size >= SOURCE_LIMIT_BYTES:
        raise InputError(
            f"kernel source {path.name} is {size:,} bytes, not under Kaggle's {SOURCE_LIMIT_BYTES:,}-byte limit",
            hint="clear notebook outputs or move data into a dataset",
        )
    return size


def machine_settings(accelerator: str) -> dict[str, Any]:
    """enable_gpu / enable_tpu / machine_shape for an accelerator name ('none' for CPU)."""
    if accelerator.lower() == NO_ACCELERATOR:
        return {"enable_gpu": False, "enable_tpu": False}
    if accelerator in GPU_SHAPES:
        return {"enable_gpu": True, "enable_tpu": False, "machine_shape": accelerator}
    if accelerator in TPU_SHAPES:
        return {"enable_gpu": False, "enable_tpu": True, "machine_shape": accelerator}
    raise ConfigError(shape_problem(accelerator, "[kaggle] accelerator"),
                      hint=f"use one of: none, {', '.join(GPU_SHAPES + TPU_SHAPES)}")


def shape_problem(shape: str, where: str) -> str:
    """The one line saying why `shape` is not a machine shape Kaggle offers today."""
    retired = {k.lower(): (k, v) for k, v in RETIRED_SHAPES.items()}.get(shape.lower())
    if retired:
        return f"{where}: {retired[0]} is retired (Kaggle {retired[1]} instead)"
    return f"{where}: unknown accelerator {shape!r}"


def check_shape(meta: dict[str, Any], path: Path) -> None:
    """InputError for a retired or unknown `machine_shape` (the official client only warns)."""
    shape = meta.get("machine_shape")
    if shape in (None, "") or shape in GPU_SHAPES + TPU_SHAPES:
        return
    raise InputError(shape_problem(str(shape), f"{path} machine_shape"),
                     hint=f"use one of: {', '.join(GPU_SHAPES + TPU_SHAPES)}")


def check_form(meta: Any, path: Path) -> dict[str, Any]:
    """InputError unless the metadata is an object with list-valued source keys and boolean flags (the client
    accepts "true"/"false" strings too), a known machine shape and an `id` of the form owner/slug."""
    if not isinstance(meta, dict):
        raise InputError(f"{path}: must hold a JSON object, not {type(meta).__name__}")
    for key in LIST_KEYS:
        value = meta.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError(f"{path}: '{key}' must be a list of strings, not {value!r}")
    for key in BOOL_KEYS:
        if key in meta and meta[key] not in (True, False, "true", "false"):
            raise InputError(f"{path}: '{key}' must be true or false, not {meta[key]!r}")
    ref = str(meta.get("id") or "")
    if ref and (ref.count("/") != 1 or not all(ref.split("/"))):
        raise InputError(f"{path}: 'id' must be owner/slug, not {ref!r}")
    check_shape(meta, path)
    return meta


def load(folder: Path) -> dict[str, Any]:
    """Parse `folder/kernel-metadata.json` and check its form (any kernel, not only the kit's)."""
    path = Path(folder) / METADATA_NAME
    if not path.is_file():
        raise InputError(f"no {METADATA_NAME} in {folder}", hint="run `kit build-submission` first")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None
    return check_form(meta, path)


def source_kind(ref: str) -> str:
    """'dataset' for owner/slug[/N], 'model' for owner/model/framework/variation/N; ConfigError otherwise."""
    from kit.kernel.inputs import parse_ref

    kind = parse_ref(ref).kind
    if kind not in ("dataset", "model"):
        raise ConfigError(f"invalid source {ref!r}",
                          hint="use a dataset 'owner/slug' or a model 'owner/model/framework/variation/N'")
    return kind


def build(*, owner: str, slug: str, title: str, code_file: str, accelerator: str, competition: str,
          datasets: list[str], models: list[str], pinning: str = "original") -> dict[str, Any]:
    """A complete, validated kernel-metadata.json mapping (every default that matters written explicitly)."""
    check_owner(owner)
    check_slug(slug)
    check_title(title, slug)
    check_slug(competition, "competition slug")
    if pinning not in PINNING_TYPES:
        raise ConfigError(f"invalid docker_image_pinning_type {pinning!r}",
                          hint=f"use one of {', '.join(PINNING_TYPES)}")
    for ref in datasets:
        if source_kind(ref) != "dataset":
            raise ConfigError(f"{ref!r} is not a dataset ref (owner/slug)")
    for ref in models:
        if source_kind(ref) != "model":
            raise ConfigError(f"{ref!r} is not a model ref (owner/model/framework/variation/N)")
    meta: dict[str, Any] = {
        "id": f"{owner}/{slug}",
        "title": title,
        "code_file": code_file,
        "language": "python",
        "kernel_type": "notebook",
        "is_private": True,
        "enable_internet": False,  # the client's default is True; a competition kernel must run offline
        "competition_sources": [competition],
        "dataset_sources": sorted(set(datasets)),
        "model_sources": sorted(set(models)),
        "kernel_sources": [],
        "docker_image_pinning_type": pinning,
    }
    meta.update(machine_settings(accelerator))
    return meta


def validate(meta: dict[str, Any], folder: Path | None = None) -> dict[str, Any]:
    """Re-check a metadata mapping (e.g. one edited by hand) and, with `folder`, its code file's size."""
    check_form(meta, Path(folder or ".") / METADATA_NAME)
    for key in ("id", "title", "code_file", "language", "kernel_type"):
        if not meta.get(key):
            raise InputError(f"{METADATA_NAME}: missing '{key}'")
    owner, _, slug = str(meta["id"]).partition("/")
    check_owner(owner)
    check_slug(slug)
    check_title(str(meta["title"]), slug)
    if meta.get("language") != "python" or meta.get("kernel_type") != "notebook":
        raise InputError(f"{METADATA_NAME}: the kit pushes python notebooks (language python, kernel_type notebook)")
    if meta.get("enable_internet") is not False:
        raise InputError(f"{METADATA_NAME}: enable_internet must be false for a competition kernel")
    if "accelerator" in meta:
        raise InputError(f"{METADATA_NAME}: the accelerator key is 'machine_shape', not 'accelerator'")
    if not meta.get("competition_sources"):
        raise InputError(f"{METADATA_NAME}: competition_sources is empty")
    if folder is not None:
        check_source_size(folder / str(meta["code_file"]))
    return meta


def read(folder: Path) -> dict[str, Any]:
    """Read and validate `folder/kernel-metadata.json`."""
    return validate(load(folder), folder)
