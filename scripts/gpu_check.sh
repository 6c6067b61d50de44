#!/usr/bin/env bash
# On a CUDA machine: the GPU tests, the benchmark suite timed on the GPU, and bench.throughput --device cuda.
# Everything lands in $OUT (default results/gpu-check); each step has a time limit, 7 minutes in all.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-results/gpu-check}"
mkdir -p "$out"
status=0

step() {  # step NAME SECONDS COMMAND...: run, log to $out/NAME.txt, remember a failure and go on
    local name=$1 seconds=$2
    shift 2
    echo "== $name: $*"
    timeout "$seconds" "$@" 2>&1 | tee "$out/$name.txt"
    local rc=${PIPESTATUS[0]}
    [ "$rc" -eq 0 ] || { echo "== $name failed (exit $rc)"; status=1; }
}

step device 30 python -c "import torch; assert torch.cuda.is_available(), 'no CUDA'; \
print(torch.cuda.get_device_name(), 'torch', torch.__version__, 'CUDA', torch.version.cuda)"
[ "$status" -eq 0 ] || exit 1
step gpu-tests 150 python -m pytest -q -m gpu tests/test_gpu.py -p no:cacheprovider
step benchmarks 120 python -m pytest -q tests/test_benchmarks.py --benchmark-only -p no:cacheprovider \
    --benchmark-json "$out/benchmarks.json" --benchmark-columns=median,iqr,rounds
step throughput 120 python -m bench.throughput --device cuda --out "$out"
exit $status
