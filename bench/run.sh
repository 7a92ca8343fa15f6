#!/usr/bin/env bash
# presswash benchmark harness: one dump, every tool on it, one table.
#
#   bench/run.sh [--mb N] [--input DUMP] [--format jsonl|txt] [--quick] [--scale]
#                [--no-anchors] [--anchor-mb N] [--out DIR] [--keep] [--whole-runs N]
#                [--scale-runs N]
#
# Generates a dump with ../shared/eval/make_scale_corpus.py (or takes --input), builds
# presswash --release, installs the Python anchors into bench/.venv (PyPI only; an anchor
# that fails to install is reported as "not installed"), then runs on the same data:
# cat (the floor), presswash (whole pipeline with 2 threads, the median of three runs, and
# with 1 thread; no stage; each stage alone), ftfy, trafilatura and resiliparse (on HTML pages), datatrove and rensa.
# With --scale it also runs the whole pipeline on 200 MB and 1000 MB dumps, five
# interleaved pairs (--scale-runs; medians), for the linearity and peak-memory figures.
#
# Wall time, CPU time and peak RSS of each whole process come from wait4() (bench/bench.py).
# --out DIR puts presswash's outputs there (e.g. /dev/shm: measures without the disk).
# Generated data and outputs live in $BENCH_DIR (default ${TMPDIR:-/tmp}/presswash-bench),
# outside the git tree. Results: $BENCH_DIR/results.json and the printed tables.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
SHARED="${SHARED:-$ROOT/../shared}"
BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/presswash-bench}"
MB=200
INPUT=""
FORMAT=jsonl
QUICK=0
SCALE=0
ANCHORS=1
ANCHOR_MB=""
KEEP=0
OUT=""
WHOLE_RUNS=3
SCALE_RUNS=5

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --mb) MB="$2"; shift 2 ;;
    --input) INPUT="$2"; shift 2 ;;
    --format) FORMAT="$2"; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --scale) SCALE=1; shift ;;
    --no-anchors) ANCHORS=0; shift ;;
    --anchor-mb) ANCHOR_MB="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --whole-runs) WHOLE_RUNS="$2"; shift 2 ;;
    --scale-runs) SCALE_RUNS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$FORMAT" in jsonl|txt) ;; *) echo "bench/run.sh: --format must be jsonl or txt" >&2; exit 2 ;; esac
if [ "$QUICK" = 1 ] && [ -z "$INPUT" ]; then MB=20; fi
if [ -z "$ANCHOR_MB" ]; then
  if [ "$QUICK" = 1 ]; then ANCHOR_MB=5; else ANCHOR_MB=50; fi
fi
mkdir -p "$BENCH_DIR"
log() { printf '[bench] %s\n' "$*" >&2; }

# --- data -------------------------------------------------------------------------------
make_dump() { # mb format -> prints the dump folder
  local mb="$1" fmt="$2"
  local dir="$BENCH_DIR/dump-$fmt-${mb}mb"
  if [ ! -f "$dir/.complete" ]; then
    local gen="$SHARED/eval/make_scale_corpus.py"
    [ -f "$gen" ] || { echo "bench/run.sh: $gen not found (set SHARED=...) or pass --input" >&2; exit 2; }
    log "generating a ${mb} MB $fmt dump in $dir"
    rm -rf "$dir"
    python3 "$gen" --mb "$mb" --format "$fmt" --out "$dir" >&2
    touch "$dir/.complete"
  fi
  echo "$dir"
}
if [ -n "$INPUT" ]; then
  DUMP="$(cd "$INPUT" 2>/dev/null && pwd || echo "$INPUT")"
  [ -e "$DUMP" ] || { echo "bench/run.sh: $INPUT does not exist" >&2; exit 2; }
else
  DUMP="$(make_dump "$MB" "$FORMAT")"
fi
HTML_DIR="$SHARED/data/extraction/html"
[ -d "$HTML_DIR" ] || HTML_DIR=""

# --- build ------------------------------------------------------------------------------
log "building presswash --release"
(cd "$ROOT" && cargo build --release --quiet)
BIN="$ROOT/target/release/presswash"

# --- anchors (bench/.venv) --------------------------------------------------------------
VENV="$HERE/.venv"
PY=""
if [ "$ANCHORS" = 1 ]; then
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV" || log "cannot create a virtualenv: anchors not installed"
  fi
  if [ -x "$VENV/bin/python" ]; then
    PY="$VENV/bin/python"
    # One install per anchor so that one failure does not take the others down. pip does
    # not touch the network for a requirement that is already satisfied. datatrove's MinHash
    # needs spacy (English word tokenizer), tokenizers, orjson and xxhash < 4 (its xxhash
    # wrapper passes str, which xxhash 4 refuses).
    for req in ftfy plsfix trafilatura lxml_html_clean resiliparse datatrove spacy tokenizers "xxhash<4" orjson rensa; do
      name="${req%%[<>=]*}"
      "$PY" -m pip install --quiet --disable-pip-version-check "$req" >"$BENCH_DIR/pip-$name.log" 2>&1 \
        || log "$req failed to install (see $BENCH_DIR/pip-$name.log): reported as not installed"
    done
  fi
fi

# --- run ----------------------------------------------------------------------------------
ARGS=(--bin "$BIN" --dump "$DUMP" --work "$BENCH_DIR" --anchor-mb "$ANCHOR_MB" --here "$HERE" --whole-runs "$WHOLE_RUNS")
[ -n "$PY" ] && ARGS+=(--python "$PY")
[ -n "$HTML_DIR" ] && ARGS+=(--html "$HTML_DIR")
[ "$QUICK" = 1 ] && ARGS+=(--quick)
[ "$KEEP" = 1 ] && ARGS+=(--keep)
[ -n "$OUT" ] && ARGS+=(--out "$OUT")
if [ "$SCALE" = 1 ]; then
  if [ -n "$INPUT" ]; then
    log "--scale generates its own 200 MB and 1000 MB dumps ($FORMAT)"
  fi
  ARGS+=(--scale-small "$(make_dump 200 "$FORMAT")" --scale-large "$(make_dump 1000 "$FORMAT")" --scale-runs "$SCALE_RUNS")
fi
exec python3 "$HERE/bench.py" "${ARGS[@]}"
