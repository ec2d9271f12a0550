"""What the load test checks after a run: plain functions, unit-tested in
tests/test_loadtest_checks.py."""

import statistics
from collections import defaultdict
from dataclasses import dataclass

Cell = tuple[int, int]  # (kpi id, calendar month)


@dataclass(frozen=True)
class Ack:
    """The server acknowledged a save (redirect after POST): `text` replaced the value the
    client had read at `seen_version`, so the cell is now at version seen_version + 1."""

    cell: Cell
    text: str
    seen_version: int
    at: float  # client clock when the acknowledgement arrived


@dataclass(frozen=True)
class Stored:
    text: str
    version: int


def lost_updates(acks: list[Ack], initial: dict[Cell, int], final: dict[Cell, Stored]) -> list[str]:
    """Problems with the acknowledged saves; an empty list means none was lost.

    Every acknowledged save moves its cell one version on, so a cell must end at its initial
    version plus its number of acknowledgements, two saves may never be acknowledged from the
    same version, and the stored text must be the one of the save acknowledged last."""
    by_cell: dict[Cell, list[Ack]] = defaultdict(list)
    for ack in acks:
        by_cell[ack.cell].append(ack)
    problems = []
    for cell, cell_acks in sorted(by_cell.items()):
        stored = final.get(cell)
        if stored is None:
            problems.append(f"{cell}: 保存済みと応答したのに値がありません")
            continue
        seen = [ack.seen_version for ack in cell_acks]
        duplicates = sorted({v for v in seen if seen.count(v) > 1})
        if duplicates:
            problems.append(f"{cell}: 同じ版 {duplicates} からの保存を複数受け付けました")
        expected_version = initial.get(cell, 0) + len(cell_acks)
        if stored.version != expected_version:
            problems.append(
                f"{cell}: 版 {stored.version}（受け付けた保存から見込まれる版 {expected_version}）"
            )
        last = max(cell_acks, key=lambda ack: (ack.seen_version, ack.at))
        if stored.text != last.text:
            problems.append(f"{cell}: 値 {stored.text!r}（最後に受け付けた値 {last.text!r}）")
    return problems


def server_errors(statuses: list[int]) -> int:
    return sum(1 for status in statuses if status >= 500)


def lock_errors(server_log: str) -> list[str]:
    return [line for line in server_log.splitlines() if "database is locked" in line]


def p95(latencies: list[float]) -> float:
    """95th percentile (inclusive method); the single value for one sample."""
    if len(latencies) == 1:
        return latencies[0]
    return statistics.quantiles(latencies, n=20, method="inclusive")[-1]
