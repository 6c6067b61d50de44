"""python -m bench.report.claims FILE...: the numbers a page states without their source, and its dead links.

A number that looks measured (two or more significant digits, a percentage included, not a year) in the README
or docs/ must either sit in a generated block (`<!-- name -->` ... `<!-- /name -->`, written by a report from
the records) or be quoted from a file that its own sentence or line names: a relative link such as
[suite](results/suite/summary.md), or a repository path in code such as `results/environment.md`. The number
must then be a rounding of a number written in one of those files. A threshold (a number right after >, <, ≥
or ≤, as in R² > 0.999) is a definition, not a claim; so are an issue's number (issue 33, #33) and code (fenced
or inline). Every relative link must name a file that exists.
"""

import bisect
import csv
import io
import re
import sys
from functools import cache
from pathlib import Path

from bench import cli
from bench.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
SUPERSCRIPTS = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
# 1.5, 2,883, 4.4e-4, 4.4·10⁻⁴, 0.000754 (a number not glued to a word, a path, or a version)
NUMBER = re.compile(r"(?<![\w./])(?<![eE][-+])(\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+|·10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)?)(?![\w/]|\.\d)")
ANY_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?")
LINK = re.compile(r"\]\(([^)#\s]+)")
CODE_PATH = re.compile(r"`([\w./-]+\.(?:md|csv|json|toml|txt))`")
NOT_A_CLAIM = re.compile(r"(?:[<>≤≥]\s*|\bissues?\s+|#)$", re.I)  # a threshold (R² > 0.999), an issue's number
GENERATED = re.compile(r"<!-- ([\w-]+) -->.*?<!-- /\1 -->", re.S)
NAME = re.compile(r"\b[A-Za-z_]\w*(?:-\w+)+")  # feynman-i-43-43, seed-coded: names, whatever digits they hold
NOT_PROSE = [re.compile(r"```.*?```", re.S), re.compile(r"<!--.*?-->", re.S), re.compile(r"`[^`\n]*`"), NAME]
# a sentence ends after . ! or ? and a space; a table row, a list item or a heading starts a new one
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n(?=\s*(?:\||[-*] |#|\d+\. ))|\n\s*\n")


def parse(text):
    """(value, half a unit of its last printed digit, significant digits) of a printed number."""
    mantissa, _, exponent = text.replace(",", "").translate(SUPERSCRIPTS).replace("·10", "e").lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    power = int(exponent) if exponent else 0
    digits = mantissa.replace(".", "").lstrip("0")
    significant = len(digits if "." in mantissa else digits.rstrip("0"))
    return float(f"{mantissa}e{power}"), float(f"0.50005e{power - decimals}"), significant


def blanked(text, pattern):
    """`text` with each match of `pattern` replaced by spaces (its newlines kept), so offsets and lines still hold."""
    return pattern.sub(lambda match: re.sub(r"[^\n]", " ", match.group(0)), text)


def prose(text):
    """The text with generated blocks, fenced code, HTML comments, inline code and hyphenated names blanked: what a
    page claims."""
    for pattern in [GENERATED, *NOT_PROSE]:
        text = blanked(text, pattern)
    return text


@cache
def file_values(path):
    """Every number written in the file at `path`, sorted; a CSV's numbers cell by cell (its commas split cells,
    where prose's group thousands)."""
    text = Path(path).read_text(errors="ignore")
    pieces = [cell for row in csv.reader(io.StringIO(text)) for cell in row] if path.suffix == ".csv" else [text]
    return sorted({parse(token)[0] for piece in pieces for token in ANY_NUMBER.findall(piece)})


def named_files(text, page_dir, root=ROOT):
    """The existing files a piece of markdown names: its relative links (from `page_dir`) and paths in code (from
    the repository root or `page_dir`)."""
    names = [page_dir / link for link in LINK.findall(text) if "://" not in link and not link.startswith("mailto:")]
    names += [base / path for path in CODE_PATH.findall(text) for base in (root, page_dir)]
    return sorted({name.resolve() for name in names if name.is_file()})


def spans(text, boundary):
    """The (start, end) of each piece of `text` between matches of `boundary`."""
    starts = [0, *(match.end() for match in boundary.finditer(text))]
    ends = [*(match.start() for match in boundary.finditer(text)), len(text)]
    return list(zip(starts, ends))


def backed(value, half, files):
    """True when `value` (± `half`, its rounding) is a number written in one of `files`."""
    for path in files:
        values = file_values(path)
        i = bisect.bisect_left(values, value - half)
        if i < len(values) and values[i] <= value + half:
            return True
    return False


def unsourced_numbers(text, page_dir, root=ROOT):
    """(line, number) for each measured-looking number of `text`'s prose that no file named in its sentence or its
    line holds; `page_dir` is the folder relative links start from."""
    claims, missing = prose(text), []
    sentences, lines = spans(text, SENTENCE_END), spans(text, re.compile(r"\n"))
    for match in NUMBER.finditer(claims):
        value, half, significant = parse(match.group(1))
        if value == 0 or significant < 2 or (value.is_integer() and 1900 <= value <= 2100):
            continue  # one significant digit (a setting such as 4,000 steps), zero, or a year
        if NOT_A_CLAIM.search(claims[max(match.start() - 8, 0): match.start()]):
            continue
        around = [text[start:end] for start, end in sentences + lines if start <= match.start() < max(end, start + 1)]
        files = named_files("\n".join(around), page_dir, root)
        if not backed(value, half, files):
            missing.append((text.count("\n", 0, match.start()) + 1, match.group(1).rstrip(",")))
    return missing


def dead_links(path):
    """The relative links of the markdown file `path` that name no existing file."""
    path = Path(path)
    return [link for link in LINK.findall(path.read_text())
            if "://" not in link and not link.startswith("mailto:") and not (path.parent / link).exists()]


def main(argv=None):
    parser = cli.Parser(prog="python -m bench.report.claims", description=cli.summary(__doc__))
    parser.add_argument("files", nargs="+", help="markdown files, e.g. README.md docs/*.md")
    args = parser.parse_args(argv)
    problems = 0
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            raise UserError(f"{name}: no such file; give markdown files, e.g. README.md docs/*.md")
        for line, number in unsourced_numbers(path.read_text(), path.parent):
            print(f"{name}:{line}: {number} is in no generated block, and in no file its sentence or line names")
            problems += 1
        for link in dead_links(path):
            print(f"{name}: dead link {link}")
            problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(cli.main_guard(main))
