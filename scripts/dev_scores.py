#!/usr/bin/env python3
"""Print presswash's scores on the development sets in ../shared (not part of CI).

Runs the release binary over each set the way the issues measure it and calls the shared
scorers. Usage: python3 scripts/dev_scores.py [--shared ../shared] [--only NAME ...]
Names: cases, docs, files, typography, html, textdump, dedup.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "presswash")


def run(args):
    p = subprocess.run([BIN, "run", "-q"] + args, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"presswash failed ({p.returncode}): {p.stderr}")


def jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def outputs(out):
    """id -> text of kept docs, plus empty text for rejected ones (so ids are never missing)."""
    pred = {}
    for r in jsonl(os.path.join(out, "clean.jsonl")):
        pred[r["id"]] = r
    for r in jsonl(os.path.join(out, "rejects.jsonl")):
        pred.setdefault(r["id"], {"id": r["id"], "text": "", "title": None})
    return pred


def score(scorer, args):
    cmd = [sys.executable, os.path.join(SHARED, "eval", scorer)] + args
    p = subprocess.run(cmd, capture_output=True, text=True)
    print(p.stdout.strip() or p.stderr.strip())


def text_cases(name, truth, stages, tmp, field="input"):
    inp = os.path.join(tmp, f"{name}_in.jsonl")
    write_jsonl(inp, [{"id": r["id"], "text": r[field]} for r in jsonl(truth)])
    out = os.path.join(tmp, f"{name}_out")
    run(["--input", inp, "--output", out, "--stages", stages, "-c", os.path.join(tmp, "none.toml")])
    pred = outputs(out)
    # Inputs that were empty or rejected keep their input text: a reject is not a repair.
    rows = [{"id": r["id"], "text": pred.get(r["id"], {}).get("text", r[field])} for r in jsonl(truth)]
    pf = os.path.join(tmp, f"{name}_pred.jsonl")
    write_jsonl(pf, rows)
    print(f"== {name} ({stages})")
    score("score_encoding.py", ["--truth", truth, "--pred", pf])


def main():
    global SHARED
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--only", nargs="*")
    a = ap.parse_args()
    SHARED = os.path.abspath(a.shared)
    want = set(a.only or ["cases", "docs", "files", "typography", "html", "textdump", "dedup"])
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    d = lambda *p: os.path.join(SHARED, "data", *p)
    with tempfile.TemporaryDirectory() as tmp:
        open(os.path.join(tmp, "none.toml"), "w").close()
        if "cases" in want:
            text_cases("cases", d("encoding", "cases.jsonl"), "repair", tmp)
        if "docs" in want:
            text_cases("docs", d("encoding", "docs.jsonl"), "repair", tmp)
        if "typography" in want:
            text_cases("typography", d("typography", "cases.jsonl"), "repair,typography", tmp)
        if "files" in want:
            out = os.path.join(tmp, "files_out")
            run(["--input", d("encoding", "files"), "--output", out, "--stages", "repair", "-c", os.path.join(tmp, "none.toml")])
            pred = outputs(out)
            rows = []
            for r in jsonl(d("encoding", "files_truth.jsonl")):
                stem = os.path.splitext(os.path.basename(r["file"]))[0]
                rows.append({"id": r["id"], "text": pred.get(stem, {}).get("text", "")})
            pf = os.path.join(tmp, "files_pred.jsonl")
            write_jsonl(pf, rows)
            print("== files (decoding + repair)")
            score("score_encoding.py", ["--truth", d("encoding", "files_truth.jsonl"), "--pred", pf])
        for name, sub, stages in [("html", "html", "extract,repair,typography,boilerplate,title"),
                                  ("textdump", "textdump", "repair,typography,boilerplate,title")]:
            if name not in want:
                continue
            out = os.path.join(tmp, f"{name}_out")
            run(["--input", d("extraction", sub), "--output", out, "--stages", stages, "-c", os.path.join(tmp, "none.toml")])
            pf = os.path.join(tmp, f"{name}_pred.jsonl")
            write_jsonl(pf, [{"id": k, "text": v.get("text", "")} for k, v in outputs(out).items()])
            print(f"== extraction from {name} ({stages})")
            score("score_extraction.py", ["--truth", d("extraction", "truth.jsonl"), "--pred", pf])
        if "dedup" in want:
            out = os.path.join(tmp, "dedup_out")
            run(["--input", d("dedup", "docs.jsonl"), "--output", out, "-c", os.path.join(tmp, "none.toml")])
            parent = {r["id"]: r["duplicate_of"] for r in jsonl(os.path.join(out, "duplicates.jsonl"))}
            rows = []
            for r in jsonl(d("dedup", "docs.jsonl")):
                c = r["id"]
                seen = set()
                while c in parent and c not in seen:
                    seen.add(c)
                    c = parent[c]
                rows.append({"id": r["id"], "cluster": c})
            pf = os.path.join(tmp, "dedup_pred.jsonl")
            write_jsonl(pf, rows)
            print("== dedup (default pipeline)")
            score("score_dedup.py", ["--truth", d("dedup", "clusters.jsonl"), "--pred", pf])
            kept = os.path.join(out, "clean.jsonl")
            score("score_dedup.py", ["--truth", d("dedup", "clusters.jsonl"), "--kept", kept])


if __name__ == "__main__":
    main()
