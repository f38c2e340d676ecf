"""Reading ApacheBench's output, and the bench table."""

from hastack.bench import Run, parse_ab, table


def test_parse_the_seeds_first_run(fixtures):
    run = parse_ab((fixtures / "ab_seed_c30.txt").read_text(), "VIP, 2 web hosts", 30)
    assert (run.requests, run.rps, run.mean_ms, run.p50_ms, run.p99_ms, run.failed, run.non_2xx) == (
        32000,
        1207.41,
        24.847,
        24.0,
        39.0,
        0,
        32000,
    )


def test_table_shows_the_proxy_cost_as_a_ratio():
    runs = [
        Run("direct to web1", 30, 1000, 2000.0, 15.0, 14, 30, 0, 0),
        Run("VIP from proxy2", 30, 1000, 1500.0, 20.0, 19, 40, 0, 0),
    ]
    assert "| 30 | 0.75 |" in table(runs)


def test_table_shows_what_https_costs_against_plain_http_per_concurrency():
    runs = [
        Run("VIP, 2 web hosts", 60, 1000, 600.0, 100.0, 90, 200, 0, 0),
        Run("VIP, keep-alive", 60, 1000, 1800.0, 30.0, 28, 60, 0, 0),
        Run("VIP, HTTP 301", 60, 1000, 2400.0, 25.0, 24, 50, 0, 1000),
    ]
    assert "| 60 | 0.25 | 0.75 |" in table(runs)


def test_the_scale_table_has_a_row_per_count():
    from hastack.lab import scale_table

    table = scale_table([(2, 5, 451.2, 80.4, 0), (3, 6, 470.0, 85.0, 0)])
    assert table.splitlines()[2:] == ["| 2 | 5 | 451 s | 80 s | 0 |", "| 3 | 6 | 470 s | 85 s | 0 |"]
