#!/usr/bin/env bash
# Side-by-side near-duplicate benchmark: presswash's dedup stage vs datatrove's MinHash dedup
# and rensa, on the same documents. Prints pairwise F1, distinct clusters dropped, docs/s,
# MB/s, peak RSS and the time of the dedup work and of the whole processes (presswash and
# rensa RUNS times each, default 5, interleaved; medians). Anchor tools are installed into
# bench/.venv by this script.
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
wall() { awk '/Elapsed \(wall clock\)/{n=split($NF,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$1"; }
med() { python3 -c "import statistics,sys; v=sorted(map(float,sys.argv[1:])); print(statistics.median(v), v[0], v[-1])" "$@"; }

# presswash and rensa run RUNS times each, interleaved (the machine's speed drifts: side by
# side in time, their ratio holds); datatrove, ~300x slower, once. Times are medians.
runs="${RUNS:-5}"
pw_t=(); pw_w=(); rs_t=(); rs_w=()
for r in $(seq "$runs"); do
  # presswash: dedup alone (the time is the dedup stage's own, from report.json).
  rm -rf "$tmp/pw"
  /usr/bin/time -v "$root/target/release/presswash" run --input "$docs" --output "$tmp/pw" --stages dedup --quiet 2>"$tmp/pw.time"
  pw_t+=("$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['stages']['dedup']['seconds'])" "$tmp/pw/report.json")")
  pw_w+=("$(wall "$tmp/pw.time")")
  /usr/bin/time -v "$py" "$here/rensa_dedup.py" "$docs" "$tmp/rensa.pred" >"$tmp/rensa.out" 2>"$tmp/rensa.time"
  rs_t+=("$(awk '/^SECONDS/{print $2}' "$tmp/rensa.out")")
  rs_w+=("$(wall "$tmp/rensa.time")")
done
read -r pw_secs pw_lo pw_hi <<<"$(med "${pw_t[@]}")"
read -r rs_secs rs_lo rs_hi <<<"$(med "${rs_t[@]}")"
read -r pw_wall _ _ <<<"$(med "${pw_w[@]}")"
read -r rs_wall _ _ <<<"$(med "${rs_w[@]}")"
python3 "$here/clusters_from_dups.py" "$docs" "$tmp/pw/duplicates.jsonl" "$tmp/pw.pred"
read -r pw_p pw_r pw_f pw_lost <<<"$(score "$tmp/pw.pred")"
read -r rs_p rs_r rs_f rs_lost <<<"$(score "$tmp/rensa.pred")"
threads=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['threads'])" "$tmp/pw/report.json")

/usr/bin/time -v "$py" "$here/datatrove_dedup.py" "$docs" "$tmp/dt.pred" >"$tmp/dt.out" 2>"$tmp/dt.time"
dt_secs=$(awk '/^SECONDS/{print $2}' "$tmp/dt.out")
read -r dt_p dt_r dt_f dt_lost <<<"$(score "$tmp/dt.pred")"

printf "%d documents, %.1f MB; presswash and rensa %d runs each (interleaved, medians), datatrove 1\n" "$ndocs" "$mb" "$runs"
printf "%-12s %9s %9s %9s %8s %10s %9s %9s %17s\n" tool precision recall F1 dropped docs/s MB/s RSS_MB "time s (min-max)"
row() { python3 -c "import sys; n,p,r,f,l,s,mb,rss,lo,hi=sys.argv[1:]; s=max(float(s),1e-9); print(f'{n:<12} {float(p):9.4f} {float(r):9.4f} {float(f):9.4f} {int(l):8d} {$ndocs/s:10.0f} {float(mb)/s:9.1f} {rss:>9} {s:7.3f} ({float(lo):.3f}-{float(hi):.3f})')" "$@"; }
row presswash "$pw_p" "$pw_r" "$pw_f" "$pw_lost" "$pw_secs" "$mb" "$(rss "$tmp/pw.time")" "$pw_lo" "$pw_hi"
row rensa "$rs_p" "$rs_r" "$rs_f" "$rs_lost" "$rs_secs" "$mb" "$(rss "$tmp/rensa.time")" "$rs_lo" "$rs_hi"
row datatrove "$dt_p" "$dt_r" "$dt_f" "$dt_lost" "$dt_secs" "$mb" "$(rss "$tmp/dt.time")" "$dt_secs" "$dt_secs"
python3 -c "import sys; p,r,d=map(float,sys.argv[1:4]); print(f'dedup speed (dedup work, medians): {r/p:.1f}x rensa, {d/p:.0f}x datatrove')" "$pw_secs" "$rs_secs" "$dt_secs"
python3 -c "import sys; p,r,t=sys.argv[1:4]; p,r=float(p),float(r); print(f'whole processes (start, read, dedup, write; medians): presswash {p:.3f} s on {t} threads, rensa {r:.3f} s: {r/p:.1f}x')" "$pw_wall" "$rs_wall" "$threads"
echo "(dropped = true clusters with no document kept; dedup work = presswash's dedup stage seconds"
echo " from report.json, the anchors' timed section without reading the file; RSS of the whole process)"
