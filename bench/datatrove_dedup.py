#!/usr/bin/env python3
"""datatrove's MinHash dedup (signatures, buckets, clusters, filter) with its default
MinhashConfig, one task, on the same documents. Writes {"id","cluster"} predictions (the
removed documents joined to the kept one of their cluster) and prints the dedup time."""
import json, os, shutil, sys, tempfile, time

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                               MinhashDedupFilter, MinhashDedupSignature)
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

docs_path, out = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp(prefix="dt_dedup_")
indir = os.path.join(work, "in")
os.makedirs(indir)
shutil.copy(docs_path, os.path.join(indir, "docs.jsonl"))
cfg = MinhashConfig()
reader = lambda: JsonlReader(indir, id_key="id", text_key="text")
t = time.perf_counter()
for pipe in (
    [reader(), MinhashDedupSignature(output_folder=f"{work}/sigs", config=cfg)],
    [MinhashDedupBuckets(input_folder=f"{work}/sigs", output_folder=f"{work}/buckets", config=cfg)],
    [MinhashDedupCluster(input_folder=f"{work}/buckets", output_folder=f"{work}/remove_ids", config=cfg, save_cluster_id=True)],
    [reader(), MinhashDedupFilter(input_folder=f"{work}/remove_ids", exclusion_writer=JsonlWriter(f"{work}/removed"), load_cluster_ids=True),
     JsonlWriter(f"{work}/kept")],
):
    tasks = cfg.num_buckets if isinstance(pipe[0], MinhashDedupBuckets) else 1
    LocalPipelineExecutor(pipeline=pipe, tasks=tasks, workers=1, logging_dir=f"{work}/logs/{len(os.listdir(work))}").run()
secs = time.perf_counter() - t
import gzip, glob
cluster = {}
for path in glob.glob(f"{work}/removed/*") + glob.glob(f"{work}/kept/*"):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            cid = (d.get("metadata") or {}).get("minhash_cluster_id")
            if cid is not None and cid != -1:
                cluster[d["id"]] = f"c{cid}"
with open(out, "w", encoding="utf-8") as w:
    for line in open(docs_path, encoding="utf-8"):
        if line.strip():
            i = json.loads(line)["id"]
            w.write(json.dumps({"id": i, "cluster": cluster.get(i, i)}) + "\n")
shutil.rmtree(work, ignore_errors=True)
print(f"SECONDS {secs:.3f}")
