#!/usr/bin/env python3
"""Turn presswash's duplicates.jsonl (+ the input ids) into {"id","cluster"} predictions:
a cluster is a kept document plus everything whose duplicate_of chain leads to it."""
import json, sys

docs, dups, out = sys.argv[1], sys.argv[2], sys.argv[3]
of = {}
with open(dups, encoding="utf-8") as f:
    for line in f:
        if line.strip():
            d = json.loads(line)
            of[str(d["id"])] = str(d["duplicate_of"])
with open(docs, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as w:
    for line in f:
        if not line.strip():
            continue
        i = str(json.loads(line)["id"])
        c, seen = i, set()
        while c in of and c not in seen:
            seen.add(c)
            c = of[c]
        w.write(json.dumps({"id": i, "cluster": c}) + "\n")
