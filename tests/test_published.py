"""Published rates (bench.report.published): SRSD's per method and difficulty, one table per rate found, and the
rates that could not be found named instead of guessed."""

from bench.report.published import srsd_markdown

HEADER = "benchmark,algorithm,difficulty,problems,r2_above_0999_pct,symbolic_solution_pct,source,note\n"


def test_found_rates_pivot_by_difficulty_and_missing_ones_are_named(tmp_path):
    path = tmp_path / "srsd.csv"
    path.write_text(HEADER + "S,A,easy,30,,50.0,paper T1,no R2\nS,A,hard,50,,4.00,paper T1,no R2\n"
                    "S,B,easy,30,,6.67,paper T1,no R2\nS,B,hard,50,,0.00,paper T1,no R2\n")
    text = srsd_markdown(path)
    assert "SRSD's solution rate, % of problems (source: paper T1)" in text
    assert "| method | easy (30) | hard (50) |\n|---|---|---|\n| A | 50.0 | 4.00 |\n| B | 6.67 | 0.00 |" in text
    assert "Not quoted: SRSD's R² > 0.999 rate of A, B — no R2" in text
    assert "Not quoted: SRSD's solution rate" not in text
