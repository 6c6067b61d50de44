"""The budget ladder: each tuned pipeline's error against training steps and seconds, the floor it reaches,
and whether the ranking at the smallest budget is the ranking at the largest (Kendall's tau)."""

import pandas as pd
import seaborn as sns

from bench.report.frames import PIPELINE, REL_ERR
from bench.report.stats import MIN_AGREEMENT, geometric_interval, geometric_mean, rank_agreement
from bench.report.tables import by_validation

LADDER = PIPELINE + ["steps", "lbfgs_iters"]  # a polished budget is not the same many Adam steps


def ladder_table(runs):
    """Per tuned pipeline and budget (steps): ok seeds, geometric mean test error (failures counted) with its
    interval, geometric mean validation error (inf if a seed diverged or failed), mean training seconds (the whole
    ensemble's, for a batched model) and mean step kept on validation."""
    tuned = runs[runs["tuned"] & runs["steps"].notna()]
    rows = []
    for key, group in tuned.groupby(LADDER, sort=False):
        ok = group[~group["failure"]]
        mean, low, high = geometric_interval(group["median_rel_err"])
        rows.append({**dict(zip(LADDER, key)), "ok": len(ok), "runs": len(group), "median_rel_err": mean,
                     "ci_low": low, "ci_high": high, "val_error": geometric_mean(group["val_error"]),
                     "train_seconds": ok["train_seconds"].mean(),
                     "kept_step": ok["kept_step"].mean() if "kept_step" in ok else float("nan")})
    columns = LADDER + ["ok", "runs", "median_rel_err", "ci_low", "ci_high", "val_error", "train_seconds", "kept_step"]
    table = pd.DataFrame(rows, columns=columns)
    budgets_per_pipeline = table.groupby(PIPELINE)["steps"].transform("size")
    return table[budgets_per_pipeline > 1].sort_values(LADDER).reset_index(drop=True)


def agreement_table(ladder):
    """Per target and model: Kendall's tau between the pipelines' test errors at the smallest budget and the
    largest one that at least MIN_AGREEMENT pipelines reached (none where no such budget exists), and each
    budget's winner: the pipeline with the lowest validation error ('' where none has a finite one)."""
    rows = []
    for (target, model), table in ladder.groupby(["target", "model"], sort=False):
        shared = table.groupby("steps")["encoding"].count()
        small, large = table["steps"].min(), shared[shared >= MIN_AGREEMENT].index.max()
        if pd.isna(large) or large == small:
            continue
        errors = {s: table[table["steps"] == s].set_index(["encoding", "target_encoding"])["median_rel_err"]
                  for s in (small, large)}
        tau, p, n = rank_agreement(errors[small], errors[large])
        if n < MIN_AGREEMENT:
            continue
        best = {s: winner(table[table["steps"] == s]) for s in (small, large)}
        rows.append({"target": target, "model": model, "small_steps": small, "large_steps": large, "pipelines": n,
                     "kendall_tau": tau, "p": p, "same_winner": bool(best[small]) and best[small] == best[large],
                     "winner_small": best[small], "winner_large": best[large]})
    return pd.DataFrame(rows, columns=["target", "model", "small_steps", "large_steps", "pipelines", "kendall_tau",
                                       "p", "same_winner", "winner_small", "winner_large"])


def winner(budget):
    """'log+asinh': the pipeline of one budget's ladder rows with the lowest validation error ('' if none)."""
    chosen = by_validation(budget)
    return "" if chosen.empty else "+".join(chosen[["encoding", "target_encoding"]].iloc[0])


def plot_ladder(ladder):
    """Test error against training steps for every tuned pipeline with more than one budget, per target."""
    if ladder.empty:
        return None
    data = ladder.assign(pipeline=ladder["encoding"] + " → " + ladder["target_encoding"] + " (" + ladder["model"] + ")")
    grid = sns.relplot(data=data, x="steps", y="median_rel_err", hue="pipeline", col="target", kind="line",
                       marker="o", height=3.6, aspect=1.2, facet_kws={"sharey": False})
    grid.set(xscale="log", yscale="log")
    grid.set_axis_labels("budget: Adam steps + L-BFGS iterations", f"median {REL_ERR}")
    grid.figure.suptitle("Budget ladder: tuned pipelines trained longer (geometric mean over seeds)", y=1.03)
    return grid.figure


