#!/usr/bin/env bash
# End-to-end test on a real single-node Slurm cluster:
#   scripts/slurm-e2e.sh [INPUT]
# Installs slurm-wlm and munge if missing (apt-get), starts munged, slurmctld and slurmd on
# this host with a generated config in a temp folder, submits the sharded run as a 4-task
# array, then the split dedup (a `buckets` array over LSH band ranges, then `clusters`), the
# filter array and the merge with afterok dependencies, waits,
# and compares the merged corpus with a single-machine run byte for byte. Exits 0 when they
# match. The daemons it started are stopped on exit. Works as root in CI (no stdin).
# Without INPUT it generates a 20 MB JSONL dump (3 files) with scripts/make_dump.py.
set -euo pipefail

HERE="$(cd "$(dirname "$0")/.." && pwd)"
SHARDS=${SHARDS:-4}
RANGES=${RANGES:-4}
T="$(mktemp -d /tmp/presswash-slurm.XXXXXX)"
PIDS=()
cleanup() {
  local rc=$?
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  if [ $rc -ne 0 ]; then
    echo "slurm-e2e: FAILED (rc=$rc); logs in $T" >&2
    tail -n 20 "$T"/*.log 2>/dev/null >&2 || true
  else
    rm -rf "$T"
  fi
  exit $rc
}
trap cleanup EXIT INT TERM

need() { command -v "$1" >/dev/null 2>&1; }
if ! need slurmctld || ! need slurmd || ! need sbatch || ! need munged; then
  echo "slurm-e2e: installing slurm-wlm and munge" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq </dev/null
  $SUDO apt-get install -y -qq slurm-wlm munge </dev/null >/dev/null
fi

# The binary.
(cd "$HERE" && cargo build --release -q)
BIN="$HERE/target/release/presswash"

# The input.
INPUT="${1:-}"
if [ -z "$INPUT" ]; then
  INPUT="$T/dump"
  python3 "$HERE/scripts/make_dump.py" --mb "${MB:-20}" --files 3 --out "$INPUT" >/dev/null
fi
INPUT="$(cd "$(dirname "$INPUT")" && pwd)/$(basename "$INPUT")"

# Config: the repository's pipeline, blocks small enough that every shard gets work.
CFG="$T/pipeline.toml"
if [ -f "$HERE/pipeline.toml" ]; then
  grep -v '^\s*paths\s*=' "$HERE/pipeline.toml" | grep -v '^\s*dir\s*=' >"$CFG"
fi
if grep -q '^\[pipeline\]' "$CFG" 2>/dev/null; then
  sed -i 's/^\[pipeline\]/[pipeline]\nblock_bytes = 2000000/' "$CFG"
else
  printf '[pipeline]\nblock_bytes = 2000000\n' >>"$CFG"
fi

# munge with its own key and socket.
mkdir -p "$T/munge" "$T/state" "$T/spool" "$T/jobs"
chmod 700 "$T/munge"
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$T/munge/munge.key"
MUNGE_USER_OPT=()
[ "$(id -u)" -eq 0 ] && MUNGE_USER_OPT=(--force)
munged "${MUNGE_USER_OPT[@]}" --key-file="$T/munge/munge.key" --socket="$T/munge/sock" \
  --pid-file="$T/munge/munged.pid" --log-file="$T/munge.log" --seed-file="$T/munge/seed" 2>>"$T/munge.log"
for _ in $(seq 50); do [ -s "$T/munge/munged.pid" ] && break; sleep 0.1; done
PIDS+=("$(cat "$T/munge/munged.pid")")

HOST="$(hostname -s)"
USER_NAME="$(id -un)"
export SLURM_CONF="$T/slurm.conf"
cat >"$SLURM_CONF" <<CONF
ClusterName=presswash
SlurmctldHost=$HOST
SlurmUser=$USER_NAME
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/sock
SlurmctldPort=${SLURMCTLD_PORT:-16817}
SlurmdPort=${SLURMD_PORT:-16818}
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MaxArraySize=1000
NodeName=$HOST CPUs=$(nproc) State=UNKNOWN
PartitionName=main Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF

slurmctld -f "$SLURM_CONF" -i
for _ in $(seq 100); do [ -s "$T/slurmctld.pid" ] && break; sleep 0.1; done
PIDS+=("$(cat "$T/slurmctld.pid")")
slurmd -f "$SLURM_CONF"
for _ in $(seq 100); do [ -s "$T/slurmd.pid" ] && break; sleep 0.1; done
PIDS+=("$(cat "$T/slurmd.pid")")
for _ in $(seq 100); do
  sinfo -h -o %T 2>/dev/null | grep -Eq '^(idle|mixed|allocated)' && break
  sleep 0.3
done
sinfo >&2

OUT="$T/sharded"
COMMON=(-c "$CFG" -i "$INPUT" -o "$OUT" -q -j 1)
sub() { sbatch --parsable -D "$T" -o "$T/jobs/%x-%A_%a.out" -e "$T/jobs/%x-%A_%a.err" "$@"; }
J1=$(sub -J shard --array=0-$((SHARDS - 1)) --wrap "$BIN run ${COMMON[*]} --shard auto")
J2=$(sub -J buckets --dependency=afterok:$J1 --array=0-$((RANGES - 1)) --wrap "$BIN buckets ${COMMON[*]} --shards $SHARDS --range auto")
J2C=$(sub -J clusters --dependency=afterok:$J2 --wrap "$BIN clusters ${COMMON[*]} --shards $SHARDS --ranges $RANGES")
J3=$(sub -J filter --dependency=afterok:$J2C --array=0-$((SHARDS - 1)) --wrap "$BIN filter ${COMMON[*]} --shard auto")
J4=$(sub -J merge --dependency=afterok:$J3 --wrap "$BIN merge ${COMMON[*]} --shards $SHARDS --summary-line")
echo "slurm-e2e: submitted shard=$J1 buckets=$J2 clusters=$J2C filter=$J3 merge=$J4" >&2

# Meanwhile: the single-machine run.
"$BIN" run -c "$CFG" -i "$INPUT" -o "$T/single" -q

deadline=$((SECONDS + ${TIMEOUT:-600}))
while squeue -h -j "$J1,$J2,$J2C,$J3,$J4" 2>/dev/null | grep -q .; do
  if [ $SECONDS -gt $deadline ]; then echo "slurm-e2e: timeout" >&2; scancel "$J1" "$J2" "$J2C" "$J3" "$J4" || true; exit 1; fi
  if squeue -h -j "$J2,$J2C,$J3,$J4" -o %r 2>/dev/null | grep -q DependencyNeverSatisfied; then
    echo "slurm-e2e: a job failed" >&2; cat "$T"/jobs/*.err >&2 || true; exit 1
  fi
  sleep 1
done
cat "$T"/jobs/merge-*.out 2>/dev/null >&2 || true

status=0
for f in clean.jsonl duplicates.jsonl rejects.jsonl clean.csv; do
  if cmp -s "$T/single/$f" "$OUT/$f"; then
    echo "slurm-e2e: $f identical ($(wc -l <"$OUT/$f") lines)" >&2
  else
    echo "slurm-e2e: $f DIFFERS" >&2; status=1
  fi
done
# The verdicts must be the clusters step's, not a one-task dedup run by merge.
if ! grep -q '"band_ranges": '"$RANGES" "$OUT/parts/dedup-of-$SHARDS/report.json"; then
  echo "slurm-e2e: the dedup verdicts were not made by clusters" >&2; status=1
fi
[ $status -eq 0 ] && echo "slurm-e2e: OK: $SHARDS-task array + $RANGES-task buckets array + clusters + filter + merge == single run" >&2
exit $status
