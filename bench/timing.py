"""Repetitions, medians and peak memory."""

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass
class Timing:
    median: float  # seconds
    low: float
    high: float
    repetitions: int

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Contender:
    """One way of doing the work; `before` (a reset) and `after` (a check) run untimed."""

    action: Callable[[], object]
    before: Callable[[], object] | None = None
    after: Callable[[], object] | None = None


def _timing(seconds: list[float]) -> Timing:
    return Timing(statistics.median(seconds), min(seconds), max(seconds), len(seconds))


def _run_once(contender: Contender) -> float:
    if contender.before is not None:
        contender.before()
    gc.collect()
    start = time.perf_counter()
    contender.action()
    seconds = time.perf_counter() - start
    if contender.after is not None:
        contender.after()
    return seconds


def repeat(action: Callable[[], object], repetitions: int) -> Timing:
    """Median of `repetitions` runs of `action`."""
    return _timing([_run_once(Contender(action)) for _ in range(repetitions)])


def round_robin(contenders: dict[str, Contender], repetitions: int) -> dict[str, Timing]:
    """Each contender once per round, `repetitions` rounds: on a shared machine a burst of
    load then slows every contender alike, and the ratios between medians stay honest."""
    seconds = {name: [] for name in contenders}
    for _ in range(repetitions):
        for name, contender in contenders.items():
            seconds[name].append(_run_once(contender))
    return {name: _timing(values) for name, values in seconds.items()}


def peak_memory(action: Callable[[], object]) -> int:
    """Peak bytes allocated by Python while `action` runs (tracemalloc; C libraries that
    allocate outside Python's allocator are not counted)."""
    gc.collect()
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
