"""Run a sandbox kernel the way Kaggle runs one: /kaggle/input, /kaggle/working, no network, a bare image.

Two parts, both stdlib only:

- The stand-in image (`build_image`): a fresh venv on this machine's base interpreter whose site-packages is a
  folder of links to every distribution of the running environment except the kit's own (its package, its
  dist-info, its editable-install hooks). The kernel's interpreter therefore has torch, transformers, papermill
  and ipykernel like a Kaggle image, but imports the kit only after installing it from the wheels dataset
  (`importlib.metadata` does not see it either, so pip cannot skip the install). A link farm rather than a
  `.pth` pointing at the dev venv, because that would expose the kit's dist-info (see kaggle_today.md §6).
- Isolation (`isolation_problem`, `command`, `enter`): `unshare --user --map-root-user --mount --net`, which
  Linux grants without root where user namespaces are enabled. Inside, `enter` builds a new root on a tmpfs:
  every top-level folder of the host bound back in, a fresh /tmp, HOME and KIT_HOME hidden, /kaggle/input
  assembled from read-only bind mounts at the paths a Kaggle kernel sees, /kaggle/working bound to the run's
  output folder; it brings up loopback only (the notebook talks to its ipykernel over it), chroots and execs the
  kernel driver. /kaggle is never created on the host. Where namespaces are unavailable the caller runs the same
  driver degraded (inputs under the run folder, network reachable) and says so.
- Stopping (`stop_tree`): a kernel is a tree of processes in sessions of their own (the driver leads one; papermill's
  ipykernel leads another, as jupyter_client starts it with a new session), so neither a terminal's Ctrl-C nor a
  kill of one process group reaches all of it. `stop_tree` freezes every process descending from the driver or in
  a session one of them leads, then kills them all, and returns once they are gone.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import venv
from importlib import metadata
from pathlib import Path

KIT_DIST = "kaggle-kit"
UNSHARE = ("unshare", "--user", "--map-root-user", "--mount", "--net")
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REMOUNT, _MS_BIND, _MS_REC = 1, 2, 4, 8, 32, 4096, 16384
_PROBE: dict[str, str] = {}
_GONE = ("Z", "X")  # /proc states of a process that has exited (a zombie waits only to be reaped)
_HALTED = ("T", "t", *_GONE)  # stopped by a signal (or traced), or gone


# ---------------------------------------------------------------------------- the stand-in image


def _kit_entries(site: Path) -> set[str]:
    """Names in `site` that make the kit importable or visible: package, dist-info, editable hooks, and any
    .pth file naming the kit's source folder (a legacy editable install)."""
    names = {"kit"}
    source = str(Path(__file__).resolve().parents[2])
    for entry in site.iterdir():
        low = entry.name.lower()
        if low.startswith(("kaggle_kit", "__editable__.kaggle_kit", "__editable___kaggle_kit")):
            names.add(entry.name)
        elif low.endswith(".pth") and source in entry.read_text(errors="replace"):
            names.add(entry.name)
    return names


def _site_packages() -> Path:
    import sysconfig

    return Path(sysconfig.get_paths()["purelib"])


def build_image(dest: Path) -> Path:
    """A fresh interpreter folder at `dest` that sees this environment's distributions except the kit's.

    Returns its python executable. Cheap (a venv without pip plus a few hundred links), so each kernel run gets
    its own and the kit it installs never outlives the run."""
    if dest.exists():
        shutil.rmtree(dest)
    venv.EnvBuilder(system_site_packages=False, with_pip=False, symlinks=True).create(dest)
    python = dest / "bin" / "python"
    source = _site_packages()
    site = dest / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"  # a POSIX venv
    skip = _kit_entries(source)
    for entry in sorted(source.iterdir()):
        if entry.name in skip or entry.name == "__pycache__":
            continue
        (site / entry.name).symlink_to(entry)
    return python


def image_freeze() -> str:
    """`name==version` lines of the stand-in image (this environment without the kit): the sandbox's profile."""
    from packaging.utils import canonicalize_name

    seen: dict[str, str] = {}
    for dist in metadata.distributions(path=[str(_site_packages())]):
        name = (dist.metadata["Name"] or "").strip()
        if name and canonicalize_name(name) != KIT_DIST:
            seen.setdefault(name, dist.version)
    return "".join(f"{n}=={v}\n" for n, v in sorted(seen.items(), key=lambda kv: kv[0].lower()))


# ---------------------------------------------------------------------------- isolation


def isolation_problem() -> str:
    """'' when user, mount and network namespaces work here; else why not (checked once per process)."""
    if "answer" not in _PROBE:
        if shutil.which("unshare") is None:
            _PROBE["answer"] = "util-linux `unshare` is not installed"
        else:
            try:
                proc = subprocess.run([*UNSHARE, "true"], capture_output=True, text=True, timeout=20)
                _PROBE["answer"] = "" if proc.returncode == 0 else (
                    "unshare refused: " + (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1])
            except (OSError, subprocess.TimeoutExpired) as exc:
                _PROBE["answer"] = f"unshare failed: {exc}"
    return _PROBE["answer"]


def degraded_notice(problem: str) -> str:
    """The one plain line said when a kernel runs without isolation."""
    return (f"sandbox NOT isolated ({problem}): the kernel runs with the network reachable and its inputs under "
            "the run folder instead of /kaggle/input (input_dir is injected when the notebook has it)")


def command(spec_path: Path) -> list[str]:
    """The command that enters fresh namespaces and runs `enter(spec_path)` there."""
    return [*UNSHARE, sys.executable, "-m", "kit.kaggle.isolation", str(spec_path)]


def beside_command(pid: int, spec_path: Path) -> list[str]:
    """The command that joins the user and network namespaces of process `pid` (an isolated kernel), takes a mount
    namespace of its own and runs `enter(spec_path)` there: a second container that shares only loopback with the
    kernel, as Kaggle's evaluation gateway shares the network with the notebook it calls."""
    return ["nsenter", f"--target={pid}", "--user", "--net", "--", "unshare", "--mount",
            sys.executable, "-m", "kit.kaggle.isolation", str(spec_path)]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _mount(source: str | None, target: Path, fstype: str | None, flags: int) -> None:
    libc = _libc()
    src, fs = (source.encode() if source else None), (fstype.encode() if fstype else None)
    if libc.mount(src, str(target).encode(), fs, ctypes.c_ulong(flags), None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _bind(source: Path, target: Path, readonly: bool) -> None:
    """Bind `source` (recursively) at `target`; read-only keeps the flags the kernel locks on the source."""
    if source.is_dir():
        target.mkdir(parents=True, exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
    _mount(str(source), target, None, _MS_BIND | _MS_REC)
    if readonly:
        st = os.statvfs(target)
        kept = sum(flag for bit, flag in ((os.ST_NOSUID, _MS_NOSUID), (os.ST_NODEV, _MS_NODEV),
                                           (os.ST_NOEXEC, _MS_NOEXEC)) if st.f_flag & bit)
        try:
            _mount(None, target, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | kept)
        except OSError:
            pass  # some kernels lock more flags; the binds of the host system stay writable then, inputs too


def _loopback_up() -> None:
    """Bring `lo` up in the new network namespace (SIOCSIFFLAGS): localhost works, nothing else exists."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        req = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(sock, 0x8913, req))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(sock, 0x8914, struct.pack("16sH14s", b"lo", flags | 0x1, b""))  # SIOCSIFFLAGS, IFF_UP


def _hidden(path: Path, hide: list[Path]) -> bool:
    return any(path == h or h in path.parents for h in hide)


def enter(spec_path: Path) -> None:
    """Inside fresh namespaces: build the Kaggle-like root described by `spec_path`, chroot, exec the driver."""
    spec = json.loads(Path(spec_path).read_text())
    root = Path(spec["root"])
    root.mkdir(parents=True, exist_ok=True)
    _mount(None, Path("/"), None, _MS_REC | (1 << 18))  # MS_PRIVATE: nothing propagates back to the host
    _mount("tmpfs", root, "tmpfs", 0)
    for entry in sorted(Path("/").iterdir()):
        if entry.name in ("kaggle", "tmp", "root") or entry.name.startswith("."):
            continue
        if entry.is_symlink():
            (root / entry.name).symlink_to(os.readlink(entry))
        elif entry.is_dir():
            _bind(entry, root / entry.name, readonly=entry.name not in ("dev", "proc", "sys"))
    hide = [Path(p) for p in spec["hide"] if Path(p).is_dir() and len(Path(p).parts) > 2]  # never / or /usr
    for name in ("tmp", "root"):  # a fresh, writable /tmp and HOME (Kaggle kernels run as root)
        (root / name).mkdir(exist_ok=True)
        _mount("tmpfs", root / name, "tmpfs", 0)
    for path in hide:
        if not _hidden(path, [Path("/tmp"), Path("/root")]) and (root / path.relative_to("/")).is_dir():
            _mount("tmpfs", root / path.relative_to("/"), "tmpfs", 0)
    for keep in map(Path, spec["keep"]):  # what the kernel needs from hidden places, back at the same path
        if keep.exists() and _hidden(keep, [*hide, Path("/tmp"), Path("/root")]):
            _bind(keep, root / keep.relative_to("/"), readonly=True)
    if spec.get("image"):  # writable wherever it lives: the kernel pip-installs into it
        image = Path(spec["image"])
        _bind(image, root / image.relative_to("/"), readonly=False)
    kaggle = root / "kaggle"
    for rel, source in sorted(spec["mounts"].items()):
        _bind(Path(source).resolve(), kaggle / "input" / rel, readonly=True)
    (kaggle / "input").mkdir(parents=True, exist_ok=True)
    _bind(Path(spec["working"]), kaggle / "working", readonly=False)
    if spec.get("src"):
        _bind(Path(spec["src"]), kaggle / "src", readonly=False)
    if spec.get("hosts"):  # host names this container resolves (a gateway's `inference_server`)
        _mount(str(Path(spec["hosts"]).resolve()), root / "etc" / "hosts", None, _MS_BIND)
    _loopback_up()
    os.chroot(root)
    os.chdir("/kaggle/working")
    argv = spec["argv"]
    os.execve(argv[0], argv, spec["env"])


# ---------------------------------------------------------------------------- stopping a kernel


def _processes() -> dict[int, tuple[int, int, str]]:
    """{pid: (parent pid, session id, state letter)} of every process /proc shows."""
    found: dict[int, tuple[int, int, str]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
        except OSError:  # exited while we looked
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces and parentheses
        found[int(entry.name)] = (int(fields[1]), int(fields[3]), fields[0])
    return found


def process_tree(root: int) -> set[int]:
    """The live processes of the kernel led by `root`: `root`, its descendants and whatever sits in a session one
    of them leads (a process orphaned before we looked keeps its session). `root` may have exited already: its
    pid still names the session it led."""
    procs = _processes()
    members = {root}
    grew = True
    while grew:
        grew = False
        for pid, (ppid, sid, state) in procs.items():
            if pid not in members and state not in _GONE and (ppid in members or sid in members):
                members.add(pid)
                grew = True
    return {pid for pid in members if pid in procs and procs[pid][2] not in _GONE}


def _signal_all(pids: set[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:  # gone already
            pass


def _until(pids: set[int], states: tuple[str, ...], timeout: float) -> bool:
    """Wait until every process of `pids` is in one of `states` or gone; True when that happened in time."""
    deadline = time.monotonic() + timeout
    while True:
        procs = _processes()
        if all(pid not in procs or procs[pid][2] in states for pid in pids):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def stop_tree(root: int, timeout: float = 10.0) -> set[int]:
    """Stop the kernel led by `root` and everything it started; returns the pids it killed, all gone by then
    (or after `timeout` s in uninterruptible sleep, with the kill pending).

    Every member is frozen (SIGSTOP) first, and the tree is read again until no new member appears, so nothing
    forks a child that escapes while its parent is being killed; then all of them get SIGKILL. A kernel writes
    its outputs atomically (kit.kernel.guard), so killing it at any moment leaves the last complete file. The
    kernel's processes in their user namespace are this user's to signal: the namespace maps its root to us."""
    frozen: set[int] = set()
    for _ in range(50):  # bounded: a member that cannot stop (uninterruptible sleep) must not hold us forever
        new = process_tree(root) - frozen
        if not new:
            break
        _signal_all(new, signal.SIGSTOP)
        frozen |= new
        _until(new, _HALTED, 1.0)  # a fork under way completes before its parent stops: look again after
    _signal_all(frozen, signal.SIGKILL)
    _until(frozen, _GONE, timeout)
    return frozen


if __name__ == "__main__":  # pragma: no cover - runs inside the namespaces, exercised through the runner
    try:
        enter(Path(sys.argv[1]))
    except Exception as exc:  # the one line the runner shows as the kernel's failure
        print(f"sandbox isolation failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(3)
