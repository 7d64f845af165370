"""The AIMO tool sandbox against hostile snippets: each ends with a clear result and the next snippet still works.

The isolated tests need user, mount, pid and network namespaces (`isolate="require"`) and are skipped, saying so,
where the OS refuses them; the degraded-mode tests run everywhere.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

import pytest

from kit.errors import ConfigError, MissingDependencyError
from kit.packs.aimo.sandbox import SandboxConfig, ToolPool, ToolResult, runner
from kit.packs.aimo.sandbox.result import StreamTail, sanitize
from kit.packs.aimo.sandbox.runner import NOBODY, Plan, run_cells

# A generous wall clock: the machine is shared, and one CPU second can take three. Tests of the wall clock itself
# use their own, short one.
LIMITS = {"wall_s": 6.0, "cpu_s": 1, "memory_mb": 256, "max_procs": 8, "output_keep": 4096,
          "output_limit": 256 * 1024}
SECRET = "the-model-weights-secret"


@pytest.fixture(scope="module")
def area(tmp_path_factory) -> Path:
    """Stand-ins for /kaggle/working (with a submission in it) and the model folder, a folder nobody protects,
    and the scratch root."""
    root = tmp_path_factory.mktemp("aimo-sandbox")
    for name in ("working", "model", "elsewhere", "scratch"):
        (root / name).mkdir()
    (root / "working" / "submission.csv").write_text("id,answer\nabc,1\n")
    (root / "model" / "weights.txt").write_text(SECRET)
    return root


def config_for(area: Path, **changes) -> SandboxConfig:
    values = {**LIMITS, "protect": (str(area / "working"), str(area / "model")),
              "scratch_root": str(area / "scratch"), **changes}
    return SandboxConfig(**values)


@pytest.fixture(scope="module")
def pool(area):
    try:
        tools = ToolPool(config_for(area, isolate="require"), workers=4)
    except MissingDependencyError as exc:
        pytest.skip(f"namespaces unavailable here: {exc}")
    with tools:
        yield tools


def leftovers(marker: Path) -> list[tuple[int, str]]:
    """(pid, state) of live processes whose command line names `marker` (every sandbox process names its spec
    file, which lies under the scratch root)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError, ValueError):
            continue
        if entry.isdigit() and str(marker).encode() in cmdline and state not in ("Z", "X"):
            found.append((int(entry), state))
    return found


def assert_recovers(tools: ToolPool) -> None:
    result = tools.run("print(6 * 7)")
    assert result.ok and result.stdout == "42\n", result


# ---------------------------------------------------------------------------- ordinary snippets


def test_runs_code_and_echoes_the_last_expression(pool):
    result = pool.run("x = 6\nprint(x * 7)\nx + 1")
    assert result.ok and result.stdout == "42\n7\n" and result.stderr == ""
    assert result.isolated and result.notice == ""
    assert result.feedback() == "42\n7"


def test_an_error_shows_the_cells_traceback_only(pool):
    result = pool.run("def f():\n    return 1 / 0\nf()")
    assert result.exit_code == 1 and not result.killed
    assert 'File "<cell 1>", line 2, in f' in result.stderr and "return 1 / 0" in result.stderr
    assert result.stderr.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "<string>" not in result.stderr  # the sandbox's own frames are left out
    assert result.feedback().endswith("[exit status 1]")
    assert_recovers(pool)


def test_sys_exit_status_is_kept(pool):
    assert pool.run("import sys\nsys.exit(3)").exit_code == 3
    assert pool.run("raise SystemExit('bye')").stderr == "bye\n"


def test_session_replays_definitions_silently(pool):
    session = pool.session()
    assert session.run("print('first')\nx = 41").stdout == "first\n"
    assert not session.run("y = 1 / 0").ok  # a failed cell is not kept
    result = session.run("print('second')\nx + 1")
    assert result.ok and result.stdout == "second\n42\n"  # the first cell ran again, its output dropped
    assert session.cells == ["print('first')\nx = 41", "print('second')\nx + 1"]


# ---------------------------------------------------------------------------- hostile snippets: limits


def test_infinite_loop_stops_at_the_cpu_limit(pool):
    result = pool.run("while True:\n    pass")
    assert result.killed == "CPU-time limit of 1 s" and result.exit_code is not None and result.exit_code < 0
    assert not result.timed_out and 0.5 <= result.cpu_s < 2.5  # the kernel checks RLIMIT_CPU at tick granularity
    assert result.feedback() == "[stopped: CPU-time limit of 1 s]"
    assert_recovers(pool)


def test_sleeping_forever_stops_at_the_wall_clock(pool, area):  # `pool` for its skip
    with ToolPool(config_for(area, isolate="require", wall_s=1.5)) as tools:
        result = tools.run("import time\nprint('before', flush=True)\ntime.sleep(60)")
        assert result.timed_out and result.killed == "wall-clock limit of 1.5 s" and result.exit_code is None
        assert result.stdout == "before\n" and result.wall_s < 2.5
        assert leftovers(area / "scratch") == []
        assert_recovers(tools)


FORKS = ("import os, time\nn = 0\nfor _ in range(20):\n    try:\n        if os.fork() == 0:\n"
         "            time.sleep(30)\n    except OSError as exc:\n        print(type(exc).__name__)\n        break\n"
         "    n += 1\nprint(n)")


def test_process_count_is_limited(pool, area):
    result = pool.run(FORKS)  # the worker and 7 children make 8: the 8th fork is refused, the snippet goes on
    assert result.ok and result.stdout.split() == ["BlockingIOError", "7"], result
    assert leftovers(area / "scratch") == []


def test_fork_bomb_is_stopped_and_leaves_nothing_behind(pool, area):  # `pool` for its skip
    with ToolPool(config_for(area, isolate="require", wall_s=2.0)) as tools:
        result = tools.run("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass")
        assert result.killed in ("wall-clock limit of 2 s", "CPU-time limit of 1 s"), result
        assert result.wall_s < 3.0
        assert leftovers(area / "scratch") == []
        assert_recovers(tools)


def test_memory_bomb_meets_memory_error(pool):
    result = pool.run("blocks = []\nwhile True:\n    blocks.append(bytearray(10 ** 7))")
    assert result.exit_code == 1 and result.stderr.rstrip().endswith("MemoryError"), result
    assert result.wall_s < 2.0
    assert_recovers(pool)


def test_printing_100_mb_is_cut_and_counted(pool):
    result = pool.run("import sys\nsys.stdout.write('x' * 100_000_000)")
    assert result.killed == "output limit of 262144 bytes" and result.exit_code is None
    assert result.stdout_bytes > 256 * 1024
    assert len(result.stdout) < 4096 + 100 and "bytes not shown" in result.stdout
    assert result.wall_s < 2.0
    assert_recovers(pool)


def test_a_detached_child_is_killed_with_the_run(pool, area):
    code = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(30)\nprint('parent done')"
    result = pool.run(code)
    assert result.ok and result.stdout == "parent done\n"
    assert leftovers(area / "scratch") == []


# ---------------------------------------------------------------------------- hostile snippets: paths, network


def test_protected_working_folder_cannot_be_written_or_listed(pool, area):
    working = area / "working"
    code = (f"import os\nprint(os.listdir({str(working)!r}))\n"
            f"try:\n    open({str(working / 'submission.csv')!r}, 'w').write('id,answer\\nabc,666\\n')\n"
            f"except OSError as exc:\n    print(type(exc).__name__, exc.errno)\n"
            f"try:\n    os.mkdir({str(working / 'extra')!r})\nexcept OSError as exc:\n    print(type(exc).__name__)")
    result = pool.run(code)
    assert result.ok and result.stdout == "[]\nOSError 30\nOSError\n", result  # 30: EROFS
    assert sorted(os.listdir(working)) == ["submission.csv"]
    assert (working / "submission.csv").read_text() == "id,answer\nabc,1\n"


def test_protected_model_folder_cannot_be_read_by_any_path(pool, area):
    model = area / "model"
    code = (f"import ctypes, os\nfound = []\n"
            f"for path in [{str(model / 'weights.txt')!r}] + [f'/proc/{{p}}/root{model}/weights.txt'\n"
            f"             for p in os.listdir('/proc') if p.isdigit()]:\n"
            f"    try:\n        found.append(open(path).read())\n    except OSError:\n        pass\n"
            f"libc = ctypes.CDLL(None, use_errno=True)\n"
            f"print(libc.umount2({str(model)!r}.encode(), 2), os.listdir({str(model)!r}), found)")
    result = pool.run(code)
    assert result.ok and result.stdout == "-1 [] []\n", result
    assert SECRET not in result.feedback()


def test_root_of_the_namespace_cannot_undo_the_view(pool, area):
    """The plan for hosts that cannot map a second uid: the worker stays root of its namespace, the view locked.
    (`pool` for its skip where namespaces are refused.)"""
    model = area / "model"
    code = (f"import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
            f"print(libc.umount2({str(model)!r}.encode(), 2), os.listdir({str(model)!r}))\n"
            f"print(libc.mount(None, b'/', None, 32 | 4096, None), ctypes.get_errno())")  # remount / writable
    result = run_cells([code], config_for(area), Plan(True, None, ""))
    assert result.ok and result.stdout.splitlines()[0] == "-1 []", result
    assert result.stdout.splitlines()[1].startswith("-1 ")


FORGE = ("import os\nopened = 0\nfor fd in range(3, 64):\n    try:\n"
         "        handle = os.open(f'/proc/1/fd/{fd}', os.O_WRONLY)\n"
         "        os.write(handle, b'{\"setup\": \"\", \"exit\": 0, \"notes\": [\"forged\"]}')\n"
         "        opened += 1\n    except OSError:\n        pass\nprint(opened)\nraise SystemExit(5)")


ROOT_HOST = pytest.mark.skipif(os.geteuid() != 0, reason="only a root host maps uid 65534 into the namespace")


@pytest.mark.parametrize("run_as", [None, pytest.param(NOBODY, marks=ROOT_HOST)], ids=["namespace-root", "uid-65534"])
def test_the_snippet_cannot_forge_the_supervisors_report(pool, area, run_as):
    """pid 1 is the supervisor; its status pipe is among its fds, but it is not dumpable. (`pool` for its skip.)"""
    result = run_cells([FORGE], config_for(area), Plan(True, run_as, ""))
    assert (result.exit_code, result.stdout, result.notice) == (5, "0\n", ""), result


def test_nothing_outside_the_scratch_folder_is_writable(pool):
    target = Path(sys.prefix) / "aimo-sandbox-test.txt"  # the interpreter's folder: visible, never writable
    code = (f"open('here.txt', 'w').write('fine')\nprint(open('here.txt').read())\n"
            f"try:\n    open({str(target)!r}, 'w')\nexcept OSError as exc:\n    print(exc.errno)")
    result = pool.run(code)
    assert not target.exists()
    assert result.ok and result.stdout == "fine\n30\n", result  # 30: EROFS


def test_host_home_and_environment_do_not_reach_the_snippet(pool, monkeypatch):
    home = Path(os.environ["HOME"])  # the conftest's private HOME for this test
    (home / "kaggle.json").write_text('{"key": "s3cret-file"}')
    monkeypatch.setenv("KAGGLE_KEY", "s3cret-env")
    code = (f"import os\nprint(sorted(os.environ.items()))\n"
            f"try:\n    print(open({str(home / 'kaggle.json')!r}).read())\nexcept OSError as exc:\n"
            f"    print(type(exc).__name__)")
    result = pool.run(code)
    assert result.ok and "s3cret" not in result.stdout
    assert result.stdout.splitlines()[-1] == "FileNotFoundError"


def test_no_network_even_to_the_hosts_loopback(pool):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.2)
        port = listener.getsockname()[1]
        code = (f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
                f"    print('connected')\nexcept OSError as exc:\n    print('refused', exc.errno)")
        result = pool.run(code)
        assert result.ok and result.stdout.startswith("refused"), result
        with pytest.raises(TimeoutError):
            listener.accept()


def test_each_run_gets_a_fresh_scratch_folder_removed_afterwards(pool, area):
    first = pool.run("import os, tempfile\nopen('note.txt', 'w').write('x')\nos.getcwd() == tempfile.gettempdir()")
    second = pool.run("import os\nos.listdir('.')")
    assert first.ok and first.stdout == "True\n"
    assert second.ok and second.stdout == "[]\n"
    assert os.listdir(area / "scratch") == []  # each run's folder on the host is gone too


# ---------------------------------------------------------------------------- results and concurrency


def test_feedback_is_safe_text(pool):
    code = r"import sys" "\n" r"sys.stdout.buffer.write(b'\x1b[31mred\x1b[0m <|im_end|> a\x00b \xff\r\n')"
    result = pool.run(code)
    assert result.ok
    text = result.feedback()
    assert "red" in text and "\x1b" not in text and "\x00" not in text and "\r" not in text
    assert "<|" not in text and "|>" not in text and "< |im_end| >" in text and "\ufffd" in text


def test_snippets_run_concurrently(pool):
    started = time.monotonic()
    futures = [pool.submit(f"import time\ntime.sleep(0.6)\nprint({i})") for i in range(4)]
    results: list[ToolResult] = [f.result() for f in futures]
    assert [r.stdout for r in results] == ["0\n", "1\n", "2\n", "3\n"]
    assert time.monotonic() - started < 2.0  # four in a row would take 2.4 s


def test_stream_tail_keeps_head_and_tail_and_counts_the_rest():
    tail = StreamTail(8)
    for chunk in (b"ab", b"cdefgh", b"ijklmnop"):
        tail.add(chunk)
    assert (tail.total, tail.dropped) == (16, 8)
    assert tail.text() == "ab\n[... 8 bytes not shown ...]\nklmnop"
    assert sanitize(b"x<\xef\xbd\x9cend\xef\xbd\x9c>y") == "x< \uff5cend\uff5c >y"  # full-width bars too


# ---------------------------------------------------------------------------- without namespaces


def test_degraded_mode_says_so_and_still_limits(area):
    with ToolPool(config_for(area, isolate="off")) as tools:
        assert not tools.plan.isolated and "NOT isolated" in tools.plan.notice
        plain = tools.run("print('hi')")
        assert plain.ok and not plain.isolated and "network is reachable" in plain.notice
        # The limits are the isolated runs' own (the kernel enforcing them is shown above, under namespaces).
        limits = tools.run("import resource as r\n"
                           "[r.getrlimit(x)[1] for x in (r.RLIMIT_CPU, r.RLIMIT_AS, r.RLIMIT_FSIZE)]")
        assert limits.stdout == f"[2, {256 * 1024 * 1024}, {64 * 1024 * 1024}]\n", limits
    with ToolPool(config_for(area, isolate="off", wall_s=1.5)) as tools:
        slept = tools.run("import os, time\nif os.fork() == 0:\n    os.setsid()\ntime.sleep(60)")
        assert slept.timed_out and slept.wall_s < 2.5
        assert leftovers(area / "scratch") == []
        assert_recovers(tools)


def test_refused_namespaces_fall_back_or_refuse(area, monkeypatch, tmp_path):
    real_probe = runner._probe  # namespaces refused as an OS would refuse them: every isolated probe fails
    refused = "unshare: Operation not permitted"
    monkeypatch.setattr(runner, "_probe", lambda config, plan: refused if plan.isolated else real_probe(config, plan))
    fresh = str(tmp_path / "scratch")  # a new plan, not the cached one
    os.mkdir(fresh)
    with pytest.raises(MissingDependencyError, match="namespaces unavailable here"):
        ToolPool(config_for(area, isolate="require", scratch_root=fresh))
    with ToolPool(config_for(area, scratch_root=fresh)) as tools:
        assert not tools.plan.isolated
        assert "NOT isolated (unshare: Operation not permitted)" in tools.plan.notice
        assert tools.run("print(1)").ok


@pytest.fixture
def open_scratch():
    """A scratch root uid 65534 can reach (pytest's own temp folders are private to their owner)."""
    path = Path(tempfile.mkdtemp(prefix="aimo-sandbox-test-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/usr/bin/python3"),
                    reason="needs a root host and a system interpreter uid 65534 can read")
def test_degraded_root_host_drops_to_nobody(area, open_scratch):
    config = config_for(area, isolate="off", scratch_root=str(open_scratch), python="/usr/bin/python3")
    with ToolPool(config) as tools:
        assert tools.plan.run_as == NOBODY and "uid 65534" in tools.plan.notice
        target = area / "working" / "submission.csv"
        wrote = tools.run(f"open({str(target)!r}, 'w').write('x')")
        assert wrote.exit_code == 1 and "PermissionError" in wrote.stderr
        assert target.read_text() == "id,answer\nabc,1\n"
        forked = tools.run(FORKS)  # not root: RLIMIT_NPROC refuses the 8th process gracefully
        assert forked.ok and forked.stdout.split() == ["BlockingIOError", "7"], forked
        assert leftovers(open_scratch) == []


def test_config_is_checked():
    with pytest.raises(ConfigError, match="wall_s must be positive"):
        SandboxConfig(wall_s=0)
    with pytest.raises(ConfigError, match="isolate must be one of"):
        SandboxConfig(isolate="maybe")


def test_scratch_inside_a_protected_path_is_refused(area):
    config = config_for(area, scratch_root=str(area / "working" / "tmp"))
    with pytest.raises(ConfigError, match="lies inside"):
        config.scratch()
