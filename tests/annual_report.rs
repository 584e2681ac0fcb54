//! The team writes its annual report "Hardheden en oplossingen": from the
//! command line and from the review face, in HTML, Markdown and CSV, in
//! Dutch and English. Without a reviewer's key it holds only what was
//! published, with counts never below five and nothing of a signal but its
//! number; with one, the unpublished hardships too, marked internal. Every
//! report is a row of the audit chain, and what was never published reaches
//! no file and no log.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod review_support;

use common::{Server, canary};
use review_support::{
    Session, attr_after, db, demo_login, hardship_in, run_with_stdin, signal_with_id,
};

/// A hardship with one measure, made over HTTP; (hardship, measure).
async fn hardship(s: &Session, title: &str, measure: &str) -> (String, String) {
    let res = s
        .post(
            "/hardships",
            &[
                ("title", title),
                ("description", "Het patroon, intern beschreven"),
                ("domain", "social-assistance"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let hardship = hardship_in(&res);
    let res = s
        .post(
            &format!("/hardships/{hardship}/measures"),
            &[
                ("kind", "measure"),
                ("lever", "law"),
                ("text", measure),
                ("organisation", "Ministerie van SZW"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, page) = s.get(&format!("/hardships/{hardship}")).await;
    (hardship, attr_after(&page, "data-measure=\"").unwrap())
}

fn audit_count(server: &Server, action: &str) -> i64 {
    db(server)
        .query_row(
            "SELECT count(*) FROM audit WHERE action = ?1",
            [action],
            |r| r.get(0),
        )
        .unwrap()
}

fn this_year() -> String {
    time::OffsetDateTime::now_utc().year().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_annual_report_shows_the_published_and_with_a_reviewers_key_the_rest_marked_internal() {
    let server = Server::start();
    let s = demo_login(&server).await;
    let pass = server.demo_passphrase().unwrap();
    let year = this_year();
    let mut signals = Vec::new();
    for n in 0..6 {
        signals.push(signal_with_id(&server, &s, n).await);
    }
    let (inner_title, inner_measure) = (canary("INNERTITLE"), canary("INNERMEASURE"));
    let (public_title, public_measure) = (canary("PUBLICTITLE"), canary("PUBLICMEASURE"));
    let (secret_title, secret_measure) = (canary("UNPUBLISHED"), canary("UNPUBMEASURE"));
    let (published, measure) = hardship(&s, &inner_title, &inner_measure).await;
    let (kept, kept_measure) = hardship(&s, &secret_title, &secret_measure).await;
    for (_, id) in &signals[..3] {
        let res = s
            .post(
                &format!("/signals/{id}/hardships"),
                &[("hardship", &published)],
            )
            .await;
        assert_eq!(res.status().as_u16(), 303);
    }
    // Before anything is published, no sealed text is in a file or the log.
    let scan = server.data_files();
    for needle in [&inner_title, &inner_measure, &secret_title, &secret_measure] {
        scan.assert_nowhere(needle.as_bytes(), needle);
        assert!(
            !server.output().contains(needle.as_str()),
            "{needle} logged"
        );
    }
    let text_field = format!("m_{measure}_text");
    let org_field = format!("m_{measure}_organisation");
    let res = s
        .post(
            &format!("/hardships/{published}/publish"),
            &[
                ("public_title", &public_title),
                (
                    "public_summary",
                    "Wie een toeslag krijgt, betaalt twee keer",
                ),
                ("public_cause", "De terugvorderingsregel"),
                (&text_field, &public_measure),
                (&org_field, "Ministerie van SZW"),
                ("confirm", "1"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    for status in ["agreed", "implemented"] {
        let res = s
            .post(
                &format!("/hardships/{published}/measures/{measure}/status"),
                &[("status", status), ("note", "")],
            )
            .await;
        assert_eq!(res.status().as_u16(), 303);
    }

    let never = |out: &str, what: &str| {
        for (code, id) in &signals {
            assert!(!out.contains(id.as_str()), "{what}: a signal id");
            assert!(!out.contains(code.as_str()), "{what}: a receipt code");
        }
        for hidden in [&published, &measure, &kept, &kept_measure] {
            assert!(!out.contains(hidden.as_str()), "{what}: an id");
        }
        for hidden in [&inner_title, &inner_measure, "Situatie"] {
            assert!(!out.contains(hidden), "{what}: {hidden}");
        }
        assert!(!out.contains("data-signals=\"3\""), "{what}: the count 3");
    };
    let mut reports = 0;
    let mut public = std::collections::HashMap::new();
    for format in ["html", "md", "csv"] {
        for lang in ["nl", "en"] {
            let what = format!("{format} {lang}");
            let (code, out, err) = server.run(&[
                "report",
                "hardships",
                "--year",
                &year,
                "--format",
                format,
                "--lang",
                lang,
            ]);
            reports += 1;
            assert_eq!(code, 0, "{what}: {err}");
            let status = if lang == "nl" {
                "Uitgevoerd"
            } else {
                "Implemented"
            };
            for shown in [public_title.as_str(), public_measure.as_str(), status] {
                assert!(out.contains(shown), "{what}: {shown} missing:\n{out}");
            }
            let less = if format == "html" { "&lt;5" } else { "<5" };
            assert!(out.contains(less), "{what}: no <5:\n{out}");
            if format != "csv" {
                let contents = if lang == "nl" { "Inhoud" } else { "Contents" };
                assert!(out.contains(contents), "{what}: no table of contents");
                assert!(out.contains("#hardship-1"), "{what}: no anchor");
            }
            if format == "html" {
                assert!(out.starts_with("<!DOCTYPE html>"), "{what}");
                assert!(out.contains(&format!("<html lang=\"{lang}\"")), "{what}");
                assert!(out.contains("@page") && !out.contains("<script"), "{what}");
                assert!(!out.contains("src=") && !out.contains("<link"), "{what}");
            }
            assert!(!out.contains(&secret_title) && !out.contains(&secret_measure));
            assert!(!out.contains("data-internal"), "{what}: marked internal");
            never(&out, &what);
            public.insert((format, lang), out);
        }
    }

    // With the reviewer's key: the unpublished one too, marked internal.
    let mut internal = std::collections::HashMap::new();
    for format in ["html", "md", "csv"] {
        let args = [
            "report",
            "hardships",
            "--year",
            &year,
            "--format",
            format,
            "--reviewer",
            "demo",
        ];
        let (code, out, err) = run_with_stdin(&server, &args, &format!("{pass}\n"));
        reports += 1;
        assert_eq!(code, 0, "{format}: {err}");
        assert!(out.contains(&secret_title) && out.contains(&secret_measure));
        assert!(out.contains(&public_title));
        assert!(out.contains("intern"), "{format}: not marked internal");
        if format == "html" {
            assert!(out.contains("data-internal"));
        }
        for (code, id) in &signals {
            assert!(!out.contains(id.as_str()) && !out.contains(code.as_str()));
        }
        internal.insert(format, out);
    }
    let (code, _, err) = run_with_stdin(
        &server,
        &["report", "hardships", "--year", &year, "--reviewer", "demo"],
        "not the passphrase\n",
    );
    assert_ne!(code, 0, "a wrong passphrase opens nothing");
    assert!(err.contains("passphrase"), "{err}");

    // The review face gives the same files to download.
    for (format, lang, kind) in [
        ("html", "nl", "text/html"),
        ("md", "en", "text/markdown"),
        ("csv", "nl", "text/csv"),
    ] {
        let res = s
            .get_raw(&format!(
                "/hardships/report?year={year}&format={format}&lang={lang}"
            ))
            .await;
        reports += 1;
        assert_eq!(res.status().as_u16(), 200, "{format}");
        let h = res.headers().clone();
        assert!(h["content-type"].to_str().unwrap().starts_with(kind));
        let disposition = h["content-disposition"].to_str().unwrap();
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(
            disposition.contains(&format!(".{format}\"")),
            "{disposition}"
        );
        assert_eq!(h["cache-control"], "no-store");
        let body = res.text().await.unwrap();
        assert_eq!(body, public[&(format, lang)], "{format} {lang}");
        let res = s
            .get_raw(&format!(
                "/hardships/report?year={year}&format={format}&lang=nl&internal=1"
            ))
            .await;
        reports += 1;
        assert_eq!(res.status().as_u16(), 200);
        assert_eq!(
            res.text().await.unwrap(),
            internal[format],
            "{format} internal"
        );
    }
    // The overview links to it with a form.
    let (_, overview) = s.get("/hardships").await;
    assert!(
        overview.contains("action=\"/hardships/report\""),
        "{overview}"
    );
    assert!(overview.contains("name=\"internal\""));

    // A bad year or format: a clear refusal, nothing written or audited.
    for bad in ["26", "twenty", "2026x", ""] {
        let (code, out, err) = server.run(&["report", "hardships", "--year", bad]);
        assert_ne!(code, 0, "{bad}");
        assert!(out.is_empty(), "{bad}: {out}");
        assert!(err.contains("--year"), "{bad}: {err}");
    }
    let (code, _, err) = server.run(&["report", "hardships", "--year", &year, "--format", "pdf"]);
    assert_ne!(code, 0);
    assert!(err.contains("--format"), "{err}");
    for bad in [
        "year=26",
        "year=2026&format=pdf",
        "format=html",
        "year=2026&lang=de",
    ] {
        let (status, page) = s.get(&format!("/hardships/report?{bad}")).await;
        assert_eq!(status, 400, "{bad}");
        assert!(page.contains("<h1>"), "{bad}: a page");
    }
    // A year typed wrong is said at its box on the overview, with what was
    // typed kept (escaped) and the other choices as they were; nothing is
    // written or audited (the count below).
    for (typed, shown) in [("26", "26"), ("%3Cb%3E2026", "&lt;b&gt;2026"), ("", "")] {
        let (status, page) = s
            .get(&format!(
                "/hardships/report?year={typed}&format=md&lang=en&internal=1"
            ))
            .await;
        assert_eq!(status, 400, "{typed}");
        assert!(
            page.contains("id=\"r-year-error\"")
                && page.contains("Vul een jaar in van vier cijfers")
                && page.contains(&format!("name=\"year\" type=\"text\" inputmode=\"numeric\" maxlength=\"4\" size=\"6\" autocomplete=\"off\" value=\"{shown}\" aria-invalid=\"true\""))
                && page.contains("<option value=\"md\" selected>")
                && page.contains("<option value=\"en\" selected>")
                && page.contains("id=\"r-internal\" name=\"internal\" type=\"checkbox\" value=\"1\" checked")
                && page.contains("Uitloggen"),
            "{typed}: {page}"
        );
        assert!(!page.contains("<b>2026"), "escaped");
    }
    let (_, overview) = s.get("/hardships").await;
    assert!(
        overview.contains("novalidate") && !overview.contains("r-year-error"),
        "the browser leaves the year to the server"
    );
    // The aggregate report is as it was.
    let (code, out, _) = server.run(&["report", "--csv"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("month,domain,status,origin,count"));

    // Every report is in the chain, and the chain holds.
    assert_eq!(audit_count(&server, "hardship-report"), reports);
    let detail: String = db(&server)
        .query_row(
            "SELECT detail FROM audit WHERE action = 'hardship-report' AND actor = 'demo'
             ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        detail.contains(&year) && detail.contains("unpublished yes"),
        "{detail}"
    );
    let (code, out, err) = server.run(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}{err}");

    // Six signals: the number itself.
    for (_, id) in &signals[3..] {
        s.post(
            &format!("/signals/{id}/hardships"),
            &[("hardship", &published)],
        )
        .await;
    }
    let (_, six, _) = server.run(&["report", "hardships", "--year", &year]);
    assert!(six.contains("data-signals=\"6\""), "{six}");
    assert!(!six.contains("data-signals=\"&lt;5\""));

    // What was never published is still in no file and no log.
    let scan = server.data_files();
    for needle in [&secret_title, &secret_measure, &inner_title, &inner_measure] {
        scan.assert_nowhere(needle.as_bytes(), needle);
        assert!(
            !server.output().contains(needle.as_str()),
            "{needle} logged"
        );
    }
}

#[tokio::test]
async fn a_year_before_anything_was_made_says_there_is_nothing_in_both_languages() {
    let server = Server::start();
    for (lang, text) in [
        ("nl", "Voor dit jaar zijn er geen hardheden"),
        ("en", "There are no hardships in this report"),
    ] {
        let (code, out, err) = server.run(&[
            "report",
            "hardships",
            "--year",
            "2001",
            "--format",
            "md",
            "--lang",
            lang,
        ]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(text), "{out}");
    }
}
