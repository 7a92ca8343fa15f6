#!/usr/bin/env python3
"""Run an anchor extractor over a folder of .html pages and write {"id","title","text"} JSONL.

Usage: anchors_extract.py TOOL HTML_DIR OUT.jsonl
TOOL: trafilatura | resiliparse. Prints one line "pages bytes seconds" (extraction time only,
files are read before the clock starts; one process, one core).
"""

import json
import os
import sys
import time


def load(html_dir):
    pages = []
    for name in sorted(os.listdir(html_dir)):
        if name.endswith((".html", ".htm")):
            with open(os.path.join(html_dir, name), "rb") as f:
                pages.append((os.path.splitext(name)[0], f.read().decode("utf-8", "replace")))
    return pages


def run_trafilatura(html):
    import trafilatura
    text = trafilatura.extract(html, include_comments=False, include_tables=True) or ""
    meta = trafilatura.extract_metadata(html)
    return (meta.title if meta else None), text


def run_resiliparse(html):
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree
    tree = HTMLTree.parse(html)
    text = extract_plain_text(tree, main_content=True, alt_texts=False)
    return tree.title, text


def main():
    tool, html_dir, out = sys.argv[1], sys.argv[2], sys.argv[3]
    fn = {"trafilatura": run_trafilatura, "resiliparse": run_resiliparse}[tool]
    pages = load(html_dir)
    results = []
    t0 = time.perf_counter()
    for pid, html in pages:
        try:
            title, text = fn(html)
        except Exception:  # an anchor failing on a page scores as an empty prediction
            title, text = None, ""
        results.append((pid, title, text))
    secs = time.perf_counter() - t0
    with open(out, "w", encoding="utf-8") as f:
        for pid, title, text in results:
            f.write(json.dumps({"id": pid, "title": title, "text": text}, ensure_ascii=False) + "\n")
    print(len(pages), sum(len(h.encode("utf-8")) for _, h in pages), f"{secs:.4f}")


if __name__ == "__main__":
    main()
