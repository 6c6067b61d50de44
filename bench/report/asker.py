"""What fixes the asker's network: the ablation ladder, the signomial's recovered formulas, symbolic regression.

Functions of run records, for the main report: `ladder_table`, `plot_ladder`, `ladder_markdown`, and the
per-equation tables `recovery_markdown` (signomial) and `symbolic_markdown` (every model that returns a formula). `python -m
bench.report.asker DIR` writes DIR.md (and DIR.png, the ladder's figure, when DIR holds ladder runs) from the
records in DIR/runs.
"""

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from bench import cli
from bench.metrics import SOLVED_R2
from bench.records import load_records
from bench.registry import LADDER_ROWS
from bench.report.frontpage import write_block
from bench.report.markdown import fmt, markdown_table

EXACT = 1e-9  # a recovered formula is exact when its median relative error on the test set is at most this
SYMBOLIC = ("signomial", "gplearn", "operon", "operon-scaled")  # the models that return a formula


LADDER = {model for _, model, _ in LADDER_ROWS}  # the ladder's model names
RUNGS = [model for _, model, kind in LADDER_ROWS if kind == "rung"]


def ladder_rows():
    """The ladder's rows in order: (label, model name, kind); leave-one-out rows name the model that runs them."""
    return LADDER_ROWS


def errors_frame(records, models):
    """One row per run of `models`: target, model, seed, median relative error on the test set (NaN if not ok)."""
    rows = [{"target": r["target"], "model": r["model"], "seed": r["seed"],
             "median_rel_err": r["metrics"]["median_rel_err"] if r["status"] == "ok" else np.nan}
            for r in records if r["model"] in models]
    return pd.DataFrame(rows, columns=["target", "model", "seed", "median_rel_err"])


def ladder_table(records):
    """Per ladder row and target: the mean and the worst median relative error over seeds, and the seed count."""
    errors = errors_frame(records, LADDER)
    rows = []
    for label, model, kind in ladder_rows():
        row = {"row": label, "model": model, "kind": kind}
        for target, runs in errors[errors["model"] == model].groupby("target"):
            row |= {f"{target} mean": runs["median_rel_err"].mean(), f"{target} worst": runs["median_rel_err"].max(),
                    f"{target} seeds": len(runs)}
        rows.append(row)
    return pd.DataFrame(rows)


def plot_ladder(records):
    """The median relative error after each ladder row, one point per seed and colour per target (log scale)."""
    errors = errors_frame(records, LADDER).dropna()
    if errors.empty:
        return None
    order = [label for label, _, _ in ladder_rows()]
    frame = pd.concat([errors[errors["model"] == model].assign(row=label) for label, model, _ in ladder_rows()])
    figure, axis = plt.subplots(figsize=(9, 4.5))
    sns.stripplot(frame, x="row", y="median_rel_err", hue="target", order=order, hue_order=sorted(set(frame["target"])),
                  dodge=True, jitter=False, log_scale=True, ax=axis)
    axis.axvline(len(RUNGS) - 0.5, color="grey", linewidth=0.8, linestyle="--")
    axis.set(xlabel="", ylabel="median relative error (test set)",
             title="The asker's network: one change at a time, then the fixed recipe without each change")
    axis.tick_params(axis="x", rotation=35)
    plt.setp(axis.get_xticklabels(), ha="right")
    figure.tight_layout()
    return figure


def recovery_table(records):
    """Per target with a `signomial` record: the recovered formula, whether it was snapped and is exact."""
    rows = []
    for r in sorted((r for r in records if r["model"] == "signomial"), key=lambda r: (r["target"], r["seed"])):
        ok, details = r["status"] == "ok", r.get("details") or {}
        error = r["metrics"]["median_rel_err"] if ok else np.nan
        rows.append({"target": r["target"], "seed": r["seed"], "median_rel_err": error,
                     "snapped": details.get("snapped"), "exact": bool(ok and details.get("snapped") and error <= EXACT),
                     "terms": len(details.get("snapped_terms" if details.get("snapped") else "terms", [])),
                     "formula": details.get("formula", r.get("error") or "")})
    return pd.DataFrame(rows, columns=["target", "seed", "median_rel_err", "snapped", "exact", "terms", "formula"])


def symbolic_table(records):
    """Per symbolic model's run (gplearn, operon, ...; not the signomial, listed with its recovery): its error,
    R², whether the formula it found is a symbolic solution (SRBench's rule), its seconds and the formula."""
    rows = [{"model": r["model"], "target": r["target"], "seed": r["seed"], "encoding": r["encoding"],
             "median_rel_err": r["metrics"]["median_rel_err"] if r["status"] == "ok" else np.nan,
             "r2": r["metrics"]["r2"] if r["status"] == "ok" else np.nan,
             "solution": (r.get("details") or {}).get("symbolic_solution", "not checked"),
             "seconds": (r.get("throughput") or {}).get("train_seconds"),
             "expression": (r.get("details") or {}).get("formula") or (r.get("details") or {}).get("expression")
             or r.get("error") or ""}
            for r in sorted((r for r in records if r["model"] in SYMBOLIC), key=lambda r: (r["model"], r["target"], r["seed"]))]
    return pd.DataFrame(rows, columns=["model", "target", "seed", "encoding", "median_rel_err", "r2", "solution", "seconds",
                                       "expression"])


def symbolic_summary(records):
    """Per symbolic model (the signomial included): runs, R² > SOLVED_R2 and symbolic solutions (count and share),
    median seconds per fit. A failed or diverged run counts as neither."""
    rows = []
    for model in SYMBOLIC:
        runs = [r for r in records if r["model"] == model]
        if not runs:
            continue
        solved = sum(r["status"] == "ok" and (r["metrics"]["r2"] or -np.inf) > SOLVED_R2 for r in runs)
        checked = [r for r in runs if "symbolic_solution" in (r.get("details") or {}) or r["status"] != "ok"]
        solutions = sum(bool(r["details"]["symbolic_solution"]) for r in checked if r["status"] == "ok")
        seconds = [r["throughput"]["train_seconds"] for r in runs if r.get("throughput")]
        rows.append({"model": model, "runs": len(runs), "R² > 0.999": f"{solved} ({solved / len(runs):.0%})",
                     "symbolic solutions": f"{solutions} of {len(checked)} checked ({solutions / len(checked):.0%})"
                     if checked else "not checked (records older than the check)",
                     "median seconds per fit": f"{np.median(seconds):.1f}" if seconds else "—"})
    return pd.DataFrame(rows)


def _formatted(frame, numbers):
    return frame.assign(**{column: frame[column].map(fmt) for column in numbers})


def recovery_markdown(records):
    """The signomial's per-equation recovery list; '' without signomial records."""
    table = recovery_table(records)
    if table.empty:
        return ""
    exact = table[table["exact"]]
    text = markdown_table(_formatted(table.assign(formula="`" + table["formula"] + "`"), ["median_rel_err"]))
    return (f"`signomial` recovers its target exactly on {len(exact)} of {len(table)} runs (snapped, median relative "
            f"error ≤ {EXACT:g} on the test set): {', '.join(exact['target']) or 'none'}.\n\n{text}\n")


def symbolic_markdown(records):
    """The symbolic models' summary (R² > 0.999 and symbolic-solution rates, seconds per fit), then their errors
    and formulas per equation; '' without symbolic records."""
    summary, table = symbolic_summary(records), symbolic_table(records)
    if summary.empty:
        return ""
    parts = [markdown_table(summary), "A symbolic solution is SRBench's: the found formula minus the true one, or their "
             "ratio, simplifies to a constant (bench/solution.py)."]
    if not table.empty:
        table = _formatted(table.assign(expression="`" + table["expression"] + "`"), ["median_rel_err", "r2", "seconds"])
        parts.append(markdown_table(table))
    return "\n\n".join(parts) + "\n"


def ladder_markdown(records):
    """The ladder's short table, the formula the signomial recovers on `seed`, and its recovery list; '' without
    ladder records."""
    table = ladder_table(records)
    means = [c for c in table.columns if c.endswith(" mean") or c.endswith(" worst")]
    if not means:
        return ""
    shown = _formatted(table.drop(columns=["kind"] + [c for c in table.columns if c.endswith(" seeds")]), means)
    text = [markdown_table(shown.assign(model="`" + shown["model"] + "`"))]
    posted, fixed = table.iloc[0], table.iloc[len(RUNGS) - 1]
    factors = [f"{posted[column] / fixed[column]:,.0f}× on `{column[:-5]}`"
               for column in table.columns if column.endswith(" mean") and posted[column] > 0 and fixed[column] > 0]
    if factors:
        text.append(f"The fixed recipe is more accurate than the posted one by {' and '.join(factors)} (means over seeds).")
    recovered = recovery_table(records)
    on_seed = recovered[recovered["target"] == "seed"]
    if not on_seed.empty:
        text.append(f"Read back as a formula (`signomial` on `seed`): `y = {on_seed['formula'].iloc[0]}`, median "
                    f"relative error {fmt(on_seed['median_rel_err'].iloc[0])}.")
    text.append(recovery_markdown(records))
    return "\n\n".join(part for part in text if part)


def main(argv=None):
    parser = cli.Parser(prog="python -m bench.report.asker", description="write DIR.md from the records in DIR/runs")
    parser.add_argument("folder", help="a results folder, e.g. results/symbolic-dev")
    parser.add_argument("--readme-block", metavar="NAME", help="also write the symbolic models' summary table into "
                        "the README's generated block NAME")
    args = parser.parse_args(argv)
    folder = Path(args.folder)
    records, _ = load_records(folder)
    text = "\n".join(part for part in (ladder_markdown(records) or recovery_markdown(records),
                                        symbolic_markdown(records)) if part)
    if not text:
        print(f"error: no ladder, signomial or gplearn records in {folder / 'runs'}", file=sys.stderr)
        return 2
    path = folder.parent / f"{folder.name}.md"
    path.write_text(f"# {folder.name}\n\n{text}")
    if args.readme_block and not write_block(args.readme_block, markdown_table(symbolic_summary(records))):
        print(f"warning: README.md has no block {args.readme_block!r}; nothing written there", file=sys.stderr)
    written = [path]
    figure = plot_ladder(records)
    if figure is not None:
        written.append(path.with_suffix(".png"))
        figure.savefig(written[-1], dpi=120, bbox_inches="tight")
        plt.close(figure)
    print(f"wrote {', '.join(map(str, written))}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
