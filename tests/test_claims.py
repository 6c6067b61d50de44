"""The front page quotes the generated results: every measured-looking number of the README, docs/ and the
results pages is a rounding of a number in results/, and every relative link resolves."""

from pathlib import Path

import pytest

from bench.report import claims

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "results").glob("*.md"))]


@pytest.fixture(scope="module")
def values():
    return claims.result_values()


def test_a_planted_number_and_a_dead_link_are_caught(tmp_path, values):
    page = tmp_path / "README.md"
    (tmp_path / "present.md").write_text("here")
    page.write_text("The fix is 2,883.5× better ([ladder](results/ladder.md), [here](present.md), [web](https://x.org)).\n"
                    "Settings are not claims: 4,000 steps, 1e-6, `lr=0.0123`, in 2024.\n```\nrun --steps 7777\n```\n")
    assert claims.unbacked_numbers(page.read_text(), values) == ["2,883.5"]
    assert claims.dead_links(page) == ["results/ladder.md"]


def test_a_number_is_backed_by_any_rounding_of_a_result():
    values = sorted([0.000754321, 58.04, 3316.0])
    text = "errors of 7.5·10⁻⁴, 7.54e-4 and 0.000754; 58× lower; 3,316 s; but not 0.00076 nor 59×."
    assert claims.unbacked_numbers(text, values) == ["0.00076", "59"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_page_states_only_generated_numbers_and_links_only_existing_files(page, values):
    text = page.read_text()
    assert claims.dead_links(page) == []
    if page.parent.name != "results":  # the results pages are generated: their numbers are the results
        assert claims.unbacked_numbers(text, values) == []


def test_the_command_line_reports_each_problem_and_exits_1(tmp_path, capsys):
    page = tmp_path / "page.md"
    page.write_text("[gone](nowhere.md) and 123.456 units\n")
    assert claims.main([str(page)]) == 1
    assert capsys.readouterr().out.splitlines() == [f"{page}: 123.456 is in no file of results/",
                                                    f"{page}: dead link nowhere.md"]
    assert claims.main([str(ROOT / "README.md")]) == 0
