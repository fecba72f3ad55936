"""Verifying several pacts at once: each in a worker process, with its own app, store and server."""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path

from pipeline.output import safe_line
from pipeline.pacts import Pact
from pipeline.results import PactResult, Verification, closing, reason
from pipeline.settings import Settings
from pipeline.verifier import verify_here

STOPPED = "its worker process stopped before the pact was verified"
INTERACTIONS_PER_WORKER = 30  # a worker process costs about 10 interactions' time; from 15 each, two save some


def start_method() -> ForkContext | SpawnContext:
    """Fork, whose workers start with everything imported, where it is safe: no other thread (the verifier's
    Rust runtime, uvloop's pool) holds a lock the copy would inherit; only Linux's /proc tells. Else spawn."""
    tasks = Path("/proc/self/task")
    only_thread = tasks.is_dir() and len(os.listdir(tasks)) == 1
    return multiprocessing.get_context("fork") if only_thread else multiprocessing.get_context("spawn")


def redirect_output(path: Path) -> None:
    """Send this process's output, the verifier's own included, to a file."""
    with path.open("w", encoding="utf-8") as target:
        os.dup2(target.fileno(), 1)
        os.dup2(target.fileno(), 2)
    # the worker's streams for the rest of its life: nothing to close before it exits
    sys.stdout = open(1, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115


def work(
    pacts: Sequence[Pact], settings: Settings, publish: bool, deadline: float, folder: Path, parent: Connection
) -> None:
    """A worker: verify each pact the parent hands over, its output in a file of its own, and send the
    parent the pact's result; until the parent hands over None. Its progress lines go straight to the run's
    output, not to the file shown when the pact is done. SIGTERM or Ctrl-C ends it at once."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    progress = open(os.dup(1), "w", encoding="utf-8", closefd=True)  # noqa: SIM115  # the run's output, for its life
    try:
        while (index := parent.recv()) is not None:
            redirect_output(folder / f"{index}.out")
            (result,) = verify_here(
                settings, [pacts[index]], publish=publish, deadline=deadline, progress=progress
            ).pacts
            sys.stdout.flush()
            parent.send(result)
    except KeyboardInterrupt:
        sys.exit(130)  # the parent says it was interrupted, once


def verdict(pacts: Sequence[PactResult], workers: int, publish: bool) -> str:
    """The last line of a verification in workers: the pacts and workers counted too, a failure naming its pact."""
    broken = [f"{pact.pact.label}: {reason([pact])}" for pact in pacts if pact.exit_code]
    more = f" (and {len(broken) - 1} more failed pacts)" if len(broken) > 1 else ""
    failure = f"{broken[0]}{more}" if broken else ""
    published = publish and bool(pacts) and all(pact.published for pact in pacts)
    return closing(pacts, failure, published, counted=f" in {len(pacts)} pacts ({workers} workers)")


class Dispatch:
    """Hands the pacts out, in order, to the workers as they become free, and collects their results."""

    def __init__(self, pacts: Sequence[Pact], workers: Sequence[Connection]) -> None:
        self.pacts = pacts
        self.waiting = iter(range(len(pacts)))
        self.busy: dict[Connection, int] = {}
        self.results: dict[int, PactResult] = {}
        for worker in workers:
            self.hand_over(worker)

    def hand_over(self, worker: Connection) -> None:
        """Give a free worker the next pact, or None to let it exit."""
        index = next(self.waiting, None)
        worker.send(index)
        if index is not None:
            self.busy[worker] = index

    def result(self, index: int) -> PactResult:
        """Wait until the pact at `index` is done; its result (a failure when its worker stopped first)."""
        while index not in self.results and self.busy:
            for worker in wait(list(self.busy)):
                assert isinstance(worker, Connection)  # wait answers what it was given
                done = self.busy.pop(worker)
                try:
                    self.results[done] = worker.recv()
                except EOFError:
                    self.results[done] = PactResult(self.pacts[done], errors=(STOPPED,))
                    continue
                self.hand_over(worker)
        return self.results.get(index) or PactResult(self.pacts[index], errors=(STOPPED,))


def worker_count(jobs: int, pacts: Sequence[Pact]) -> int:
    """How many worker processes are worth starting: at most one per pact, and one per INTERACTIONS_PER_WORKER
    interactions (one per pact when one could not be read)."""
    interactions = sum(pact.interactions for pact in pacts)
    by_size = len(pacts) if any(pact.problem for pact in pacts) else math.ceil(interactions / INTERACTIONS_PER_WORKER)
    return max(1, min(jobs, len(pacts), by_size))


def verify_in_workers(
    settings: Settings, pacts: Sequence[Pact], jobs: int, *, publish: bool, deadline: float
) -> Verification:
    """Verify the pacts in up to `jobs` worker processes (in this process when one is all worth starting);
    print each pact's output as a group, in order, as soon as it is done, then the closing line; answer every
    pact's result. Interrupted, the workers are stopped first."""
    workers = worker_count(jobs, pacts)
    if workers == 1:
        return verify_here(settings, pacts, publish=publish, deadline=deadline)
    context, results = start_method(), []
    with tempfile.TemporaryDirectory(prefix="pact-verify-") as name:
        folder, started = Path(name), dict[Connection, BaseProcess]()
        try:
            for _ in range(workers):
                mine, theirs = context.Pipe()
                args = (pacts, settings, publish, deadline, folder, theirs)
                started[mine] = context.Process(target=work, args=args, daemon=True)
                started[mine].start()
                theirs.close()  # the worker holds it now: when the worker exits, this end reads the end of the stream
            dispatch = Dispatch(pacts, list(started))
            for index, pact in enumerate(pacts):
                results.append(dispatch.result(index))
                written = folder / f"{index}.out"
                output = written.read_text(encoding="utf-8", errors="replace") if written.exists() else ""
                print("\n" + safe_line(f"===== {pact.label} ====="))
                for notice in pact.notices:
                    print(safe_line(f"  {notice}"))
                print(output.rstrip(), flush=True)  # the worker's own output, made safe as it was written
        except BaseException:
            for process in started.values():
                process.terminate()  # interrupted: stop the workers before their folder goes
            raise
        finally:
            for process in started.values():
                process.join()
    closing = verdict(results, workers, publish)
    print("\n" + closing)
    return Verification(pacts=tuple(results), verdict=closing)
