"""Inspect a data file before benchmarking it: each column's range and shape, and which encodings to try first.

    python -m bench.inspect --data FILE --target COLUMN [--features a,b] [--drop-missing] [--split-column C]

`diagnose(table)` returns the diagnosis as a dict (JSON-ready) and `markdown(diagnosis)` renders it for a report.
Per column, over its rows as loaded:
- decades: log10(max|x| / min|x|) over the non-zero values;
- both signs: the column holds negative and positive values; zeros: the share of values exactly 0;
- tail ratio: P99.9(|x|) / median(|x|) over the non-zero values; heavy-tailed above HEAVY_TAIL (100): the top
  0.1 % lie two decades above the typical value, so a squared loss on that column is ruled by a few rows;
- integer: every value is a whole number.

Recommendations follow the project's evidence (README.md, results/summary.md):
- inputs: `log` when a feature spans more than LOG_DECADES (2) decades; `edges+log` when, near a non-zero end
  of a feature's range (a feature within LOG_DECADES decades), |y| follows a power of the distance to that end
  (a pole or a zero there); `standard` otherwise;
- `diff` before them when two features span the same range of |x| (encodings/pairs.py's rule, on the rows as
  loaded): their differences and sums make a pole or a peak where the two meet a power of the new columns;
- target: `asinh` when y spans more than LOG_DECADES decades or is heavy-tailed; `standard` otherwise.
On a data file (`python -m bench.run --data`), `edges` learns each column's range on the training rows.
"""

import sys

import numpy as np
from scipy import stats

from bench import cli
from bench.datafile import load_table
from bench.encodings.pairs import comparable_pairs, magnitude_range, overlap

LOG_DECADES = 2  # a column spanning more decades than this wants a log scale
WIDE_DECADES = 1  # columns spanning more than this are named in the evidence
HEAVY_TAIL = 100  # tail ratio above which a column is heavy-tailed
EDGE_SHARE = 0.05  # share of rows nearest an end of a range that the pole/zero fit looks at
EDGE_ROWS = 30  # fewest such rows to fit on
EDGE_POWER = 0.5  # |power| of the distance to the end from which |y| counts as a pole or a zero
EDGE_T = 5  # ... and the power's t-statistic

LOG_EVIDENCE = ("log-space inputs beat raw ones on the seed formula at an equal budget (the verdict in "
                "results/summary.md)")
LOG_SIGNS = ("`log` still applies: it takes standardized log|x| and adds a sign(x) column (-1, 0, +1) for every "
             "column that is <= 0 somewhere in training; a zero takes the log of the smallest non-zero |x| seen in "
             "training, and its sign column marks it; such a column's decades also count how near 0 it comes: "
             "if y is smooth through 0 there, compare with `asinh` inputs (a signed log, linear near 0)")
ASINH_EVIDENCE = ("with y as is, every network on the seed formula stays near a median relative error of 1 (the "
                  "squared loss is ruled by the few largest |y|); a scale-free target is the first lever")
DIFF_EVIDENCE = ("`diff` adds xi - xj and xi + xj for such pairs, so a pole or a peak where two inputs meet, as in "
                 "1/(w0^2 - w^2), is a power of the new columns; on the SRSD development set at a fresh seed, the "
                 "recipe with `diff` candidates solved more equations than without (results/suite-dev-seed3/summary.md)")
EDGES_EVIDENCE = ("`edges+log` adds each input's distance to the ends of its range as a column, so such a power "
                  "becomes linear after the log (feynman-i-43-43: R2 from 0.06 to 0.9994); `edges` reads the ranges "
                  "from a declared target, for a data file the observed min and max")


def describe(name, role, x):
    """The statistics of one column (see the module docstring)."""
    magnitude = np.abs(x[x != 0])
    decades = float(np.log10(magnitude.max() / magnitude.min())) if len(magnitude) else 0.0
    tail = float(np.quantile(magnitude, 0.999) / np.median(magnitude)) if len(magnitude) else 1.0
    return {"name": name, "role": role, "min": float(x.min()), "max": float(x.max()), "decades": decades,
            "both_signs": bool((x < 0).any() and (x > 0).any()), "zeros": float(np.mean(x == 0)),
            "tail_ratio": tail, "heavy_tailed": tail > HEAVY_TAIL, "integer": bool(np.all(x == np.round(x)))}


def edge_powers(name, x, y):
    """A pole or a zero of y at a non-zero end of x's range: |y| ~ d^power, d the distance to the end, fitted on
    the EDGE_SHARE of rows nearest it."""
    found = []
    for end, value in (("low", x.min()), ("high", x.max())):
        distance = np.abs(x - value)
        near = (distance > 0) & (distance <= np.quantile(distance, EDGE_SHARE)) & (y != 0)
        if value == 0 or near.sum() < EDGE_ROWS:
            continue
        fit = stats.linregress(np.log(distance[near]), np.log(np.abs(y[near])))
        if abs(fit.slope) >= EDGE_POWER and abs(fit.slope) >= EDGE_T * fit.stderr:
            found.append({"column": name, "end": end, "at": float(value), "power": float(fit.slope)})
    return found


def diagnose(table):
    """The data file's diagnosis: where it came from, each column's statistics, and encodings with their evidence."""
    columns = [describe(name, "feature", table.X[:, i]) for i, name in enumerate(table.names)]
    target = describe(table.target, "target", table.y)
    edges = [edge for column, x in zip(columns, table.X.T)
             if column["decades"] <= LOG_DECADES and not column["both_signs"]
             for edge in edge_powers(column["name"], x, table.y)]
    ranges = [magnitude_range(float(x.min()), float(x.max())) for x in table.X.T]
    pairs = [{"columns": [table.names[i], table.names[j]], "overlap": overlap(ranges[i], ranges[j])}
             for i, j in comparable_pairs(ranges)]
    train, val, test = table.split(0)
    return {"path": table.path, "sha256": table.sha256, "rows": len(table.y), "dropped": table.dropped,
            "split": [len(train), len(val), len(test)], "target": table.target, "columns": columns + [target],
            "edges": edges, "pairs": pairs, "input_encoding": _input_encoding(columns, edges, pairs),
            "target_encoding": _target_encoding(target)}


def _input_encoding(columns, edges, pairs):
    spread = ", ".join(f"{c['name']} ({c['decades']:.1f})" for c in columns if c["decades"] > WIDE_DECADES)
    logged = [c["name"] for c in columns if c["decades"] > LOG_DECADES]
    evidence = []
    if edges:
        evidence.append("; ".join(f"|y| ~ d^{e['power']:.2g} with d the distance of {e['column']} to its {e['end']} "
                                  f"end {e['at']:g}" for e in edges) + f": {EDGES_EVIDENCE}")
    if logged:
        evidence.append(f"features spanning more than a decade (decades): {spread}; beyond ~{LOG_DECADES} decades "
                        f"(here {', '.join(logged)}) {LOG_EVIDENCE}")
        signed = [c["name"] + (" (both signs)" if c["both_signs"] else f" ({c['zeros']:.0%} zeros)")
                  for c in columns if c["both_signs"] or c["zeros"] > 0]
        if signed:
            evidence.append(f"{', '.join(signed)}: {LOG_SIGNS}")
    if not evidence:
        span = f"decades spanned: {spread}" if spread else "none spans more than a decade"
        evidence.append(f"no feature spans more than {LOG_DECADES} decades ({span}): standardized inputs are the plain start")
    if pairs:
        evidence.append("features spanning the same range of |x| (overlap): " + ", ".join(
            f"{p['columns'][0]} and {p['columns'][1]} ({p['overlap']:.0%})" for p in pairs) + f": {DIFF_EVIDENCE}")
    encoding = "edges+log" if edges else "log" if logged else "standard"
    return {"encoding": f"diff+{encoding}" if pairs else encoding, "evidence": "; ".join(evidence)}


def _target_encoding(target):
    shape = f"y spans {target['decades']:.1f} decades, tail ratio {target['tail_ratio']:.3g}"
    scale_free = target["decades"] > LOG_DECADES or target["heavy_tailed"]
    if scale_free:
        evidence = f"{shape}: {ASINH_EVIDENCE}; asinh(y / median|y|) is a log that keeps the sign"
    else:
        evidence = f"{shape}: within {LOG_DECADES} decades and not heavy-tailed, a standardized target is the plain start"
    if target["zeros"] > 0:
        evidence += (f"; y is 0 in {target['zeros']:.1%} of rows, where the relative error |y_hat - y| / |y| is "
                     "infinite unless y_hat is exactly 0: judge by R2 if that share is large")
    return {"encoding": "asinh" if scale_free else "standard", "evidence": evidence}


HEADER = ["column", "role", "min", "max", "decades", "both signs", "zeros", "tail ratio", "heavy tail", "integer"]


def _rows(diagnosis):
    yes = {True: "yes", False: "no"}
    return [[c["name"], c["role"], f"{c['min']:.4g}", f"{c['max']:.4g}", f"{c['decades']:.2f}", yes[c["both_signs"]],
             f"{c['zeros']:.1%}", f"{c['tail_ratio']:.3g}", yes[c["heavy_tailed"]], yes[c["integer"]]]
            for c in diagnosis["columns"]]


def _summary(diagnosis):
    train, val, test = diagnosis["split"]
    return (f"{diagnosis['path']} (sha256 {diagnosis['sha256'][:12]}): {diagnosis['rows']} rows, "
            f"{diagnosis['dropped']} dropped for missing values; split for seed 0: train/validation/test "
            f"{train}/{val}/{test}")


def text(diagnosis):
    """The diagnosis as aligned plain text."""
    rows = [HEADER] + _rows(diagnosis)
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    table = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return "\n".join([_summary(diagnosis), "", *table, "",
                      f"input encoding to try first: {diagnosis['input_encoding']['encoding']}",
                      f"  because {diagnosis['input_encoding']['evidence']}",
                      f"target encoding to try first: {diagnosis['target_encoding']['encoding']}",
                      f"  because {diagnosis['target_encoding']['evidence']}"])


def markdown(diagnosis):
    """The diagnosis as Markdown, for a report."""
    rows = [HEADER, ["---"] * len(HEADER)] + _rows(diagnosis)
    table = ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join([_summary(diagnosis), "", *table, "",
                      f"- **Input encoding: `{diagnosis['input_encoding']['encoding']}`**: "
                      f"{diagnosis['input_encoding']['evidence']}.",
                      f"- **Target encoding: `{diagnosis['target_encoding']['encoding']}`**: "
                      f"{diagnosis['target_encoding']['evidence']}.", ""])


def main(argv=None):
    parser = cli.Parser(prog="python -m bench.inspect", description=cli.summary(__doc__))
    cli.data_arguments(parser, required=True)
    args = parser.parse_args(argv)
    table = load_table(args.data, args.target, args.features, args.drop_missing, args.split_column)
    print(text(diagnose(table)))
    return 0


if __name__ == "__main__":
    sys.exit(cli.main_guard(main))
