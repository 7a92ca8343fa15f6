#!/usr/bin/env bash
# Side-by-side near-duplicate benchmark: presswash's dedup stage vs datatrove's MinHash dedup
# and rensa, on the same documents. Prints pairwise F1, distinct clusters dropped, docs/s,
# MB/s and peak RSS. Anchor tools are installed into bench/.venv by this script.
#
#   bench/bench_dedup.sh [DOCS.jsonl] [CLUSTERS.jsonl]
# (defaults: the dev set in ../shared/data/dedup; the scorer is ../shared/eval/score_dedup.py)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
docs="${1:-$root/../shared/data/dedup/docs.jsonl}"
truth="${2:-$root/../shared/data/dedup/clusters.jsonl}"
scorer="${SCORER:-$root/../shared/eval/score_dedup.py}"
[ -f "$docs" ] || docs=/work/shared/data/dedup/docs.jsonl
[ -f "$truth" ] || truth=/work/shared/data/dedup/clusters.jsonl
[ -f "$scorer" ] || scorer=/work/shared/eval/score_dedup.py
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  # datatrove's MinHash steps need these extras; xxhash 4 breaks its str hashing.
  "$venv/bin/pip" install -q "datatrove" "rensa" regex tokenizers orjson spacy "xxhash<4"
fi
py="$venv/bin/python"
(cd "$root" && cargo build --release -q)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mb=$(python3 -c "import json,sys; print(sum(len(json.loads(l)['text'].encode()) for l in open(sys.argv[1]) if l.strip())/1e6)" "$docs")
ndocs=$(grep -c . "$docs")

score() { python3 "$scorer" --truth "$truth" --pred "$1" --json | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['pairwise_precision'], d['pairwise_recall'], d['pairwise_f1'], d['kept_form']['wrongly_dropped_clusters'])"; }
rss() { grep "Maximum resident" "$1" | awk '{printf "%.0f", $NF/1024}'; }

# presswash: dedup alone (the time is the dedup stage's own, from report.json).
/usr/bin/time -v "$root/target/release/presswash" run --input "$docs" --output "$tmp/pw" --stages dedup --quiet 2>"$tmp/pw.time"
pw_secs=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['stages']['dedup']['seconds'])" "$tmp/pw/report.json")
pw_total=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['seconds_total'], r['threads'])" "$tmp/pw/report.json")
python3 "$here/clusters_from_dups.py" "$docs" "$tmp/pw/duplicates.jsonl" "$tmp/pw.pred"
read -r pw_p pw_r pw_f pw_lost <<<"$(score "$tmp/pw.pred")"

/usr/bin/time -v "$py" "$here/rensa_dedup.py" "$docs" "$tmp/rensa.pred" >"$tmp/rensa.out" 2>"$tmp/rensa.time"
rs_secs=$(awk '/^SECONDS/{print $2}' "$tmp/rensa.out")
read -r rs_p rs_r rs_f rs_lost <<<"$(score "$tmp/rensa.pred")"

/usr/bin/time -v "$py" "$here/datatrove_dedup.py" "$docs" "$tmp/dt.pred" >"$tmp/dt.out" 2>"$tmp/dt.time"
dt_secs=$(awk '/^SECONDS/{print $2}' "$tmp/dt.out")
read -r dt_p dt_r dt_f dt_lost <<<"$(score "$tmp/dt.pred")"

printf "%d documents, %.1f MB\n" "$ndocs" "$mb"
printf "%-12s %9s %9s %9s %8s %10s %9s %9s\n" tool precision recall F1 dropped docs/s MB/s RSS_MB
row() { python3 -c "import sys; n,p,r,f,l,s,mb,rss=sys.argv[1:]; s=max(float(s),1e-9); print(f'{n:<12} {float(p):9.4f} {float(r):9.4f} {float(f):9.4f} {int(l):8d} {$ndocs/s:10.0f} {float(mb)/s:9.1f} {rss:>9}')" "$@"; }
row presswash "$pw_p" "$pw_r" "$pw_f" "$pw_lost" "$pw_secs" "$mb" "$(rss "$tmp/pw.time")"
row rensa "$rs_p" "$rs_r" "$rs_f" "$rs_lost" "$rs_secs" "$mb" "$(rss "$tmp/rensa.time")"
row datatrove "$dt_p" "$dt_r" "$dt_f" "$dt_lost" "$dt_secs" "$mb" "$(rss "$tmp/dt.time")"
read -r pw_wall pw_threads <<<"$pw_total"
python3 -c "import sys; s,t,mb=map(float,sys.argv[1:4]); print(f'presswash whole run (read, parse, dedup, write) on {int(t)} threads: {s:.3f} s, {mb/s:.1f} MB/s')" "$pw_wall" "$pw_threads" "$mb"
python3 -c "import sys; p,r,d=map(float,sys.argv[1:4]); print(f'dedup speed: {r/p:.1f}x rensa, {d/p:.0f}x datatrove')" "$pw_secs" "$rs_secs" "$dt_secs"
echo "(dropped = true clusters with no document kept; times are the dedup work only: presswash's dedup stage"
echo " seconds from report.json, the anchors' timed section without reading the file; RSS of the whole process)"
