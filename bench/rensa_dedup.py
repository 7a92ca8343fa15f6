#!/usr/bin/env python3
"""rensa MinHash LSH dedup at its usual settings (128 permutations, threshold 0.8 via
16 bands x 8 rows, 3-word shingles of lowercased words), first document of a cluster kept.
Writes {"id","cluster"} predictions and prints the dedup time."""
import json, re, sys, time
from rensa import RMinHash, RMinHashLSH

docs_path, out = sys.argv[1], sys.argv[2]
docs = [json.loads(l) for l in open(docs_path, encoding="utf-8") if l.strip()]
t = time.perf_counter()
lsh = RMinHashLSH(threshold=0.8, num_perm=128, num_bands=16)
parent = {}
word = re.compile(r"\w+")
mhs = []
for i, d in enumerate(docs):
    w = word.findall(d["text"].lower())
    sh = [" ".join(w[j:j + 3]) for j in range(max(1, len(w) - 2))]
    m = RMinHash(num_perm=128, seed=42)
    m.update(sh)
    cands = [c for c in lsh.query(m) if c < i and m.jaccard(mhs[c]) >= 0.8]
    parent[i] = min(cands) if cands else i
    lsh.insert(i, m)
    mhs.append(m)
secs = time.perf_counter() - t
def root(i):
    while parent[i] != i:
        i = parent[i]
    return i
with open(out, "w", encoding="utf-8") as w:
    for i, d in enumerate(docs):
        w.write(json.dumps({"id": d["id"], "cluster": docs[root(i)]["id"]}) + "\n")
print(f"SECONDS {secs:.3f}")
