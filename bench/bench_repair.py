#!/usr/bin/env python3
"""Time ftfy (with typography off: encoding, entities, controls, the fixes `repair` makes; and
with its defaults, what users run) and plsfix on the `text` fields of a JSONL file; print MB/s
as JSON. Used by bench_repair.sh inside its virtualenv."""
import json
import sys
import time

path = sys.argv[1]
texts = []
with open(path, encoding="utf-8") as f:
    for line in f:
        try:
            texts.append(json.loads(line).get("text") or "")
        except ValueError:
            pass
mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
result = {"mb": mb}

import ftfy  # noqa: E402

cfg = ftfy.TextFixerConfig(
    unescape_html=True, remove_terminal_escapes=True, fix_encoding=True, restore_byte_a0=True,
    replace_lossy_sequences=True, decode_inconsistent_utf8=True, fix_c1_controls=True,
    fix_latin_ligatures=False, fix_character_width=False, uncurl_quotes=False,
    fix_line_breaks=False, fix_surrogates=True, remove_control_chars=True,
    normalization="NFC", explain=False,
)
t0 = time.perf_counter()
for t in texts:
    ftfy.fix_text(t, cfg)
result["ftfy"] = mb / (time.perf_counter() - t0)
t0 = time.perf_counter()
for t in texts:
    ftfy.fix_text(t)
result["ftfy_default"] = mb / (time.perf_counter() - t0)

try:
    import plsfix  # noqa: E402

    t0 = time.perf_counter()
    for t in texts:
        plsfix.fix_text(t)
    result["plsfix"] = mb / (time.perf_counter() - t0)
except Exception as e:  # plsfix is optional
    result["plsfix_error"] = str(e)
print(json.dumps(result))
