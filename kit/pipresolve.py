"""Running pip as if on the Kaggle image: the target, the image's installed set, and the resolver.

The image is described by a freeze list (`name==version` lines; a hand-written approximation ships in
kit/data, a real `pip list --format=freeze` from Kaggle replaces it). To resolve "as if on the image" this
module runs pip in a subprocess whose only installed distributions are metadata stubs of that list
(`python -S`, so this machine's site-packages are invisible), whose environment markers describe the target
(pip evaluates markers against the running interpreter even with --python-version), and which may use the
platform options without --target (--target would make pip ignore the installed stubs). The same runner,
with --no-index and the bundle as the only source, is the offline verification (kit/wheels.py).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from kit.errors import ConfigError, InputError, KitError, WaitTimeoutError

PROFILES_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_PROFILE = "kaggle-gpu-2026"  # today's Kaggle GPU image; "kaggle-gpu-2024" is the spring-2024 one
DEFAULT_IMAGE_FREEZE = PROFILES_DIR / f"image_{DEFAULT_PROFILE}.txt"
PIP_TIMEOUT_S = 1800  # one pip run (a resolve or a download of the closure); sockets time out sooner

_BOOTSTRAP = r"""
import json, sys
cfg = json.loads(sys.argv[1])
sys.path[:0] = cfg["path"]
from pip._vendor.packaging import markers
env = markers.default_environment()
env.update(cfg["markers"])
markers.default_environment = lambda: dict(env)
from pip._internal.cli import cmdoptions
check = cmdoptions.check_dist_restriction
cmdoptions.check_dist_restriction = lambda options, check_target=False: check(options, check_target=False)
from pip._internal.cli.main import main
sys.exit(main(cfg["args"]))
"""


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
    return re.sub(r"[-_.]+", "-", name).lower()


# ---------------------------------------------------------------------------- target and image


@dataclass(frozen=True)
class Target:
    """The interpreter the bundle is for: Python X.Y and one or more wheel platform tags."""

    python_version: str
    platform: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"3\.\d{1,2}", self.python_version):
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

    def markers(self) -> dict[str, str]:
        """PEP 508 marker values of the target (pip would otherwise use this machine's)."""
        machine = self.platforms()[0].rsplit("_", 1)[-1]
        machine = {"64": "x86_64"}.get(machine, machine)  # manylinux..._x86_64 splits as x86 / 64
        return {"python_version": self.python_version, "python_full_version": f"{self.python_version}.0",
                "implementation_name": "cpython", "platform_python_implementation": "CPython",
                "platform_machine": machine, "platform_system": "Linux", "sys_platform": "linux", "os_name": "posix"}


def _manylinux_family(tag: str) -> list[str]:
    """`manylinux_2_31_x86_64` -> itself, every older manylinux_2_N and the legacy aliases pip knows."""
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
        pinned = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*([^\s;]+)(?:\s*;.*)?", line)
        if pinned:
            installed[canonical(pinned.group(1))] = pinned.group(2)
            continue
        direct = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*@\s*(\S+)", line)
        version = _version_from_url(direct.group(1), direct.group(2)) if direct else None
        if not version:
            raise InputError(f"{path}:{number}: cannot read a name and version from {raw.strip()!r}",
                             hint="use `pip list --format=freeze`, which writes name==version lines")
        installed[canonical(direct.group(1))] = version
    return installed


def _version_from_url(name: str, url: str) -> str | None:
    filename = url.rstrip("/").rsplit("/", 1)[-1]
    if filename.endswith(".whl"):
        parts = filename.split("-")
        stem, version = (parts[0], parts[1]) if len(parts) >= 5 else ("", "")
    else:
        stem, _, version = re.sub(r"\.(tar\.gz|zip|tar\.bz2)$", "", filename).rpartition("-")
    return version if stem and canonical(stem) == canonical(name) and version[:1].isdigit() else None


def freeze_hash(installed: dict[str, str]) -> str:
    """sha256 of the normalised installed set (what the manifest records as the image it was built for)."""
    text = "\n".join(f"{name}=={installed[name]}" for name in sorted(installed))
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------------------- pip runner


@dataclass
class PipResult:
    """Exit status and captured output of one pip run."""

    returncode: int
    output: str


def _write_stubs(site: Path, installed: dict[str, str]) -> None:
    """Metadata-only dist-info folders: pip sees them as installed distributions without dependencies."""
    for name, version in installed.items():
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True, exist_ok=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (info / "INSTALLER").write_text("kit-image-stub\n")


def _pip_dir(work: Path) -> Path:
    """A folder holding only pip (a link to this interpreter's pip), so `python -S` can import it alone."""
    spec = importlib.util.find_spec("pip")
    if spec is None or not spec.submodule_search_locations:
        raise KitError("pip is not importable in this environment", hint="install pip into the kit's venv")
    root = work / "piproot"
    root.mkdir(exist_ok=True)
    link = root / "pip"
    if not link.exists():
        link.symlink_to(list(spec.submodule_search_locations)[0], target_is_directory=True)
    return root


def run_pip(args: list[str], *, target: Target, installed: dict[str, str], work: Path,
            offline: bool = False) -> PipResult:
    """Run pip as if on the target image: stub-installed image set, target markers, platform options.

    `offline` also hides every pip config file and PIP_* variable, so only the sources in `args` count.
    """
    site = work / f"image-{freeze_hash(installed)[:12]}"  # one stub site per installed set
    if not site.exists():
        _write_stubs(site, installed)
    cfg = {"path": [str(site), str(_pip_dir(work))], "markers": target.markers(), "args": args}
    env = pip_env(offline, PYTHONNOUSERSITE="1")
    cmd = [sys.executable, "-I", "-S", "-c", _BOOTSTRAP, json.dumps(cfg)]
    return _run(cmd, env=env, cwd=work)


def _run(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> PipResult:
    try:
        proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False,
                              timeout=PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise WaitTimeoutError(f"a pip run went past {PIP_TIMEOUT_S} s",
                               hint="check the network to the package index") from None
    return PipResult(proc.returncode, proc.stdout + proc.stderr)


def pip_failure(output: str, what: str, hint: str | None = None) -> KitError:
    """One clear error from pip's output, naming the distribution pip could not find when there is one."""
    missing = re.findall(r"No matching distribution found for (\S+)", output)
    if missing:
        return InputError(f"{what}: no wheel for {missing[-1]} in the sources for this target",
                          hint=hint or "a binary wheel for the image's Python and platform is needed: pin a version "
                          "that has one in [kaggle] wheels_constraints, or list the package in the image freeze")
    conflict = re.search(r"The conflict is caused by:\n((?:.+\n?)+?)\n", output)
    if conflict:
        lines = " ; ".join(line.strip() for line in conflict.group(1).splitlines() if line.strip())
        return InputError(f"{what}: dependency conflict: {lines}")
    errors = [line for line in output.splitlines() if line.startswith("ERROR:")]
    tail = errors[-1] if errors else (output.strip().splitlines() or ["pip failed"])[-1]
    return KitError(f"{what}: {tail}")


# ---------------------------------------------------------------------------- resolving


def resolve_missing(requirement: Path | str, target: Target, installed: dict[str, str], work: Path,
                    constraints: list[str] | None = None, sources: list[str] | None = None,
                    extra_args: list[str] | None = None) -> list[dict[str, str]]:
    """What pip would install on the image for `requirement`: [{name, version, url}], the kit itself included.

    Uses the configured package index (or only `sources`, find-links folders, when given: no network).
    """
    report = work / f"resolve-{hashlib.sha1(str(requirement).encode()).hexdigest()[:8]}.json"
    args = ["install", "--dry-run", "--report", str(report), *target.pip_args(), *(extra_args or [])]
    if constraints:
        cfile = work / "constraints.txt"
        cfile.write_text("\n".join(constraints) + "\n", encoding="utf-8")
        args += ["-c", str(cfile)]
    if sources is not None:
        args += ["--no-index", *(a for s in sources for a in ("--find-links", s))]
    res = run_pip([*args, str(requirement)], target=target, installed=installed, work=work,
                  offline=sources is not None)
    if res.returncode != 0:
        raise pip_failure(res.output, f"resolving {Path(str(requirement)).name} for the image")
    items = json.loads(report.read_text(encoding="utf-8")).get("install", [])
    return [{"name": canonical(i["metadata"]["name"]), "version": i["metadata"]["version"],
             "url": i.get("download_info", {}).get("url", "")} for i in items]


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
    proc = _run([*cmd, *pins], env=env)
    if proc.returncode != 0:
        raise pip_failure(proc.output, "downloading the bundle's wheels")
    return sorted(set(dest.glob("*.whl")) - before)
