"""What fixes the asker's network: the ablation ladder, the signomial's recovered formulas, symbolic regression.

Functions of run records, for the main report: `ladder_table`, `plot_ladder`, `ladder_markdown`, and the
per-equation tables `recovery_markdown` (signomial) and `symbolic_markdown` (gplearn). `python -m
bench.report.asker DIR` writes DIR.md (and DIR.png, the ladder's figure, when DIR holds ladder runs) from the
records in DIR/runs.
"""

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from baselines.asker_ladder import CHANGES, LADDER, LEAVE_ONE_OUT, RUNGS, model_for
from bench import cli
from bench.records import load_records
from bench.report.markdown import fmt, markdown_table

EXACT = 1e-9  # a recovered formula is exact when its median relative error on the test set is at most this


def ladder_rows():
    """The ladder's rows in order: (label, model name, kind); leave-one-out rows name the model that runs them."""
    rows = [(f"{k}. posted recipe" if k == 0 else f"{k}. + {CHANGES[k - 1].name}", name, "rung")
            for k, name in enumerate(RUNGS)]
    return rows + [(f"fixed − {name}", model_for(recipe), "leave-one-out") for name, recipe in LEAVE_ONE_OUT.items()]


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
    """Per target with a `gplearn` record: its error and the expression it found."""
    rows = [{"target": r["target"], "seed": r["seed"], "encoding": r["encoding"],
             "median_rel_err": r["metrics"]["median_rel_err"] if r["status"] == "ok" else np.nan,
             "r2": r["metrics"]["r2"] if r["status"] == "ok" else np.nan,
             "length": (r.get("details") or {}).get("length"),
             "expression": (r.get("details") or {}).get("expression", r.get("error") or "")}
            for r in sorted((r for r in records if r["model"] == "gplearn"), key=lambda r: (r["target"], r["seed"]))]
    return pd.DataFrame(rows, columns=["target", "seed", "encoding", "median_rel_err", "r2", "length", "expression"])


def _formatted(frame, numbers):
    return frame.assign(**{column: frame[column].map(fmt) for column in numbers})


def recovery_markdown(records):
    """The signomial's per-equation recovery list; '' without signomial records."""
    table = recovery_table(records)
    if table.empty:
        return ""
    exact = table[table["exact"]]
    text = markdown_table(_formatted(table.assign(formula="`" + table["formula"] + "`"), ["median_rel_err"]))
    return (f"`signomial` recovers {len(exact)} of {len(table)} equations exactly (snapped, median relative error "
            f"≤ {EXACT:g} on the test set): {', '.join(exact['target']) or 'none'}.\n\n{text}\n")


def symbolic_markdown(records):
    """gplearn's errors and expressions per equation; '' without gplearn records."""
    table = symbolic_table(records)
    if table.empty:
        return ""
    table = _formatted(table.assign(expression="`" + table["expression"] + "`"), ["median_rel_err", "r2"])
    return markdown_table(table) + "\n"


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
    parser.add_argument("folder", help="a results folder, e.g. results/signomial-dev")
    folder = Path(parser.parse_args(argv).folder)
    records, _ = load_records(folder)
    text = "\n".join(part for part in (ladder_markdown(records) or recovery_markdown(records),
                                        symbolic_markdown(records)) if part)
    if not text:
        print(f"error: no ladder, signomial or gplearn records in {folder / 'runs'}", file=sys.stderr)
        return 2
    path = folder.parent / f"{folder.name}.md"
    path.write_text(f"# {folder.name}\n\n{text}")
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
