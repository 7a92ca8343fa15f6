#!/usr/bin/env bash
# Side-by-side benchmark of main-content extraction from HTML: presswash
# (--stages extract,repair,typography,boilerplate,title, release build) against trafilatura and
# resiliparse on the same pages. Prints F1 (shingle metric of the shared scorer), pages/s and MB/s.
#
# Usage: bench/bench_extract.sh [HTML_DIR] [TRUTH_JSONL]
#   HTML_DIR    folder of <id>.html pages   (default $SHARED/data/extraction/html)
#   TRUTH_JSONL {"id","text"} truth          (default $SHARED/data/extraction/truth.jsonl; "-" = no scoring)
# Environment: SHARED (default ../shared relative to the repo), THREADS (presswash threads, default 1),
#   STAGES (default extract,repair,typography,boilerplate,title), ANCHORS (default "trafilatura resiliparse"; empty = presswash only).
# The anchors are installed into bench/.venv by this script (pip); nothing is installed globally.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
SHARED="${SHARED:-$REPO/../shared}"
HTML_DIR="${1:-$SHARED/data/extraction/html}"
TRUTH="${2:-$SHARED/data/extraction/truth.jsonl}"
SCORER="${SCORER:-$SHARED/eval/score_extraction.py}"
THREADS="${THREADS:-1}"
STAGES="${STAGES:-extract,repair,typography,boilerplate,title}"
ANCHORS="${ANCHORS-trafilatura resiliparse}"
VENV="$HERE/.venv"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

[ -d "$HTML_DIR" ] || { echo "no such folder: $HTML_DIR" >&2; exit 2; }

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check trafilatura lxml_html_clean resiliparse >&2

(cd "$REPO" && cargo build --release -q)
BIN="$REPO/target/release/presswash"

score() { # pred.jsonl -> "P R F1"
    if [ "$TRUTH" = "-" ] || [ ! -f "$SCORER" ]; then echo "- - -"; return; fi
    python3 "$SCORER" --truth "$TRUTH" --pred "$1" --json |
        python3 -c 'import json,sys; s=json.load(sys.stdin)["shingle"]; print("%.4f %.4f %.4f" % (s["precision"], s["recall"], s["f1"]))'
}

BYTES=$(cat "$HTML_DIR"/*.htm* | wc -c)
PAGES=$(ls "$HTML_DIR" | grep -cE '\.html?$')
printf "%-14s %9s %9s %9s %9s %9s\n" tool precision recall F1 pages/s MB/s
# presswash: wall time of the whole run (reading, all stages, writing).
T0=$(date +%s.%N)
"$BIN" run --input "$HTML_DIR" --output "$WORK/pw" --stages "$STAGES" --threads "$THREADS" --quiet >/dev/null
T1=$(date +%s.%N)
SECS=$(python3 -c "print(max($T1 - $T0, 1e-9))")
read -r P R F <<<"$(score "$WORK/pw/clean.jsonl")"
python3 -c "print(f'%-14s %9s %9s %9s %9.1f %9.1f' % ('presswash', '$P', '$R', '$F', $PAGES/$SECS, $BYTES/1e6/$SECS))"
for tool in $ANCHORS; do
    read -r N B S <<<"$("$VENV/bin/python" "$HERE/anchors_extract.py" "$tool" "$HTML_DIR" "$WORK/$tool.jsonl")"
    read -r P R F <<<"$(score "$WORK/$tool.jsonl")"
    python3 -c "print(f'%-14s %9s %9s %9s %9.1f %9.1f' % ('$tool', '$P', '$R', '$F', $N/$S, $B/1e6/$S))"
done
echo "($PAGES pages, $(python3 -c "print(round($BYTES/1e6,1))") MB; presswash: whole run incl. I/O, $THREADS thread(s); anchors: extraction only, 1 core)"
