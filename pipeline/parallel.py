"""Verifying several pacts at once: each in a worker process, with its own app, store and server."""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING

from attrs import evolve, frozen

from pipeline.pact_sources import BadPactSource, read_pact_source
from pipeline.settings import Settings, SettingsError
from pipeline.summary import Outcome, reason
from pipeline.verifier_output import safe_line
from pipeline.verify import VerificationError, verify_one

if TYPE_CHECKING:  # the broker's HTTP client takes a tenth of a second to import; local pacts do without it
    from pipeline.broker import PactForVerification

INTERACTIONS_PER_WORKER = 30  # a forked worker costs about 10 interactions' time; from 15 each, two save some
INTERRUPTED = 130


@frozen
class PactJob:
    """One pact for one worker: a file or a broker URL, and whether its failures may fail the build."""

    label: str
    source: str
    pending: bool = False
    notices: tuple[str, ...] = ()

    @classmethod
    def from_file(cls, path: str) -> PactJob:
        return cls(label=Path(path).name, source=path)

    @classmethod
    def from_broker(cls, pact: PactForVerification) -> PactJob:
        return cls(label=pact.description, source=pact.url, pending=pact.pending, notices=pact.notices)


@frozen
class Answer:
    """What a worker tells the parent about one pact: its exit code, counts, and whether its results were published."""

    code: int
    passed: int = 0
    failed: int = 0
    published: bool = False
    reason: str = ""

    @classmethod
    def of(cls, outcome: Outcome) -> Answer:
        passed = outcome.passed_count
        return cls(
            code=0 if outcome.ok else 1,
            passed=passed,
            failed=len(outcome.interactions) - passed,
            published=outcome.published,
            reason="" if outcome.ok else reason(outcome),
        )


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


def start_method() -> BaseContext:
    """Fork, whose workers start with everything imported, where it is safe: no other thread holds a
    lock the copy would inherit. Otherwise a fresh interpreter per worker."""
    return multiprocessing.get_context("fork" if only_thread() else "spawn")


def redirect_output(path: Path) -> None:
    """Send this process's output, the verifier's own included, to a file."""
    with path.open("w", encoding="utf-8") as target:
        os.dup2(target.fileno(), 1)
        os.dup2(target.fileno(), 2)
    sys.stdout = open(1, "w", encoding="utf-8", buffering=1, closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", buffering=1, closefd=False)


def work(jobs: Sequence[PactJob], settings: Settings, publish: bool, folder: Path, parent: Connection) -> None:
    """A worker: verify each pact the parent hands over, its output in a file of its own, and answer
    what it found; until the parent hands over None."""
    try:
        while (index := parent.recv()) is not None:
            job = jobs[index]
            redirect_output(folder / f"{index}.out")
            try:
                mine = evolve(settings, pact_url=job.source)
                outcome = verify_one(mine, [read_pact_source(job.source, mine)], publish=publish, pending=job.pending)
                answer = Answer.of(outcome)
            except (VerificationError, BadPactSource, SettingsError) as error:
                print(safe_line(f"verify: {error}"), file=sys.stderr)
                answer = Answer(code=2, reason=str(error))
            sys.stdout.flush()
            parent.send(answer)
    except KeyboardInterrupt:
        sys.exit(INTERRUPTED)  # the parent says it was interrupted, once


def start_workers(
    jobs: Sequence[PactJob], workers: int, settings: Settings, publish: bool, folder: Path
) -> dict[Connection, BaseProcess]:
    """Start the workers; answer each by the connection it takes pacts and gives exit codes on."""
    context = start_method()
    started = {}
    for _ in range(workers):
        mine, theirs = context.Pipe()
        process = context.Process(target=work, args=(jobs, settings, publish, folder, theirs), daemon=True)
        process.start()
        theirs.close()  # the worker holds it now: when the worker exits, this end reads the end of the stream
        started[mine] = process
    return started


class Dispatch:
    """Hands the pacts out, in order, to the workers as they become free, and collects exit codes."""

    def __init__(self, pacts: int, workers: Sequence[Connection]) -> None:
        self.waiting = iter(range(pacts))
        self.busy: dict[Connection, int] = {}
        self.answers: dict[int, Answer | None] = {}  # None: the worker stopped before answering
        for worker in workers:
            self.hand_over(worker)

    def hand_over(self, worker: Connection) -> None:
        """Give a free worker the next pact, or None to let it exit."""
        index = next(self.waiting, None)
        worker.send(index)
        if index is not None:
            self.busy[worker] = index

    def result(self, index: int) -> Answer | None:
        """Wait until the pact at `index` is done; its worker's answer (None: its worker stopped first)."""
        while index not in self.answers and self.busy:
            for worker in wait(list(self.busy)):
                done = self.busy.pop(worker)  # type: ignore[arg-type]
                try:
                    self.answers[done] = worker.recv()  # type: ignore[union-attr]
                except EOFError:
                    self.answers[done] = None
                    continue
                self.hand_over(worker)  # type: ignore[arg-type]
        return self.answers.get(index)


def verify_in_parallel(jobs: Sequence[PactJob], workers: int, settings: Settings, *, publish: bool = False) -> int:
    """Verify the pacts in worker processes; print each pact's output as a group, in order, as soon as
    it is done; answer the exit code."""
    answers: list[Answer | None] = []
    with tempfile.TemporaryDirectory(prefix="pact-verify-") as name:
        folder = Path(name)
        workers_started = start_workers(jobs, workers, settings, publish, folder)
        try:
            dispatch = Dispatch(len(jobs), list(workers_started))
            for index, job in enumerate(jobs):
                answers.append(dispatch.result(index))
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
    print("\n" + closing_line(jobs, answers, workers, publish))
    return max((1 if answer is None else answer.code) for answer in answers)


def closing_line(jobs: Sequence[PactJob], answers: Sequence[Answer | None], workers: int, publish: bool) -> str:
    """The verdict over all pacts, from what the workers answered: "published" only when every pact's results were."""
    passed = sum(answer.passed for answer in answers if answer)
    failed = sum(answer.failed for answer in answers if answer)
    counts = f"{passed} passed, {failed} failed in {len(jobs)} pacts ({workers} workers)"
    stopped = "its worker process stopped before the pact was verified"
    broken = [f"{job.label}: {answer.reason if answer else stopped}" for job, answer in zip(jobs, answers) if not answer or answer.code]
    if broken:
        more = f" (and {len(broken) - 1} more failed pacts)" if len(broken) > 1 else ""
        return safe_line(f"verification FAILED ({counts}): {broken[0]}{more}")
    published = publish and all(answer and answer.published for answer in answers)
    return safe_line(f"verification passed: {counts}{'; results published' if published else ''}")
