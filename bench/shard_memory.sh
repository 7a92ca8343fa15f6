#!/usr/bin/env bash
# Peak memory of each step of a sharded run against one machine's run (issue 7's figure).
#
#   bench/shard_memory.sh [--shards N] [--ranges R] [--mb MB] [--input DUMP] [--threads T]
#
# Runs on the same dump: the single-machine `presswash run`, then the sharded steps one
# process at a time (N x `run --shard`, R x `buckets --range`, `clusters`, N x `filter`,
# `merge`), each timed with wait4() (bench/bench.py's `measure`); prints every step's peak RSS
# and its ratio to the single run, and checks that the merged corpus equals the single run
# byte for byte. Without --input it generates a dump with ../shared/eval/make_scale_corpus.py
# (cached under $BENCH_DIR like bench/run.sh), else with scripts/make_dump.py.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
SHARED="${SHARED:-$ROOT/../shared}"
BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/presswash-bench}"
SHARDS=8 RANGES=8 MB=1000 INPUT="" THREADS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) SHARDS="$2"; shift 2 ;;
    --ranges) RANGES="$2"; shift 2 ;;
    --mb) MB="$2"; shift 2 ;;
    --input) INPUT="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "shard_memory.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$BENCH_DIR"
if [ -z "$INPUT" ]; then
  INPUT="$BENCH_DIR/dump-jsonl-${MB}mb"
  if [ ! -f "$INPUT/.complete" ]; then
    rm -rf "$INPUT"
    if [ -f "$SHARED/eval/make_scale_corpus.py" ]; then
      python3 "$SHARED/eval/make_scale_corpus.py" --mb "$MB" --format jsonl --out "$INPUT" >&2
    else
      python3 "$ROOT/scripts/make_dump.py" --mb "$MB" --out "$INPUT" >&2
    fi
    touch "$INPUT/.complete"
  fi
fi
(cd "$ROOT" && cargo build --release --quiet)
BIN="$ROOT/target/release/presswash"
WORK="$BENCH_DIR/shard-memory"
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"  # no pipeline.toml here: the project's defaults
exec python3 - "$BIN" "$INPUT" "$WORK" "$SHARDS" "$RANGES" "$THREADS" "$HERE" <<'PY'
import filecmp, os, sys
sys.path.insert(0, sys.argv[7])
from bench import measure

bin_, dump, work, shards, ranges, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
single, sharded = os.path.join(work, "single"), os.path.join(work, "sharded")
rows = []

def step(name, *args, out=sharded):
    m = measure([bin_, *args, "-q", "-i", dump, "-o", out, "-j", threads])
    if m["rc"] != 0:
        sys.exit("%s failed (rc %d): %s" % (name, m["rc"], m["stderr"]))
    rows.append((name, m))
    print("[shard-memory] %-22s %7.1f s  %6.0f MiB" % (name, m["wall"], m["rss"] / 2**20), file=sys.stderr, flush=True)
    return m

base = step("single machine run", "run", out=single)
for i in range(shards):
    step("run --shard %d/%d" % (i, shards), "run", "--shard", "%d/%d" % (i, shards))
for j in range(ranges):
    step("buckets --range %d/%d" % (j, ranges), "buckets", "--shards", str(shards), "--range", "%d/%d" % (j, ranges))
step("clusters", "clusters", "--shards", str(shards), "--ranges", str(ranges))
for i in range(shards):
    step("filter --shard %d/%d" % (i, shards), "filter", "--shard", "%d/%d" % (i, shards))
step("merge", "merge", "--shards", str(shards))

same = all(filecmp.cmp(os.path.join(single, f), os.path.join(sharded, f), shallow=False)
           for f in ("clean.jsonl", "clean.csv", "duplicates.jsonl", "rejects.jsonl"))
size = sum(os.path.getsize(os.path.join(dump, f)) for f in os.listdir(dump) if not f.startswith(".")) if os.path.isdir(dump) else os.path.getsize(dump)
print("sharded run, %d shards, %d band ranges, on %s (%.0f MB); peak RSS of each process:" % (shards, ranges, dump, size / 1e6))
print()
print("| step | wall s | peak RSS | ÷ single run |")
print("|---|---:|---:|---:|")
worst = {}
for name, m in rows:
    kind = name.split(" ")[0]
    if m is not base:
        worst[kind] = max(worst.get(kind, 0), m["rss"])
    print("| %s | %.1f | %.0f MiB | %s |" % (name, m["wall"], m["rss"] / 2**20, "" if m is base else "%.2f" % (m["rss"] / base["rss"])))
print()
print("| step kind | worst peak RSS | ÷ single run (goal <= 0.25) |")
print("|---|---:|---:|")
for kind, rss in worst.items():
    r = rss / base["rss"]
    print("| %s | %.0f MiB | %.2f %s |" % (kind, rss / 2**20, r, "ok" if r <= 0.25 else "MISSED"))
print()
print("merged corpus == single run (clean.jsonl, clean.csv, duplicates.jsonl, rejects.jsonl): %s" % ("yes" if same else "NO"))
sys.exit(0 if same else 1)
PY
