#!/usr/bin/env bash
# Throughput of `repair` against ftfy (typography off) and plsfix on the same text.
#   bench/bench_repair.sh [CORPUS.jsonl]     (default: 50 MB made by make_scale_corpus.py)
# Creates bench/.venv (git-ignored) with ftfy and, if it installs, plsfix.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${MB:-50}
DATA=${1:-bench/data/scale_${MB}mb.jsonl}
if [ ! -f "$DATA" ]; then
    mkdir -p bench/data/gen
    SHARED="${SHARED:-../shared}"
    if [ -f "$SHARED/eval/make_scale_corpus.py" ]; then
        python3 "$SHARED/eval/make_scale_corpus.py" --mb "$MB" --format jsonl --out bench/data/gen
    else
        python3 scripts/make_dump.py --mb "$MB" --out bench/data/gen
    fi
    cat $(find bench/data/gen -name '*.jsonl' | sort) > "$DATA"
fi
if [ ! -x bench/.venv/bin/python ]; then
    python3 -m venv bench/.venv
    bench/.venv/bin/pip install -q ftfy
    bench/.venv/bin/pip install -q plsfix || echo "plsfix did not install: skipped" >&2
fi
cargo build -q --release --example eval_repair
BYTES=$(python3 -c "import json,sys; print(sum(len((json.loads(l).get('text') or '').encode()) for l in open(sys.argv[1])))" "$DATA")
# Pure repair function over the text fields (JSON parsing and writing included).
T0=$(date +%s.%N)
./target/release/examples/eval_repair "$DATA" text > /dev/null
T1=$(date +%s.%N)
PW_EX=$(python3 -c "print($BYTES/1e6/($T1-$T0))")
# The real pipeline as a user runs it (whole process: read, parse, repair, write clean.jsonl
# and clean.csv), on one thread and on every core.
cargo build -q --release
pw_run() {
    local OUT; OUT=$(mktemp -d)
    local T0; T0=$(date +%s.%N)
    ./target/release/presswash run --config /dev/null --stages repair --threads "$1" --quiet --input "$DATA" --output "$OUT" >/dev/null
    local T1; T1=$(date +%s.%N)
    rm -rf "$OUT"
    python3 -c "print($BYTES/1e6/($T1-$T0))"
}
PW_RUN=$(pw_run 1)
PW_RUN_ALL=$(pw_run 0)
ANCHORS=$(bench/.venv/bin/python bench/bench_repair.py "$DATA")
python3 - "$PW_EX" "$PW_RUN" "$ANCHORS" "$PW_RUN_ALL" "$(nproc)" <<'PY'
import json, sys
ex, run, anchors, run_all, cores = float(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
rows = [("presswash repair (function, 1 thread)", ex)]
rows.append(("presswash run --stages repair (1 thread)", float(run)))
rows.append(("presswash run --stages repair (%s cores)" % cores, run_all))
rows.append(("ftfy.fix_text (typography off)", anchors["ftfy"]))
rows.append(("ftfy.fix_text (defaults)", anchors["ftfy_default"]))
if "plsfix" in anchors:
    rows.append(("plsfix.fix_text", anchors["plsfix"]))
print(f"text: {anchors['mb']:.1f} MB")
print(f"{'tool':45} {'MB/s':>9} {'x ftfy':>8} {'x ftfy def.':>12} {'x plsfix':>9}")
for name, v in rows:
    xp = f"{v / anchors['plsfix']:9.1f}" if "plsfix" in anchors else f"{'-':>9}"
    print(f"{name:45} {v:9.1f} {v / anchors['ftfy']:8.1f} {v / anchors['ftfy_default']:12.1f} {xp}")
print("x ftfy: against ftfy doing the fixes repair makes (typography off); x ftfy def.: against")
print("ftfy.fix_text with its defaults (quotes, ligatures and widths too: slower, what users run)")
PY
