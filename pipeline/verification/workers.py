"""Verifying several pacts at once: each in a worker process, with its own app, store and server."""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path

from pipeline.settings import Settings, SettingsError
from pipeline.verification.outcome import Outcome, PactResult, Verification
from pipeline.verification.output import safe_line
from pipeline.verification.pacts import PactJob
from pipeline.verification.report import closing_line
from pipeline.verification.run import verify_here
from pipeline.verification.sources import BadPactSource, read_pact_source

INTERACTIONS_PER_WORKER = 30  # a forked worker costs about 10 interactions' time; from 15 each, two save some
INTERRUPTED = 130
STOPPED = "its worker process stopped before the pact was verified"


def worker_count(jobs: int, pacts: int, interactions: int | None) -> int:
    """How many worker processes are worth starting: at most one per pact, and one per
    INTERACTIONS_PER_WORKER interactions (when the count is unknown, one per pact)."""
    by_size = pacts if interactions is None else -(-interactions // INTERACTIONS_PER_WORKER)
    return max(1, min(jobs, pacts, by_size))


def only_thread() -> bool:
    """Whether this process is known to run one thread, native ones included: the verifier's Rust runtime
    and uvloop's thread pool outlive a verification. Only Linux's /proc tells; elsewhere, no."""
    tasks = Path("/proc/self/task")
    return tasks.is_dir() and len(os.listdir(tasks)) == 1


def start_method() -> ForkContext | SpawnContext:
    """Fork, whose workers start with everything imported, where it is safe: no other thread holds a
    lock the copy would inherit. Otherwise a fresh interpreter per worker."""
    return multiprocessing.get_context("fork") if only_thread() else multiprocessing.get_context("spawn")


def redirect_output(path: Path) -> None:
    """Send this process's output, the verifier's own included, to a file."""
    with path.open("w", encoding="utf-8") as target:
        os.dup2(target.fileno(), 1)
        os.dup2(target.fileno(), 2)
    # the worker's streams for the rest of its life: nothing to close before it exits
    sys.stdout = open(1, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115


def verify_job(job: PactJob, settings: Settings, publish: bool) -> PactResult:
    """Read and verify one pact in this worker, printing its summary; a pact that cannot be read is refused."""
    try:
        source = read_pact_source(job.source, settings)
        (outcome,) = verify_here(settings, [(source, job.pending)], publish=publish)
    except (BadPactSource, SettingsError) as error:
        print(safe_line(f"verify: {error}"), file=sys.stderr)
        return job.result(Outcome(interactions=(), errors=(str(error),)), refused=True)
    return job.result(outcome, consumer=source.consumer, provider=source.provider)


def work(jobs: Sequence[PactJob], settings: Settings, publish: bool, folder: Path, parent: Connection) -> None:
    """A worker: verify each pact the parent hands over, its output in a file of its own, and send the
    parent the pact's result; until the parent hands over None."""
    try:
        while (index := parent.recv()) is not None:
            redirect_output(folder / f"{index}.out")
            result = verify_job(jobs[index], settings, publish)
            sys.stdout.flush()
            parent.send(result)
    except KeyboardInterrupt:
        sys.exit(INTERRUPTED)  # the parent says it was interrupted, once


def start_workers(
    jobs: Sequence[PactJob], workers: int, settings: Settings, publish: bool, folder: Path
) -> dict[Connection, BaseProcess]:
    """Start the workers; answer each by the connection it takes pacts and gives results on."""
    context = start_method()
    started: dict[Connection, BaseProcess] = {}
    for _ in range(workers):
        mine, theirs = context.Pipe()
        process = context.Process(target=work, args=(jobs, settings, publish, folder, theirs), daemon=True)
        process.start()
        theirs.close()  # the worker holds it now: when the worker exits, this end reads the end of the stream
        started[mine] = process
    return started


class Dispatch:
    """Hands the pacts out, in order, to the workers as they become free, and collects their results."""

    def __init__(self, jobs: Sequence[PactJob], workers: Sequence[Connection]) -> None:
        self.jobs = jobs
        self.waiting = iter(range(len(jobs)))
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
                    self.results[done] = self.stopped(done)
                    continue
                self.hand_over(worker)
        return self.results.get(index) or self.stopped(index)

    def stopped(self, index: int) -> PactResult:
        """The result of a pact whose worker stopped before it answered."""
        return self.jobs[index].result(Outcome(interactions=(), errors=(STOPPED,)))


def verify_in_workers(jobs: Sequence[PactJob], workers: int, settings: Settings, *, publish: bool) -> Verification:
    """Verify the pacts in worker processes; print each pact's output as a group, in order, as soon as
    it is done, then the closing line; answer every pact's result."""
    results: list[PactResult] = []
    with tempfile.TemporaryDirectory(prefix="pact-verify-") as name:
        folder = Path(name)
        workers_started = start_workers(jobs, workers, settings, publish, folder)
        try:
            dispatch = Dispatch(jobs, list(workers_started))
            for index, job in enumerate(jobs):
                results.append(dispatch.result(index))
                written = folder / f"{index}.out"
                output = written.read_text(encoding="utf-8", errors="replace") if written.exists() else ""
                print("\n" + safe_line(f"===== {job.label} ====="))
                for notice in job.notices:
                    print(safe_line(f"  {notice}"))
                print(output.rstrip(), flush=True)  # the worker's own output, made safe as it was written
        except BaseException:
            for process in workers_started.values():
                process.terminate()  # interrupted: stop the workers before their folder goes
            raise
        finally:
            for process in workers_started.values():
                process.join()
    verdict = closing_line(results, workers, publish)
    print("\n" + verdict)
    return Verification(pacts=tuple(results), verdict=verdict)
