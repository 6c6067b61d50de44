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

from safetensors.torch import save_file

from bench import cli
from bench.encoder_state import save
from bench.errors import UserError
from bench.exported import FORMAT, PIPELINE, WEIGHTS
from bench.records import load_records, runs_dir, write_json
from bench.refit import chosen, job_of, refit, target_of, verify


def check_destination(folder):
    """Refuse, before any work, a destination that is a file, holds other files, or cannot be written."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--to {folder} is a file; choose a folder")
    if folder.is_dir():
        others = sorted(p.name for p in folder.iterdir() if p.name not in (PIPELINE, WEIGHTS))
        if others:
            raise UserError(f"--to {folder} already holds other files ({', '.join(others[:3])}); choose an empty or new folder")
    existing = next(p for p in [folder, *folder.absolute().parents] if p.exists())
    if not os.access(existing, os.W_OK):
        raise UserError(f"cannot write to {existing}; choose another --to")


def pipeline_info(refitted, results):
    """pipeline.json's content, less the encoders' state."""
    record, target, member = refitted.record, refitted.target, refitted.member
    ranges = target.ranges()
    return {"format": FORMAT, "columns": target.names,
            "run": {"key": record["key"], "results": str(Path(results).resolve()), "target": record["target"],
                    "model": record["model"], "seed": record["seed"], "metrics": record["metrics"],
                    "val_error": record["val_error"]} | (
                        {"data_file": record["data_file"]} if "data_file" in record else {}),
            "target_definition": record["config"]["target_definition"],
            "target": {"name": target.name, "names": target.names, "products": target.products,
                       "declared_ranges": None if ranges is None else [list(r) for r in ranges]},
            "encoding": record["encoding"], "target_encoding": record["target_encoding"],
            "settings": record["config"]["settings"],
            "architecture": {"mlp": asdict(member.single.config), "features": member.features,
                             "input_width": member.single.input_widths[0]}}


def write(folder, refitted, results):
    """Write DIR/model.safetensors and DIR/pipeline.json for a verified refit."""
    tensors = {f"network.{k}": v.detach().cpu().contiguous() for k, v in refitted.member.single.state_dict().items()}
    info = pipeline_info(refitted, results) | {"input_encoder": save(refitted.split.input_encoder, "input", tensors),
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
    where = str(runs_dir(results))
    records, _ = load_records(results)
    record = chosen(records, name, where)
    job = job_of(records, record, where)
    targets = {}
    for r in job:
        if r["target"] not in targets:
            targets[r["target"]] = target_of(r, data if r["target"] == name else None)
    check_destination(folder)
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
