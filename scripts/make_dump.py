#!/usr/bin/env python3
"""Write a synthetic scraped-news dump for end-to-end tests (standard library only).

Unlike ../shared/eval/make_scale_corpus.py (which recombines a licensed corpus and is not
part of a user's clone), this needs nothing but Python: stories are made of generated
sentences over a fixed vocabulary, wrapped in site chrome (menus, ads, share prompts,
comment forms), and a share of them are republished as near-duplicate copies (another
site, another headline, a dateline, dropped paragraphs, "Read more" truncation, typos),
so that every stage, cross-shard dedup included, has work to do. Deterministic for a
given --seed.

  python3 scripts/make_dump.py --mb 20 --out DIR [--files 3] [--seed 1]

Writes DIR/dump-00000.jsonl ... ({"id","source","text"} per line).
"""
import argparse
import json
import os
import random

WORDS = ("council minister report water energy budget school hospital river bridge court "
         "election market price worker union police village city coast storm harvest farmer "
         "bank loan rate tax plan road rail station airport museum festival team season match "
         "player coach league research study doctor patient vaccine climate forest fire smoke "
         "border trade export import factory plant engineer software company customer office "
         "mayor governor senator judge lawyer witness prison reform vote campaign poll debate").split()
VERBS = ("said approved rejected announced warned promised expected reported confirmed denied "
         "opened closed raised cut delayed reviewed criticised welcomed").split()
NAMES = ("Anna Lindqvist", "Tomas Berg", "Maria Okafor", "Jean Dubois", "Li Wei", "Sara Haddad",
         "Piotr Nowak", "Elena Rossi", "David Cohen", "Aiko Tanaka", "Carlos Mendes", "Olga Ivanova")
PLACES = ("Northfield", "Eastport", "Lakeside", "Riverton", "Hillcrest", "Westbrook", "Stonebridge")
CHROME_TOP = ["Home", "News", "World", "Business", "Sport", "Skip to main content", "Sign in", "Subscribe",
              "Menu", "Advertisement", "Breaking News", "Follow us"]
CHROME_BOTTOM = ["Share this article", "Share on Facebook", "Leave a Reply",
                 "Your email address will not be published.", "Related Articles", "Most Popular",
                 "Subscribe to our newsletter", "Privacy Policy | Terms of Use", "Back to top"]
DATELINES = ["LONDON (Reuters) - ", "NEW YORK (AP) \u2014 ", "(AFP) - "]


def sentence(rng):
    n = rng.randint(9, 22)
    w = [rng.choice(WORDS) for _ in range(n)]
    w.insert(rng.randint(1, 3), rng.choice(VERBS))
    if rng.random() < 0.5:
        w.insert(rng.randint(0, len(w)), rng.choice(PLACES))
    if rng.random() < 0.3:
        w.append(str(rng.randint(2, 9800)))
    s = " ".join(w)
    s = s[0].upper() + s[1:] + "."
    if rng.random() < 0.25:
        s += f' "{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} {rng.choice(VERBS)}," {rng.choice(NAMES)} said.'
    return s


def story(seed):
    rng = random.Random(seed)
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 9))).capitalize()
    paras = [" ".join(sentence(rng) for _ in range(rng.randint(2, 4))) for _ in range(rng.randint(4, 10))]
    return title, paras


def typo(rng, text):
    i = rng.randrange(len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def page(rng, title, paras, copy):
    lines = rng.sample(CHROME_TOP, rng.randint(2, 5)) + [title, ""]
    body = list(paras)
    if copy:
        if rng.random() < 0.5:
            body[0] = rng.choice(DATELINES) + body[0]
        if len(body) > 3 and rng.random() < 0.4:
            del body[rng.randrange(1, len(body))]
        if rng.random() < 0.3:
            body = body[: max(2, len(body) * 2 // 3)] + ["Read more"]
        if rng.random() < 0.5:
            k = rng.randrange(len(body))
            body[k] = typo(rng, body[k])
    for p in body:
        lines += [p, ""]
    lines += rng.sample(CHROME_BOTTOM, rng.randint(2, 5))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=20)
    ap.add_argument("--out", required=True)
    ap.add_argument("--files", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(a.seed)
    target = int(a.mb * 1e6)
    per_file = target // max(1, a.files) + 1
    written, n, stories = 0, 0, 0
    for f in range(max(1, a.files)):
        with open(os.path.join(a.out, f"dump-{f:05d}.jsonl"), "w", encoding="utf-8") as out:
            size = 0
            while size < per_file and written < target:
                if stories and rng.random() < 0.3:
                    seed, copy = a.seed * 1_000_003 + rng.randrange(stories), True
                else:
                    seed, copy = a.seed * 1_000_003 + stories, False
                    stories += 1
                title, paras = story(seed)
                if copy:
                    title = rng.choice(["UPDATE 1-", "Watch: ", ""]) + title
                rec = {"id": f"d{n:07d}", "source": f"site{rng.randrange(40)}.example",
                       "text": page(rng, title, paras, copy)}
                line = json.dumps(rec, ensure_ascii=False) + "\n"
                out.write(line)
                size += len(line)
                written += len(line)
                n += 1
    print(json.dumps({"docs": n, "stories": stories, "bytes": written, "out": a.out}))


if __name__ == "__main__":
    main()
