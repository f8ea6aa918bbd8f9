//! README.md's debugfs and merge tables copy names and line formats from
//! the code, and copies drift. These tests render what the platform-free
//! code prints (`vmatrack_core::engine`), read the kernel-only names from
//! their source files as text, and compare both with the README, so that
//! renaming a stat, a reason, a debugfs file, a probe or a field of a
//! line without updating the README fails `cargo test`.
//!
//! README conventions relied on: tables are found by their first header
//! cell; names and formats are the backticked spans of a cell; in a
//! format, `N`-like capitals are values, `a|b` are alternatives, and `[..]`
//! is a tail that only some lines have.

use vmatrack_core::engine::{
    events::EventOp,
    merge::{
        flags, write_attempts, write_stats, write_whatif, Arch, AttemptCounts, Cause, MergeStats,
        Reason, Reasons, Summary, SummaryHead, Totals, WhatIfResult,
    },
};

const X86: Arch = Arch {
    page_shift: 12,
    flag_names: &flags::X86_64_NAMES,
};

/// A file of the repository, by its path from the top.
fn read(rel: &str) -> String {
    let path = format!("{}/../../../{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// The README's text under `heading` (a whole line), up to the next
/// heading of the same level or above.
fn section(heading: &str) -> String {
    let readme = read("README.md");
    let level = heading.find(' ').unwrap_or(0);
    let mut lines = readme.lines().skip_while(|l| *l != heading);
    assert!(lines.next().is_some(), "README.md has no `{heading}` line");
    let ends = |l: &&str| {
        l.find(' ')
            .is_some_and(|h| (1..=level).contains(&h) && l[..h].bytes().all(|b| b == b'#'))
    };
    let body: Vec<&str> = lines.take_while(|l| !ends(l)).collect();
    body.join("\n")
}

/// The cells of one table row, `\|` unescaped.
fn cells(line: &str) -> Vec<String> {
    let line = line.trim().trim_matches('|').replace("\\|", "\u{1}");
    line.split('|')
        .map(|c| c.trim().replace('\u{1}', "|"))
        .collect()
}

/// The body rows of the first table in `text` whose first header cell is
/// `first`.
fn table(text: &str, first: &str) -> Vec<Vec<String>> {
    let is_header = |l: &&str| l.starts_with('|') && cells(l).first().is_some_and(|c| c == first);
    let mut lines = text.lines().skip_while(|l| !is_header(l));
    assert!(
        lines.next().is_some(),
        "README.md has no table headed `| {first} |` here"
    );
    let rows = lines.skip(1).take_while(|l| l.starts_with('|'));
    rows.map(cells).collect()
}

/// The backticked spans of a cell.
fn spans(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// Whether `s` is one plain name (`a_b`, not `a_*` or `a b`).
fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The row of `rows` whose first cell is the one span `key`, and its
/// second cell.
fn row_cell<'a>(rows: &'a [Vec<String>], key: &str) -> &'a str {
    let row = rows.iter().find(|r| r.first().is_some_and(|c| c == key));
    let cell = row.and_then(|r| r.get(1));
    cell.unwrap_or_else(|| panic!("README.md's table has no row for {key}"))
}

/// Fails, naming the differences, unless `doc` (the README's) lists the
/// names `code` prints; in the same order if `ordered`.
fn compare(what: &str, code: &[String], doc: &[String], ordered: bool) {
    let only_code: Vec<_> = code.iter().filter(|n| !doc.contains(n)).collect();
    let only_doc: Vec<_> = doc.iter().filter(|n| !code.contains(n)).collect();
    assert!(
        only_code.is_empty() && only_doc.is_empty(),
        "{what}: the code prints {only_code:?}, missing from README.md; \
         README.md lists {only_doc:?}, which the code does not print"
    );
    assert_eq!(code.len(), doc.len(), "{what}: a name is listed twice");
    if let Some(i) = code.iter().zip(doc).position(|(c, d)| ordered && c != d) {
        panic!(
            "{what}: same names, another order: at position {i} the code prints `{}`, \
             README.md lists `{}`",
            code[i], doc[i]
        );
    }
}

#[test]
fn stats_table_lists_the_printed_names_in_order() {
    let mut out = String::new();
    write_stats(&mut out, &MergeStats::default(), &Totals::default()).expect("write_stats");
    let code: Vec<String> = out
        .lines()
        .filter_map(|l| Some(l.split_once(' ')?.0.into()))
        .collect();
    let mut doc = Vec::new();
    for row in table(&section("### Merge statistics"), "name") {
        let name = spans(&row[0]).concat();
        let Some((prefix, _)) = name.split_once('<') else {
            doc.push(name);
            continue;
        };
        // `prefix<x>`: one line per name the meaning cell lists.
        for s in spans(&row[1]).into_iter().filter(|s| is_ident(s)) {
            let n = format!("{prefix}{}", s.strip_prefix(prefix).unwrap_or(s));
            if !doc.contains(&n) {
                doc.push(n);
            }
        }
    }
    compare("`stats` names (### Merge statistics)", &code, &doc, true);
}

#[test]
fn reason_table_lists_the_unmerged_reasons_in_order() {
    // As the `unmerged` file prints each reason alone, then no reason.
    let mut code = Vec::new();
    for r in Reason::ALL.map(Some).into_iter().chain([None]) {
        let mut one = Reasons::NONE;
        match r {
            Some(Reason::Flags) => one.add_flags(flags::WRITE),
            Some(r) => one.add(r),
            None => {}
        }
        code.push(one.display(&X86).to_string());
    }
    // `flags:write` and the README's `flags:<names>`: up to the `:`.
    let cut = |s: &str| s.split(':').next().unwrap_or("").to_string();
    let code: Vec<String> = code.iter().map(|s| cut(s)).collect();
    let rows = table(&section("### Merge statistics"), "reason");
    let doc: Vec<String> = rows.iter().map(|r| cut(&spans(&r[0]).concat())).collect();
    compare("merge reasons (`| reason |` table)", &code, &doc, true);
}

/// The text of file `rel` between the first `from` and the next `to`.
fn between(rel: &str, from: &str, to: &str) -> String {
    let src = read(rel);
    let text = src
        .split_once(from)
        .and_then(|(_, s)| Some(s.split_once(to)?.0));
    text.unwrap_or_else(|| panic!("{rel} has no `{from}`..`{to}`"))
        .to_string()
}

/// The strings quoted in `src`.
fn quoted(src: &str) -> Vec<String> {
    src.split('"')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

#[test]
fn events_row_shows_the_line_the_glue_prints() {
    // Every op; the match stops compiling when one is added.
    use EventOp::{Clear, Exit, Resync, Store};
    let ops = [Store, Clear, Resync, Exit];
    let _ = |op| match op {
        Store | Clear | Resync | Exit => (),
    };
    // The kernel-only glue prints the line: read its format strings.
    let body = between("rust/glue/mirror/files.rs", "fn show_events(", "\n    }\n");
    let outcomes: Vec<String> = body
        .split("Outcome::")
        .skip(1)
        .flat_map(|s| quoted(s).into_iter().take(1))
        .collect();
    let field = |arg: &str| match arg {
        "e.seq" => "SEQ".to_string(),
        "e.op.name()" => ops.map(EventOp::name).join("|"),
        "e.first" => "START".into(),
        "e.last.wrapping_add(1)" => "END".into(),
        "outcome" => outcomes.join("|"),
        "kind" | "cause" => arg.to_uppercase(),
        _ => panic!("show_events prints `{arg}`: add it to README.md's `events` row and here"),
    };
    // Each format literal, its `{}` replaced by what README.md calls the argument.
    let pieces: Vec<&str> = body.split('"').collect();
    let mut parts = Vec::new();
    for (i, lit) in pieces
        .iter()
        .enumerate()
        .filter(|(i, l)| i % 2 == 1 && l.contains('{'))
    {
        let after = pieces.get(i + 1).unwrap_or(&"").split(")?").next();
        let args = after.unwrap_or("").split(',').map(str::trim);
        let mut args = args.filter(|a| !a.is_empty());
        let (mut line, mut rest) = (String::new(), *lit);
        while let Some((text, (spec, tail))) = rest
            .split_once('{')
            .and_then(|(t, r)| Some((t, r.split_once('}')?)))
        {
            let name = spec.split(':').next().unwrap_or("");
            let arg = if name.is_empty() {
                args.next().expect("show_events: too few arguments")
            } else {
                name
            };
            line = line + text + &field(arg);
            rest = tail;
        }
        parts.push(line + rest);
    }
    let [head, tail] = parts.as_slice() else {
        panic!("show_events: not 2 formats: {parts:?}")
    };
    let want = format!("{head} [{}]", tail.trim_start());
    let rows = table(&section("## debugfs"), "file");
    let doc = spans(row_cell(&rows, "`events`"));
    assert!(
        doc.contains(&want.as_str()),
        "README.md's `events` row should show `{want}`; it shows {doc:?}"
    );
}

#[test]
fn probe_list_is_probe_names() {
    let list = between("rust/glue/probes.rs", "const PROBE_NAMES", "];");
    // The x86_64 column of the guests table; its other names are files.
    let files = debugfs_files();
    let rows = table(&section("## Guests: what each one has"), "");
    let doc = spans(row_cell(&rows, "probes"))
        .into_iter()
        .filter(|s| is_ident(s) && !files.iter().any(|f| f == s));
    let doc: Vec<String> = doc.map(String::from).collect();
    compare(
        "probes (guests table, x86_64)",
        &quoted(list.split_once('=').map_or("", |l| l.1)),
        &doc,
        true,
    );
}

/// The files the module creates: each `c"NAME"` after `DIR,` in
/// `rust/vmatrack.rs`, and each row of the mirror's read-only file table
/// (`SHOWN` in `rust/glue/mirror/files.rs`).
fn debugfs_files() -> Vec<String> {
    let src = read("rust/vmatrack.rs");
    let made = src
        .split("DIR,")
        .skip(1)
        .filter_map(|s| s.trim_start().strip_prefix("c\"")?.split('"').next());
    let files = read("rust/glue/mirror/files.rs");
    let table = files
        .split("pub(crate) const SHOWN")
        .nth(1)
        .and_then(|t| t.split("];").next())
        .expect("SHOWN table in rust/glue/mirror/files.rs");
    let shown = table
        .split("(c\"")
        .skip(1)
        .filter_map(|s| s.split('"').next());
    made.chain(shown).map(String::from).collect()
}

#[test]
fn debugfs_table_lists_the_files_made() {
    let mut code = debugfs_files();
    let rows = table(&section("## debugfs"), "file");
    let mut doc: Vec<String> = rows.iter().map(|r| spans(&r[0]).concat()).collect();
    code.sort();
    doc.sort();
    compare("debugfs files (`| file |` table)", &code, &doc, false);
}

/// Whether `line` (printed) has the form `doc` (from the README): the
/// same `key=` and bare words in the same order, values left out, but a
/// printed value must be one of the README's alternatives (`rules=r1\|r2`)
/// unless those include a placeholder (`cause=NAME\|all`).
fn fits(doc: &str, line: &str) -> bool {
    let value = |t: &str| {
        t == "none"
            || t.chars()
                .all(|c| "0123456789.?".contains(c) || c.is_ascii_uppercase())
    };
    let words = |l: &str| -> Vec<String> {
        let kept = l
            .split_whitespace()
            .filter(|t| t.contains('=') || !value(t));
        kept.map(String::from).collect()
    };
    let (doc, got) = (words(doc), words(line));
    let fit = |(d, g): (&String, &String)| match (d.split_once('='), g.split_once('=')) {
        (Some((dk, dv)), Some((gk, gv))) => dk == gk && dv.split('|').any(|a| value(a) || a == gv),
        (None, None) => d == g,
        _ => false,
    };
    doc.len() == got.len() && doc.iter().zip(&got).all(fit)
}

/// Fails unless every line of `rendered` but `#` lines fits a format the
/// README's `file` row shows.
fn check_lines(file: &str, rendered: &str) {
    let rows = table(&section("## debugfs"), "file");
    let mut forms = Vec::new();
    for s in spans(row_cell(&rows, &format!("`{file}`"))) {
        if let (Some(a), Some(b)) = (s.find('['), s.find(']')) {
            forms.push(format!("{}{}", &s[..a], &s[b + 1..]));
        }
        forms.push(s.replace(['[', ']'], ""));
    }
    for line in rendered.lines().filter(|l| !l.starts_with('#')) {
        assert!(
            forms.iter().any(|f| fits(f, line)),
            "`{file}` prints `{line}`, which fits no format README.md's `{file}` row shows: {forms:?}"
        );
    }
}

#[test]
fn whatif_row_shows_the_lines_printed() {
    let mut out = String::new();
    write_whatif(&mut out, &WhatIfResult::default()).expect("write_whatif");
    let mut a = AttemptCounts::default();
    a.tried[0][Cause::Mmap as usize] = 1;
    a.tried[1][Cause::Mprotect as usize] = 1;
    write_attempts(&mut out, &a).expect("write_attempts");
    check_lines("whatif", &out);
}

#[test]
fn summary_row_shows_the_lines_printed() {
    let mut out = String::new();
    let head = SummaryHead {
        target: "",
        max_map_count: Some(65530),
        merges_after: &[0; Cause::ALL.len()],
    };
    let summary = Summary::new(&X86);
    summary.write(&mut out, &head).expect("Summary::write");
    check_lines("summary", &out);
}
