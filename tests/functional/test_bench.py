from bench import search as bench


def test_the_benchmark_runs_end_to_end_on_a_small_knowledge_base():
    rows = bench.run([60], n_queries=20, procs=1, echo=lambda *_: None)
    assert [r["endpoint"] for r in rows] == ["search", "suggest", "suggest (repeat)"]
    assert all(r["queries"] == 20 and r["p99_ms"] >= r["p50_ms"] > 0 for r in rows)
    assert "| 60 |" in bench.table(rows)
