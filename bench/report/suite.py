"""A suite's verdicts (python -m bench.suite): per-equation table, solve rates with 95 % intervals, wins, a
performance profile, a critical-difference diagram and the published solve rates of symbolic regression.

A run that diverged or failed counts as a failure: not solved, error +inf (it ranks last), never left out.
"""

import contextlib
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sympy  # noqa: E402
from scipy.stats import binomtest  # noqa: E402

from bench.metrics import SOLVED_R2  # noqa: E402
from bench.report.frames import FLOAT_FORMAT, require_validation, validation_of  # noqa: E402
from bench.report.frontpage import write_block  # noqa: E402
from bench.report.markdown import markdown_table  # noqa: E402

PUBLISHED = Path(__file__).with_name("published_srbench.csv")
RECIPE_LABEL = "recipe (chosen on validation)"


def pipeline_label(record):
    """'mlp log→asinh', with '+ 250 L-BFGS' for a run polished by up to 250 L-BFGS iterations."""
    polished = record["config"]["settings"].get("lbfgs_iters", 0)
    return f"{record['model']} {record['encoding']}→{record['target_encoding']}" + (
        f" + {polished:,} L-BFGS" if polished else "")


def per_equation(records, chosen, finalists=frozenset()):
    """One row per (target, pipeline, seed) of the suite's targets; `chosen` marks the recipe's run per (target,
    seed): of all the equation's runs (references, the signomial, the polished candidates, the finalist), the
    one with the lowest validation error; `finalist` marks the runs whose keys are in `finalists` (each
    continues the candidate that validated best on its equation)."""
    records = [r for r in records if r["target"] in chosen]
    require_validation(records)
    rows = []
    for r in records:
        _, suite, difficulty = chosen[r["target"]]
        ok = r["status"] == "ok"
        rows.append({"target": r["target"], "suite": suite, "difficulty": difficulty, "pipeline": pipeline_label(r),
                     "seed": r["seed"], "status": r["status"], "chosen": False,
                     "finalist": r["key"] in finalists,
                     "r2": r["metrics"]["r2"] if ok else -np.inf,
                     "median_rel_err": r["metrics"]["median_rel_err"] if ok else np.inf,
                     "val_error": validation_of(r) if ok else np.inf,
                     "seconds": r["job_seconds"] / r["job_size"]})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame = frame.sort_values(["suite", "target", "pipeline", "seed"]).reset_index(drop=True)
    kept = frame.sort_values(["val_error", "pipeline"]).groupby(["target", "seed"]).head(1).index  # ties: by name
    frame.loc[kept, "chosen"] = True
    return frame


def with_recipe(frame):
    """`frame` plus the recipe's chosen runs as a pipeline of their own."""
    return pd.concat([frame, frame[frame["chosen"]].assign(pipeline=RECIPE_LABEL, finalist=False)], ignore_index=True)


def solve_rates(frame):
    """Per pipeline (and per difficulty): equations solved (R² > 0.999) of those run, with a Wilson 95 % interval;
    the pipelines run on every equation come first (a finalist's pipeline ran only where it was chosen)."""
    rows = []
    labelled = frame[frame["difficulty"].fillna("") != ""]  # targets without a difficulty count in "all" only
    for (pipeline, difficulty), group in [*((k + ("all",), g) for k, g in frame.groupby(["pipeline"])),
                                          *labelled.groupby(["pipeline", "difficulty"])]:
        solved, n = int((group["r2"] > SOLVED_R2).sum()), len(group)
        low, high = binomtest(solved, n).proportion_ci(method="wilson")
        rows.append({"pipeline": pipeline, "difficulty": difficulty, "solved": solved, "runs": n,
                     "rate": solved / n, "ci_low": low, "ci_high": high})
    table = pd.DataFrame(rows)
    overall = table[table["difficulty"] == "all"]  # pipelines run on every equation first, then by rate
    order = overall.sort_values(["runs", "rate"], ascending=False)["pipeline"].tolist()
    return table.sort_values(["difficulty", "pipeline"], key=lambda c: c.map(order.index) if c.name == "pipeline"
                             else c.map(lambda d: (d != "all", d))).reset_index(drop=True)


def error_matrix(frame):
    """Equations (target, seed) × the pipelines run on every equation (the recipe's chosen runs included): test
    median relative error, +inf for a failure. Pipelines run on some equations only (the signomial) and the
    finalists (picked per equation on validation, so not one fixed pipeline even where one encoding was picked
    everywhere) are left out: they are in the solve rates, over the equations they ran on."""
    matrix = frame[~frame["finalist"]].pivot_table(index=["target", "seed"], columns="pipeline",
                                                   values="median_rel_err", aggfunc="first")
    return matrix.loc[:, matrix.notna().all()]


def wins(matrix):
    """Per pipeline, the equations on which its test error is the lowest (ties: each tied pipeline wins)."""
    best = matrix.min(axis=1)
    return {p: sorted(t for (t, _), won in (matrix[p] <= best).items() if won) for p in matrix.columns}


def performance_profile(matrix, path):
    """Dolan-Moré profile: per pipeline, the share of equations whose error is within τ× of the best."""
    floor = matrix.replace(np.inf, np.nan).min(axis=1).clip(lower=1e-16)
    ratio = matrix.div(floor, axis=0)
    taus = np.logspace(0, 6, 200)
    figure, axis = plt.subplots(figsize=(8, 4.5))
    for pipeline in matrix.columns:
        axis.plot(taus, [(ratio[pipeline] <= tau).mean() for tau in taus], label=pipeline)
    axis.set(xscale="log", xlabel="τ (error within τ× of the best on that equation)", ylabel="share of equations",
             ylim=(0, 1.02), title="Performance profile (test median relative error)")
    axis.legend(fontsize=7, loc="lower right")
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)


def critical_difference(matrix, path):
    """Friedman test and Nemenyi post-hoc ranks (autorank) over the pipelines, drawn as a critical-difference
    diagram; a sentence with the outcome, or why it was not drawn."""
    if matrix.shape[0] < 5 or matrix.shape[1] < 3:
        return "Too few equations or pipelines for a Friedman test (needs 5 and 3)."
    from autorank import autorank, plot_stats

    finite = matrix.replace(np.inf, np.nan)
    data = finite.fillna(finite.max().max() * 10 if finite.notna().any().any() else 1.0)  # failures rank last
    with contextlib.redirect_stdout(io.StringIO()):  # autorank prints its tables
        result = autorank(data, alpha=0.05, verbose=False, order="ascending", force_mode="nonparametric")
        plot_stats(result, allow_insignificant=True)
    plt.savefig(path, dpi=120, bbox_inches="tight")
    plt.close("all")
    ranks = result.rankdf["meanrank"].sort_values()
    return (f"Friedman test p = {result.pvalue:.2g} over {matrix.shape[0]} equations and {matrix.shape[1]} pipelines; "
            f"mean ranks (lower is better): " + ", ".join(f"{p} {r:.2f}" for p, r in ranks.items())
            + f"; critical difference {result.cd:.2f}.")


def headline(rates, frame, device):
    """One sentence: the recipe's solve rate overall and per difficulty, the best reference's, the budget."""
    recipe = rates[rates["pipeline"] == RECIPE_LABEL].set_index("difficulty")
    overall = recipe.loc["all"]
    parts = [f"{difficulty} {row.solved}/{row.runs}" for difficulty, row in recipe.drop(index="all").iterrows()]
    picked = set(frame.loc[frame["finalist"], "pipeline"]) | {RECIPE_LABEL}  # chosen per equation: no reference
    others = rates[(rates["difficulty"] == "all") & ~rates["pipeline"].isin(picked)
                   & (rates["runs"] == overall["runs"])].sort_values("rate", ascending=False)
    best = others.iloc[0] if not others.empty else None
    suites = ", ".join(sorted(frame["suite"].unique()))
    return (f"On {suites} ({frame['target'].nunique()} equations, {frame['seed'].nunique()} seed(s), {device}), the "
            f"recommended recipe reaches R² > 0.999 on **{overall['solved']} of {overall['runs']}** ({overall['rate']:.0%}, "
            f"95 % interval {overall['ci_low']:.0%} to {overall['ci_high']:.0%}" + (f"; {', '.join(parts)}" if parts else "")
            + ")" + (f"; the best single reference pipeline, {best['pipeline']}, on {best['solved']} "
                     f"({best['rate']:.0%})" if best is not None else "") + ".")


def write_suite_report(records, chosen, out, front_page=False, finalists=frozenset()):
    """per_equation.csv, solve_rates.csv, summary.md and the figures in `out` (and, with `front_page`, the
    README's `suite` block), `finalists` being the keys of the finalists' runs; returns the names written."""
    frame = per_equation(records, chosen, finalists)
    if frame.empty:
        return []
    frame.to_csv(out / "per_equation.csv", index=False, float_format=FLOAT_FORMAT)
    everything = with_recipe(frame)
    rates = solve_rates(everything)
    rates.to_csv(out / "solve_rates.csv", index=False, float_format=FLOAT_FORMAT)
    matrix = error_matrix(everything)
    performance_profile(matrix, out / "performance_profile.png")
    cd = critical_difference(matrix, out / "critical_difference.png")
    won = wins(matrix)
    devices = sorted({r["env"]["device"] for r in records if r["target"] in chosen})
    sentence = headline(rates, frame, "; ".join(devices))
    spent = wall_time(out)
    if front_page:
        write_block("suite", sentence + spent + f" ([`{out.name}/summary.md`]({out.as_posix()}/summary.md))")
    failed = failures(frame, chosen)
    lines = ["# Suite results", "", sentence + " A run that diverged or failed counts as unsolved." + spent
             + (" ([`wall_times.csv`](wall_times.csv))" if spent else ""), "",
             "## Solve rate (R² > 0.999) per pipeline", "",
             markdown_table(rates.assign(rate=rates["rate"].map("{:.0%}".format),
                                         interval=[f"{lo:.0%} to {hi:.0%}" for lo, hi in zip(rates["ci_low"], rates["ci_high"])])
                            [["pipeline", "difficulty", "solved", "runs", "rate", "interval"]]), "",
             "## Wins (lowest test error per equation, among the pipelines run on every equation)", "",
             markdown_table(pd.DataFrame([{"pipeline": p, "wins": len(t), "equations": ", ".join(t)}
                                          for p, t in sorted(won.items(), key=lambda kv: -len(kv[1]))])), "",
             "## Ranks", "", cd, "", "![critical difference](critical_difference.png)" if "Friedman test p" in cd else "",
             "", "## Performance profile", "", "![performance profile](performance_profile.png)", "",
             "## Where the recipe fails", "",
             markdown_table(failed) if not failed.empty else "It solves every equation.", "",
             "## Published symbolic-regression solve rates (for scale; other data, other budgets)", "",
             markdown_table(pd.read_csv(PUBLISHED)), "",
             "SRBench's accuracy criterion is ours (R² > 0.999 on held-out data); its symbolic solution rate is a "
             "different metric (the model is the formula, up to a constant), not comparable with R² rates.", "",
             "Per equation and pipeline: [`per_equation.csv`](per_equation.csv); solve rates: "
             "[`solve_rates.csv`](solve_rates.csv)."]
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    return ["per_equation.csv", "solve_rates.csv", "performance_profile.png", "summary.md"] + (
        ["critical_difference.png"] if "Friedman test p" in cd else [])


def wall_time(out):
    """' Wall time: …' summed over <out>/wall_times.csv (every invocation that ran something to its end; one
    killed midway is not logged), or ''."""
    path = out / "wall_times.csv"
    if not path.exists():
        return ""
    times = pd.read_csv(path)
    seconds = times["seconds"].sum()
    return f" Wall time: {seconds:,.0f} s ({seconds / 60:.1f} min) over {len(times)} logged invocation(s)."


def failures(frame, chosen):
    """The equations the recipe does not solve, each with what its formula and domain show (a pole or a zero at
    a range's end, periodic or exponential terms, a target spanning decades, a domain mostly invalid)."""
    kept = frame[frame["chosen"] & ~(frame["r2"] > SOLVED_R2)]
    rows = []
    for row in kept.itertuples():
        target = chosen[row.target][0]
        rows.append({"target": row.target, "difficulty": row.difficulty, "pipeline": row.pipeline,
                     "R²": f"{row.r2:.4f}", "median rel. error": f"{row.median_rel_err:.3g}",
                     "what the formula shows": traits(target)})
    return pd.DataFrame(rows)


def traits(target):
    """What makes a formula hard for a smooth network on log inputs, read off its expression and its draws."""
    expr, found = target.expr, []
    if expr.atoms(sympy.sin, sympy.cos, sympy.tan):
        found.append("periodic terms")
    if expr.atoms(sympy.exp):
        found.append("exponential")
    if any(power.exp.is_negative and not power.base.is_Symbol for power in expr.atoms(sympy.Pow)):
        found.append("a pole where a difference vanishes")
    X, y, rejected = target.sample(4096, seed=0)
    magnitude = np.abs(y.numpy())
    if np.quantile(magnitude, 0.999) > 100 * np.median(magnitude):
        found.append("heavy-tailed y")
    if (y > 0).any() and (y < 0).any():
        found.append("y changes sign")
    if rejected > 0.2:
        found.append(f"{rejected:.0%} of its domain invalid")
    return ", ".join(found) or "none of these"
