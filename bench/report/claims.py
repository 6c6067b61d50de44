"""python -m bench.report.claims FILE...: the numbers a page states that no generated result holds, and its
dead links. The README and docs/ quote results; a number that looks measured (two or more significant
digits) must be a rounding of a number in results/ (its CSVs and generated pages), and every relative link
must name a file that exists. Code (fenced or inline) is not a claim.
"""

import bisect
import re
import sys
from pathlib import Path

from bench import cli
from bench.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
SUPERSCRIPTS = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
# 1.5, 2,883, 4.4e-4, 4.4·10⁻⁴, 0.000754 (a number not glued to a word, a path or a version)
NUMBER = re.compile(r"(?<![\w./])(?<![eE][-+])(\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+|·10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)?)(?![\w/]|\.\d)")
ANY_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?")
LINK = re.compile(r"\]\(([^)#\s]+)")


def parse(text):
    """(value, half a unit of its last printed digit, significant digits) of a printed number."""
    mantissa, _, exponent = text.replace(",", "").translate(SUPERSCRIPTS).replace("·10", "e").lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    power = int(exponent) if exponent else 0
    digits = mantissa.replace(".", "").lstrip("0")
    significant = len(digits if "." in mantissa else digits.rstrip("0"))
    return float(f"{mantissa}e{power}"), float(f"0.50005e{power - decimals}"), significant


def prose(text):
    """The text without fenced code blocks, inline code and HTML comments (commands are not claims)."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def result_values(results=ROOT / "results"):
    """Every number written in results/ (CSV and markdown, recursively), sorted."""
    values = set()
    for path in sorted(results.rglob("*")):
        if path.suffix in (".csv", ".md") and path.is_file():
            for token in ANY_NUMBER.findall(path.read_text(errors="ignore")):
                values.add(parse(token)[0])
    return sorted(values)


def looks_measured(value, significant):
    """Two or more significant digits, and not a year."""
    return significant >= 2 and not (value.is_integer() and 1900 <= value <= 2100)


def unbacked_numbers(text, values):
    """The measured-looking numbers of `text`'s prose that are no rounding of any of the sorted `values`."""
    missing = []
    for match in NUMBER.finditer(prose(text)):
        value, half, significant = parse(match.group(1))
        if value == 0 or not looks_measured(value, significant):
            continue
        i = bisect.bisect_left(values, value - half)
        if not (i < len(values) and values[i] <= value + half):
            missing.append(match.group(1))
    return missing


def dead_links(path):
    """The relative links of the markdown file `path` that name no existing file."""
    path = Path(path)
    return [link for link in LINK.findall(path.read_text())
            if "://" not in link and not link.startswith("mailto:") and not (path.parent / link).exists()]


def main(argv=None):
    parser = cli.Parser(prog="python -m bench.report.claims", description=__doc__.strip().splitlines()[0])
    parser.add_argument("files", nargs="+", help="markdown files, e.g. README.md docs/*.md")
    args = parser.parse_args(argv)
    values = result_values()
    problems = 0
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            raise UserError(f"{name}: no such file; give markdown files, e.g. README.md docs/*.md")
        for number in unbacked_numbers(path.read_text(), values):
            print(f"{name}: {number} is in no file of results/")
            problems += 1
        for link in dead_links(path):
            print(f"{name}: dead link {link}")
            problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(cli.main_guard(main))
