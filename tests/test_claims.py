"""The front page and docs quote their numbers: each measured-looking number sits in a generated block or is found
in a file its sentence or line names, and every relative link resolves."""

from pathlib import Path

import pytest

from bench.report import claims

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RESULTS_PAGES = sorted((ROOT / "results").glob("*.md"))


@pytest.fixture
def page_dir(tmp_path):
    """A page's folder beside a results/ folder holding one summary: 105 of 120, 88%, an error of 0.000754321."""
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "summary.md").write_text("| solved | share | error |\n|---|---|---|\n"
                                                     "| 105 of 120 | 88% | 0.000754321 |\n")
    (tmp_path / "results" / "other.csv").write_text("seed,r2\n0,0.5\n")
    return tmp_path


def test_a_planted_count_and_a_planted_percentage_are_flagged_even_beside_a_link(page_dir):
    text = ("The recipe solves 104 of 120 ([summary](results/summary.md)).\n"
            "It solves 87% of them.\n"
            "See `results/other.csv`: 105 of 120.\n")
    assert claims.unsourced_numbers(text, page_dir, root=page_dir) == [(1, "104"), (2, "87"), (3, "105"), (3, "120")]


def test_a_number_found_in_the_file_its_sentence_or_line_names_is_sourced(page_dir):
    text = ("The recipe solves 105 of 120 equations, 88 % of them, with a median error of\n"
            "7.54e-4 and 7.5·10⁻⁴ and 0.000754 ([summary](results/summary.md)).\n"
            "By `results/summary.md`, 105 of 120. But not 0.00076 there ([summary](results/summary.md)).\n")
    assert claims.unsourced_numbers(text, page_dir, root=page_dir) == [(3, "0.00076")]


def test_generated_blocks_code_thresholds_settings_years_and_names_are_no_claims(page_dir):
    text = ("<!-- suite -->\nThe recipe solves 104 of 120 (87%).\n<!-- /suite -->\n"
            "A fit counts when R² > 0.999 or error ≤ 0.01, at 4,000 steps and lr 1e-3, in 2024, on feynman-i-43-43.\n"
            "Issue 33 (#29) asked for it.\n"
            "`--steps 7777` and\n```\nrun --lr 0.0123\n```\n<!-- a comment with 42.5 -->\n")
    assert claims.unsourced_numbers(text, page_dir, root=page_dir) == []


def test_a_csv_is_read_cell_by_cell_so_adjacent_cells_never_merge_into_one_number(page_dir):
    (page_dir / "results" / "times.csv").write_text('budget,seconds,rows,note\nquick,38,10000,"7,642 s"\n')
    text = "It took 38 s on 10,000 rows, 7,642 s in all, not 3,810,000 ([times](results/times.csv)).\n"
    assert claims.unsourced_numbers(text, page_dir, root=page_dir) == [(1, "3,810,000")]


def test_a_link_in_another_sentence_or_line_does_not_source_a_number(page_dir):
    text = ("The recipe solves 105 of 120.\nThat is in the [summary](results/summary.md).\n\n"
            "| 105 |\n| [s](results/summary.md) |\n")
    assert claims.unsourced_numbers(text, page_dir, root=page_dir) == [(1, "105"), (1, "120"), (4, "105")]


def test_a_dead_link_is_caught(tmp_path):
    page = tmp_path / "README.md"
    (tmp_path / "present.md").write_text("here")
    page.write_text("[ladder](results/ladder.md), [here](present.md), [web](https://x.org)\n")
    assert claims.dead_links(page) == ["results/ladder.md"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_page_sources_its_numbers_and_links_only_existing_files(page):
    assert claims.dead_links(page) == []
    assert claims.unsourced_numbers(page.read_text(), page.parent) == []


@pytest.mark.parametrize("page", RESULTS_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_results_page_links_only_existing_files(page):
    assert claims.dead_links(page) == []  # their numbers are generated: they are the results


def test_the_command_line_reports_each_problem_and_exits_1(tmp_path, capsys):
    page = tmp_path / "page.md"
    page.write_text("[gone](nowhere.md) and 123.456 units\n")
    assert claims.main([str(page)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{page}:1: 123.456 is in no generated block, and in no file its sentence or line names",
        f"{page}: dead link nowhere.md"]
    assert claims.main([str(ROOT / "README.md")]) == 0
