"""The report: tables, plots and summary.md from the run records in <out>/runs. It reads records only
(`python -m bench.report`, bench/builtin.py, first fills an empty folder with a built-in sweep)."""


import matplotlib.pyplot as plt
import seaborn as sns

from bench.errors import UserError
from bench.records import load_records, runs_dir
from bench.report import asker
from bench.report.axes import write_axes
from bench.report.figures import FIGURES, plot_ecdf, plot_final_error, plot_heatmap, plot_learning_curves, plot_throughput
from bench.report.frames import (
    FLOAT_FORMAT,
    at_common_budget,
    common_budget,
    curves_frame,
    quantiles_frame,
    runs_frame,
)
from bench.report.frontpage import README, write_block
from bench.report.ladder import agreement_table, ladder_table, plot_ladder
from bench.report.markdown import page, pages_markdown, summary_markdown, verdict_lines
from bench.report.precision import runs_tiers, runs_tiers_markdown
from bench.report.sweeps import reproduction
from bench.report.tables import (
    RANKED,
    convergence_table,
    environment_table,
    not_ok_table,
    ranking,
    throughput_table,
    tuning_table,
)
from bench.report.verdict import verdicts

AXES_FOLDER = "axes"  # where python -m bench.axes writes by default, inside the results folder


def write_report(records, broken, out):
    """Write the CSV tables, the PNG figures, summary.md (the verdict) and one page per section into `out`;
    returns the file names written. Runs under data conditions are reported by axis (with this folder's clean
    runs as baselines), never ranked."""
    conditioned = any("conditions" in r["config"] for r in records)
    conditions = conditions_section(out, records if conditioned else None)
    everything = records
    records = [r for r in records if "conditions" not in r["config"]]
    if not records:
        raise UserError(f"every run in {runs_dir(out)} is under data conditions; python -m bench.axes --out {out} "
                        "reports them (add clean runs to rank pipelines)")
    runs = runs_frame(records)
    ranked = ranking(runs)
    heads = verdicts(ranked, runs)
    ladder = ladder_table(runs)
    tables = {"ranking": ranked, "precision": runs_tiers(runs, RANKED), "headlines": heads,
              "tuning": tuning_table(runs), "budget_ladder": ladder,
              "budget_agreement": agreement_table(ladder), "convergence": convergence_table(runs, ranked),
              "throughput": throughput_table(runs), "not_ok": not_ok_table(runs), "environment": environment_table(runs)}
    written = []
    for name, table in tables.items():
        table.to_csv(out / f"{name}.csv", index=False, float_format=FLOAT_FORMAT)
        written.append(f"{name}.csv")
    sns.set_theme(style="whitegrid", context="notebook")
    budgets = common_budget(runs)
    drawn = {"learning_curves": plot_learning_curves(at_common_budget(curves_frame(records), budgets)),
             "final_error": plot_final_error(at_common_budget(runs, budgets)),
             "heatmap": plot_heatmap(ranked), "ecdf": plot_ecdf(quantiles_frame(records), heads),
             "throughput": plot_throughput(tables["throughput"]), "budget_ladder": plot_ladder(ladder),
             "asker_ladder": asker.plot_ladder(records)}
    figures = {}
    for name, figure in drawn.items():
        path = out / f"{name}.png"
        if figure is None:
            path.unlink(missing_ok=True)  # no stale figure from an earlier report
            continue
        figure.savefig(path, dpi=120, bbox_inches="tight", metadata={"Software": None})
        plt.close(figure)
        figures[name] = FIGURES[name]
        written.append(path.name)
    asker_section = "\n\n".join(part for part in (asker.ladder_markdown(records), asker.symbolic_markdown(records)) if part)
    pages = pages_markdown(tables, figures, asker_section, conditions[0], reproduction(everything, out))
    pages["precision"] = page("precision", runs_tiers_markdown(tables["precision"], RANKED))
    for name, text in pages.items():
        (out / f"{name}.md").write_text(text)
    (out / "summary.md").write_text(summary_markdown(runs, heads, broken, conditions[1]))
    if out.resolve() == README.parent / "results":  # the committed results: the README quotes their verdict
        write_block("headline", "\n".join(verdict_lines(heads, conditions[1]))
                    + "\n\nEvery page of it: [`results/summary.md`](results/summary.md).")
    return written + [f"{name}.md" for name in pages] + ["summary.md"]


def conditions_section(out, records=None):
    """The data-condition axes in `records` (figures written to `out`), or else those recorded in <out>/axes
    (python -m bench.axes): their markdown and headline sentences; ('', []) when there are none."""
    if records is not None:
        sections, sentences, _ = write_axes(records, out)
        return sections, sentences
    folder = out / AXES_FOLDER
    if not runs_dir(folder).is_dir():
        return "", []
    records, _ = load_records(folder)
    sections, sentences, _ = write_axes(records, folder, link_prefix=f"{AXES_FOLDER}/")
    return sections, sentences
