"""`make bench`'s own parts: the ceiling views and how results become targets."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import report
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("bench.urls")]


def test_ceiling_asks_for_a_logged_in_person(client):
    response = client.get("/bench/ceiling/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_ceiling_answers_json_through_the_whole_middleware(client):
    client.force_login(UserFactory())

    response = client.get("/bench/ceiling/")

    assert response.json() == {"ok": True}
    assert response["Content-Security-Policy"]


def test_ceiling_with_a_query_costs_exactly_one_query_more(client):
    user = UserFactory()
    client.force_login(user)
    client.get("/bench/ceiling/")  # first-use caches

    with CaptureQueriesContext(connection) as minimal:
        client.get("/bench/ceiling/")
    with CaptureQueriesContext(connection) as with_query:
        response = client.get("/bench/ceiling-query/")

    assert response.json() == {"ok": True, "account": str(user.uuid)}
    assert len(with_query) == len(minimal) + 1


def _run(concurrency: int, rps: float, p95: float, errors: int = 0) -> dict:
    return {"concurrency": concurrency, "rps": rps, "p50_ms": p95 / 2, "p95_ms": p95, "errors": errors, "timeouts": 0}


def _results(summary_31: list[dict], summary_2000: list[dict], queries: tuple[int, int] = (20, 20)) -> dict:
    return {
        "endpoints": [
            {"endpoint": report.CEILING, "patient": "", "status": 200, "runs": [_run(1, 100, 10), _run(32, 400, 100)]},
            {"endpoint": "summary page", "patient": "31", "status": 200, "queries": queries[0], "runs": summary_31},
            {"endpoint": "summary page", "patient": "2000", "status": 200, "queries": queries[1], "runs": summary_2000},
        ],
        "pipelines": {},
    }


def _target(targets: list[dict], start: str) -> dict:
    return next(t for t in targets if t["target"].startswith(start))


def test_each_run_is_reported_as_a_share_of_the_ceiling_at_the_same_concurrency():
    results = _results([_run(1, 50, 20), _run(32, 100, 150)], [_run(1, 45, 22), _run(32, 90, 160)])

    report.ratios(results)

    runs = results["endpoints"][1]["runs"]
    assert (runs[0]["rps_ratio"], runs[0]["p95_ratio"]) == (0.5, 2.0)
    assert (runs[1]["rps_ratio"], runs[1]["p95_ratio"]) == (0.25, 1.5)


def test_throughput_target_takes_the_worst_concurrency():
    targets = report.targets(_results([_run(1, 50, 20), _run(32, 100, 150)], [_run(1, 45, 22), _run(32, 90, 160)]))

    target = _target(targets, "summary page (31 docs) ≥ 40%")
    assert target["met"] is False
    assert target["measured"] == "25% (worst)"


def test_p95_targets_at_32_concurrent_clients():
    targets = report.targets(_results([_run(32, 200, 150)], [_run(32, 180, 400)]))

    assert _target(targets, "summary page p95 ≤ 200 ms at 32 concurrent (31 docs)")["met"] is True
    assert _target(targets, "summary page p95 ≤ 300 ms at 32 concurrent (2000 docs)")["met"] is False
    assert _target(targets, "summary p95(2000)/p95(31) ≤ 1.5 at 32")["measured"] == 2.67


def test_a_bigger_record_with_more_queries_misses_the_target():
    targets = report.targets(_results([_run(1, 50, 20)], [_run(1, 50, 20)], queries=(20, 23)))

    assert _target(targets, "summary: same query count")["met"] is False


def test_any_error_or_failing_endpoint_misses_zero_errors():
    results = _results([_run(1, 50, 20, errors=1)], [_run(1, 50, 20)])
    assert _target(report.targets(results), "zero errors")["met"] is False

    results = _results([_run(1, 50, 20)], [_run(1, 50, 20)])
    results["endpoints"].append({"endpoint": "search", "patient": "31", "status": 500})
    assert _target(report.targets(results), "zero errors")["measured"] == "0 errors, 1 endpoints failing"


def test_table_prints_every_endpoint_and_the_targets():
    results = _results([_run(1, 50, 20)], [_run(1, 45, 22)])
    results["targets"] = report.targets(results)
    results["population"] = {"counts": {"patients": 3}, "prepare_seconds": 1.0}

    text = report.table(results)

    assert "summary page" in text
    assert "50%" in text  # the 31-document summary at half the ceiling's throughput
    assert "[x] zero errors" in text
