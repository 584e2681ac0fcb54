//! A newcomer reads the layout from the folder names, and the imports keep the
//! design's promises: the faces never import each other, the store knows no
//! face and no page, the views know no face, no store and no key, what a
//! signal is knows no server, store, face or page, and the crypto knows no
//! store, server or page. So "the intake can never decrypt" can be checked by
//! reading the intake's imports.
//!
//! The source tree is read as text: every `crate::…`, `super::…` and `self::…`
//! path in code (not in comments or strings) is resolved to the top-level
//! module it reaches, through `use` groups (`use crate::{review, …}`), nested
//! groups, fully qualified paths in expressions and inline `mod` blocks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

/// Which top-level module may not reach which: (from, forbidden).
const RULES: &[(&str, &[&str])] = &[
    ("intake", &["review"]),
    ("review", &["intake"]),
    ("store", &["intake", "review", "views"]),
    ("views", &["intake", "review", "store", "crypto"]),
    ("signal", &["intake", "review", "store", "views", "web"]),
    ("crypto", &["store", "web", "views"]),
    // The audit chain's format sits below the store and both faces.
    ("audit", &["intake", "review", "store", "views", "web"]),
    // The annual report sits below the review face and the command line
    // that make it, beside the store and views it reads: no face, no server.
    ("annual", &["intake", "review", "web"]),
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    /// `::`
    Path,
    Punct(char),
}

/// The tokens of Rust source with their line numbers; comments, string,
/// byte-string, raw-string and character literals and lifetimes are skipped.
fn tokens(source: &str) -> Vec<(usize, Token)> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let count_lines = |from: usize, to: usize, line: &mut usize| {
        *line += chars[from..to.min(chars.len())]
            .iter()
            .filter(|c| **c == '\n')
            .count();
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let start = i;
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            count_lines(start, i, &mut line);
        } else if c == 'r'
            && (next == Some('"') || (next == Some('#') && raw_string_at(&chars, i + 1)))
        {
            // A raw string: r"…", r#"…"#, …
            let start = i;
            i += 1;
            let mut hashes = 0;
            while chars.get(i) == Some(&'#') {
                hashes += 1;
                i += 1;
            }
            i += 1; // the opening quote
            while i < chars.len() {
                if chars[i] == '"' && (0..hashes).all(|h| chars.get(i + 1 + h) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
            count_lines(start, i, &mut line);
        } else if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            count_lines(start, i, &mut line);
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{1F600}') or a lifetime ('a).
            if next == Some('\\') {
                i += 3;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // b"…" and br"…" are strings: leave the quote to the string rules.
            if (word == "b" || word == "br") && matches!(chars.get(i), Some('"') | Some('#')) {
                if word == "br" {
                    i -= 1; // let the raw-string rule see the `r`
                }
                continue;
            }
            out.push((line, Token::Ident(word)));
        } else if c == ':' && next == Some(':') {
            out.push((line, Token::Path));
            i += 2;
        } else {
            out.push((line, Token::Punct(c)));
            i += 1;
        }
    }
    out
}

fn raw_string_at(chars: &[char], mut i: usize) -> bool {
    while chars.get(i) == Some(&'#') {
        i += 1;
    }
    chars.get(i) == Some(&'"')
}

fn ident(t: Option<&(usize, Token)>) -> Option<&str> {
    match t {
        Some((_, Token::Ident(s))) => Some(s),
        _ => None,
    }
}

fn is(t: Option<&(usize, Token)>, want: &Token) -> bool {
    t.is_some_and(|(_, t)| t == want)
}

/// The top-level modules that the path tree starting at `i` reaches, seen
/// from module `base` (the crate root is `[]`).
fn reached(toks: &[(usize, Token)], mut i: usize, mut base: Vec<String>) -> Vec<String> {
    loop {
        match toks.get(i).map(|(_, t)| t) {
            Some(Token::Ident(s)) if s == "super" && is(toks.get(i + 1), &Token::Path) => {
                base.pop();
                i += 2;
            }
            Some(Token::Ident(s)) if s == "self" && is(toks.get(i + 1), &Token::Path) => {
                i += 2;
            }
            Some(Token::Ident(s)) if s == "crate" && is(toks.get(i + 1), &Token::Path) => {
                base.clear();
                i += 2;
            }
            _ => break,
        }
    }
    match toks.get(i).map(|(_, t)| t) {
        Some(Token::Punct('{')) => group(toks, i, &base),
        _ if !base.is_empty() => base.into_iter().take(1).collect(),
        Some(Token::Ident(name)) if name != "self" => vec![name.clone()],
        Some(Token::Punct('*')) => vec!["*".to_owned()],
        _ => Vec::new(),
    }
}

/// What each item of the group opening at `i` reaches, seen from `base`.
fn group(toks: &[(usize, Token)], i: usize, base: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut item_start = false;
    for (j, (_, t)) in toks.iter().enumerate().skip(i) {
        match t {
            Token::Punct('{') => {
                depth += 1;
                item_start = depth == 1;
                if depth == 1 {
                    continue;
                }
            }
            Token::Punct('}') => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Token::Punct(',') if depth == 1 => {
                item_start = true;
                continue;
            }
            _ => {}
        }
        if item_start && depth == 1 {
            out.extend(reached(toks, j, base.to_vec()));
            item_start = false;
        }
    }
    out
}

/// The index just after the path tree that starts at `i`.
fn tree_end(toks: &[(usize, Token)], mut i: usize) -> usize {
    while matches!(
        toks.get(i).map(|(_, t)| t),
        Some(Token::Ident(_) | Token::Path)
    ) {
        i += 1;
    }
    if is(toks.get(i), &Token::Punct('{')) {
        let mut depth = 0;
        while let Some((_, t)) = toks.get(i) {
            match t {
                Token::Punct('{') => depth += 1,
                Token::Punct('}') => {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
    i
}

/// Every (line, top-level module) that the code of a file in module `module`
/// reaches through a `crate::`, `super::` or `self::` path.
fn imports(module: &[&str], source: &str) -> Vec<(usize, String)> {
    let toks = tokens(source);
    let mut path: Vec<String> = module.iter().map(|s| (*s).to_owned()).collect();
    // Inline `mod name { … }` blocks: (depth at which it opened, name).
    let mut inline: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut out = Vec::new();
    // A path inside a group already read (`use super::{super::x}`) is part of it.
    let mut inside_tree_until = 0;
    for (k, (line, t)) in toks.iter().enumerate() {
        match t {
            Token::Punct('{') => {
                depth += 1;
                let opens_mod = k >= 2
                    && ident(toks.get(k - 2)) == Some("mod")
                    && ident(toks.get(k - 1)).is_some();
                if opens_mod {
                    path.push(ident(toks.get(k - 1)).unwrap_or_default().to_owned());
                    inline.push(depth);
                }
            }
            Token::Punct('}') => {
                if inline.last() == Some(&depth) {
                    inline.pop();
                    path.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Token::Ident(s) if matches!(s.as_str(), "crate" | "super" | "self") => {
                let starts_path = is(toks.get(k + 1), &Token::Path)
                    && !(k > 0 && is(toks.get(k - 1), &Token::Path))
                    && k >= inside_tree_until;
                if starts_path {
                    for top in reached(&toks, k, path.clone()) {
                        out.push((*line, top));
                    }
                    inside_tree_until = tree_end(&toks, k);
                }
            }
            // `#[path = "…"]` could mount another module's file here.
            Token::Ident(s)
                if s == "path"
                    && k >= 2
                    && is(toks.get(k - 1), &Token::Punct('['))
                    && is(toks.get(k - 2), &Token::Punct('#')) =>
            {
                out.push((*line, "#[path]".to_owned()));
            }
            _ => {}
        }
    }
    out
}

/// The module path of a file under `src/`: `src/intake/pages/form.rs` is
/// `intake::pages::form`, `src/intake/mod.rs` is `intake`, `src/lib.rs` the root.
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every way a file of top-level module `from` reaches one of `forbidden`,
/// as `file:line: from -> to`, and how many files of `from` were read.
fn violations(from: &str, forbidden: &[&str]) -> (Vec<String>, usize) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut found = Vec::new();
    let mut read = 0;
    for file in files {
        let relative = file.strip_prefix(&src).unwrap().to_owned();
        let module = module_of(&relative);
        if module.first().map(String::as_str) != Some(from) {
            continue;
        }
        read += 1;
        let source = std::fs::read_to_string(&file).unwrap();
        let module: Vec<&str> = module.iter().map(String::as_str).collect();
        for (line, to) in imports(&module, &source) {
            if to == "*" || to == "#[path]" || forbidden.contains(&to.as_str()) {
                found.push(format!("src/{}:{line}: {from} -> {to}", relative.display()));
            }
        }
    }
    (found, read)
}

fn check(from: &str) {
    let forbidden = RULES
        .iter()
        .find(|(f, _)| *f == from)
        .map(|(_, f)| *f)
        .unwrap();
    let (found, read) = violations(from, forbidden);
    assert!(
        read > 0,
        "no file of src/{from} was read: is the rule about a module that moved?"
    );
    assert!(
        found.is_empty(),
        "{from} may not use {forbidden:?}, but:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_intake_never_imports_the_review_face() {
    check("intake");
}

#[test]
fn the_review_face_never_imports_the_intake() {
    check("review");
}

#[test]
fn the_store_knows_no_face_and_no_page() {
    check("store");
}

#[test]
fn the_shared_views_know_no_face_no_store_and_no_key() {
    check("views");
}

#[test]
fn what_a_signal_is_knows_no_face_no_store_no_page_and_no_server() {
    check("signal");
}

#[test]
fn the_crypto_knows_no_store_no_server_and_no_page() {
    check("crypto");
}

#[test]
fn the_audit_chain_sits_below_the_store_and_both_faces() {
    check("audit");
}

#[test]
fn the_annual_report_knows_no_face_and_no_server() {
    check("annual");
}

#[test]
fn every_module_the_rules_name_exists_as_a_folder_or_file() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (from, forbidden) in RULES {
        for name in std::iter::once(from).chain(forbidden.iter()) {
            assert!(
                src.join(name).is_dir() || src.join(format!("{name}.rs")).is_file(),
                "src/{name} is named by a rule but does not exist"
            );
        }
    }
}

#[test]
fn the_reader_finds_a_forbidden_module_however_the_path_is_written() {
    let reach = |module: &[&str], source: &str| -> Vec<String> {
        imports(module, source)
            .into_iter()
            .map(|(_, to)| to)
            .collect()
    };
    let intake = ["intake", "follow_up"];
    assert_eq!(
        reach(&intake, "use crate::review::signal::open_text;"),
        ["review"]
    );
    assert_eq!(
        reach(&intake, "use crate::{config, review::{self, signal}};"),
        ["config", "review"]
    );
    assert_eq!(
        reach(
            &intake,
            "pub(crate) use crate::{\n    store::{Store, thread},\n    review,\n};"
        ),
        ["store", "review"]
    );
    assert_eq!(
        reach(
            &intake,
            "fn f() { let x = crate::review::signal::open_text(a, b); }"
        ),
        ["review"]
    );
    // `super::` climbs: from intake/follow_up, `super::` is the intake and
    // `super::super::` the crate root.
    assert_eq!(
        reach(&intake, "use super::{Failure, pages};"),
        ["intake", "intake"]
    );
    assert_eq!(reach(&intake, "use super::pages::form_page;"), ["intake"]);
    assert_eq!(
        reach(&intake, "use super::super::review::audit;"),
        ["review"]
    );
    assert_eq!(
        reach(&intake, "use super::{super::review, Failure};"),
        ["review", "intake"]
    );
    // An inline module is one level more.
    assert_eq!(
        reach(
            &["intake"],
            "mod tests { use super::super::review; }\nuse super::store;"
        ),
        ["review", "store"]
    );
    assert_eq!(reach(&intake, "use crate::*;"), ["*"]);
    assert_eq!(
        reach(&intake, "#[path = \"../review/signal.rs\"]\nmod s;"),
        ["#[path]"]
    );
    // Comments, strings, characters and lifetimes are not code.
    assert!(
        reach(
            &intake,
            "// use crate::review;\n/* crate::review /* nested */ crate::review */\n\
             let a = \"crate::review\"; let b = r#\"crate::review\"#; let c = b\"crate::review\";\n\
             let d = '\"'; fn e<'a>(x: &'a str) {}"
        )
        .is_empty()
    );
    // A path inside another path is not a path of its own.
    assert!(reach(&intake, "use axum::extract::self;").is_empty());
    // A line number points at the import.
    assert_eq!(
        imports(&intake, "//! doc\n\nuse crate::review;"),
        [(3, "review".to_owned())]
    );
}
