"""dataset-metadata.json and what goes into a pushed folder.

Checks Kaggle's rules before anything is sent (slug and title 6-50 characters, one known license), stages a
clean copy of a folder that never carries secrets or junk, and hashes the content so an unchanged folder is
not uploaded twice.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from kit.errors import ConfigError, InputError

# Exactly the names of kaggle-cli docs/datasets_metadata.md ("Licenses", checked 2026-11-30 at commit 07bf072);
# Kaggle matches them as written: "MIT" and "Apache 2.0" are not on it ("apache-2.0" is).
LICENSES = ("CC0-1.0", "CC-BY-SA-3.0", "CC-BY-SA-4.0", "CC-BY-NC-SA-4.0", "GPL-2.0", "ODbL-1.0", "DbCL-1.0",
            "copyright-authors", "other", "unknown", "CC-BY-4.0", "CC-BY-NC-4.0", "PDDL", "CC-BY-3.0",
            "CC-BY-3.0-IGO", "US-Government-Works", "CC-BY-NC-SA-3.0-IGO", "CDLA-Permissive-1.0", "CDLA-Sharing-1.0",
            "CC-BY-ND-4.0", "CC-BY-NC-ND-4.0", "ODC-BY-1.0", "LGPL-3.0", "AGPL-3.0", "FDL-1.3", "EU-ODP-Legal-Notice",
            "apache-2.0", "GPL-3.0")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
# Never uploaded: credentials, VCS and tool caches, training checkpoints, OS junk.
EXCLUDED_NAMES = {"kaggle.json", ".env", "access_token", "access_token.txt", "credentials.json", ".git",
                  "__pycache__", ".cache", ".huggingface", ".ipynb_checkpoints", ".pytest_cache", ".mypy_cache",
                  ".ruff_cache", ".DS_Store", "dataset-metadata.json", "datapackage.json", "wandb", "runs"}
EXCLUDED_PATTERNS = ("*token*", "*secret*", "*.pyc", "checkpoint-*", ".env.*", "*.tmp", "*~", "optimizer.pt",
                     "scheduler.pt", "rng_state*.pth", "trainer_state.json")


def check_slug(slug: str) -> str:
    """A dataset slug Kaggle accepts: 6-50 characters, lowercase letters, digits and dashes."""
    if not 6 <= len(slug) <= 50:
        raise ConfigError(f"dataset slug {slug!r} must be 6-50 characters (it is {len(slug)})")
    if not SLUG_RE.match(slug) or "--" in slug:
        raise ConfigError(f"dataset slug {slug!r} may hold only lowercase letters, digits and single dashes")
    return slug


def check_title(title: str) -> str:
    """A dataset title Kaggle accepts: 6-50 characters."""
    if not 6 <= len(title.strip()) <= 50:
        raise ConfigError(f"dataset title {title!r} must be 6-50 characters")
    return title.strip()


def check_license(name: str, where: str = "[kaggle] dataset_license") -> str:
    """One license from Kaggle's list, spelled exactly as Kaggle lists it (a near miss names the right one)."""
    if name in LICENSES:
        return name
    near = [n for n in LICENSES if n.lower().replace(" ", "-") == name.lower().replace(" ", "-")]
    hint = f"Kaggle spells it {near[0]!r}" if near else f"use one of: {', '.join(LICENSES)}"
    raise ConfigError(f"{where}: {name!r} is not a license Kaggle accepts", hint=hint)


def title_for(slug: str) -> str:
    """A readable title from a slug ('kit-lora-adapter' -> 'Kit Lora Adapter'), padded to Kaggle's minimum."""
    title = " ".join(w.capitalize() for w in slug.split("-"))[:50]
    return title if len(title) >= 6 else (title + " dataset")[:50]


def dataset_metadata(owner: str, slug: str, *, title: str | None = None, license: str = "CC0-1.0",
                     description: str = "") -> dict:
    """The dataset-metadata.json content (validated)."""
    if not owner:
        raise ConfigError("no Kaggle username set", hint="set [kaggle] username in kit.toml")
    meta = {"id": f"{owner}/{check_slug(slug)}", "title": check_title(title or title_for(slug)),
            "licenses": [{"name": check_license(license)}]}
    if description:
        meta["description"] = description
    return meta


# Hugging Face tokenizer files match "*token*" but are part of a model, not a secret.
TOKENIZER_FILES = {"tokenizer.json", "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json",
                   "added_tokens.json", "tokenizer.vocab"}


def _excluded(name: str) -> bool:
    low = name.lower()
    if low in TOKENIZER_FILES:
        return False
    return name in EXCLUDED_NAMES or any(fnmatch.fnmatch(low, p) for p in EXCLUDED_PATTERNS)


def clean_files(folder: Path) -> list[Path]:
    """Relative paths of the files a push carries; symlinks leaving the folder are refused."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder")
    root = folder.resolve()
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        base = Path(dirpath)
        kept = []
        for d in dirnames:
            _check_link(base / d, root)
            if not _excluded(d):
                kept.append(d)
        dirnames[:] = sorted(kept)
        for name in sorted(filenames):
            path = base / name
            _check_link(path, root)
            if not _excluded(name):
                files.append(path.relative_to(folder))
    return files


def _check_link(path: Path, root: Path) -> None:
    if path.is_symlink():
        target = path.resolve()
        if target != root and root not in target.parents:
            raise InputError(f"{path} is a symlink leaving the folder (to {target})",
                             hint="copy the file in instead; links outside are never uploaded")


def content_hash(folder: Path, files: list[Path] | None = None) -> str:
    """sha256 over the carried files' relative names and bytes (order-independent of the walk)."""
    digest = hashlib.sha256()
    for rel in sorted(files if files is not None else clean_files(folder), key=str):
        digest.update(str(rel).encode() + b"\0")
        with open(Path(folder) / rel, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def stage(folder: Path, dest: Path, metadata: dict, files: list[Path] | None = None) -> Path:
    """Copy the clean files of `folder` into `dest` and write dataset-metadata.json beside them."""
    dest.mkdir(parents=True, exist_ok=True)
    for rel in files if files is not None else clean_files(folder):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(folder) / rel, target)
    (dest / "dataset-metadata.json").write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    return dest
