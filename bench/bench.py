#!/usr/bin/env python3
"""Run every tool of the benchmark on one dump and print the tables (called by bench/run.sh).

Each run is one whole process, timed from spawn to exit; peak RSS and CPU time come from
wait4()'s rusage of that process (children included). MB/s is input bytes (of the dump,
or of the subset an anchor was given) over wall seconds. Standard library only: the Python
anchors themselves run in bench/.venv through bench/anchors.py.
"""
import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import tomllib

MB = 1e6
SHORT = {"whole": "whole pipeline", "stage:repair": "repair", "stage:dedup": "dedup", "html-extract": "extract"}
GIB = 1 << 30


def log(msg):
    print("[bench] " + msg, file=sys.stderr, flush=True)


def measure(cmd, cwd=None, stdout=subprocess.DEVNULL, env=None):
    """Run `cmd`; return wall/user/sys seconds, peak RSS bytes and the exit code."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=stdout, stderr=subprocess.PIPE, env=env)
    # Read stderr while waiting so a chatty child cannot block on a full pipe.
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stderr.close()
    return {
        "wall": wall,
        "user": ru.ru_utime,
        "sys": ru.ru_stime,
        "rss": ru.ru_maxrss * 1024,
        "rc": p.returncode,
        "stderr": err.decode("utf-8", "replace")[-2000:],
    }


def dump_files(dump):
    if os.path.isfile(dump):
        return [dump]
    out = []
    for root, dirs, files in os.walk(dump):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out += [os.path.join(root, f) for f in sorted(files) if not f.startswith(".")]
    return out


def count_docs(files):
    """Documents in the dump: lines of .jsonl files, one per other file."""
    n = 0
    for f in files:
        if f.endswith(".jsonl"):
            with open(f, "rb") as fh:
                while True:
                    b = fh.read(1 << 22)
                    if not b:
                        break
                    n += b.count(b"\n")
        else:
            n += 1
    return n


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 22)
            if not b:
                return h.hexdigest()
            h.update(b)


class Bench:
    def __init__(self, a):
        self.a = a
        self.rows = []
        self.work = os.path.join(a.work, "runs")
        os.makedirs(self.work, exist_ok=True)
        # Where presswash writes its outputs (--out: e.g. /dev/shm to take the disk out).
        self.outroot = a.out or self.work
        os.makedirs(self.outroot, exist_ok=True)
        self.files = dump_files(a.dump)
        self.bytes = sum(os.path.getsize(f) for f in self.files)
        self.docs = count_docs(self.files)
        self.html_files = dump_files(a.html) if a.html else []
        self.html_bytes = sum(os.path.getsize(f) for f in self.html_files)
        # An empty stage list: the driver alone (read, parse, serialise, write).
        self.nostages = os.path.join(self.work, "nostages.toml")
        with open(self.nostages, "w") as f:
            f.write("[pipeline]\nstages = []\n")

    # -- rows ------------------------------------------------------------------------------
    def add(self, tool, what, m, nbytes, docs, note="", compare=None, extra=None):
        row = dict(tool=tool, what=what, bytes=nbytes, docs=docs, note=note, compare=compare, **m)
        row.pop("stderr", None)
        if m["rc"] != 0:
            row["note"] = (note + "; " if note else "") + "FAILED rc=%d: %s" % (m["rc"], m["stderr"].strip().splitlines()[-1:] or "")
        row["mbps"] = nbytes / MB / m["wall"] if m["wall"] > 0 and m["rc"] == 0 else None
        row["docsps"] = docs / m["wall"] if m["wall"] > 0 and docs and m["rc"] == 0 else None
        if extra:
            row.update(extra)
        self.rows.append(row)
        log("%-11s %-38s %s" % (tool, what, "%.1f MB/s" % row["mbps"] if row["mbps"] else row["note"]))
        return row

    def presswash(self, what, dump, out_name, threads=2, stages=None, config=None, keep_output=False, compare=None, runs=1):
        out = os.path.join(self.outroot, out_name)
        cmd = [self.a.bin, "run", "-q", "--input", dump, "--output", out, "--threads", str(threads)]
        if stages:
            cmd += ["--stages", stages]
        if config:
            cmd += ["-c", config]
        # cwd without a pipeline.toml: the project's defaults are the "default pipeline".
        # Several runs: the one of median wall time stands for them (this machine's speed
        # drifts from minute to minute), with the largest peak RSS of all.
        ms = []
        for _ in range(max(1, runs)):
            shutil.rmtree(out, ignore_errors=True)
            ms.append(measure(cmd, cwd=self.work))
        m = dict(sorted(ms, key=lambda x: x["wall"])[len(ms) // 2], rss=max(x["rss"] for x in ms))
        rep = {}
        try:
            with open(os.path.join(out, "report.json")) as f:
                rep = json.load(f)
        except (OSError, ValueError):
            pass
        nbytes = rep.get("bytes_in") or self.bytes
        docs = (rep.get("documents") or {}).get("read") or 0
        note = ""
        st = (rep.get("stages") or {})
        if stages and stages in st and (st[stages].get("seconds") or 0) > 0.05:
            s = st[stages]["seconds"]
            note = "stage itself %.1f MB/s (%.2f s in-process)" % (nbytes / MB / s, s)
        if len(ms) > 1:
            walls = " / ".join("%.2f" % x["wall"] for x in ms)
            note = "median of %d runs (wall %s s)" % (len(ms), walls) + ("; " + note if note else "")
        kept = (rep.get("documents") or {}).get("kept")
        extra = {"runs": len(ms), "kept": kept, "duplicates": (rep.get("documents") or {}).get("duplicates"),
                 "report_seconds": rep.get("seconds_total"), "stage_seconds": {k: v.get("seconds") for k, v in st.items()}}
        row = self.add("presswash", what, m, nbytes, docs, note, compare, extra)
        if not keep_output and not self.a.keep:
            shutil.rmtree(out, ignore_errors=True)
        return row, out

    def anchor(self, tool, what, args, nbytes_key="bytes", compare=None):
        if not self.a.python:
            return self.missing(tool, what, "not run (--no-anchors, or no virtualenv)")
        res = os.path.join(self.work, "anchor-%s.json" % tool)
        try:
            os.remove(res)
        except OSError:
            pass
        cmd = [self.a.python, os.path.join(self.a.here, "anchors.py"), tool, "--result", res] + args
        m = measure(cmd, cwd=self.work)
        info = {}
        try:
            with open(res) as f:
                info = json.load(f)
        except (OSError, ValueError):
            pass
        if info.get("missing"):
            return self.missing(tool, what, "not installed (%s)" % info["missing"])
        note = info.get("note", "")
        return self.add(tool, what, m, info.get(nbytes_key, 0), info.get("docs", 0), note, compare,
                        {"inner_seconds": info.get("seconds")})

    def missing(self, tool, what, why):
        self.rows.append(dict(tool=tool, what=what, note=why, mbps=None, docsps=None, rss=None, wall=None,
                              user=None, sys=None, rc=None, compare=None))
        log("%-11s %-38s %s" % (tool, what, why))

    # -- the run -----------------------------------------------------------------------------
    def run(self):
        a = self.a
        load0 = os.getloadavg()
        stage_names = self.stage_names()
        log("dump %s: %.1f MB, %d docs, %d files; stages %s" % (a.dump, self.bytes / MB, self.docs, len(self.files), ",".join(stage_names)))

        # The floor: reading the bytes (after one unmeasured read to warm the page cache).
        cat = ["sh", "-c", 'find "$1" -type f ! -name ".*" -print0 | xargs -0 cat', "sh", a.dump]
        measure(cat)
        self.add("cat", "read the dump (the floor)", measure(cat), self.bytes, self.docs, compare="whole")

        whole2, out2 = self.presswash("whole default pipeline, 2 threads", a.dump, "whole-t2", 2, keep_output=True, runs=a.whole_runs)
        whole2["key"] = "whole"
        whole1, out1 = self.presswash("whole default pipeline, 1 thread", a.dump, "whole-t1", 1, keep_output=True, compare="whole")
        self.identical = None
        out_bytes = sum(os.path.getsize(os.path.join(out2, f)) for f in os.listdir(out2)) if os.path.isdir(out2) else 0
        j1, j2 = os.path.join(out1, "clean.jsonl"), os.path.join(out2, "clean.jsonl")
        if os.path.exists(j1) and os.path.exists(j2):
            self.identical = sha256(j1) == sha256(j2)
        if not a.keep:
            shutil.rmtree(out1, ignore_errors=True)
            shutil.rmtree(out2, ignore_errors=True)
        if out_bytes:
            # The other floor: writing as many bytes as the whole run wrote, fsync included.
            # Real bytes (the dump, repeated): a virtual disk may write zeros for free.
            tgt = os.path.join(self.outroot, "disk-floor.tmp")
            src = " ".join(['"$1"'] * (out_bytes // max(1, self.files and os.path.getsize(self.files[0])) + 1))
            m = measure(["sh", "-c", 'cat %s | head -c "$2" > "$3" && sync "$3"' % src, "sh", self.files[0], str(out_bytes), tgt])
            if os.path.exists(tgt):
                os.remove(tgt)
            self.add("disk", "write the run's %.0f MB of output + fsync" % (out_bytes / MB), m, self.bytes, self.docs,
                     note="disk floor: presswash writes clean.jsonl + clean.csv", compare="whole")
        r = self.presswash("no stage (read, parse, write)", a.dump, "nostage", 2, config=self.nostages, compare="whole")[0]
        for s in stage_names:
            r = self.presswash("%s alone" % s, a.dump, "stage-" + s, 2, stages=s, compare="whole")[0]
            r["key"] = "stage:" + s

        # Anchors. Slow ones run on the first --anchor-mb MB of the dump; MB/s is measured on
        # that subset (whole process) and stated as such.
        sub_mb = self.make_subset("subset.jsonl", a.anchor_mb)
        sub = ["--subset", os.path.join(self.work, "subset.jsonl")]
        subnote = "first %.0f MB of the dump" % sub_mb
        # datatrove runs ~0.2 MB/s here: a fifth of the subset keeps it around a minute.
        small_mb = self.make_subset("subset-small.jsonl", a.anchor_mb / 5)
        small = ["--subset", os.path.join(self.work, "subset-small.jsonl")]
        self.anchor("ftfy", "fix_text (%s)" % subnote, sub, compare="stage:repair")
        self.anchor("plsfix", "fix_text (%s)" % subnote, sub, compare="stage:repair")
        if self.html_files:
            hb = self.html_bytes / MB
            hrow, _ = self.presswash("extract alone on %d HTML pages (%.0f MB)" % (len(self.html_files), hb), a.html, "html-extract", 2, stages="extract")
            hrow["key"] = "html-extract"
            self.anchor("trafilatura", "extract on the same HTML pages", ["--html", a.html], compare="html-extract")
            self.anchor("resiliparse", "extract_plain_text(main_content) on them", ["--html", a.html], compare="html-extract")
        else:
            self.missing("trafilatura", "extract on HTML", "skipped: no HTML pages (dump has none, no shared/data/extraction/html)")
            self.missing("resiliparse", "extract on HTML", "skipped: no HTML pages")
        self.anchor("datatrove", "reader + filters + minhash dedup (first %.1f MB)" % small_mb, small + ["--tmp", os.path.join(self.work, "datatrove")], compare="whole")
        self.anchor("rensa", "MinHash + LSH dedup, 128 perms, word set (%s)" % subnote, sub, compare="stage:dedup")
        self.anchor("rensa_shingles", "MinHash + LSH dedup, 128 perms, 3-word shingles (%s)" % subnote, sub, compare="stage:dedup")

        self.scale = None
        if a.scale_small and a.scale_large:
            # Interleaved pairs, medians: this machine's speed drifts by the minute, and one
            # pair run back to back showed ratios from 5.1 to 5.9 for the same binary; three
            # pairs gave 4.79 and 5.64 for the same code, five pairs 4.81 (pairs 4.65-5.26).
            small, large = [], []
            for i in range(max(1, a.scale_runs)):
                small.append(self.presswash("whole pipeline, 200 MB dump (--scale, run %d)" % (i + 1), a.scale_small, "scale-small", 2)[0])
                large.append(self.presswash("whole pipeline, 1000 MB dump (--scale, run %d)" % (i + 1), a.scale_large, "scale-large", 2)[0])
            self.scale = (small, large)
        load1 = os.getloadavg()
        self.load = (load0, load1)
        self.report()

    def make_subset(self, name, mb):
        """The first `mb` MB of the dump as {"id","text","bytes"} lines for the anchors."""
        limit = mb * MB
        total = 0
        with open(os.path.join(self.work, name), "w", encoding="utf-8") as out:
            for path in self.files:
                if total >= limit:
                    break
                if path.endswith(".jsonl"):
                    with open(path, "rb") as f:
                        for line in f:
                            if total >= limit:
                                break
                            try:
                                rec = json.loads(line)
                                text = rec["text"]
                            except (ValueError, KeyError, TypeError):
                                continue
                            if not isinstance(text, str):
                                continue
                            total += len(line)
                            out.write(json.dumps({"id": str(rec.get("id", "")), "text": text, "bytes": len(line)}) + "\n")
                else:
                    with open(path, "rb") as f:
                        raw = f.read()
                    total += len(raw)
                    out.write(json.dumps({"id": path, "text": raw.decode("utf-8", "replace"), "bytes": len(raw)}) + "\n")
        return total / MB

    def stage_names(self):
        try:
            out = subprocess.run([self.a.bin, "config"], cwd=self.work, capture_output=True, check=True).stdout
            return list(tomllib.loads(out.decode())["pipeline"]["stages"])
        except (subprocess.CalledProcessError, KeyError, ValueError) as e:
            log("cannot read the default stages from `presswash config`: %s" % e)
            return ["extract", "repair", "typography", "boilerplate", "title", "dedup"]

    # -- output ------------------------------------------------------------------------------
    def report(self):
        keyed = {r.get("key"): r for r in self.rows if r.get("key")}
        lines = []
        lines.append("| tool | what | MB/s | docs/s | peak RSS | wall s | CPU s | MB per CPU s | presswash MB/s ÷ this | note |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in self.rows:
            ratio = ""
            ref = keyed.get(r.get("compare")) if r.get("compare") else None
            if ref is not None and r.get("mbps") and ref.get("mbps") and ref is not r:
                ratio = "%.2fx (%s)" % (ref["mbps"] / r["mbps"], SHORT.get(r["compare"], r["compare"]))
            cpu = (r["user"] + r["sys"]) if r.get("user") is not None else None
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["tool"], r["what"],
                "%.1f" % r["mbps"] if r.get("mbps") else "-",
                "%.0f" % r["docsps"] if r.get("docsps") else "-",
                "%.0f MiB" % (r["rss"] / (1 << 20)) if r.get("rss") else "-",
                "%.2f" % r["wall"] if r.get("wall") is not None else "-",
                "%.2f" % cpu if cpu is not None else "-",
                "%.0f" % (r["bytes"] / MB / cpu) if cpu and r.get("bytes") and r.get("mbps") else "-",
                ratio, r.get("note") or ""))
        whole = keyed.get("whole")
        rep = keyed.get("stage:repair")
        ftfy = next((r for r in self.rows if r["tool"] == "ftfy" and r.get("mbps")), None)
        plsfix = next((r for r in self.rows if r["tool"] == "plsfix" and r.get("mbps")), None)
        dd = keyed.get("stage:dedup")
        fig = ["| what | goal | measured | |", "|---|---|---|---|"]

        def ok(b):
            return "ok" if b else "MISSED"
        if whole and whole.get("mbps"):
            cpu = whole["user"] + whole["sys"]
            fig.append("| whole default pipeline (2 threads) | >= 100 MB/s | %.1f MB/s (median of %d runs; %.0f MB per CPU second; load %.1f) | %s |" % (
                whole["mbps"], whole.get("runs") or 1, whole["bytes"] / MB / cpu if cpu else 0, self.load[0][0], ok(whole["mbps"] >= 100)))
        if rep and rep.get("mbps") and ftfy:
            x = rep["mbps"] / ftfy["mbps"]
            fig.append("| `repair` alone vs ftfy (whole processes) | >= 50x | %.0fx (%.1f vs %.2f MB/s; ftfy on a subset) | %s |" % (x, rep["mbps"], ftfy["mbps"], ok(x >= 50)))
        else:
            fig.append("| `repair` alone vs ftfy | >= 50x | ftfy not measured | |")
        if rep and rep.get("mbps") and plsfix:
            x = rep["mbps"] / plsfix["mbps"]
            fig.append("| `repair` alone vs plsfix (issue 3) | >= 3x | %.1fx (%.1f vs %.2f MB/s) | %s |" % (x, rep["mbps"], plsfix["mbps"], ok(x >= 3)))
        for tool, goal in (("rensa_shingles", 10), ("datatrove", 100)):
            r = next((r for r in self.rows if r["tool"] == tool and r.get("mbps")), None)
            if dd and dd.get("mbps") and r:
                x = dd["mbps"] / r["mbps"]
                fig.append("| `dedup` alone vs %s (issue 5, whole processes) | >= %dx | %.1fx (%.1f vs %.2f MB/s) | %s |" % (tool, goal, x, dd["mbps"], r["mbps"], ok(x >= goal)))
        if self.scale:
            small, large = self.scale
            rss_l, rss_s = max(r["rss"] for r in large), max(r["rss"] for r in small)
            fig.append("| peak RSS on the 1000 MB dump | <= 1 GiB | %.0f MiB (200 MB dump: %.0f MiB; largest of %d runs) | %s |" % (
                rss_l / (1 << 20), rss_s / (1 << 20), len(large), ok(rss_l <= GIB)))
            wl = statistics.median(r["wall"] for r in large)
            ws = statistics.median(r["wall"] for r in small)
            t = wl / ws
            fig.append("| time(1000 MB) / time(200 MB) | <= 5.3 | %.2f (medians of %d interleaved runs: %.1f s / %.2f s) | %s |" % (
                t, len(large), wl, ws, ok(t <= 5.3)))
        else:
            fig.append("| peak RSS on 1 GB, time(1 GB)/time(200 MB) | <= 1 GiB, <= 5.3 | run with --scale | |")
        if self.identical is None:
            fig.append("| clean.jsonl identical for 1 and 2 threads | yes | not compared (a run failed) | MISSED |")
        else:
            fig.append("| clean.jsonl identical for 1 and 2 threads | yes | %s | %s |" % ("yes" if self.identical else "NO", ok(self.identical)))
        head = "presswash benchmark: dump %s (%.1f MB, %d docs), %d cores, load average %.1f at start, %.1f at end" % (
            self.a.dump, self.bytes / MB, self.docs, os.cpu_count() or 0, self.load[0][0], self.load[1][0])
        text = "\n".join([head, "", *lines, "", "Figures (issue 6):", "", *fig, ""])
        print(text)
        with open(os.path.join(self.a.work, "results.md"), "w") as f:
            f.write(text)
        with open(os.path.join(self.a.work, "results.json"), "w") as f:
            json.dump({"dump": self.a.dump, "bytes": self.bytes, "docs": self.docs, "rows": self.rows,
                       "identical": self.identical, "load": self.load}, f, indent=1)
        log("results in %s/results.md and results.json" % self.a.work)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--dump", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--here", required=True)
    ap.add_argument("--python")
    ap.add_argument("--html")
    ap.add_argument("--anchor-mb", type=float, default=50)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--out", help="folder for presswash's outputs (default: WORK/runs)")
    ap.add_argument("--scale-small")
    ap.add_argument("--scale-large")
    ap.add_argument("--whole-runs", type=int, default=3, help="runs of the whole default pipeline (2 threads): the median stands")
    ap.add_argument("--scale-runs", type=int, default=5, help="interleaved 200 MB / 1000 MB pairs for the time ratio (medians)")
    Bench(ap.parse_args()).run()


if __name__ == "__main__":
    main()
