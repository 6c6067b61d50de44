"""A suite's verdicts (python -m bench.suite): a leaderboard of methods, per-equation table, solve rates and
precision tiers with intervals over equations, wins, performance and precision profiles, a critical-difference
diagram and published symbolic-regression rates.

Every choice is made on validation. The recipe keeps, per equation and seed, the run with the lowest validation
error among its own runs (references, signomial, candidates, finalist; never the fixed reference nor another
method). A run that diverged or failed, or whose test predictions are not finite, counts as a failure of its
pipeline: not solved, error +inf (it ranks last), never left out, never swapped for the next run.
"""

import argparse
import contextlib
import io
import shlex

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sympy  # noqa: E402

from bench.metrics import SOLVED_R2  # noqa: E402
from bench.report.frames import FLOAT_FORMAT, is_failure, joined, require_validation, validation_of  # noqa: E402
from bench.report.frontpage import write_block  # noqa: E402
from bench.report.leaderboard import RECIPE_LABEL, RECIPE_ROLES, best_fixed_pipeline, leaderboard, place_sentence  # noqa: E402
from bench.report.precision import plot_profile, tier_table  # noqa: E402
from bench.report.rates import per_seed, per_seed_text, rate_over_equations  # noqa: E402
from bench.report.stage_time import recipe_minutes, stage_minutes  # noqa: E402
from bench.report.suite_summary import SummaryParts, summary_markdown  # noqa: E402

# A run's role in the suite, from the stage that made it (the run keys bench.suite passes).
ROLES = ("reference", "candidate", "finalist", "fixed reference", "other method")
DESIGN_SEEDS = (0,)  # the seed earlier recipes were judged on (docs/suite.md): its rates are optimistic
SHOWN_ROLE = {"candidate": "candidate ", "finalist": "finalist "}  # prefixed to the pipeline: never a reference


def pipeline_label(record):
    """'mlp log→asinh', with '+ 250 L-BFGS' for a run polished by up to 250 L-BFGS iterations."""
    polished = record["config"]["settings"].get("lbfgs_iters", 0)
    return f"{record['model']} {record['encoding']}→{record['target_encoding']}" + (
        f" + {polished:,} L-BFGS" if polished else "")


def roles(key, keys):
    """A run's roles: each set of `keys` (role → run keys) that holds it, or 'reference' (a run can be a finalist
    and the fixed reference at once: the same configuration)."""
    return [role for role in ROLES if key in keys.get(role, ())] or ["reference"]


def per_equation(records, chosen, finalists=frozenset(), candidates=frozenset(), fixed_reference=frozenset(),
                 other_methods=frozenset()):
    """One row per (target, pipeline, seed) of the suite's targets, `role` saying which stage made it (run keys:
    `finalists`, `candidates`, `fixed_reference`, `other_methods`; any other run is a reference); a run in two
    roles has a row in each. `chosen` marks the recipe's run per (target, seed): of the runs in RECIPE_ROLES, the
    one with the lowest validation error (ties: by name), whatever its test predictions. `symbolic_solution`:
    the record's symbolic check (True or False) for a model that returns a formula (False for its failed runs),
    None for a model that returns none."""
    records = [r for r in records if r["target"] in chosen]
    require_validation(records)
    keys = {"finalist": finalists, "candidate": candidates, "fixed reference": fixed_reference,
            "other method": other_methods}
    formula_models = {r["model"] for r in records if "symbolic_solution" in (r.get("details") or {})}
    rows = []
    for r in records:
        _, suite, difficulty = chosen[r["target"]]
        metrics = r.get("metrics") or {}
        symbolic = (r.get("details") or {}).get("symbolic_solution") if r["model"] in formula_models else None
        for role in roles(r["key"], keys):
            rows.append({"target": r["target"], "suite": suite, "difficulty": difficulty,
                         "pipeline": SHOWN_ROLE.get(role, "") + pipeline_label(r), "model": r["model"], "role": role,
                         "seed": r["seed"], "key": r["key"], "status": r["status"], "chosen": False,
                         "finalist": role == "finalist", "r2": metrics.get("r2", np.nan),
                         "median_rel_err": metrics.get("median_rel_err", np.nan),
                         "nonfinite_share": metrics.get("nonfinite_share", np.nan),
                         "val_error": validation_of(r) if r["status"] == "ok" else np.inf,
                         "symbolic_solution": None if symbolic is None else bool(symbolic),
                         "seconds": r["job_seconds"] / r["job_size"], "device": r["env"]["device"]})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    failed = is_failure(frame)  # charged to its pipeline, whatever its validation error (a choice made on it stands)
    frame.loc[failed, ["r2", "median_rel_err"]] = [-np.inf, np.inf]
    formula = frame["model"].isin(formula_models)
    frame["symbolic_solution"] = frame["symbolic_solution"].astype(object)
    frame.loc[failed & formula, "symbolic_solution"] = False
    frame = frame.sort_values(["suite", "target", "pipeline", "seed"]).reset_index(drop=True)
    eligible = frame[frame["role"].isin(RECIPE_ROLES)]
    kept = eligible.sort_values(["val_error", "pipeline"]).groupby(["target", "seed"]).head(1).index  # ties: by name
    frame.loc[kept, "chosen"] = True
    return frame


def with_recipe(frame):
    """`frame` plus the recipe's chosen runs as a pipeline of their own."""
    recipe = frame[frame["chosen"]].assign(pipeline=RECIPE_LABEL, role="recipe", finalist=False)
    return pd.concat([frame, recipe], ignore_index=True)


def by_difficulty(frame):
    """[(pipeline, difficulty, rows)]: each pipeline over all its equations ('all'), then per difficulty (targets
    without a difficulty count in 'all' only)."""
    labelled = frame[frame["difficulty"].fillna("") != ""]
    return [*((p, "all", g) for p, g in frame.groupby("pipeline")),
            *((p, d, g) for (p, d), g in labelled.groupby(["pipeline", "difficulty"]))]


def pipeline_order(table):
    """The table sorted: 'all' first, then the difficulties; within each, the pipelines run on the most equations
    first, then by rate."""
    overall = table[table["difficulty"] == "all"]
    order = overall.sort_values(["runs", "rate"], ascending=False)["pipeline"].tolist()
    return table.sort_values(["difficulty", "pipeline"], key=lambda c: c.map(order.index) if c.name == "pipeline"
                             else c.map(lambda d: (d != "all", d))).reset_index(drop=True)


def solve_rates(frame):
    """Per pipeline (and per difficulty): runs solved (R² > 0.999) of those run, the rate over equations with its
    95 % interval (bench.report.rates: Wilson with one seed, a bootstrap over equations with several), and the
    count per seed; the pipelines run on every equation come first (a finalist's ran only where it was picked)."""
    rows = []
    for pipeline, difficulty, group in by_difficulty(frame):
        solved = group["r2"] > SOLVED_R2
        rate = rate_over_equations(solved, group["target"])
        rows.append({"pipeline": pipeline, "difficulty": difficulty, "solved": rate["hits"], "runs": rate["runs"],
                     "equations": rate["equations"], "rate": rate["rate"], "ci_low": rate["ci_low"],
                     "ci_high": rate["ci_high"], "interval": rate["interval"],
                     "per_seed": per_seed_text(per_seed(solved, group["seed"]))})
    return pipeline_order(pd.DataFrame(rows))


def precision_tiers(frame):
    """Per pipeline (and per difficulty) and tier (bench.report.precision.TIERS): the rate over equations whose
    test median relative error is at or below it."""
    parts = [tier_table(group.assign(difficulty=difficulty), ["pipeline", "difficulty"], "target")
             for pipeline, difficulty, group in by_difficulty(frame)]
    table = pd.concat(parts, ignore_index=True)
    order = solve_rates(frame)[["pipeline", "difficulty"]].drop_duplicates()
    return order.merge(table, on=["pipeline", "difficulty"], how="left")


def error_matrix(frame):
    """Equations (target, seed) × the pipelines run on every equation (the recipe's chosen runs included): test
    median relative error, +inf for a failure. Pipelines run on some equations only (the signomial) and the
    finalists (picked per equation on validation, so not one fixed pipeline even where one encoding was picked
    everywhere) are left out: they are in the solve rates, over the equations they ran on."""
    matrix = frame[frame["role"] != "finalist"].pivot_table(index=["target", "seed"], columns="pipeline",
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


def rate_phrase(rows, hits, details=()):
    """'**105 of 120** (88%, 95 % interval 80% to 92%; `details`...)' for one seed; with several, the count per
    seed and the mean with its interval over equations."""
    rate = rate_over_equations(hits, rows["target"])
    counts = per_seed(hits, rows["seed"])
    interval = f"{rate['ci_low']:.0%} to {rate['ci_high']:.0%}"
    extra = f"; {', '.join(details)}" if details else ""
    if len(counts) == 1:
        return f"**{rate['hits']} of {rate['runs']}** ({rate['rate']:.0%}, 95 % interval {interval}{extra})"
    return (f"**{joined(hit for hit, _ in counts.values())} of {rate['equations']}** on seeds {joined(counts)} "
            f"(mean {rate['rate']:.0%}, 95 % interval over equations {interval}{extra})")


def short_phrase(rows, hits):
    """'87 (72%)' for one seed, 'a mean 72%' over several."""
    rate = rate_over_equations(hits, rows["target"])
    return (f"{rate['hits']} ({rate['rate']:.0%})" if rate["runs"] == rate["equations"]
            else f"a mean {rate['rate']:.0%}")


def fresh_clause(recipe):
    """' — on the seeds no recipe was designed on (1 and 2), a mean …' where the rows hold both such seeds and
    DESIGN_SEEDS; else ''."""
    fresh = recipe[~recipe["seed"].isin(DESIGN_SEEDS)]
    if fresh.empty or len(fresh) == len(recipe):
        return ""
    rate = rate_over_equations(fresh["r2"] > SOLVED_R2, fresh["target"])
    return (f" — on the seed(s) no recipe was designed on ({joined(sorted(fresh['seed'].unique()))}), a mean "
            f"{rate['rate']:.0%} (95 % interval over equations {rate['ci_low']:.0%} to {rate['ci_high']:.0%}) —")


def headline(everything, frame, device, best_fixed=None, how=""):
    """One sentence: the recipe's R² > 0.999 and ≤ 1e-5 counts (per seed and their mean where there are several),
    per difficulty, and the same for its best single fixed pipeline (`best_fixed`, picked as `how` says)."""
    recipe = everything[everything["pipeline"] == RECIPE_LABEL]
    labelled = recipe[recipe["difficulty"].fillna("") != ""]
    one_seed = recipe["seed"].nunique() == 1
    parts = [f"{difficulty} {(g['r2'] > SOLVED_R2).sum()}/{len(g)}" if one_seed else
             f"{difficulty} {(g['r2'] > SOLVED_R2).mean():.0%}" for difficulty, g in labelled.groupby("difficulty")]
    suites = ", ".join(sorted(frame["suite"].unique()))
    sentence = (f"On {suites} ({frame['target'].nunique()} equations, {frame['seed'].nunique()} seed(s), {device}), "
                f"the recommended recipe reaches R² > 0.999 on {rate_phrase(recipe, recipe['r2'] > SOLVED_R2, parts)}"
                + fresh_clause(recipe) + " and a median relative error ≤ 1e-5 on "
                + rate_phrase(recipe, recipe["median_rel_err"] <= 1e-5))
    if best_fixed is not None:
        fixed = everything[everything["pipeline"] == best_fixed].drop_duplicates(["target", "seed"])
        sentence += (f"; {how}, {best_fixed}, reaches R² > 0.999 on {short_phrase(fixed, fixed['r2'] > SOLVED_R2)}"
                     f" and ≤ 1e-5 on {short_phrase(fixed, fixed['median_rel_err'] <= 1e-5)}")
    return sentence + "."


def write_suite_report(records, chosen, out, front_page=False, finalists=frozenset(), candidates=frozenset(),
                       fixed_reference=frozenset(), other_methods=frozenset()):
    """per_equation.csv, solve_rates.csv, precision_tiers.csv, leaderboard.csv, summary.md and the figures in
    `out` (and, with `front_page`, the README's `suite` block). The run keys say each run's role: `finalists`,
    the recipe's `candidates`, the `fixed_reference` (one pipeline polished as long as a finalist, on every
    equation) and `other_methods` (compared, never chosen by the recipe: Operon, KAN, ...); returns the names
    written."""
    frame = per_equation(records, chosen, finalists, candidates, fixed_reference, other_methods)
    if frame.empty:
        return []
    frame.assign(symbolic_solution=frame["symbolic_solution"].map({True: "true", False: "false"})).to_csv(
        out / "per_equation.csv", index=False, float_format=FLOAT_FORMAT)
    everything = with_recipe(frame)
    rates, tiers = solve_rates(everything), precision_tiers(everything)
    best_fixed, how = best_fixed_pipeline(frame)
    board = leaderboard(everything, frame, best_fixed)
    for name, table in (("solve_rates", rates), ("precision_tiers", tiers), ("leaderboard", board)):
        table.to_csv(out / f"{name}.csv", index=False, float_format=FLOAT_FORMAT)
    matrix = error_matrix(everything)
    performance_profile(matrix, out / "performance_profile.png")
    plot_profile(matrix, out / "precision_profile.png", highlight=RECIPE_LABEL)
    cd = critical_difference(matrix, out / "critical_difference.png")
    devices = sorted({r["env"]["device"] for r in records if r["target"] in chosen})
    sentence = headline(everything, frame, "; ".join(devices), best_fixed, how)
    stage_time = stage_minutes(frame)
    place, spent = place_sentence(board), wall_time(out, frame["seed"].unique()) + recipe_minutes(stage_time)
    if front_page:
        write_block("suite", " ".join(part for part in (sentence, place) if part) + spent
                    + f" ([`{out.name}/summary.md`]({out.as_posix()}/summary.md))")
    text = summary_markdown(SummaryParts(sentence=sentence, place=place, spent=spent, board=board, rates=rates,
                                         tiers=tiers, precise=precise_by_model(frame), won=wins(matrix), cd=cd,
                                         failed=failures(frame, chosen), stage_time=stage_time))
    (out / "summary.md").write_text(text)
    return ["per_equation.csv", "solve_rates.csv", "precision_tiers.csv", "leaderboard.csv", "performance_profile.png",
            "precision_profile.png", "summary.md"] + (["critical_difference.png"] if "Friedman test p" in cd else [])


def precise_by_model(frame):
    """Which models the recipe's chosen runs at a median relative error ≤ 1e-5 are: the mlp's reach is not the
    formula models' (the signomial's exact recoveries)."""
    chosen = frame[frame["chosen"]]
    counts = chosen.loc[chosen["median_rel_err"] <= 1e-5, "model"].value_counts()
    if "mlp" not in counts:
        counts["mlp"] = 0
    return (f"Of the recipe's {len(chosen)} chosen runs (equation × seed), {int(counts.sum())} reach a median relative "
            "error ≤ 1e-5: " + ", ".join(f"{model} {int(n)}" for model, n in counts.sort_values(ascending=False).items())
            + ".")


def wall_time(out, seeds):
    """' Wall time: …' of the recipe's part of the invocations in <out>/wall_times.csv that ran any of `seeds`, in
    all and per invocation (its seeds, minutes and runs run; every invocation that ran something to its end, one
    killed midway is not logged), then the references' minutes (the comparisons), timed apart; or ''."""
    path = out / "wall_times.csv"
    if not path.exists():
        return ""
    logged = pd.read_csv(path)
    logged = logged.assign(part=logged.get("part", "recipe"))[
        logged["command"].map(lambda command: bool(set(seeds_of(command)) & set(seeds)))]
    times = logged[logged["part"].eq("recipe")]
    if times.empty:
        return ""
    seconds = times["seconds"].sum()
    each = "; ".join(f"seed(s) {joined(seeds_of(row.command))}: {row.seconds / 60:.1f} min for {row.runs_run:,} runs"
                     for row in times.itertuples())
    outside = logged[logged["part"].eq("references")]["seconds"].sum()
    return (f" Wall time: {seconds:,.0f} s ({seconds / 60:.1f} min) over {len(times)} logged invocation(s) ({each}; "
            "an invocation that resumed runs only what was left)."
            + (f" The references (comparisons, `--references`) took {outside / 60:.1f} min more, logged apart."
               if outside else ""))


def seeds_of(command):
    """The seeds a logged `python -m bench.suite …` command ran: its --seeds and --first-seed, at bench.suite's
    defaults where absent (tests/test_suite_report.py holds the two parsers to the same reading)."""
    seeds = argparse.ArgumentParser(add_help=False)
    seeds.add_argument("--seeds", type=int, default=1)
    seeds.add_argument("--first-seed", type=int, default=0)
    args, _ = seeds.parse_known_args(shlex.split(command))
    return range(args.first_seed, args.first_seed + args.seeds)


def failures(frame, chosen):
    """The (equation, seed) pairs the recipe does not solve, each with what its formula and domain show (a pole or
    a zero at a range's end, periodic or exponential terms, a target spanning decades, a domain mostly invalid)."""
    kept = frame[frame["chosen"] & ~(frame["r2"] > SOLVED_R2)].sort_values(["target", "seed"])
    rows = []
    for row in kept.itertuples():
        target = chosen[row.target][0]
        rows.append({"target": row.target, "seed": row.seed, "difficulty": row.difficulty, "pipeline": row.pipeline,
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
