"""Every decision of the manual runbook carries its reason."""

from __future__ import annotations

from failover.engines.manual import decide_failover, rewind_verdict
from failover.timeline import Timeline, client_marks, percentile, summarize
from failover.types import Mark, Outcome
from failover.writer import Attempt


def test_waits_until_the_threshold_of_failed_probes() -> None:
    d = decide_failover(2, 3, "connection refused", "node2", True, True)
    assert d.action == "wait"
    assert "2 of 3" in d.reason and "connection refused" in d.reason


def test_promotes_a_synchronous_standby_after_enough_failures() -> None:
    d = decide_failover(3, 3, "no answer within 0.3 s", "node2", True, True)
    assert d.action == "promote"
    assert "node2 was the synchronous standby" in d.reason


def test_refuses_to_promote_an_async_standby() -> None:
    d = decide_failover(5, 3, "connection refused", "node2", False, True)
    assert d.action == "refuse"
    assert "could lose acknowledged commits" in d.reason


def test_refuses_when_the_standby_is_not_in_recovery() -> None:
    assert decide_failover(5, 3, "refused", "node2", True, False).action == "refuse"


def test_rewind_verdict_flags_no_rewind_on_a_stale_control_file() -> None:
    reason = rewind_verdict("pg_rewind: no rewind required", 1, 2)
    assert reason is not None and "promoted without a checkpoint" in reason


def test_rewind_verdict_accepts_a_real_rewind_or_a_checkpointed_source() -> None:
    assert rewind_verdict("pg_rewind: servers diverged at WAL location 0/3000 on timeline 1", 1, 2) is None
    assert rewind_verdict("pg_rewind: no rewind required", 2, 2) is None


def test_client_marks_ignore_acks_of_the_old_primary_after_the_fault() -> None:
    timeline = Timeline()
    timeline.mark(Mark.FAULT, "kill", at=10.0)
    attempts = [
        Attempt(0, 1, 9.0, 9.5, Outcome.ACKED, 5001),
        Attempt(0, 2, 10.0, 10.2, Outcome.ACKED, 5001),  # old primary, after the fault
        Attempt(0, 3, 10.3, 11.0, Outcome.ACKED, 5002),
        Attempt(1, 1, 10.0, 12.0, Outcome.ACKED, 5002),
    ]
    client_marks(timeline, attempts, 5002, clients=2)
    seconds = timeline.since_fault()
    assert seconds["business_rto"] == 1.0
    assert seconds["first_client_back"] == 1.0
    assert seconds["last_client_back"] == 2.0


def test_last_client_back_is_missing_while_a_client_is_still_out() -> None:
    timeline = Timeline()
    timeline.mark(Mark.FAULT, "kill", at=0.0)
    client_marks(timeline, [Attempt(0, 1, 0.0, 1.0, Outcome.ACKED, 7)], 7, clients=2)
    assert timeline.at(Mark.LAST_CLIENT_BACK) is None
    assert timeline.at(Mark.FIRST_CLIENT_BACK) == 1.0


def test_percentiles_and_summary() -> None:
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 95) == 19.0
    assert percentile([], 50) is None
    s = summarize([1.0, 2.0, 10.0])
    assert s == {"n": 3, "min": 1.0, "p50": 2.0, "p95": 10.0, "max": 10.0}
    assert summarize([])["p50"] is None


def test_sqlalchemy_url_pairs_hosts_and_ports_of_a_multi_host_string() -> None:
    from failover.drill import sqlalchemy_url

    url = sqlalchemy_url("host=127.0.0.1,127.0.0.1 port=5433,5434 user=postgres dbname=erp "
                         "target_session_attrs=read-write connect_timeout=2")
    assert url == ("postgresql+psycopg://postgres@/erp?host=127.0.0.1:5433&host=127.0.0.1:5434"
                   "&target_session_attrs=read-write&connect_timeout=2")


def test_an_isolated_node_may_only_have_answered_what_it_sent_before_the_cut() -> None:
    from failover.drill import DrillResult, _judge_isolation
    from failover.types import Outcome
    from failover.writer import Attempt

    fault = 100.0
    in_flight = Attempt(0, 1, 99.9, 100.05, Outcome.ACKED, 5432)
    sent_after = Attempt(1, 7, 100.1, 100.2, Outcome.ACKED, 5432)
    much_later = Attempt(2, 3, 99.9, 101.0, Outcome.ACKED, 5432)
    clean = DrillResult("manual", "isolate", "r", "now")
    _judge_isolation(clean, fault, [in_flight])
    assert clean.ok and clean.attempts == {"acked_in_flight_at_cut": 1, "acked_by_isolated": 0}
    broken = DrillResult("manual", "isolate", "r", "now", old_primary="node1")
    _judge_isolation(broken, fault, [in_flight, sent_after, much_later])
    assert broken.attempts["acked_by_isolated"] == 2
    assert broken.failures == ["isolation: node1 acknowledged 2 commits sent after it was cut off"]


def test_o2c_idempotency_keys_map_back_to_client_and_sequence() -> None:
    from failover.o2c import parse_key

    assert parse_key("abc123-2-17", "abc123") == (2, 17)
    assert parse_key("other-2-17", "abc123") is None
    assert parse_key("abc123-2", "abc123") is None
    assert parse_key("abc123-x-1", "abc123") is None


def test_o2c_answers_are_classified_by_what_they_prove() -> None:
    import httpx

    from failover.o2c import classify
    from failover.types import Outcome

    def client(handler: object) -> httpx.Client:
        return httpx.Client(base_url="http://api", transport=httpx.MockTransport(handler))  # type: ignore[arg-type]

    def created(request: httpx.Request) -> httpx.Response:
        assert request.headers["Idempotency-Key"] == "k1"
        return httpx.Response(201, json={"id": 42})

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    def reset(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    assert classify(client(created), "/o", {}, "k1")[:2] == (Outcome.ACKED, 42)
    assert classify(client(refused), "/o", {}, "k1")[0] is Outcome.ERROR
    assert classify(client(reset), "/o", {}, "k1")[0] is Outcome.IN_DOUBT
    assert classify(client(lambda r: httpx.Response(503)), "/o", {}, "k")[0] is Outcome.IN_DOUBT
    assert classify(client(lambda r: httpx.Response(422)), "/o", {}, "k")[0] is Outcome.ERROR
