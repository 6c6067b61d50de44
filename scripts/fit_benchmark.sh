#!/usr/bin/env bash
# The benchmark of issue 31 (a benchmark, not a test): the wall time of `python -m bench.fit` at both budgets on a
# 10,000-row CSV of the question's formula (target `seed` in bench/targets.toml), from an empty model folder each
# time, on this machine's CPU cores (run it on an otherwise idle machine). It appends one row per budget to
# results/fit_benchmark.csv: when, budget, wall seconds, rows, CPU cores, the chosen pipeline, its validation error
# and its test median relative error (held-out rows no choice read), and the command.
#
#     scripts/fit_benchmark.sh [WORK]      # WORK: where the CSV and the model folders go (default: runs/fit-benchmark)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-runs/fit-benchmark}
rows=10000
mkdir -p "$work"
data="$work/seed-$rows.csv"
python - "$data" "$rows" <<'EOF'
import sys

import pandas as pd

from bench.targets import load_targets

target = load_targets()["seed"]
X, y, _ = target.sample(int(sys.argv[2]), seed=0)
pd.DataFrame(X.numpy(), columns=target.names).assign(y=y.numpy()).to_csv(sys.argv[1], index=False)
EOF
for budget in quick default; do
    model="$work/model-$budget"
    rm -rf "$model"  # timed from scratch: no records to resume from
    command=(python -m bench.fit --data "$data" --target y --to "$model" --budget "$budget")
    start=$(date +%s.%N)
    "${command[@]}"
    end=$(date +%s.%N)
    python - "$model/leaderboard.csv" "$budget" "$start" "$end" "$rows" "${command[*]}" <<'EOF'
import csv
import os
import sys
import time
from pathlib import Path

import pandas as pd

board, budget, start, end, rows, command = sys.argv[1:]
chosen = pd.read_csv(board).query("chosen").iloc[0]
path = Path("results/fit_benchmark.csv")
new = not path.exists()
with path.open("a", newline="") as file:
    writer = csv.writer(file)
    if new:
        writer.writerow(["finished", "budget", "seconds", "rows", "cpu_cores", "chosen", "val_error",
                         "test_median_rel_err", "command"])
    writer.writerow([time.strftime("%Y-%m-%dT%H:%M:%S%z"), budget, f"{float(end) - float(start):.0f}", rows,
                     len(os.sched_getaffinity(0)), chosen.pipeline, f"{chosen.val_error:.4g}",
                     f"{chosen.test_median_rel_err:.4g}", command])
print(f"{budget}: {float(end) - float(start):.0f} s, chose {chosen.pipeline}, test median relative error "
      f"{chosen.test_median_rel_err:.4g}; appended to {path}")
EOF
done
