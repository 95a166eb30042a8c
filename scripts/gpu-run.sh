#!/usr/bin/env bash
# The CUDA half, run for real in one call on a lent GPU machine (the device tool's `run`), as issue 16 asks:
# the whole suite on cpu and cuda, the benchmarks on cuda, the ledger, the benchmark JSON and the logs back
# under $OUT. Two steps:
#
#   scripts/gpu-run.sh prepare      here: download the wheels the GPU image lacks into .whl/ (git-ignored)
#   scripts/gpu-run.sh run          there, from the repository root, with .whl carried:
#       device.run(command="bash scripts/gpu-run.sh run", carry=[".whl"], timeout_s=540)
#
# The GPU image has torch, pytest, pytest-benchmark, hypothesis, pytest-xdist, matplotlib, jinja2 and
# pygments; SimpleITK and diskcache travel as wheels. The suite is loaded with -p claims.plugin from the
# checkout (no install needed). Every step has its own time limit, so the call ends inside about 8 minutes
# and a rerun fits in the session's device time.
set -uo pipefail
cd "$(dirname "$0")/.."

PY_VERSION=${PY_VERSION:-3.12}  # the GPU image's Python
WHEELS=("SimpleITK==2.5.3" "diskcache==5.6.3")

prepare() {
  grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
  python3 -m pip download --no-deps --only-binary=:all: --python-version "$PY_VERSION" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .whl "${WHEELS[@]}"
  ls -la .whl
}

run() {
  : "${OUT:?run this on the device machine, where \$OUT is set}"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || exit 1
  export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 CI=true
  {
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
    python3 -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', \
torch.version.cuda, 'cudnn', torch.backends.cudnn.version(), 'gpu', torch.cuda.get_device_name(0))"
    nproc
  } > "$OUT/env.txt" 2>&1
  gpu=$(python3 -c "import torch; print(torch.cuda.get_device_name(0).replace(' ', '-'))")
  torch_version=$(python3 -c "import torch; print(torch.__version__.split('+')[0])")
  label="${gpu}-torch-${torch_version}"

  start=$(date +%s.%N)
  timeout 240 python3 -m pytest -p claims.plugin -p no:randomly -p no:cacheprovider --device cpu,cuda \
    --ledger="$OUT/ledger-$label.json" --durations=25 -rfEs > "$OUT/pytest-$label.log" 2>&1
  suite_status=$?
  echo "suite: exit $suite_status in $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s" | tee -a "$OUT/env.txt"

  timeout 200 python3 -m pytest -p claims.plugin -p no:randomly -p no:cacheprovider tests/benchmarks \
    --benchmark-only --device cuda --benchmark-json "$OUT/benchmarks-$label.json" > "$OUT/benchmarks-$label.log" 2>&1
  echo "benchmarks: exit $?" | tee -a "$OUT/env.txt"

  python3 -m claims summary "$OUT/ledger-$label.json" --claims > "$OUT/summary-$label.txt" 2>&1
  tail -5 "$OUT/pytest-$label.log"
  cat "$OUT/env.txt"
  exit "$suite_status"
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: scripts/gpu-run.sh prepare|run" >&2; exit 2 ;;
esac
