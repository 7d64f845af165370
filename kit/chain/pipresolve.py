"""Resolving the offline bundle for the Kaggle image: the target, the image's installed set, and the resolver.

The image is described by a freeze list (`name==version` lines; a hand-written approximation ships in
kit/data, a real `pip list --format=freeze` from Kaggle replaces it). `uv pip compile` resolves for the target
(`--python-version`, `--python-platform`: markers and wheel tags are the target's, not this machine's). The image's
packages take part as metadata-only stub wheels in a local find-links folder (version `V+kitimage`, so no index
wheel of V and its dependencies stands in for them), named as the resolver's preferred versions (the existing
output file uv reads), so a package the image already has at a satisfying version stays as it is and one it lacks
or has too old is added, as pip on the image would do; what differs from the image is the bundle.
`pip download --no-deps` then fetches exactly those pins for the target. The same resolver, with --no-index and
the bundle as the only source, is the offline verification (kit/chain/wheels.py).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from kit.errors import ConfigError, InputError, KitError, WaitTimeoutError

PROFILES_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_PROFILE = "kaggle-gpu-2026"  # today's Kaggle GPU image; "kaggle-gpu-2024" is the spring-2024 one
DEFAULT_IMAGE_FREEZE = PROFILES_DIR / f"image_{DEFAULT_PROFILE}.txt"
PIP_TIMEOUT_S = 1800  # one resolver or pip run (a resolve or a download of the closure); sockets time out sooner


def pip_env(offline: bool, **extra: str) -> dict[str, str]:
    """The environment for a pip subprocess: no version nag; `offline` also hides every pip config file and
    PIP_* variable (this machine's index settings), so only the sources on the command line count."""
    env = dict(os.environ)
    if offline:
        env = {k: v for k, v in env.items() if not k.startswith("PIP_")}
        env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


def canonical(name: str) -> str:
    """PEP 503 normalised project name."""
    return str(canonicalize_name(name))


# ---------------------------------------------------------------------------- target and image


@dataclass(frozen=True)
class Target:
    """The interpreter the bundle is for: Python X.Y and one or more wheel platform tags."""

    python_version: str
    platform: str

    def __post_init__(self) -> None:
        try:
            release = Version(self.python_version).release
        except InvalidVersion:
            release = ()
        if len(release) != 2 or release[0] != 3 or str(Version(self.python_version)) != self.python_version:
            raise ConfigError(f"python version must look like 3.10, got {self.python_version!r}")
        if not self.platform or not all(re.fullmatch(r"(many)?linux[a-z0-9_]+", p) for p in self.platforms()):
            raise ConfigError(f"bad wheel platform tag {self.platform!r}: Kaggle images are Linux "
                              "(e.g. manylinux2014_x86_64 or manylinux_2_31_x86_64)")

    def platforms(self) -> list[str]:
        """The given tags (comma-separated) plus the older manylinux tags each one accepts."""
        out: list[str] = []
        for tag in (p.strip() for p in self.platform.split(",")):
            for expanded in _manylinux_family(tag):
                if expanded not in out:
                    out.append(expanded)
        return out

    def pip_args(self) -> list[str]:
        """pip options selecting binary wheels for this target."""
        args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", self.python_version]
        for tag in self.platforms():
            args += ["--platform", tag]
        return args

    def uv_platform(self) -> str:
        """uv's --python-platform for the first tag: `<arch>-manylinux_2_N`, N the newest glibc uv knows that is
        not newer than the tag's (uv names 2_17, 2_28 and 2_31 to 2_40; manylinux2014 is 2_17)."""
        tag = self.platforms()[0]
        m = re.fullmatch(r"manylinux_2_(\d+)_(\w+)", tag)
        if not m:
            raise ConfigError(f"no uv platform for wheel tag {tag!r}", hint="use a manylinux tag, e.g. "
                              "manylinux_2_35_x86_64")
        glibc, arch = int(m.group(1)), m.group(2)
        known = [n for n in (17, 28, *range(31, 41)) if n <= glibc]
        if not known:
            raise ConfigError(f"wheel tag {tag!r} is older than manylinux2014, which uv cannot target")
        return f"{arch}-manylinux_2_{known[-1]}"


def _manylinux_family(tag: str) -> list[str]:
    """`manylinux_2_31_x86_64` -> itself, every older manylinux_2_N and the legacy aliases.

    Written here because `pip download --platform` takes tags literally (it expands only the legacy aliases), and
    packaging's own expansion reads this machine's glibc, not the target's.
    """
    legacy = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}
    m = re.fullmatch(r"manylinux_2_(\d+)_(\w+)", tag)
    prefix, _, arch = tag.partition("_")
    if m:
        glibc, arch = int(m.group(1)), m.group(2)
    elif prefix in legacy:
        glibc = legacy[prefix]
    else:
        return [tag]
    tags = [f"manylinux_2_{n}_{arch}" for n in range(glibc, 4, -1)]
    tags += [f"{name}_{arch}" for name, n in legacy.items() if n <= glibc]
    return tags


@dataclass(frozen=True)
class ImageProfile:
    """An image description: its package list (a freeze file) plus `# key: value` header lines saying which
    Python and platform it is, when it was checked and which constraints keep added packages in its era."""

    name: str
    path: Path
    python: str
    platform: str
    checked: str
    constraints: tuple[str, ...]


def load_profile(name_or_path: str | os.PathLike) -> ImageProfile:
    """A profile by name (kit/data/image_<name>.txt) or path; a plain `pip list --format=freeze` has no header."""
    text = str(name_or_path)
    path = PROFILES_DIR / f"image_{text}.txt" if "/" not in text and not text.endswith(".txt") else Path(text)
    if not path.is_file():
        known = sorted(p.stem[len("image_"):] for p in PROFILES_DIR.glob("image_*.txt"))
        raise ConfigError(f"image profile {text!r} not found", hint=f"use one of {', '.join(known)} or a file path")
    head: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r"#\s*(kit image profile|python|platform|checked|constraints):\s*(.*)", line.strip())
        if m:
            head.setdefault(m.group(1), m.group(2).strip())
    constraints = tuple(c.strip() for c in head.get("constraints", "").split(",") if c.strip())
    return ImageProfile(head.get("kit image profile", path.stem), path, head.get("python", ""),
                        head.get("platform", ""), head.get("checked", ""), constraints)


def read_freeze(path: Path | None = None) -> dict[str, str]:
    """The image's installed set from a freeze list: canonical name -> version.

    Accepts `name==version` (and `===`), and `name @ URL` when the URL's file name carries the version;
    comments, blank lines and options (`-e`, `--...`) are skipped. A line it cannot read is an InputError.
    """
    path = Path(path) if path else DEFAULT_IMAGE_FREEZE
    if not path.is_file():
        raise InputError(f"image freeze list not found: {path}", hint="capture one with `pip list --format=freeze`")
    installed: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            req = None
        version = _pinned_version(req) if req else None
        if not version:
            raise InputError(f"{path}:{number}: cannot read a name and version from {raw.strip()!r}",
                             hint="use `pip list --format=freeze`, which writes name==version lines")
        installed[canonical(req.name)] = version
    return installed


def _pinned_version(req: Requirement) -> str | None:
    """The one version a freeze line pins: `==V` / `===V`, or the version in a direct URL's file name."""
    if req.url:
        filename = req.url.rstrip("/").rsplit("/", 1)[-1]
        try:
            name, version = (parse_wheel_filename(filename)[:2] if filename.endswith(".whl")
                             else parse_sdist_filename(filename))
        except (InvalidWheelFilename, InvalidSdistFilename):
            return None
        return str(version) if name == canonicalize_name(req.name) else None
    pins = [s for s in req.specifier if s.operator in ("==", "===") and "*" not in s.version]
    if len(pins) != 1 or len(req.specifier) != 1:
        return None
    try:
        Version(pins[0].version)  # a stub wheel needs a PEP 440 version
    except InvalidVersion:
        return None
    return pins[0].version


def freeze_hash(installed: dict[str, str]) -> str:
    """sha256 of the normalised installed set (what the manifest records as the image it was built for)."""
    text = "\n".join(f"{name}=={installed[name]}" for name in sorted(installed))
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------------------- running pip and uv


@dataclass
class PipResult:
    """Exit status and captured output of one pip or uv run."""

    returncode: int
    output: str


def run_pip(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> PipResult:
    try:
        proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False,
                              timeout=PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise WaitTimeoutError(f"a {Path(cmd[0]).name} run went past {PIP_TIMEOUT_S} s",
                               hint="check the network to the package index") from None
    return PipResult(proc.returncode, proc.stdout + proc.stderr)


def _same_version(a: str, b: str) -> bool:
    """uv writes versions in PEP 440 normal form, a freeze may not (0.2024.02.26): compare them as versions."""
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def uv_bin() -> str:
    """The uv executable of the `uv` package (a kit dependency), else one on PATH."""
    import shutil

    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):  # not installed, or installed without its scripts (--target)
        found = shutil.which("uv")
        if found:
            return found
    raise KitError("the `uv` executable is not available", hint="pip install uv (a kit dependency)")


def uv_env(offline: bool) -> dict[str, str]:
    """The environment for uv: no uv.toml/pyproject settings, no interpreter downloads; `offline` also drops
    UV_* index settings, so only the sources on the command line count."""
    env = dict(os.environ)
    if offline:
        env = {k: v for k, v in env.items() if not re.match(r"UV_(INDEX|DEFAULT_INDEX|EXTRA_INDEX|FIND_LINKS)", k)}
    env.update(UV_NO_CONFIG="1", UV_PYTHON_DOWNLOADS="never", NO_COLOR="1")
    return env


def pip_failure(output: str, what: str, hint: str | None = None) -> KitError:
    """One clear error from pip's or uv's output, naming the distribution no source has when there is one."""
    hint = hint or ("a binary wheel for the image's Python and platform is needed: pin a version that has one in "
                    "[kaggle] wheels_constraints, or list the package in the image freeze")
    missing = re.findall(r"No matching distribution found for (\S+)", output)
    uv_missing = re.search(r"Because (\S+) was not found in the (?:provided package locations|package registry)",
                           output)
    if uv_missing:  # uv names the missing project, and below it the requirement that asked for it
        name = uv_missing.group(1)
        asked = re.search(rf"depends? on ({re.escape(name)}[^\s,]*)", output)
        missing = [asked.group(1) if asked else name]
    if missing:
        return InputError(f"{what}: no wheel for {missing[-1]} in the sources for this target", hint=hint)
    conflict = re.search(r"The conflict is caused by:\n((?:.+\n?)+?)\n", output)
    if conflict:
        lines = " ; ".join(line.strip() for line in conflict.group(1).splitlines() if line.strip())
        return InputError(f"{what}: dependency conflict: {lines}")
    unsolvable = re.search(r"No solution found when resolving dependencies.*?\n\s*cause: (.+?)(?:\n\s*And |\n\S|$)",
                           output, re.S)
    if unsolvable:
        return InputError(f"{what}: dependency conflict: {' '.join(unsolvable.group(1).split())}", hint=hint)
    errors = [line for line in output.splitlines() if line.startswith(("ERROR:", "error:"))]
    tail = errors[-1] if errors else (output.strip().splitlines() or ["the resolver failed"])[-1]
    return KitError(f"{what}: {tail}")


# ---------------------------------------------------------------------------- resolving


def _stub_version(version: str) -> str:
    """The image version with the local label `kitimage`: it satisfies every specifier the plain version does
    (PEP 440 ignores local labels unless a specifier names one), yet no index has it, so the resolver takes the
    stub (no dependencies: they are installed on the image) and not the index's wheel of that version (whose
    dependencies, e.g. torch's CUDA wheels, would land in the bundle)."""
    return f"{version}.kitimage" if Version(version).local else f"{version}+kitimage"


def _stub_wheels(folder: Path, installed: dict[str, str]) -> None:
    """Metadata-only wheels (py3-none-any, no dependencies) standing for the image's installed distributions.

    Written by hand: they exist only for the resolver to see, and a wheel is three small files in a zip."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, plain in installed.items():
        version = _stub_version(plain)
        dist = f"{name.replace('-', '_')}-{version}"
        files = {f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
                 f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: kit-image-stub\nRoot-Is-Purelib: true\n"
                                            "Tag: py3-none-any\n"}
        files[f"{dist}.dist-info/RECORD"] = "".join(f"{a},,\n" for a in [*files, f"{dist}.dist-info/RECORD"])
        with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as zf:
            for arc, text in files.items():
                zf.writestr(arc, text)


def resolve_missing(requirement: Path | str, target: Target, installed: dict[str, str], work: Path,
                    constraints: list[str] | None = None, sources: list[str] | None = None,
                    extra_args: list[str] | None = None) -> list[dict[str, str]]:
    """What the image lacks for `requirement` (a wheel path or a project name): [{name, version, url}], the kit
    itself included: the target's resolution less what the image already has at that version.

    Uses the package index (or only `sources`, find-links folders, when given: no network).
    """
    key = hashlib.sha1(f"{requirement}|{target}|{sources}|{extra_args}".encode()).hexdigest()[:8]
    out = compile_for_image(requirement, target, installed, work, work / f"resolved-{key}.txt", constraints,
                            sources, extra_args)
    plan = []
    for line in out.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith(("#", "-")):
            continue
        req = Requirement(line)
        version = _pinned_version(req) or ""
        name = canonical(req.name)
        if name in installed and _same_version(version, _stub_version(installed[name])):
            continue  # the image's own
        plan.append({"name": name, "version": version, "url": req.url or ""})
    return plan


def compile_for_image(requirement: Path | str, target: Target, installed: dict[str, str], work: Path, out: Path,
                      constraints: list[str] | None = None, sources: list[str] | None = None,
                      extra_args: list[str] | None = None) -> Path:
    """`uv pip compile` of `requirement` for the target into `out` (requirements.txt, or pylock.toml by its name),
    the image's packages preferred at their versions. Returns `out`; a failure is one clear KitError."""
    stubs = work / f"image-{freeze_hash(installed)[:12]}"  # one stub folder per installed set
    if not stubs.exists():
        _stub_wheels(stubs, installed)
    wanted = Path(requirement)
    spec = work / f"{out.stem}.in"
    spec.write_text((f"{_wheel_name(wanted)} @ {wanted.resolve().as_uri()}" if wanted.suffix == ".whl"
                     else str(requirement)) + "\n", encoding="utf-8")
    if installed and out.suffix == ".txt":  # uv prefers the versions an existing output file names
        out.write_text("".join(f"{n}=={_stub_version(v)}\n" for n, v in sorted(installed.items())), encoding="utf-8")
    args = ["pip", "compile", "--quiet", "--no-header", "--no-annotate", "--only-binary", ":all:",
            "--python", sys.executable, "--python-version", target.python_version,
            "--python-platform", target.uv_platform(), "--find-links", str(stubs), *(extra_args or [])]
    if constraints:
        (work / f"{out.stem}-constraints.txt").write_text("\n".join(constraints) + "\n", encoding="utf-8")
        args += ["--constraints", str(work / f"{out.stem}-constraints.txt")]
    if sources is not None:
        args += ["--no-index", "--no-cache", *(a for s in sources for a in ("--find-links", s))]
    res = run_pip([uv_bin(), *args, "-o", str(out), str(spec)], env=uv_env(sources is not None), cwd=work)
    if res.returncode != 0:
        output = re.sub(r"[+.]kitimage\b", " (the image's)", res.output)  # name the stubs for what they stand for
        raise pip_failure(output, f"resolving {wanted.name} for the image")
    return out


def _wheel_name(path: Path) -> str:
    try:
        return str(parse_wheel_filename(path.name)[0])
    except InvalidWheelFilename:
        raise InputError(f"{path.name} is not a wheel file name") from None


def download_wheels(pins: list[str], target: Target, dest: Path, sources: list[str] | None = None) -> list[Path]:
    """Download exactly these `name==version` wheels for the target (no dependencies) into `dest`."""
    if not pins:
        return []
    dest.mkdir(parents=True, exist_ok=True)
    before = set(dest.glob("*.whl"))
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest), *target.pip_args()]
    env = pip_env(offline=sources is not None)
    if sources is not None:
        cmd += ["--no-index", *(a for s in sources for a in ("--find-links", s))]
    proc = run_pip([*cmd, *pins], env=env)
    if proc.returncode != 0:
        raise pip_failure(proc.output, "downloading the bundle's wheels")
    return sorted(set(dest.glob("*.whl")) - before)
