#!/usr/bin/env bash
# Near-duplicate quality at scale: a generated dump of MB megabytes with its true clusters
# (../shared/eval/make_scale_corpus.py --truth), the whole default pipeline over it, and
# ../shared/eval/score_dedup.py on the result: pairwise precision / recall / F1 of the
# clusters (duplicates.jsonl), and of what was kept (clean.jsonl) the stories wrongly dropped
# (unique content lost) and the duplicates left; the largest cluster (report.json); and how
# many lines of duplicates.jsonl name as `duplicate_of` a keeper of another true story.
# The dev set has 2,872 documents; this shows what a dump of hundreds of thousands does to
# the clusters (the generator's different stories share leads and sentences of the same
# 2,225 source articles, more of them the bigger the dump).
#
#   bench/dedup_at_scale.sh [MB ...]        (default: 200 1000; dumps cached in $BENCH_DIR)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
shared="${SHARED:-$root/../shared}"
[ -d "$shared/eval" ] || shared=/work/shared
bench_dir="${BENCH_DIR:-${TMPDIR:-/tmp}/presswash-bench}"
mkdir -p "$bench_dir"
(cd "$root" && cargo build --release -q)
bin="$root/target/release/presswash"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
[ $# -gt 0 ] || set -- 200 1000
printf '%-8s %8s %9s %7s %6s %22s %15s %11s %16s\n' dump docs precision recall F1 "wrongly dropped" "duplicates left" "max cluster" "other story's"
for mb in "$@"; do
  dump="$bench_dir/truth-jsonl-${mb}mb"
  if [ ! -f "$dump/.complete" ]; then
    rm -rf "$dump"
    python3 "$shared/eval/make_scale_corpus.py" --mb "$mb" --format jsonl --truth --out "$dump" >/dev/null
    touch "$dump/.complete"
  fi
  out="$tmp/out-$mb"
  "$bin" run -i "$dump" -o "$out" -q
  cat "$dump"/dump-*.jsonl > "$tmp/docs.jsonl"
  python3 "$here/clusters_from_dups.py" "$tmp/docs.jsonl" "$out/duplicates.jsonl" "$tmp/pred.jsonl"
  python3 "$shared/eval/score_dedup.py" --truth "$dump/clusters.jsonl" --pred "$tmp/pred.jsonl" --json \
    > "$tmp/score.json"
  python3 "$shared/eval/score_dedup.py" --truth "$dump/clusters.jsonl" --kept "$out/clean.jsonl" --json \
    > "$tmp/kept.json"
  python3 - "$tmp/score.json" "$tmp/kept.json" "$out/report.json" "$mb" "$dump/clusters.jsonl" \
    "$out/duplicates.jsonl" <<'EOF'
import json, sys
s, k, r = (json.load(open(p)) for p in sys.argv[1:4])
hist = r["dedup"]["cluster_size_histogram"]
# Lines of duplicates.jsonl whose `duplicate_of` is a keeper of another true story: the
# document was dropped through a chain of matches (clusters are transitive).
story = {}
with open(sys.argv[5]) as f:
    for line in f:
        t = json.loads(line)
        story[t["id"]] = t["cluster"]
lines = other = 0
with open(sys.argv[6]) as f:
    for line in f:
        d = json.loads(line)
        lines += 1
        other += story.get(d["id"]) != story.get(d["duplicate_of"])
print("%-8s %8d %9.3f %7.3f %6.3f %22s %15d %11d %16s" % (
    sys.argv[4] + "MB", k["docs"], s["pairwise_precision"], s["pairwise_recall"], s["pairwise_f1"],
    "%d of %d stories" % (k["wrongly_dropped_clusters"], k["true_clusters"]), k["duplicates_left"],
    max(map(int, hist)), "%d of %d" % (other, lines)))
EOF
done
