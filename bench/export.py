"""python -m bench.export: the run validation chose for a target, trained again and saved as a loadable pipeline.

    python -m bench.export RESULTS --target NAME --to DIR [--data FILE]

It picks the target's `mlp` run with the lowest validation error in RESULTS/runs, trains its job again through
the protocol (bench/refit.py; a data file's run needs the file: --data, or the path its record names, with the
recorded sha256), refuses unless the refit reproduces the record's test error, and writes DIR/model.safetensors
(the network's weights and every encoder's learned tensors) and DIR/pipeline.json (settings, encodings, input
columns, architecture, the encoders' other learned state, the run's key and metrics). `bench.load(DIR)` reads
them back (bench/exported.py). No file is pickled or unpickled.
"""

import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

import bench.cli as cli
from bench.encoder_state import save
from bench.errors import UserError
from bench.exported import FORMAT, PIPELINE, WEIGHTS
from bench.exported_trees import tree_arrays
from bench.records import load_records, runs_dir, write_json
from bench.refit import chosen, job_of, refit, target_of, verify


def check_destination(folder, allowed=()):
    """Refuse, before any work, a destination that is a file, holds files other than an export's (and the
    `allowed` names), or cannot be written."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--to {folder} is a file; choose a folder")
    if folder.is_dir():
        others = sorted(p.name for p in folder.iterdir() if p.name not in (PIPELINE, WEIGHTS, *allowed))
        if others:
            raise UserError(f"--to {folder} already holds other files ({', '.join(others[:3])}); choose an empty or new folder")
    existing = next(p for p in [folder, *folder.absolute().parents] if p.exists())
    if not os.access(existing, os.W_OK):
        raise UserError(f"cannot write to {existing}; choose another --to")


def pipeline_info(refitted, results):
    """pipeline.json's content, less the encoders' state."""
    record, target = refitted.record, refitted.target
    ranges = target.ranges()
    return {"format": FORMAT, "columns": target.names,
            "run": {"key": record["key"], "results": str(Path(results).resolve()), "target": record["target"],
                    "model": record["model"], "seed": record["seed"], "metrics": record["metrics"],
                    "val_error": record["val_error"]} | (
                        {"data_file": record["data_file"]} if "data_file" in record else {}),
            "target_definition": record["config"]["target_definition"],
            "target": {"name": target.name, "names": target.names, "products": target.products,
                       "declared_ranges": None if ranges is None else [list(r) for r in ranges],
                       "angles": list(target.angle_columns())},
            "encoding": record["encoding"], "target_encoding": record["target_encoding"],
            "settings": record["config"]["settings"]}


def network(refitted, tensors):
    """An mlp run's pipeline.json entries; its weights go into `tensors`."""
    member = refitted.member
    tensors |= {f"network.{k}": v.detach().cpu().contiguous() for k, v in member.single.state_dict().items()}
    later = getattr(member, "later", [])  # residual stages (bench.stages): stage k's weights as stage{k}.*
    for k, (_, stage) in enumerate(later, start=2):
        tensors |= {f"stage{k}.{name}": v.detach().cpu().contiguous() for name, v in stage.single.state_dict().items()}
    return {"kind": "mlp", "architecture": {"mlp": asdict(member.single.config), "features": member.features,
                                            "input_width": member.single.input_widths[0]} | (
                                                {"stage_scales": [scale for scale, _ in later]} if later else {})}


def trees(refitted, tensors):
    """A LightGBM run's pipeline.json entries; its trees' arrays go into `tensors` (bench/exported_trees.py). The
    refit's member is the fitted estimator's `predict` (bench/protocol.py's fit_cells)."""
    try:
        description, arrays = tree_arrays(refitted.member.__self__.model_)
    except ValueError as error:
        raise UserError(f"run {refitted.record['key']} cannot be exported: {error}") from None
    tensors |= {f"trees.{name}": array for name, array in arrays.items()}
    return {"kind": "trees", "architecture": description}


def signomial(refitted, tensors):
    """A signomial run's pipeline.json entries: the form it kept (each term's exponents on |features| and its
    coefficient) and its sign rule; the arrays go into `tensors`."""
    model = refitted.member.__self__
    if model.form_ is None:
        raise UserError(f"run {refitted.record['key']} is a signomial whose training diverged: no formula to export")
    tensors |= {"signomial.exponents": torch.from_numpy(np.ascontiguousarray(model.form_.exponents, np.float64)),
                "signomial.coefficients": torch.from_numpy(np.ascontiguousarray(model.form_.coefficients, np.float64))}
    return {"kind": "signomial", "architecture": {"terms": len(model.form_.coefficients),
                                                  "features": model.form_.exponents.shape[1],
                                                  "sign_rule": [int(i) for i in model.view_.rule],
                                                  "formula": model.report_["details"]["formula"]}}


KINDS = {"mlp": network, "lightgbm": trees, "signomial": signomial}  # the exportable models, and how


def write(folder, refitted, results):
    """Write DIR/model.safetensors and DIR/pipeline.json for a verified refit."""
    model = refitted.record["model"]
    if model not in KINDS:
        raise UserError(f"run {refitted.record['key']} is a {model} run; export supports {', '.join(KINDS)}")
    tensors = {}
    info = pipeline_info(refitted, results) | KINDS[model](refitted, tensors) | {
        "input_encoder": save(refitted.split.input_encoder, "input", tensors),
        "target_encoder": save(refitted.split.target_encoder, "target", tensors)}
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
    os.close(handle)
    try:
        save_file(tensors, temporary, metadata={"format": FORMAT})
        os.replace(temporary, folder / WEIGHTS)
    finally:
        Path(temporary).unlink(missing_ok=True)
    write_json(folder / PIPELINE, info)


def export(results, name, folder, data=None):
    """Choose, refit, verify and write target `name`'s run from `results`; returns the Refit written."""
    records, _ = load_records(results)
    record = chosen(records, name, str(runs_dir(results)))
    check_destination(folder)
    return export_run(results, records, record, folder, data)


def export_run(results, records, record, folder, data=None, target=None):
    """Refit, verify and write `record`, one of `records` (a results folder's); its target is `target` when
    given (e.g. rows held in memory), else rebuilt from the records (`data`: its data file)."""
    job = job_of(records, record, str(runs_dir(results)))
    targets = {} if target is None else {record["target"]: target}
    for r in job:
        if r["target"] not in targets:
            targets[r["target"]] = target_of(r, data if r["target"] == record["target"] else None)
    refitted = next(f for f in refit(job, targets) if f is not None and f.record["key"] == record["key"])
    verify(refitted)
    write(folder, refitted, results)
    return refitted


def main(argv=None):
    parser = cli.Parser(prog="python -m bench.export", description=cli.summary(__doc__))
    parser.add_argument("results", metavar="RESULTS", help="a results folder (python -m bench.run --out)")
    parser.add_argument("--target", required=True, metavar="NAME", help="the target whose chosen run to export")
    parser.add_argument("--to", required=True, metavar="DIR", help="the folder to write model.safetensors and "
                        "pipeline.json into (new, or one holding an earlier export)")
    parser.add_argument("--data", metavar="FILE", help="the data file a data-file run was trained on (default: "
                        "the path its record names)")
    args = parser.parse_args(argv)
    refitted = export(args.results, args.target, args.to, args.data)
    record = refitted.record
    print(f"exported run {record['key']} ({record['target']}: {record['encoding']} inputs, {record['target_encoding']} "
          f"target, seed {record['seed']}; validation error {record['val_error']:.4g}, test median relative error "
          f"{refitted.metrics['median_rel_err']:.4g}, reproduced) to {args.to}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(cli.main_guard(main))
