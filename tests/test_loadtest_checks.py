"""The load test's checks (loadtest/checks.py) find a lost update, a 5xx and a lock error."""

from loadtest.checks import Ack, Stored, lock_errors, lost_updates, p95, server_errors

CELL = (7, 4)


def test_the_last_acknowledged_value_stored_is_no_lost_update():
    acks = [Ack(CELL, "10", 0, 1.0), Ack(CELL, "12", 1, 2.0), Ack((7, 5), "3", 2, 1.5)]
    final = {CELL: Stored("12", 2), (7, 5): Stored("3", 3)}
    assert lost_updates(acks, {(7, 5): 2}, final) == []


def test_an_older_value_stored_over_a_newer_acknowledgement_is_a_lost_update():
    acks = [Ack(CELL, "10", 0, 1.0), Ack(CELL, "12", 1, 2.0)]
    problems = lost_updates(acks, {}, {CELL: Stored("10", 2)})
    assert problems == ["(7, 4): 値 '10'（最後に受け付けた値 '12'）"]


def test_two_saves_acknowledged_from_the_same_version_are_a_lost_update():
    acks = [Ack(CELL, "10", 0, 1.0), Ack(CELL, "12", 0, 2.0)]
    problems = lost_updates(acks, {}, {CELL: Stored("12", 1)})
    assert "(7, 4): 同じ版 [0] からの保存を複数受け付けました" in problems
    assert "(7, 4): 版 1（受け付けた保存から見込まれる版 2）" in problems


def test_an_acknowledged_cell_missing_from_the_database_is_reported():
    assert lost_updates([Ack(CELL, "10", 0, 1.0)], {}, {}) == [
        "(7, 4): 保存済みと応答したのに値がありません"
    ]


def test_server_errors_and_lock_errors_are_counted():
    assert server_errors([200, 302, 409, 500, 503]) == 2
    log = "GET /kpis/ 200\nsqlite3.OperationalError: database is locked\n"
    assert lock_errors(log) == ["sqlite3.OperationalError: database is locked"]


def test_p95_of_latencies():
    assert p95([0.5]) == 0.5
    assert p95([float(n) for n in range(1, 101)]) == 95.05
