//! End-to-end tests of the binary: inputs of every format, bad input, config errors,
//! determinism across thread counts, atomic outputs, the accounting identity.

mod common;

use common::*;
use serde_json::Value;

fn ids(v: &[Value]) -> Vec<String> {
    v.iter()
        .map(|o| o["id"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The row of `rows` whose `key` is `value` (a test failure naming them when there is none).
fn row<'a>(rows: &'a [Value], key: &str, value: &str) -> &'a Value {
    rows.iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no row with {key} = {value}: {rows:?}"))
}

fn report(s: &Scratch, out: &str) -> Value {
    serde_json::from_str(&s.read(&format!("{out}/report.json"))).unwrap()
}

fn assert_accounting(r: &Value) {
    let d = &r["documents"];
    let (read, kept, dup, rej) = (
        d["read"].as_u64().unwrap(),
        d["kept"].as_u64().unwrap(),
        d["duplicates"].as_u64().unwrap(),
        d["rejected"].as_u64().unwrap(),
    );
    assert_eq!(read, kept + dup + rej, "accounting identity: {d}");
    assert_eq!(r["accounting_ok"], Value::Bool(true));
    assert_eq!(r["complete"], Value::Bool(true));
}

const STORY: &str = "The city council approved the new budget on Tuesday after a long debate.\n\nMayor Jane Doe said the plan would fund schools, parks and road repairs over the next three years.";

#[test]
fn every_input_format_plain_and_compressed() {
    let s = Scratch::new();
    let line =
        serde_json::json!({"id": "j1", "text": STORY, "title": "Budget passes", "lang": "en"})
            .to_string()
            + "\n";
    let csv = format!("id,text,lang\nc1,\"{}\",en\n", STORY.replace('"', "\"\""));
    let html = format!(
        "<html><head><title>Budget</title></head><body><p>{}</p></body></html>",
        STORY
    );
    for (name, bytes) in [
        ("in/a.txt", STORY.as_bytes().to_vec()),
        ("in/b.html", html.clone().into_bytes()),
        ("in/c.jsonl", line.clone().into_bytes()),
        ("in/d.csv", csv.clone().into_bytes()),
    ] {
        s.write(name, &bytes);
        s.write(&format!("{name}.gz").replace("in/", "in/gz_"), gzip(&bytes));
        s.write(
            &format!("{name}.zst").replace("in/", "in/zst_"),
            zstd(&bytes),
        );
    }
    let out = presswash(
        s.dir.path(),
        &[
            "run",
            "--input",
            "in",
            "--output",
            "out",
            "--stages",
            "repair,typography",
            "-q",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let clean = s.jsonl("out/clean.jsonl");
    let got = ids(&clean);
    assert_eq!(got.len(), 12, "{got:?}");
    for want in ["a", "b", "j1", "c1", "gz_a", "zst_a", "gz_b", "zst_b"] {
        assert!(got.contains(&want.to_string()), "missing {want} in {got:?}");
    }
    // JSONL metadata is carried through, title field wins.
    let j1 = clean.iter().find(|o| o["id"] == "j1").unwrap();
    assert_eq!(j1["lang"], "en");
    assert_eq!(j1["title"], "Budget passes");
    assert!(j1["input"].as_str().unwrap().ends_with("c.jsonl:1"));
    let c1 = clean.iter().find(|o| o["id"] == "c1").unwrap();
    assert!(c1["text"].as_str().unwrap().contains("Mayor Jane Doe"));
    for o in &clean {
        assert_eq!(o["encoding"], "UTF-8");
        assert!(o["chars_in"].as_u64().unwrap() > 0);
    }
    assert_accounting(&report(&s, "out"));
    // The CSV reads back with a standard reader and carries the same documents.
    let mut rdr = csv::Reader::from_path(s.path("out/clean.csv")).unwrap();
    let headers = rdr.headers().unwrap().clone();
    assert_eq!(&headers[0], "id");
    assert_eq!(&headers[3], "text");
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), clean.len());
    for (row, obj) in rows.iter().zip(&clean) {
        assert_eq!(&row[0], obj["id"].as_str().unwrap());
        assert_eq!(&row[3], obj["text"].as_str().unwrap());
    }
    // Nothing left under a temporary name.
    for e in std::fs::read_dir(s.path("out")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "leftover temp file {name}");
    }
}

#[test]
fn bad_inputs_are_rejected_with_reasons_and_the_run_goes_on() {
    let s = Scratch::new();
    s.write("in/good.txt", STORY);
    s.write(
        "in/binary.txt",
        [
            0x7fu8, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0, 1, 0, 0, 0,
        ],
    );
    s.write("in/empty.txt", "");
    // Latin-1 bytes: decoded, not rejected, and the encoding recorded.
    s.write("in/latin1.txt", b"Le conseil municipal a adopt\xe9 le budget apr\xe8s un long d\xe9bat. Le maire a d\xe9clar\xe9 que les \xe9coles en profiteraient.");
    s.write("in/lines.jsonl", format!(
        "{}\n{{\"id\": \"broken\", \"text\": \n{}\n",
        serde_json::json!({"id": "ok1", "text": STORY}),
        serde_json::json!({"id": "ok2", "text": "Second story about the harbour reopening after the storm, officials said."})
    ));
    let gz = gzip(STORY.repeat(50).as_bytes());
    s.write("in/truncated.txt.gz", &gz[..gz.len() / 2]);
    s.write("in/notes.pdf", b"%PDF-1.4 something");
    let out = presswash(
        s.dir.path(),
        &["run", "--input", "in", "--output", "out", "-q"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let kept = ids(&s.jsonl("out/clean.jsonl"));
    for want in ["good", "latin1", "ok2"] {
        assert!(
            kept.contains(&want.to_string()),
            "{want} not kept: {kept:?}"
        );
    }
    // `ok1` has the same text as `good`: dedup drops it as an exact duplicate.
    let dups = s.jsonl("out/duplicates.jsonl");
    assert!(
        kept.contains(&"ok1".to_string())
            || dups
                .iter()
                .any(|d| d["id"] == "ok1" && d["duplicate_of"] == "good"),
        "ok1 neither kept nor a duplicate of good: {dups:?}"
    );
    let latin = s
        .jsonl("out/clean.jsonl")
        .into_iter()
        .find(|o| o["id"] == "latin1")
        .unwrap();
    assert!(
        latin["text"].as_str().unwrap().contains("adopté"),
        "{latin}"
    );
    assert_ne!(latin["encoding"], "UTF-8");
    let rejects = s.jsonl("out/rejects.jsonl");
    let reason = |needle: &str| -> String {
        let r = rejects.iter().find(|r| {
            r["source"].as_str().unwrap_or("").contains(needle)
                || r["id"].as_str().unwrap_or("").contains(needle)
        });
        r.unwrap_or_else(|| panic!("no reject for {needle}: {rejects:?}"))["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(reason("binary"), "binary");
    assert_eq!(reason("empty"), "empty");
    assert_eq!(reason("lines.jsonl:2"), "bad-json");
    assert_eq!(reason("truncated"), "truncated");
    assert_eq!(reason("notes"), "unsupported-format");
    for r in &rejects {
        assert!(!r["detail"].as_str().unwrap().is_empty());
    }
    assert_accounting(&report(&s, "out"));
}

#[test]
fn broken_archives_arrays_and_old_mac_csv_keep_what_can_be_read() {
    let s = Scratch::new();
    let rec = |id: &str, n: usize| serde_json::json!({"id": id, "text": format!("{STORY} Update number {n} of the story.")});
    // an array cut off in its third record: the first two are kept
    let array = format!("[{}, {}, {}]", rec("a1", 1), rec("a2", 2), rec("a3", 3));
    s.write("in/cut.json", &array[..array.len() - 40]);
    // text after the array
    s.write("in/tail.json", format!("[{}] and more", rec("t1", 4)));
    // not a zstd stream at all
    s.write("in/fake.jsonl.zst", format!("{}\n", rec("z1", 5)));
    // bare CR line ends, a line break inside a quoted field
    s.write(
        "in/mac.csv",
        format!("id,text\rm1,\"{STORY}\"\rm2,\"Second story\rabout the harbour.\"\r"),
    );
    let out = presswash(
        s.dir.path(),
        &[
            "run", "--input", "in", "--output", "out", "--stages", "repair", "-q",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let clean = s.jsonl("out/clean.jsonl");
    assert_eq!(ids(&clean), ["a1", "a2", "m1", "m2", "t1"]);
    let source = |id: &str| clean.iter().find(|d| d["id"] == id).unwrap()["source"].clone();
    assert_eq!(source("a2"), "cut.json:2");
    assert_eq!(source("m1"), "mac.csv:2");
    let m2_line = 3 + STORY.matches('\n').count();
    assert_eq!(source("m2"), format!("mac.csv:{m2_line}").as_str());
    let m2 = clean.iter().find(|d| d["id"] == "m2").unwrap();
    assert_eq!(m2["text"], "Second story\nabout the harbour.");
    let rejects = s.jsonl("out/rejects.jsonl");
    let reject = |src: &str| row(&rejects, "source", src);
    assert_eq!(reject("cut.json:3")["reason"], "truncated");
    assert!(reject("cut.json:3")["detail"]
        .as_str()
        .unwrap()
        .contains("after record 2"));
    assert_eq!(reject("tail.json:2")["reason"], "bad-json");
    assert_eq!(reject("fake.jsonl.zst:1")["reason"], "corrupt-archive");
    assert_eq!(rejects.len(), 3, "{rejects:?}");
    assert_accounting(&report(&s, "out"));
}

#[test]
fn damaged_utf8_and_lone_surrogates_are_mended_and_logged() {
    let s = Scratch::new();
    // a dump cut at a byte limit in the middle of its last character
    let story = "Le conseil municipal a adopté le budget mardi après un long débat.\n\nLa maire a déclaré que les écoles, les parcs et les routes en profiteraient dès l’été.";
    let cut = &story.as_bytes()[..story.len() - 2];
    s.write("in/cut.txt", cut);
    // Python's `json` writes a lone surrogate of a string cut between the halves of a pair
    let line = r#"{"id": "lone", "text": "The harbour reopened on Monday after the storm, officials said.\n\nFishermen cheered as the first boats left the port at dawn \ud83d"}"#;
    s.write("in/lines.jsonl", format!("{line}\n"));
    let out = presswash(
        s.dir.path(),
        &[
            "run", "--input", "in", "--output", "out", "--stages", "repair",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let clean = s.jsonl("out/clean.jsonl");
    let doc = |id: &str| row(&clean, "id", id);
    let c = doc("cut");
    assert_eq!(c["encoding"], "UTF-8");
    assert_eq!(
        c["text"],
        String::from_utf8_lossy(&cut[..cut.len() - 1]).as_ref()
    );
    assert_eq!(c["changes"]["read"]["truncated-utf8"], 1, "{c}");
    let l = doc("lone");
    assert!(
        l["text"].as_str().unwrap().ends_with("at dawn \u{FFFD}"),
        "{l}"
    );
    assert_eq!(l["changes"]["read"]["lone-surrogate"], 1, "{l}");
    let r = report(&s, "out");
    assert_eq!(r["stages"]["read"]["rules"]["truncated-utf8"], 1);
    assert_eq!(r["stages"]["read"]["rules"]["lone-surrogate"], 1);
    let summary = stderr(&out);
    assert!(summary.contains("truncated-utf8 1"), "{summary}");
    assert_accounting(&r);
}

#[cfg(unix)]
#[test]
fn broken_links_and_link_loops_are_rejects_and_the_run_goes_on() {
    let s = Scratch::new();
    s.write("in/good.txt", STORY);
    s.write("in/sub/other.txt", "The harbour reopened on Monday after the storm, officials said.\n\nFishermen cheered as the first boats left the port at dawn.");
    std::os::unix::fs::symlink("/nonexistent/presswash-test", s.path("in/dangling.txt")).unwrap();
    std::os::unix::fs::symlink("..", s.path("in/sub/loop")).unwrap();
    let out = presswash(
        s.dir.path(),
        &["run", "--input", "in", "--output", "out", "-q"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let kept = ids(&s.jsonl("out/clean.jsonl"));
    assert_eq!(kept, ["good", "sub/other"]);
    let rejects = s.jsonl("out/rejects.jsonl");
    for (source, needle) in [("dangling.txt", "No such file"), ("sub/loop", "loop")] {
        let r = rejects
            .iter()
            .find(|r| r["source"] == source)
            .unwrap_or_else(|| panic!("no reject for {source}: {rejects:?}"));
        assert_eq!(r["reason"], "read-error");
        assert!(r["detail"].as_str().unwrap().contains(needle), "{r}");
    }
    assert_accounting(&report(&s, "out"));
}

#[test]
fn a_pretty_printed_record_is_one_record_and_a_broken_first_line_loses_only_itself() {
    let s = Scratch::new();
    let rec = serde_json::json!({"id": "pretty", "text": STORY, "section": "city"});
    s.write("in/one.json", serde_json::to_string_pretty(&rec).unwrap());
    let good = serde_json::json!({"id": "second", "text": "The harbour reopened on Monday after the storm, officials said.\n\nFishermen cheered as the first boats left at dawn."});
    s.write(
        "in/dump.jsonl",
        format!("{{\"id\": \"cut\", \"text\": \"the line was cut\n{good}\n"),
    );
    let out = presswash(
        s.dir.path(),
        &["run", "--input", "in", "--output", "out", "-q"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let clean = s.jsonl("out/clean.jsonl");
    assert_eq!(ids(&clean), ["second", "pretty"]);
    let pretty = &clean[1];
    assert_eq!(
        (pretty["input"].as_str(), pretty["section"].as_str()),
        (Some("one.json:1"), Some("city"))
    );
    let rejects = s.jsonl("out/rejects.jsonl");
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(
        (rejects[0]["source"].as_str(), rejects[0]["reason"].as_str()),
        (Some("dump.jsonl:1"), Some("bad-json"))
    );
    assert_accounting(&report(&s, "out"));
}

#[test]
fn output_is_identical_for_one_and_two_threads() {
    let s = Scratch::new();
    let mut lines = String::new();
    for i in 0..400 {
        let text = format!(
            "Report number {i} from the harbour.\n\nOfficials said {} ships arrived on day {} and that trade rose {}% this quarter.\n\nAdvertisement\n\nThe port authority expects further growth, a spokesman said on {}.",
            i * 7 % 13,
            i % 31,
            i % 17,
            ["Monday", "Tuesday", "Friday"][i % 3]
        );
        lines.push_str(&serde_json::json!({"id": format!("d{i}"), "text": text, "source": format!("site{}", i % 5)}).to_string());
        lines.push('\n');
    }
    s.write("in/dump.jsonl", &lines);
    s.write("p.toml", "[pipeline]\nbatch_docs = 37\n");
    for t in ["1", "2"] {
        let out = presswash(
            s.dir.path(),
            &[
                "run",
                "-c",
                "p.toml",
                "--input",
                "in",
                "--output",
                &format!("out{t}"),
                "--threads",
                t,
                "-q",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    for f in [
        "clean.jsonl",
        "clean.csv",
        "duplicates.jsonl",
        "rejects.jsonl",
    ] {
        assert_eq!(
            s.read(&format!("out1/{f}")),
            s.read(&format!("out2/{f}")),
            "{f} differs between thread counts"
        );
    }
}

#[test]
fn bad_config_fails_fast_naming_the_key() {
    let s = Scratch::new();
    s.write("in/a.txt", STORY);
    s.write(
        "bad.toml",
        "[pipeline]\nstages = [\"repair\"]\nthreds = 4\n",
    );
    let out = presswash(
        s.dir.path(),
        &["run", "-c", "bad.toml", "--input", "in", "--output", "out"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("threds") && err.contains("line 3"), "{err}");
    assert!(
        !s.path("out/clean.jsonl").exists(),
        "nothing may be written on a config error"
    );

    s.write("bad2.toml", "[stages.typography]\nquotes = 3\n");
    let out = presswash(
        s.dir.path(),
        &["run", "-c", "bad2.toml", "--input", "in", "--output", "out"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("quotes"), "{}", stderr(&out));

    let out = presswash(
        s.dir.path(),
        &[
            "run",
            "--input",
            "in",
            "--output",
            "out",
            "--stages",
            "repair,nonsense",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nonsense"));

    let out = presswash(
        s.dir.path(),
        &["run", "--input", "missing-folder", "--output", "out"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing-folder"));

    let out = presswash(s.dir.path(), &["run", "-c", "nope.toml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn config_command_prints_every_default() {
    let s = Scratch::new();
    let out = presswash(s.dir.path(), &["config"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for key in [
        "[input]",
        "paths",
        "[output]",
        "[pipeline]",
        "stages",
        "[stages.repair]",
        "[stages.typography]",
        "[stages.boilerplate]",
        "[stages.dedup]",
    ] {
        assert!(text.contains(key), "missing {key} in\n{text}");
    }
    // What it prints is itself a valid config.
    s.write("printed.toml", text.as_bytes());
    let out = presswash(s.dir.path(), &["config", "-c", "printed.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn unwritable_output_is_a_fatal_io_error() {
    let s = Scratch::new();
    s.write("in/a.txt", STORY);
    s.write("out", "a file where the output folder should be");
    let out = presswash(
        s.dir.path(),
        &["run", "--input", "in", "--output", "out", "-q"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn help_and_version() {
    let s = Scratch::new();
    let out = presswash(s.dir.path(), &["run", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--config",
        "--input",
        "--output",
        "--threads",
        "--stages",
        "--quiet",
    ] {
        assert!(help.contains(flag), "{flag} missing from help");
    }
    let out = presswash(s.dir.path(), &["--version"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn json_files_as_lines_or_one_array_and_lenient_stage_lists() {
    let s = Scratch::new();
    let rec = |id: &str| serde_json::json!({"id": id, "text": STORY});
    s.write("in/lines.json", format!("{}\n{}\n", rec("l1"), rec("l2")));
    s.write(
        "in/array.json",
        format!("\u{feff}\n [{}, {}]", rec("a1"), rec("a2")),
    );
    s.write("in/broken.json", "[{\"id\": \"x\", \"text\": ");
    let out = presswash(
        s.dir.path(),
        &[
            "run",
            "--input",
            "in",
            "--output",
            "out",
            "--stages",
            "repair, Typography",
            "-q",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let kept = ids(&s.jsonl("out/clean.jsonl"));
    assert_eq!(kept, vec!["a1", "a2", "l1", "l2"]);
    let rejects = s.jsonl("out/rejects.jsonl");
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    // cut off inside the array: the file ends where a value should be
    assert_eq!(rejects[0]["reason"], "truncated");
    assert!(rejects[0]["detail"]
        .as_str()
        .unwrap()
        .contains("broken.json"));
    let r = report(&s, "out");
    assert_eq!(r["stages_run"], serde_json::json!(["repair", "typography"]));
    assert_accounting(&r);
}

#[test]
fn files_without_a_known_extension_are_read_by_content() {
    let s = Scratch::new();
    let line = serde_json::json!({"id": "j1", "text": STORY}).to_string() + "\n";
    // Named on the command line: JSON Lines, a JSON array, HTML and plain text by their content.
    s.write("cases.in", &line);
    s.write(
        "array.dat",
        format!("[{}]", line.trim()).replace("\"j1\"", "\"a1\""),
    );
    s.write(
        "page.in",
        format!("<!doctype html><html><body><p>{STORY}</p></body></html>"),
    );
    s.write("story.in", STORY);
    // Found in a folder: JSON is recognised, other unknown files are rejected, never dropped.
    s.write("dir/more.data", line.replace("\"j1\"", "\"d1\""));
    s.write("dir/notes.xyz", STORY);
    let args = [
        "run",
        "-i",
        "cases.in",
        "-i",
        "array.dat",
        "-i",
        "page.in",
        "-i",
        "story.in",
        "-i",
        "dir",
        "-o",
        "out",
        "--stages",
        "extract,repair",
        "-q",
    ];
    let out = presswash(s.dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let clean = s.jsonl("out/clean.jsonl");
    let mut got = ids(&clean);
    got.sort();
    assert_eq!(got, ["a1", "d1", "j1", "page", "story"]);
    let page = clean.iter().find(|o| o["id"] == "page").unwrap();
    assert!(
        !page["text"].as_str().unwrap().contains("<p>"),
        "HTML went through extract: {page}"
    );
    let rejects = s.jsonl("out/rejects.jsonl");
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["reason"], "unsupported-format");
    assert!(rejects[0]["source"].as_str().unwrap().contains("notes.xyz"));
    assert_accounting(&report(&s, "out"));
}
