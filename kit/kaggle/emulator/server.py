"""The emulator's HTTP front: a stdlib ThreadingHTTPServer on 127.0.0.1 that the official client reaches
with KAGGLE_API_ENVIRONMENT=LOCALHOST and HTTP_PROXY=http://127.0.0.1:PORT (absolute-form request lines).

Routes:
  POST /api/v1/<service>/<Method>   Kaggle RPCs (Basic or Bearer auth; 401 without)
  PUT  /upload/<token>              resumable blob upload (GCS semantics: 308 + Range, Content-Range probe)
  GET  /files/<owner>/<slug>/<v>/<name>   kernel output files (unauthenticated signed-URL style)
  GET  /_admin/health | /_admin/faults | /_admin/state;  POST/DELETE /_admin/faults;  POST /_admin/config;
  POST /_admin/models {"ref": "owner/model/framework/variation/version", "path": "/local/folder"} (a model source)
No X-Kaggle-APIVersion header is ever sent (the client would print an "outdated" nag).
"""

from __future__ import annotations

import argparse
import base64
import email.utils
import json
import os
import signal
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kit.files import write_json
from kit.kaggle.emulator import runner
from kit.kaggle.emulator.faults import Faults
from kit.kaggle.emulator.handlers import UNAUTHENTICATED, Api, ApiError, Redirect
from kit.kaggle.emulator.state import State


class EmulatorServer(ThreadingHTTPServer):
    """The HTTP server holding the Api (state, faults, pack)."""

    daemon_threads = True

    def __init__(self, state_dir: Path, port: int = 0, config: dict[str, Any] | None = None,
                 pack: Any = None) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.state = State(Path(state_dir), config=dict(config or {}))
        self.faults = Faults(self.state.root)
        self.api = Api(self.state, self.faults, f"http://127.0.0.1:{self.server_address[1]}", pack)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class Handler(BaseHTTPRequestHandler):
    """One request: route by path (absolute or origin form)."""

    server: EmulatorServer
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet by default; KIT_EMULATOR_LOG=1 to see requests
        if os.environ.get("KIT_EMULATOR_LOG"):
            sys.stderr.write("emulator: " + fmt % args + "\n")

    # ------------------------------------------------------------------ plumbing

    def _path(self) -> str:
        return urlsplit(self.path).path

    def _body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes = b"", ctype: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers=headers)

    def _error(self, err: ApiError) -> None:
        headers = {"Retry-After": f"{err.retry_after:g}"} if err.retry_after is not None else None
        self._json(err.status, {"code": err.status, "message": err.message}, headers)

    def _user(self) -> str | None:
        """The authenticated username, from Basic (user:key) or Bearer (token)."""
        cfg = self.server.state.config
        auth = self.headers.get("Authorization") or ""
        scheme, _, cred = auth.partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, key = base64.b64decode(cred).decode().partition(":")
            except ValueError:
                return None
            return user if user and key == cfg["key"] else None
        if scheme.lower() == "bearer":
            return self.server.api.token_user(cred)
        return None

    # ------------------------------------------------------------------ verbs

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        path = self._path()
        body = self._body()
        if path.startswith("/_admin/"):
            return self._admin(path, body)
        parts = path.strip("/").split("/")
        if len(parts) != 4 or parts[:2] != ["api", "v1"] or parts[3] not in self.server.api.routes:
            return self._json(404, {"code": 404, "message": f"No such RPC: {path}"})
        method = parts[3]
        try:
            payload = json.loads(body or b"{}")
            user = self._user()
            if user is None and method not in UNAUTHENTICATED:
                raise ApiError(401, "Unauthenticated: missing or invalid credentials")
            fault = self.server.faults.take(method=method)
            lose_answer = fault is not None and (fault.get("after") or fault.get("drop"))
            if fault is not None and not lose_answer:
                raise ApiError(int(fault["status"]), fault.get("message") or f"Injected {fault['status']}",
                               fault.get("retry_after"))
            result = self.server.api.routes[method](user, payload)
            if lose_answer and fault.get("drop"):  # done, but the connection goes before the answer
                self.close_connection = True
                return None
            if lose_answer:
                raise ApiError(int(fault["status"]), fault.get("message") or f"Injected {fault['status']}")
        except ApiError as err:
            return self._error(err)
        except Exception as exc:  # a handler bug must still answer, not hang the client
            return self._json(500, {"code": 500, "message": f"emulator error: {type(exc).__name__}: {exc}"})
        if isinstance(result, bytes):
            return self._send(200, result, "application/zip")
        if isinstance(result, Redirect):  # file answers: Kaggle redirects to a signed storage URL
            return self._send(302, headers={"Location": result.url})
        return self._json(200, result)

    def do_PUT(self) -> None:  # noqa: N802
        path = self._path()
        if not path.startswith("/upload/"):
            return self._json(404, {"code": 404, "message": "not found"})
        token = path[len("/upload/"):]
        api = self.server.api
        blob = api.blobs.get(token)
        body = self._body()
        if blob is None:
            return self._json(404, {"code": 404, "message": "upload expired"})
        file = api.state.blob_path(token)
        have = file.stat().st_size if file.exists() else 0
        crange = self.headers.get("Content-Range") or ""
        if crange.startswith("bytes */"):  # resume probe
            if have >= blob["size"]:
                return self._json(200, {"token": token})
            return self._send(308, headers={"Range": f"bytes=0-{have - 1}"} if have else None)
        start = 0
        if crange.startswith("bytes ") and "-" in crange:
            start = int(crange[6:].split("-")[0])
        if start > have:
            return self._send(308, headers={"Range": f"bytes=0-{have - 1}"} if have else None)
        fault = self.server.faults.take(method="Upload")
        with open(file, "r+b" if file.exists() else "wb") as fh:
            fh.seek(start)
            if fault is not None:  # keep half the bytes, then fail like an interrupted transfer
                fh.write(body[: len(body) // 2])
                fh.truncate()
                return self._json(int(fault["status"]), {"code": int(fault["status"]), "message": "interrupted"})
            fh.write(body)
            fh.truncate()
        if start + len(body) < blob["size"]:
            return self._send(308, headers={"Range": f"bytes=0-{start + len(body) - 1}"})
        return self._json(200, {"token": token})

    def do_GET(self) -> None:  # noqa: N802
        path = self._path()
        if path.startswith("/_admin/"):
            return self._admin(path, b"")
        if path.startswith("/kernels/logs/stream/") or path.startswith("/api/v1/kernels/logs/stream/"):
            return self._log_stream(path.split("/logs/stream/", 1)[1])
        if path.startswith("/downloads/"):
            file = self.server.api.catalog.download_file(path[len("/downloads/"):])
            if file is None:
                return self._json(404, {"code": 404, "message": "no such download"})
            return self._send(200, file.read_bytes(), "application/octet-stream")
        if path.startswith("/files/"):
            file = self.server.api.kernels.output_file(path[len("/files/"):])
            if file is None:
                return self._json(404, {"code": 404, "message": "no such output file"})
            data = file.read_bytes()
            stamp = email.utils.formatdate(file.stat().st_mtime, usegmt=True)
            return self._send(200, data, "application/octet-stream", {"Last-Modified": stamp})
        return self._json(404, {"code": 404, "message": f"not found: {path}"})

    def _log_stream(self, rel: str) -> None:
        """`kaggle kernels logs --follow`: server-sent events while the run goes on, then END_OF_LOG; a finished
        run's log as one JSON body (what the official client's kernels_logs_stream expects)."""
        query = dict(part.split("=", 1) for part in (urlsplit(self.path).query or "").split("&") if "=" in part)
        if self._user() is None:
            return self._json(401, {"code": 401, "message": "Unauthenticated"})
        try:
            live, events = self.server.api.catalog.log_events(rel, query.get("versionLabel", ""))
        except ApiError as err:
            return self._error(err)
        if not live:
            return self._send(200, next(events).encode(), "application/json")
        self.close_connection = True  # no length: the stream ends when the connection does
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for event in events:
            self.wfile.write(f"data: {event}\n\n".encode())
            self.wfile.flush()

    def do_DELETE(self) -> None:  # noqa: N802
        path = self._path()
        if path == "/_admin/faults":
            self.server.faults.clear()
            return self._json(200, {"faults": []})
        return self._json(404, {"code": 404, "message": "not found"})

    def _admin(self, path: str, body: bytes) -> None:
        srv = self.server
        try:
            if path == "/_admin/health":
                return self._json(200, {"ok": True, "pid": os.getpid(), "port": srv.port,
                                        "state": str(srv.state.root)})
            if path == "/_admin/faults":
                rules = srv.faults.add(json.loads(body)) if self.command == "POST" else srv.faults.list()
                return self._json(200, {"faults": rules})
            if path == "/_admin/config" and self.command == "POST":
                with srv.state.lock:
                    srv.state.config.update(json.loads(body))
                return self._json(200, srv.state.config)
            if path == "/_admin/models" and self.command == "POST":
                return self._json(200, srv.api.register_model(**json.loads(body)))
            if path == "/_admin/state":
                with srv.state.lock:
                    return self._json(200, srv.state.data)
            if path == "/_admin/shutdown" and self.command == "POST":
                # the kernels first, so that the answer can say what each left behind
                self._json(200, {"ok": True, "stopped": stopped_runs(runner.stop_all(close=True))})
                threading.Thread(target=srv.shutdown, daemon=True).start()
                return None
        except (ValueError, TypeError) as exc:
            return self._json(400, {"code": 400, "message": str(exc)})
        return self._json(404, {"code": 404, "message": f"no admin route {path}"})


@dataclass
class Running:
    """An emulator serving from a thread of this process."""

    server: EmulatorServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        runner.stop_all()  # kernels run in this process's threads: none outlives the emulator that started it
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def start_in_thread(state_dir: Path, port: int = 0, pack: Any = None, **config: Any) -> Running:
    """Start an emulator on 127.0.0.1:`port` (0: a free one) in a daemon thread."""
    server = EmulatorServer(state_dir, port, config, pack=pack)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="kaggle-emulator")
    thread.start()
    return Running(server, thread)


def client_exports(url: str, config: dict[str, Any]) -> list[str]:
    """The shell lines that point the official client (CLI or KaggleApi) at an emulator on `url`.

    kaggle 2.2.5 honours only KAGGLE_API_ENVIRONMENT=LOCALHOST (http://localhost/api/v1/...), so requests reach the
    emulator through HTTP_PROXY; 'localhost' must not be in NO_PROXY. A bearer token is checked before any
    ~/.kaggle/access_token or kaggle.json, so real credentials are never sent here."""
    return [
        "export KAGGLE_API_ENVIRONMENT=LOCALHOST",
        f"export HTTP_PROXY={url} http_proxy={url}",
        "unset NO_PROXY no_proxy HTTPS_PROXY https_proxy",
        f"export KAGGLE_API_TOKEN={config['token']}   # user {config['username']}; "
        f"or KAGGLE_USERNAME={config['username']} KAGGLE_KEY={config['key']} with KAGGLE_API_TOKEN unset",
    ]


def stopped_runs(run_dirs: list[Path]) -> list[dict[str, Any]]:
    """What each kernel run stopped at shutdown left: its run folder and the files in its working folder."""
    return [{"run": str(run_dir), "outputs": runner.output_files(run_dir)} for run_dir in run_dirs]


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def serve(state_dir: Path, port: int = 0, port_file: Path | None = None, **config: Any) -> None:
    """Serve in the foreground until interrupted (Ctrl-C, SIGTERM or /_admin/shutdown), then stop every kernel it
    is running; writes {port, pid} to `port_file` once listening."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)  # as Ctrl-C: the kernels are stopped before the process goes
    server = EmulatorServer(state_dir, port, config)
    if port_file is not None:
        write_json(port_file, {"port": server.port, "pid": os.getpid(), "state": str(state_dir)})
    print(f"kaggle emulator listening on http://127.0.0.1:{server.port} (state: {state_dir})", flush=True)
    print("point the official `kaggle` client at it with:\n" + "\n".join(
        client_exports(f"http://127.0.0.1:{server.port}", server.state.config)), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        runner.stop_all(close=True)
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    """`python -m kit.kaggle.emulator` (what the sandbox starts in the background)."""
    parser = argparse.ArgumentParser(prog="kit-emulator")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state", required=True)
    parser.add_argument("--port-file")
    parser.add_argument("--config", default="{}", help="JSON overrides of the emulator config")
    args = parser.parse_args(argv)
    serve(Path(args.state), args.port, Path(args.port_file) if args.port_file else None, **json.loads(args.config))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
