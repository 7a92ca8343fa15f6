#!/usr/bin/env python3
"""The Python anchors of the benchmark, one per invocation (run by bench/bench.py in bench/.venv).

  anchors.py ftfy|plsfix|datatrove|rensa|rensa_shingles --subset SUBSET.jsonl --result OUT.json [--tmp DIR]
  anchors.py trafilatura|resiliparse --html DIR --result OUT.json

SUBSET.jsonl holds {"id","text","bytes"} records (bench.py cuts it from the dump; "bytes"
is what the record took in the dump). The result file says how many input bytes and
documents were processed and the in-process seconds; bench.py times the whole process.
An anchor whose package is missing writes {"missing": "..."} and exits 0.
"""
import argparse
import json
import os
import shutil
import sys
import time


def read_subset(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def html_pages(folder):
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if name.startswith("."):
                continue
            p = os.path.join(root, name)
            with open(p, "rb") as f:
                raw = f.read()
            yield raw


def time_fix_text(a, fix_text, **extra):
    """Whole documents of the subset through one `fix_text`, timed."""
    n = nbytes = 0
    t = time.perf_counter()
    for rec in read_subset(a.subset):
        fix_text(rec["text"])
        n += 1
        nbytes += rec["bytes"]
    return dict(docs=n, bytes=nbytes, seconds=time.perf_counter() - t, **extra)


def run_ftfy(a):
    import ftfy

    return time_fix_text(a, ftfy.fix_text)


def run_plsfix(a):
    import plsfix

    return time_fix_text(a, plsfix.fix_text, note="the Rust port of ftfy")


def run_trafilatura(a):
    import trafilatura

    n = nbytes = 0
    t = time.perf_counter()
    for raw in html_pages(a.html):
        trafilatura.extract(raw.decode("utf-8", "replace"))
        n += 1
        nbytes += len(raw)
    return dict(docs=n, bytes=nbytes, seconds=time.perf_counter() - t)


def run_resiliparse(a):
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding
    from resiliparse.parse.html import HTMLTree

    n = nbytes = 0
    t = time.perf_counter()
    for raw in html_pages(a.html):
        html = bytes_to_str(raw, detect_encoding(raw))
        extract_plain_text(HTMLTree.parse(html), main_content=True)
        n += 1
        nbytes += len(raw)
    return dict(docs=n, bytes=nbytes, seconds=time.perf_counter() - t)


def run_rensa(a):
    from rensa import RMinHash, RMinHashLSH

    lsh = RMinHashLSH(threshold=0.8, num_perm=128, num_bands=16)
    n = nbytes = dups = 0
    t = time.perf_counter()
    for i, rec in enumerate(read_subset(a.subset)):
        m = RMinHash(num_perm=128, seed=42)
        m.update(rec["text"].lower().split())
        if lsh.query(m):
            dups += 1
        else:
            lsh.insert(i, m)
        n += 1
        nbytes += rec["bytes"]
    return dict(docs=n, bytes=nbytes, seconds=time.perf_counter() - t,
                note="word-set MinHash as in rensa's README; %d duplicates" % dups)


def run_rensa_shingles(a):
    """rensa as a near-duplicate detector is used: MinHash over word 3-gram shingles of the
    lowercased words (what presswash and datatrove hash), 128 permutations, LSH at 0.8,
    candidates verified on the estimated Jaccard similarity, first document kept."""
    import re

    from rensa import RMinHash, RMinHashLSH

    lsh = RMinHashLSH(threshold=0.8, num_perm=128, num_bands=16)
    word = re.compile(r"\w+")
    n = nbytes = dups = 0
    mhs = []
    t = time.perf_counter()
    for i, rec in enumerate(read_subset(a.subset)):
        w = word.findall(rec["text"].lower())
        m = RMinHash(num_perm=128, seed=42)
        m.update([" ".join(w[j:j + 3]) for j in range(max(1, len(w) - 2))])
        if any(m.jaccard(mhs[c]) >= 0.8 for c in lsh.query(m)):
            dups += 1
        lsh.insert(i, m)
        mhs.append(m)
        n += 1
        nbytes += rec["bytes"]
    return dict(docs=n, bytes=nbytes, seconds=time.perf_counter() - t,
                note="3-word shingles, verified candidates; %d duplicates" % dups)


def run_datatrove(a):
    from datatrove.executor import LocalPipelineExecutor
    # From the module itself: the package's __init__ also pulls in tokenizer-based steps.
    from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                                  MinhashDedupFilter, MinhashDedupSignature)
    from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.utils.hashing import HashConfig

    tmp = a.tmp
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    src_dir, src_name = os.path.split(os.path.abspath(a.subset))
    cfg = MinhashConfig(hash_config=HashConfig(precision=64), num_buckets=14, hashes_per_bucket=8)
    d = lambda *p: os.path.join(tmp, *p)  # noqa: E731
    t = time.perf_counter()
    steps = [
        ([JsonlReader(src_dir, glob_pattern=src_name), GopherRepetitionFilter(), GopherQualityFilter(),
          JsonlWriter(d("filtered"))], 1),
        ([JsonlReader(d("filtered")), MinhashDedupSignature(output_folder=d("sigs"), config=cfg)], 1),
        ([MinhashDedupBuckets(input_folder=d("sigs"), output_folder=d("buckets"), config=cfg)], cfg.num_buckets),
        ([MinhashDedupCluster(input_folder=d("buckets"), output_folder=d("remove"), config=cfg)], 1),
        ([JsonlReader(d("filtered")), MinhashDedupFilter(input_folder=d("remove")), JsonlWriter(d("out"))], 1),
    ]
    for k, (pipeline, tasks) in enumerate(steps):
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=min(tasks, os.cpu_count() or 1),
                              logging_dir=d("logs", str(k))).run()
    seconds = time.perf_counter() - t
    n = nbytes = 0
    for rec in read_subset(a.subset):
        n += 1
        nbytes += rec["bytes"]
    return dict(docs=n, bytes=nbytes, seconds=seconds,
                note="Gopher repetition + quality filters, MinHash 14x8 (4 dedup steps), 2 workers")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool", choices=["ftfy", "plsfix", "trafilatura", "resiliparse", "rensa", "rensa_shingles", "datatrove"])
    ap.add_argument("--result", required=True)
    ap.add_argument("--subset")
    ap.add_argument("--html")
    ap.add_argument("--tmp", default="datatrove-tmp")
    a = ap.parse_args()
    fn = globals()["run_" + a.tool]
    try:
        res = fn(a)
    except ImportError as e:
        res = {"missing": str(e)}
    with open(a.result, "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    sys.exit(main())
