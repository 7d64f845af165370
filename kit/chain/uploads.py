"""What may leave this machine: upload allowlists, link checks and a credential scanner.

Every folder the kit uploads (an adapter dataset, the wheels bundle, a kernel) goes through here first. An
allowlist names what belongs; anything else is left out and listed; `--include GLOB` adds files on purpose.
Symlinks and hard links that reach outside the folder are refused, and every uploaded text file is scanned
for credentials: one finding refuses the whole upload, naming the file and the kind of secret, never the
secret itself. Our own small scanner (not a secrets-detection library): the shapes are few and fixed, and a
dependency that phones home or ships a rule database would be a poor fit for an offline kit.
"""

from __future__ import annotations

import fnmatch
import os
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from kit.errors import InputError

# What a LoRA adapter dataset carries: PEFT's files, the base model's tokenizer files, the kit's metadata.
ADAPTER_ALLOWLIST = (
    "adapter_config.json", "adapter_model.safetensors", "adapter_model.bin", "kit_adapter.json",
    "README.md", "README.txt", "README",
    "tokenizer.json", "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json", "added_tokens.json",
    "vocab.json", "vocab.txt", "merges.txt", "spiece.model", "chat_template.jinja", "chat_template.json",
    "generation_config.json",
)
SCAN_LIMIT = 64 << 20  # bytes of one text file scanned; tokenizer.json of large vocabularies is ~20 MB
_TEXT_PROBE = 8192

# (kind, pattern). Shapes, not values: a Kaggle legacy key is 32 hex digits, new tokens start KGAT_,
# Hugging Face tokens hf_ + 34 letters, AWS key ids AKIA/ASIA + 16, Google API keys AIza + 35.
PATTERNS: tuple[tuple[str, re.Pattern[bytes]], ...] = tuple((kind, re.compile(rx.encode())) for kind, rx in (
    ("Kaggle API key (kaggle.json)", r'"key"\s*:\s*"[0-9a-f]{32}"'),
    ("Kaggle API key", r"KAGGLE_KEY\s*[=:]\s*['\"]?[0-9a-f]{32}"),
    ("Kaggle API token", r"\bKGAT_[A-Za-z0-9]{16,}"),
    ("Hugging Face token", r"\bhf_[A-Za-z0-9]{30,40}\b"),
    ("private key", r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"),
    ("netrc entry", r"(?m)^\s*(?:machine\s+\S+|default)\s+(?:login\s+\S+\s+)?password\s+\S+"),
    ("AWS access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("AWS secret access key", r"(?i)aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+]{40}"),
    ("Google Cloud service-account key", r'"type"\s*:\s*"service_account"'),
    ("Google API key", r"\bAIza[0-9A-Za-z_\-]{35}\b"),
))


@dataclass
class Finding:
    """One credential-shaped string: where it is and what it looks like (never the value)."""

    file: str
    kind: str
    line: int

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.kind}"


@dataclass
class Selection:
    """The files an upload carries (relative paths) and what was left out of it."""

    folder: Path
    files: list[Path] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)


def scan_bytes(data: bytes, name: str) -> list[Finding]:
    """Credential findings in one text blob (binary data, holding NUL bytes early on, is skipped)."""
    if b"\0" in data[:_TEXT_PROBE]:
        return []
    found = []
    for kind, pattern in PATTERNS:
        match = pattern.search(data)
        if match:
            found.append(Finding(name, kind, data.count(b"\n", 0, match.start()) + 1))
    return found


def scan_files(folder: Path, files: list[Path]) -> list[Finding]:
    """Scan every text file among `files` (relative to `folder`)."""
    found: list[Finding] = []
    for rel in files:
        with open(Path(folder) / rel, "rb") as fh:
            found += scan_bytes(fh.read(SCAN_LIMIT), str(rel))
    return found


def scan_wheel(path: Path) -> list[Finding]:
    """Scan the text members of a wheel (the kit's own wheel is built from the user's working tree)."""
    found: list[Finding] = []
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if not info.is_dir() and info.file_size <= SCAN_LIMIT:
                found += scan_bytes(zf.read(info), f"{path.name}:{info.filename}")
    return found


def refuse_secrets(findings: list[Finding], what: str) -> None:
    """InputError naming every file with a credential-shaped string; nothing was uploaded."""
    if findings:
        listed = "; ".join(str(f) for f in findings[:5]) + (f" (+{len(findings) - 5} more)" if len(findings) > 5
                                                             else "")
        raise InputError(f"{what} refused: credential-shaped text in {listed}",
                         hint="remove the file or the secret (and rotate it if it was ever shared); nothing was "
                              "uploaded")


def check_links(folder: Path) -> None:
    """InputError for a symlink or hard link inside `folder` that reaches outside it."""
    folder = Path(folder)
    root = folder.resolve()
    inodes: Counter = Counter()
    linked: list[tuple[Path, os.stat_result]] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if path.is_symlink():
                target = path.resolve()
                if target != root and root not in target.parents:
                    raise InputError(f"{path} is a symlink leaving the folder (to {target})",
                                     hint="copy the file in instead; links outside are never uploaded")
                continue
            if name in filenames:
                st = path.stat()
                inodes[(st.st_dev, st.st_ino)] += 1
                if st.st_nlink > 1:
                    linked.append((path, st))
    for path, st in linked:
        if st.st_nlink > inodes[(st.st_dev, st.st_ino)]:
            raise InputError(f"{path} is a hard link to a file outside the folder",
                             hint="copy the file in instead (cp, not ln); it was not uploaded")


def select(folder: Path, allowlist: tuple[str, ...], include: tuple[str, ...] | list[str] = ()) -> Selection:
    """The allowlisted top-level files of `folder` plus those matching an `include` glob (relative path).

    Links are checked first; everything else is listed in `left_out` (folders as `name/`)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder")
    check_links(folder)
    chosen = Selection(folder)
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            rel = (Path(dirpath) / name).relative_to(folder)
            posix = rel.as_posix()
            allowed = rel.parent == Path(".") and name in allowlist
            if allowed or any(fnmatch.fnmatch(posix, g) for g in include):
                chosen.files.append(rel)
            else:
                chosen.left_out.append(posix)
    return chosen


def adapter_upload(folder: Path, include: tuple[str, ...] | list[str] = ()) -> Selection:
    """The files an adapter push carries, links checked and every text file scanned (InputError otherwise)."""
    chosen = select(folder, ADAPTER_ALLOWLIST, include)
    refuse_secrets(scan_files(chosen.folder, chosen.files), f"upload of {folder}")
    return chosen


def check_bundle(folder: Path, manifest: str, own_wheel_prefix: str) -> None:
    """A wheels bundle: no links leaving it; the manifest and the kit's own wheel (built from the working tree)
    scanned. Third-party wheels are pinned by sha256 from the package index and not the user's content."""
    folder = Path(folder)
    check_links(folder)
    findings = scan_files(folder, [Path(manifest)]) if (folder / manifest).is_file() else []
    for wheel in sorted(folder.glob(f"{own_wheel_prefix}*.whl")):
        findings += scan_wheel(wheel)
    refuse_secrets(findings, f"upload of the wheels bundle {folder}")


def check_kernel(folder: Path, code_file: str, metadata_name: str) -> None:
    """A kernel push uploads only its code file and metadata: those are scanned, links refused."""
    folder = Path(folder)
    check_links(folder)
    files = [Path(n) for n in (code_file, metadata_name) if (folder / n).is_file()]
    refuse_secrets(scan_files(folder, files), f"push of the kernel in {folder}")
