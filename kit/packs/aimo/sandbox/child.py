"""The child side of one tool run, self-contained (stdlib only).

The host (runner.py) starts `python -s -u -B -c <this file's source> SPEC_PATH` in a fresh process group. The
source is passed as text, so this file imports nothing from the kit: it must run under whatever interpreter the
host names (runner.py imports it only for the /proc helpers at the bottom).

Processes, top down:
- isolated runs only: a launcher, which writes the uid/gid maps of the new user namespace from outside (only a
  process outside may map a second uid), and a middle process, which creates fresh user, mount, pid and network
  namespaces; both just wait and exit with the status of the one below;
- the supervisor (pid 1 of the new pid namespace when isolated) builds the mount view, forks the worker, reaps,
  watches the process count, kills every descendant at the end and writes one JSON status on a pipe that only it
  holds (so the snippet cannot forge it: the worker closes its copy, and the supervisor is not dumpable, which
  keeps its /proc/<pid>/fd out of the worker's reach);
- the worker drops to the planned uid, sets its resource limits, enters the scratch folder and runs the cells,
  the last one echoing its final expression like a notebook cell.

The mount view (isolated runs): the host's /tmp and home folders are covered by fresh tmpfs mounts (/tmp is the
run's private one, holding its scratch folder and gone with the namespace; the homes are empty and read-only)
with the interpreter's own folders under them bound back read-only; protected paths are covered by empty
read-only tmpfs mounts; every other mount is made read-only. The snippet then holds no capability over that view:
on a root host the worker runs as uid 65534; otherwise it stays root of the namespace but inside a nested user
namespace, where mounts inherited from the more privileged one cannot be unmounted, split off or made writable
(mount_namespaces(7)).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import ctypes
import json
import linecache
import os
import resource
import signal
import sys
import traceback

_CLONE_NEWNS, _CLONE_NEWUSER, _CLONE_NEWPID, _CLONE_NEWNET = 0x00020000, 0x10000000, 0x20000000, 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REMOUNT, _MS_BIND = 1, 2, 4, 8, 32, 4096
_MS_REC, _MS_PRIVATE = 16384, 1 << 18
_MOUNT_ATTR_RDONLY, _MOUNT_ATTR_NOSUID = 0x1, 0x2
_AT_FDCWD, _AT_RECURSIVE = -100, 0x8000
_SYS_MOUNT_SETATTR = 442  # the same number on every architecture (added after the syscall tables were unified)
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_SET_CHILD_SUBREAPER = 1, 4, 36
# An isolated run's /tmp is a fresh tmpfs; its scratch folder (working folder, HOME, TMPDIR) a folder in it, apart
# from the mountpoints other covered paths under /tmp may need.
TMP, SCRATCH = "/tmp", "/tmp/work"
_OWN_CODE = "<string>"  # co_filename of this file when run with -c: its frames are left out of tracebacks


# ---------------------------------------------------------------------------- mounts (supervisor, isolated)


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def _libc() -> ctypes.CDLL:
    """The C library, with errno kept for `_check`."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _check(result: int, what: str) -> None:
    """OSError naming `what` when a libc call returned non-zero."""
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    """mount(2), raising OSError on failure."""

    def encode(text: str | None) -> bytes | None:
        return text.encode() if text is not None else None

    _check(_libc().mount(encode(source), target.encode(), encode(fstype), ctypes.c_ulong(flags), encode(data)),
           f"mount {target}")


def _set_attr(path: str, recursive: bool, set_: int = 0, clear: int = 0) -> None:
    """mount_setattr(2): change the flags of the mount at `path` (and every mount below it when recursive)."""
    attr = _MountAttr(set_, clear, 0, 0)
    flags = _AT_RECURSIVE if recursive else 0
    _check(_libc().syscall(ctypes.c_long(_SYS_MOUNT_SETATTR), ctypes.c_int(_AT_FDCWD), path.encode(),
                           ctypes.c_uint(flags), ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr))),
           f"mount_setattr {path}")


def _under(path: str, folder: str) -> bool:
    """`path` is `folder` or lies inside it (both absolute and resolved)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _interpreter_paths() -> list[str]:
    """Folders this interpreter reads modules from: they must stay visible even when they lie under HOME."""
    found = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                                           os.path.dirname(os.path.realpath(sys.executable)), *sys.path)
             if p and os.path.isdir(p)}
    return sorted(p for p in found if not any(q != p and _under(p, q) for q in found))


def _cover(path: str, writable: bool, size: str = "64k", mode: str = "0755") -> None:
    """Cover the folder `path` with an empty tmpfs."""
    flags = _MS_NOSUID | _MS_NODEV | (0 if writable else _MS_RDONLY)
    _mount("tmpfs", path, "tmpfs", flags, f"size={size},mode={mode}")


def _prctl(option: int, value: int) -> None:
    """prctl(2) with one argument, raising OSError on failure."""
    _check(_libc().prctl(option, value, 0, 0, 0), f"prctl({option})")


def _wait_and_exit(pid: int) -> None:
    """Wait for `pid`, and for every other child (orphans come to a subreaper), then exit with `pid`'s status."""
    code = 0
    while True:
        try:
            done, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(code)
        if done == pid:
            code = os.waitstatus_to_exitcode(status)
            code = code if code >= 0 else 128 - code


def _write_maps(pid: int, run_as: int | None) -> None:
    """The uid/gid maps of `pid`'s new user namespace: its root is this user; on a root host also `run_as`."""
    extra = f"{run_as} {run_as} 1\n" if run_as is not None and os.geteuid() == 0 else ""
    if os.geteuid() != 0:  # an unprivileged writer may map only itself, and only after refusing setgroups
        with open(f"/proc/{pid}/setgroups", "w") as fh:
            fh.write("deny")
    for kind, own in (("uid", os.geteuid()), ("gid", os.getegid())):
        with open(f"/proc/{pid}/{kind}_map", "w") as fh:
            fh.write(f"0 {own} 1\n{extra}")


def _enter_namespaces(run_as: int | None) -> None:
    """Return in pid 1 of fresh user, mount, pid and network namespaces; the launcher and the middle process
    above it never return from here. A failure raises OSError in whichever process met it, which reports it."""
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    # The launcher outlives everything below it: were the middle process killed first, pid 1 (still killing its
    # namespace) would pass to the host's init, out of the host's sight, while the host takes the run for over.
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    middle = os.fork()
    if middle:  # the launcher, outside: map the middle's namespace once it exists, then let it go on
        os.close(ready_w)
        os.close(go_r)
        if os.read(ready_r, 1) == b"1":
            _write_maps(middle, run_as)
            os.write(go_w, b"1")
        _wait_and_exit(middle)
    os.close(ready_r)
    os.close(go_w)
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    _check(_libc().unshare(_CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWNET), "unshare")
    os.write(ready_w, b"1")
    os.close(ready_w)
    if os.read(go_r, 1) != b"1":
        os._exit(71)  # the launcher failed and reported it
    os.close(go_r)
    init = os.fork()  # the first child of a process that unshared its pid namespace is that namespace's pid 1
    if init:
        _wait_and_exit(init)
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)  # nothing below propagates back to the host
    _mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)  # this pid namespace's processes only


def _build_view(spec: dict) -> list[str]:
    """The isolated mount view described in the module docstring; returns notes on what could not be done."""
    notes: list[str] = []
    covered = []
    for path in sorted([TMP, *spec["homes"]]):  # outer folders first; one inside another is covered with it
        if os.path.isdir(path) and not any(_under(path, c) for c in covered):
            covered.append(path)
    protected = [(p, os.path.isdir(p)) for p in spec["hide"] if os.path.exists(p)]
    keep = [p for p in _interpreter_paths()
            if any(_under(p, c) for c in covered) and not any(_under(p, h) for h, _ in protected)]
    keep_fds = {p: os.open(p, os.O_PATH) for p in keep}  # opened before they are covered, bound back through them
    for path in covered:
        if path == TMP:
            _cover(path, writable=True, size=f"{spec['scratch_mb']}m", mode="1777")
            os.mkdir(SCRATCH, 0o777)
            os.chmod(SCRATCH, 0o1777)  # whatever the umask: the worker may run as another uid
        else:
            _cover(path, writable=True)  # until the bind-back mountpoints exist
    for path, fd in keep_fds.items():
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)
        os.close(fd)
    for path, is_dir in protected:
        if is_dir:
            with contextlib.suppress(OSError):  # inside a fresh tmpfs the path must exist to be shown empty
                os.makedirs(path, exist_ok=True)
            _cover(path, writable=False)
        else:
            _mount("/dev/null", path, None, _MS_BIND)
    for path in covered:
        if path != TMP:
            _mount(None, path, None, _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
    try:
        _set_attr("/", recursive=True, set_=_MOUNT_ATTR_RDONLY | _MOUNT_ATTR_NOSUID)
        _set_attr(TMP, recursive=False, clear=_MOUNT_ATTR_RDONLY)
    except OSError as exc:
        notes.append(f"the filesystem outside the scratch folder stays writable ({exc})")
    if spec["run_as"] is None:  # the worker keeps root of this namespace: lock the view in a nested one
        _check(_libc().unshare(_CLONE_NEWUSER | _CLONE_NEWNS), "unshare(user, mount)")
    return notes


# ---------------------------------------------------------------------------- the worker


def _limit(spec: dict) -> None:
    """Resource limits of the worker and everything it starts (each process gets its own CPU budget)."""
    lim = spec["limits"]

    def both(res: int, n: int) -> None:  # soft and hard alike: the snippet cannot raise it again
        resource.setrlimit(res, (n, n))

    both(resource.RLIMIT_AS, lim["memory_bytes"])
    resource.setrlimit(resource.RLIMIT_CPU, (lim["cpu_s"], lim["cpu_s"] + 1))  # SIGXCPU, then SIGKILL
    both(resource.RLIMIT_FSIZE, lim["file_bytes"])
    both(resource.RLIMIT_CORE, 0)
    both(resource.RLIMIT_NOFILE, 1024)
    # RLIMIT_NPROC counts per user and namespace: in a fresh user namespace only this run's tasks (the supervisor
    # among them when it shares the worker's uid); without one every task of the uid, hence the current count
    # plus the allowance. The kernel exempts kuid 0: the supervisor's watch is the backstop there.
    if spec["isolate"]:
        base = 0 if spec["run_as"] is not None else 1
    else:
        base = tasks_of(os.getuid()) - 1  # the worker itself is one of the max_procs
    both(resource.RLIMIT_NPROC, base + lim["max_procs"])


def _exit_code(exc: SystemExit) -> int:
    """What the interpreter would exit with for `sys.exit(code)`."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _user_traceback(exc: BaseException) -> None:
    """The traceback without this file's frames (the model only needs its own cells)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == _OWN_CODE:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb)


def _exec(source: str, name: str, scope: dict, echo: bool) -> None:
    """Run one cell; with `echo`, print the repr of a final expression (not None), as a notebook cell does."""
    tree = ast.parse(source, name)
    tail = None
    if echo and tree.body and isinstance(tree.body[-1], ast.Expr):
        tail = ast.Expression(tree.body.pop().value)
    exec(compile(tree, name, "exec"), scope)
    if tail is not None:
        value = eval(compile(tail, name, "eval"), scope)
        if value is not None:
            print(repr(value))


def run_cells(cells: list[str]) -> int:
    """Run the cells in one namespace; all but the last are replays whose output is dropped. The exit status."""
    scope: dict = {"__name__": "__main__", "__builtins__": builtins}
    for number, source in enumerate(cells, 1):
        name = f"<cell {number}>"
        linecache.cache[name] = (len(source), None, source.splitlines(True), name)  # source lines in tracebacks
        replay = number < len(cells)
        try:
            if replay:
                with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), \
                        contextlib.redirect_stderr(sink):
                    _exec(source, name, scope, echo=False)
            else:
                _exec(source, name, scope, echo=True)
        except SystemExit as exc:
            return _exit_code(exc)
        except BaseException as exc:  # the snippet's own error: reported to the model, never raised here
            if replay:
                print(f"replaying earlier cell {number} failed:", file=sys.stderr)
            _user_traceback(exc)
            return 1
    return 0


def _work(spec: dict) -> None:
    """The worker: never returns."""
    code = 70  # EX_SOFTWARE: the sandbox itself failed before the snippet ran
    try:
        os.close(spec["status_fd"])
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        if spec["run_as"] is not None:
            os.setgroups([])
            os.setgid(spec["run_as"])
            os.setuid(spec["run_as"])
        _prctl(_PR_SET_DUMPABLE, 1)  # the supervisor's protection, not the snippet's: its /proc works as usual
        _limit(spec)
        os.chdir(spec["work"])
        code = run_cells(spec["cells"])
    except BaseException as exc:  # noqa: BLE001 - last resort: say it, exit with the sandbox's own status
        print(f"sandbox worker failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


# ---------------------------------------------------------------------------- the supervisor


def _reap(worker: int) -> dict | None:
    """Reap every finished child; the worker's outcome once it is among them."""
    outcome = None
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return outcome
        if pid == 0:
            return outcome
        if pid == worker:
            outcome = {"exit": os.waitstatus_to_exitcode(status)}


def _count(isolated: bool) -> int:
    """Processes of this run besides the supervisor."""
    if isolated:  # /proc is this pid namespace's own: every entry but pid 1 belongs to the run
        return sum(entry.isdigit() for entry in os.listdir("/proc")) - 1
    return len(descendants(os.getpid()))


def _watch(worker: int, spec: dict) -> dict:
    """Wait for the worker, checking the process count between child events."""
    limit, interval = spec["limits"]["max_procs"], spec["watch_s"]
    while True:
        outcome = _reap(worker)
        if outcome is not None:
            return outcome
        if _count(spec["isolate"]) > limit:
            return {"limit": "processes"}
        signal.sigtimedwait({signal.SIGCHLD}, interval)


def _sweep() -> None:
    """Kill and reap every descendant (orphans were re-parented here: the supervisor is their subreaper)."""
    me = os.getpid()
    for _ in range(1000):
        kids = descendants(me)
        for pid in kids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        _reap(-1)
        if not kids:
            return


def main(spec_path: str) -> None:
    """The supervisor: set up, run the worker, clean up, report."""
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    status: dict = {"setup": "", "notes": []}
    try:
        if spec["isolate"]:
            _enter_namespaces(spec["run_as"])
            status["notes"] += _build_view(spec)
        _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    except OSError as exc:
        status["setup"] = str(exc)
    else:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})  # woken by sigtimedwait instead
        # Not dumpable: its /proc/<pid>/fd (the status pipe among them) then needs CAP_SYS_PTRACE over its user
        # namespace, which the worker lacks even where it shares the supervisor's uid.
        _prctl(_PR_SET_DUMPABLE, 0)
        worker = os.fork()
        if worker == 0:
            _work(spec)
        status.update(_watch(worker, spec))
        _sweep()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        status["cpu_s"] = round(usage.ru_utime + usage.ru_stime, 3)
    os.write(spec["status_fd"], json.dumps(status).encode())
    os.close(spec["status_fd"])


# ---------------------------------------------------------------------------- /proc helpers (also used by the host)


def _read(path: str) -> str:
    """A small /proc file's text, or '' when the process is gone."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return ""
    try:
        return os.read(fd, 16384).decode(errors="replace")
    except OSError:
        return ""
    finally:
        os.close(fd)


def descendants(root: int) -> list[int]:
    """Pids of every live process below `root` (by parent links in /proc), parents before children."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _read(f"/proc/{entry}/stat").rsplit(")", 1)[-1].split()  # comm may hold ")" and spaces
            if len(fields) > 1 and fields[0] not in ("Z", "X"):  # zombies are dead already: only reaping is left
                children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for kid in children.get(todo.pop(), ()):
            found.append(kid)
            todo.append(kid)
    return found


def tasks_of(uid: int) -> int:
    """Tasks (threads included, as RLIMIT_NPROC counts them) whose real uid is `uid`, as far as /proc shows."""
    total = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = dict(line.split(":", 1) for line in _read(f"/proc/{entry}/status").splitlines() if ":" in line)
            if fields.get("Uid", "").split()[:1] == [str(uid)]:
                total += int(fields.get("Threads", "1").strip() or 1)
    return total


if __name__ == "__main__":
    main(sys.argv[1])
