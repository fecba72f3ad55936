"""The pipeline's entry points, each run in a process of its own, forked from a warm interpreter.

A test that runs `python -m pipeline <step>` would spend most of its time starting Python and
importing the pipeline, pact-python, uvicorn and schemathesis. So the test run starts one
interpreter that imports them and waits on a socket (`serve`): before the pytest workers start, for
them all to share (`share`), or on first use in a run without workers (`warm`). A run sends its arguments,
working folder, environment and standard streams; the interpreter forks, and the copy sets those up
and calls the entry point's `main()` as `python -m` would, atexit handlers included. What the copy
does is what a fresh process does: its own environment, folder, streams and exit code; its own
workers, forked or spawned by the same rule. Only the imports were done before.

`make` reaches it through a `python` in `Warm.shims`, which forwards `python -m <entry point>`
and runs the real interpreter for anything else. This file uses only the standard library at the top:
the shim runs it with `python -I -S`.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shlex
import signal
import socket
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

ENTRY_POINTS = ("pipeline", "pipeline.verify", "pipeline.verify_pact")
WARM_IMPORTS = (
    "pipeline.__main__",
    "pipeline.verify",
    "pipeline.verify_pact",
    "pipeline.verifier",
    "pipeline.workers",
    "pipeline.self_verification",
)


def entry_point(argv: list[str]) -> str | None:
    """The entry point `python <argv>` runs, when it is one of the pipeline's."""
    return argv[1] if len(argv) >= 2 and argv[0] == "-m" and argv[1] in ENTRY_POINTS else None


def ask(path: str, argv: list[str], cwd: str, env: dict[str, str], streams: list[int], timeout: float | None) -> int:
    """Run `python <argv>` in the warm interpreter at `path` with these streams; answer its exit code."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as connection:
        connection.connect(path)
        request = json.dumps({"argv": argv, "cwd": cwd, "env": env}).encode()
        socket.send_fds(connection, [request], streams)
        connection.settimeout(timeout)
        answer = connection.recv(64)  # TimeoutError on timeout; closing the connection stops the run
    if not answer:
        raise RuntimeError("the warm interpreter ended without answering")
    return int(answer)


# The warm interpreter


def run_entry_point(argv: list[str], cwd: str, env: dict[str, str], streams: list[int]) -> None:
    """In the forked copy: become `python <argv>` (`-m <entry point> ...`) and exit as it would."""
    os.setpgid(0, 0)  # its workers and servers are stopped together if the test gives up
    for target, stream in zip((0, 1, 2), streams, strict=True):
        os.dup2(stream, target)
        os.close(stream)
    module = sys.modules[f"{argv[1]}.__main__" if argv[1] == "pipeline" else argv[1]]
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = [str(module.__file__), *argv[2:]]
    sys.path[0] = os.getcwd()  # as `python -m` puts it
    code = 1
    try:
        code = int(module.main() or 0)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        if not isinstance(stop.code, int | None):
            print(stop.code, file=sys.stderr)
    except KeyboardInterrupt:
        code = 128 + signal.SIGINT
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def supervise(connection: socket.socket) -> None:
    """In a copy per request: fork the run, answer its exit code, and stop it if the asker hangs up."""
    message, streams, _, _ = socket.recv_fds(connection, 1 << 20, 3)
    request = json.loads(message)
    pid = os.fork()
    if pid == 0:
        connection.close()
        run_entry_point(list(request["argv"]), str(request["cwd"]), dict(request["env"]), streams)
    for stream in streams:
        os.close(stream)
    ended = os.pidfd_open(pid)
    readable, _, _ = select.select([ended, connection.fileno()], [], [])
    if ended not in readable:  # the asker hung up (its timeout): stop the run and everything it started
        os.killpg(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    with contextlib.suppress(OSError):  # the asker may have gone
        connection.send(str(code).encode())  # negative: killed by that signal
    os._exit(0)


def warm_up() -> None:
    """Import the pipeline, make an HTTP transport (httpx imports httpcore only then), and run the
    self-verification once: its first run in a process builds the document's strategies and loads more of
    schemathesis. Every copy inherits all that. A copy must start with this one thread alone, as a fresh
    process does (the workers are forked only then)."""
    import gc
    import importlib
    import tempfile
    from pathlib import Path

    for name in WARM_IMPORTS:
        importlib.import_module(name)
    import httpx

    from pipeline.self_verification import self_verify

    httpx.HTTPTransport(retries=0)
    with tempfile.TemporaryDirectory(prefix="warm-up-") as folder:
        self_verify(report=Path(folder) / "report.xml", examples=1)  # later runs, of any size, reuse what it built
    if len(os.listdir("/proc/self/task")) != 1:
        raise RuntimeError("a thread outlived the warm-up: a copy would not start as a fresh process does")
    gc.freeze()  # the copies share what was built here instead of touching, and so copying, it


def serve(path: str) -> None:
    """Warm up, then fork a supervisor for every request on the socket at `path`. The socket takes its name
    only once it listens: a run that finds it can connect."""
    warm_up()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the supervisors are reaped by the system
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as listening:
        listening.bind(path + ".new")
        listening.listen(64)
        os.rename(path + ".new", path)
        while True:
            connection, _ = listening.accept()
            sys.stdout.flush()
            sys.stderr.flush()
            if os.fork() == 0:
                listening.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                supervise(connection)
            connection.close()


def shim(path: str, argv: list[str]) -> None:
    """`python <argv>` as a Makefile runs it: the pipeline's entry points warm, anything else as it is."""
    if entry_point(argv) is None:
        os.execv(sys.executable, [sys.executable, *argv])
    code = ask(path, argv, os.getcwd(), dict(os.environ), [0, 1, 2], timeout=None)
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    sys.exit(code)


# In the tests


SHARED = "TESTS_WARM_INTERPRETER"  # the folder of the warm interpreter the pytest workers share


class Warm:
    """A warm interpreter: the folder that holds its socket and the `python` shim that reaches it."""

    def __init__(self, folder: str, server: subprocess.Popen[bytes] | None = None) -> None:
        self.folder = folder
        self.path = os.path.join(folder, "socket")
        self.shims = os.path.join(folder, "bin")
        self.server = server  # when this process started it
        self.listening = False

    @classmethod
    def start(cls, env: dict[str, str]) -> Warm:
        """Start a warm interpreter with this environment, and stop it when this process ends. It warms up
        meanwhile: the first run waits for it."""
        import subprocess
        import tempfile

        folder = tempfile.mkdtemp(prefix="warm-")
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        command = [sys.executable, "-m", "tests.support.warm", "serve", os.path.join(folder, "socket")]
        started = cls(folder, subprocess.Popen(command, cwd=root, env=env))
        os.mkdir(started.shims)
        python = os.path.join(started.shims, "python")
        with open(python, "w") as script:
            command = [sys.executable, "-I", "-S", os.path.abspath(__file__), "shim", started.path]
            script.write(f'#!/bin/sh\nexec {shlex.join(command)} "$@"\n')
        os.chmod(python, 0o755)
        atexit.register(started.stop)
        return started

    def ready(self, timeout: float = 120) -> Warm:
        """This interpreter, once it listens."""
        import time

        deadline = time.monotonic() + timeout
        while not self.listening:
            if time.monotonic() > deadline or (self.server is not None and self.server.poll() is not None):
                raise RuntimeError("the warm interpreter did not start")
            time.sleep(0.01)
            self.listening = os.path.exists(self.path)
        return self

    def run(self, argv: list[str], cwd: str, env: dict[str, str], timeout: float) -> tuple[int, str, str]:
        """`python <argv>` as `subprocess.run` with `capture_output=True, text=True` would: code, out, err."""
        import subprocess
        import tempfile

        self.ready()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, open(os.devnull) as nothing:
            try:
                code = ask(self.path, argv, cwd, env, [nothing.fileno(), out.fileno(), err.fileno()], timeout)
            except TimeoutError:
                raise subprocess.TimeoutExpired([sys.executable, *argv], timeout) from None
            texts = []
            for stream in (out, err):
                stream.seek(0)
                texts.append(stream.read().decode().replace("\r\n", "\n").replace("\r", "\n"))
        return code, texts[0], texts[1]

    def stop(self) -> None:
        import shutil

        if self.server is not None:
            self.server.kill()
            self.server.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


_warm: list[Warm] = []


def share(env: dict[str, str]) -> None:
    """Start the warm interpreter that the processes started from here (the pytest workers) share."""
    _warm.append(Warm.start(env))
    os.environ[SHARED] = _warm[0].folder


def warm() -> Warm:
    """The warm interpreter this process shares, or its own, started on first use."""
    if not _warm:
        _warm.append(Warm(os.environ[SHARED]) if SHARED in os.environ else Warm.start(dict(os.environ)))
    return _warm[0]


if __name__ == "__main__":
    role, path, *rest = sys.argv[1:]
    serve(path) if role == "serve" else shim(path, rest)
