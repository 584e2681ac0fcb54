//! Hardships and their measures on the review face: a reviewer groups
//! signals into a hardship, adds courses of action and measures and follows
//! their status — every act in the audit chain, every text sealed, and only
//! the day kept of a link.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod review_support;

use common::{Server, canary};
use review_support::*;

fn all_after(page: &str, marker: &str) -> Vec<String> {
    page.match_indices(marker)
        .filter_map(|(i, m)| attr_after(&page[i..], m))
        .collect()
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

#[tokio::test]
async fn a_reviewer_groups_three_signals_into_a_hardship_follows_its_measure_to_implemented_and_publishes_it()
 {
    let server = Server::start();
    let (title, pattern, advice, measure_text) = (
        canary("TITLE"),
        canary("PATTERN"),
        canary("ADVICE"),
        canary("MEASURE"),
    );
    let mut codes = Vec::new();
    for i in 0..3 {
        let situation = format!("Mantelzorger gekort op bijstand {i}");
        let (status, page) =
            common::submit(&common::client(), &server, &[("situation", &situation)]).await;
        assert_eq!(status, 200, "{page}");
        codes.push(common::receipt_in(&page).unwrap());
    }
    let s = demo_login(&server).await;
    let ids = signal_ids(&s.get("/").await.1);
    assert_eq!(ids.len(), 3);

    let (_, empty) = s.get("/hardships").await;
    assert!(empty.contains("data-hardships=\"0\""), "{empty}");
    // The server answers a missing field in the page's language, not the browser.
    assert!(
        empty.contains(r#"action="/hardships" novalidate"#),
        "the new-hardship form leaves validation to the server: {empty}"
    );
    let res = s
        .post(
            "/hardships",
            &[
                ("title", &title),
                ("description", &pattern),
                ("cause", "Kostendelersnorm, artikel 22a Participatiewet"),
                ("reference", "BWBR0015703 art. 22a"),
                ("origin", "law"),
                ("domain", "social-assistance"),
                ("organisations", "SZW, gemeenten"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let hardship = hardship_in(&res);
    let (status, list) = s.get("/hardships").await;
    assert_eq!(status, 200);
    assert!(list.contains(&title) && list.contains(&format!("data-hardship=\"{hardship}\"")));

    // Linked from each signal's page; once unlinked and linked again.
    for id in &ids {
        let (_, page) = s.get(&format!("/signals/{id}")).await;
        assert!(page.contains("action=\"/signals/") && page.contains(&title));
        let res = s
            .post(
                &format!("/signals/{id}/hardships"),
                &[("hardship", &hardship)],
            )
            .await;
        assert_eq!(res.status().as_u16(), 303);
    }
    let third = format!("/signals/{}", ids[2]);
    let res = s
        .post(
            &format!("{third}/hardships/unlink"),
            &[("hardship", &hardship)],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, page) = s.get(&format!("/hardships/{hardship}")).await;
    assert!(page.contains("data-linked=\"2\""), "{page}");
    assert!(
        page.contains(r#"measures" novalidate"#),
        "the new-measure form leaves validation to the server"
    );
    s.post(&format!("{third}/hardships"), &[("hardship", &hardship)])
        .await;
    let (_, page) = s.get(&third).await;
    assert!(page.contains(&format!("data-linked-hardship=\"{hardship}\"")));
    assert!(page.contains("data-action=\"link\"") && page.contains("data-action=\"unlink\""));

    // A recommendation from a report, and a measure with a target.
    let measures = format!("/hardships/{hardship}/measures");
    for (kind, lever, text, org, source, target) in [
        (
            "recommendation",
            "policy_rule",
            advice.as_str(),
            "Nationale ombudsman",
            "Rapport X, 2025",
            "",
        ),
        (
            "measure",
            "law",
            measure_text.as_str(),
            "Ministerie van SZW",
            "",
            "2027-06-01",
        ),
    ] {
        let res = s
            .post(
                &measures,
                &[
                    ("kind", kind),
                    ("lever", lever),
                    ("text", text),
                    ("organisation", org),
                    ("source", source),
                    ("target", target),
                ],
            )
            .await;
        assert_eq!(res.status().as_u16(), 303, "{kind}");
    }
    let (_, page) = s.get(&format!("/hardships/{hardship}")).await;
    let mids = all_after(&page, "data-measure=\"");
    assert_eq!(mids.len(), 2);
    let measure = &mids[1];
    for (status, note) in [("agreed", "Toegezegd in het AO"), ("implemented", "")] {
        let res = s
            .post(
                &format!("{measures}/{measure}/status"),
                &[("status", status), ("note", note)],
            )
            .await;
        assert_eq!(res.status().as_u16(), 303, "{status}");
    }

    let (status, page) = s.get(&format!("/hardships/{hardship}")).await;
    assert_eq!(status, 200);
    for shown in [&title, &pattern, &advice, &measure_text] {
        assert!(page.contains(shown.as_str()), "{shown}");
    }
    assert!(page.contains("data-linked=\"3\""));
    let listed = signal_ids(&page);
    assert_eq!(listed.len(), 3);
    for id in &ids {
        assert!(listed.contains(id));
    }
    assert!(page.contains("Mantelzorger gekort op bijstand"), "snippets");
    assert!(page.contains("data-first=\"") && page.contains("data-last=\""));
    assert!(page.contains("data-status=\"implemented\""));
    for step in ["proposed", "agreed", "implemented"] {
        assert!(page.contains(&format!("data-history=\"{step}\"")), "{step}");
    }
    assert!(page.contains("Toegezegd in het AO"));
    assert!(page.contains("Uitgevoerd") && page.contains("Aanbeveling"));
    let (_, english) = s
        .in_language("en")
        .get(&format!("/hardships/{hardship}"))
        .await;
    assert!(english.contains("Implemented") && english.contains("Recommendation"));

    // Every act is a row of the chain, and the chain holds.
    for (action, n) in [
        ("hardship-new", 1),
        ("link", 4),
        ("unlink", 1),
        ("measure", 2),
        ("measure-status", 2),
    ] {
        assert_eq!(audit_count(&server, action), n, "{action}");
    }
    assert!(audit_count(&server, "hardship-view") >= 4);
    let conn = db(&server);
    let detail: String = conn
        .query_row(
            "SELECT detail FROM audit WHERE action = 'link' AND signal_id = ?1 LIMIT 1",
            [&ids[0]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(detail, format!("hardship {hardship}"));
    // A link keeps the day and nothing else about the signal.
    let days: Vec<String> = conn
        .prepare("SELECT linked_on FROM hardship_signals")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(days.len(), 3);
    assert!(days.iter().all(|d| d.len() == 10), "{days:?}");
    let columns: i64 = conn
        .query_row(
            "SELECT count(*) FROM pragma_table_info('hardship_signals')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(columns, 3);
    drop(conn);
    let (code, out, err) = server.run(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}{err}");

    // What the reviewer wrote is sealed: in no data file and not in the log.
    let scan = server.data_files();
    scan.assert_read(&["signaal.db", "signaal.db-wal"]);
    for needle in [&title, &pattern, &advice, &measure_text] {
        scan.assert_nowhere(needle.as_bytes(), needle);
        assert!(
            !server.output().contains(needle.as_str()),
            "{needle} in the log"
        );
    }
    let envelope: Vec<u8> = db(&server)
        .query_row("SELECT envelope FROM hardships", [], |r| r.get(0))
        .unwrap();
    scan.assert_finds(&common::control_of(&envelope), "the stored hardship");

    // Published: the title, written again for the public, and the measure.
    let summary = "Wie voor een ouder zorgt en bij die ouder woont, krijgt minder bijstand.";
    let public_measure = "De kostendelersnorm geldt niet voor mantelzorgers.";
    let res = s
        .post(
            &format!("/hardships/{hardship}/publish"),
            &[
                ("public_title", &title),
                ("public_summary", summary),
                ("public_cause", "Artikel 22a Participatiewet"),
                (&format!("m_{measure}_text"), public_measure),
                (&format!("m_{measure}_organisation"), "Ministerie van SZW"),
                (&format!("m_{measure}_source"), ""),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303, "{}", res.text().await.unwrap());
    assert_eq!(audit_count(&server, "publish"), 1);
    let results = |path: &'static str| {
        let url = format!("{}{path}", server.intake);
        async move {
            let res = common::client().get(url).send().await.unwrap();
            assert_eq!(res.status(), 200);
            res.text().await.unwrap()
        }
    };
    let nl = results("/resultaten").await;
    for shown in [
        title.as_str(),
        summary,
        public_measure,
        "data-signals=\"&lt;5\"",
        "Uitgevoerd",
    ] {
        assert!(nl.contains(shown), "{shown} is not on /resultaten:\n{nl}");
    }
    let en = results("/results").await;
    assert!(en.contains(&title) && en.contains("Implemented"), "{en}");
    for page in [&nl, &en] {
        for hidden in [&pattern, &advice, &measure_text, &hardship] {
            assert!(!page.contains(hidden.as_str()), "{hidden} on the results");
        }
        for id in &ids {
            assert!(!page.contains(id.as_str()), "a signal id on the results");
        }
    }
    // The sender of each linked signal reads what it is part of.
    for code in &codes {
        let res = common::client()
            .post(format!("{}/follow-up", server.intake))
            .form(&[("receipt", code.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let page = res.text().await.unwrap();
        assert!(page.contains("Uw signaal maakt deel uit van:"), "{page}");
        assert!(page.contains(&title) && page.contains("Uitgevoerd"));
        assert!(
            !page.contains("data-signals"),
            "a count on the sender's page"
        );
    }
    // The year's report holds the same, with its table of contents; what
    // the team wrote for itself and the signals stay out of it.
    let year = time::OffsetDateTime::now_utc().year().to_string();
    let (code, report, err) = server.run(&["report", "hardships", "--year", &year]);
    assert_eq!(code, 0, "{err}");
    assert!(report.contains("<nav class=\"toc\""), "{report}");
    for shown in [
        title.as_str(),
        summary,
        public_measure,
        "Hardheden en oplossingen",
        "&lt;5",
        "Uitgevoerd",
    ] {
        assert!(report.contains(shown), "{shown} is not in the report");
    }
    for hidden in [&pattern, &advice, &measure_text, &hardship] {
        assert!(!report.contains(hidden.as_str()), "{hidden} in the report");
    }
    for id in &ids {
        assert!(!report.contains(id.as_str()), "a signal id in the report");
    }
    assert_eq!(audit_count(&server, "hardship-report"), 1);
    let (code, out, err) = server.run(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[tokio::test]
async fn bad_hardship_forms_get_a_readable_page_with_the_right_status() {
    let server = Server::start();
    submit_signal(&server, &[("situation", "Een regel die te hard uitpakt")]).await;
    let s = demo_login(&server).await;
    let id = signal_ids(&s.get("/").await.1).remove(0);
    let res = s
        .post(
            "/hardships",
            &[("title", "Kostendelersnorm"), ("description", "x")],
        )
        .await;
    let hardship = hardship_in(&res);

    // Without the csrf field: refused, nothing stored.
    let res = s
        .client
        .post(format!("{}/hardships", s.base))
        .header("cookie", &s.cookie)
        .header("origin", &s.base)
        .header("sec-fetch-site", "same-origin")
        .form(&[("title", "t"), ("description", "d")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);

    // A missing title, an unknown origin, a title too long: the form again, with why.
    let long = "a".repeat(301);
    for (fields, why) in [
        (vec![("title", ""), ("description", "d")], "Vul dit in."),
        (
            vec![("title", "t"), ("description", "d"), ("origin", "elders")],
            "Kies een oorsprong uit de lijst.",
        ),
        (
            vec![("title", long.as_str()), ("description", "d")],
            "langer dan toegestaan",
        ),
    ] {
        let res = s.post("/hardships", &fields).await;
        assert_eq!(res.status().as_u16(), 422);
        let page = res.text().await.unwrap();
        assert!(page.contains(why), "{why}: {page}");
        assert!(page.contains("aria-invalid=\"true\""));
    }
    let stored: i64 = db(&server)
        .query_row("SELECT count(*) FROM hardships", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 1);

    let measures = format!("/hardships/{hardship}/measures");
    let ok = [("text", "t"), ("organisation", "o")];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut all = ok.to_vec();
        all.extend_from_slice(extra);
        all
    };
    for (path, fields, status) in [
        (
            measures.clone(),
            with(&[("kind", "wish"), ("lever", "law")]),
            400,
        ),
        (
            measures.clone(),
            with(&[("kind", "measure"), ("lever", "magic")]),
            400,
        ),
        (
            measures.clone(),
            with(&[("kind", "measure"), ("lever", "law"), ("target", "soon")]),
            400,
        ),
        (
            measures.clone(),
            vec![("kind", "measure"), ("lever", "law"), ("text", "")],
            422,
        ),
        (
            "/hardships/nosuchhardship/measures".to_owned(),
            with(&[("kind", "measure"), ("lever", "law")]),
            404,
        ),
        (
            format!("{measures}/nosuchmeasure/status"),
            vec![("status", "agreed")],
            404,
        ),
        (
            format!("{measures}/nosuchmeasure/status"),
            vec![("status", "done-ish")],
            400,
        ),
        (
            format!("/signals/{id}/hardships"),
            vec![("hardship", "nosuchhardship")],
            404,
        ),
        (
            format!("/signals/{id}/hardships"),
            vec![("hardship", "")],
            422,
        ),
        (
            "/signals/nosuchsignal/hardships".to_owned(),
            vec![("hardship", hardship.as_str())],
            404,
        ),
        (
            format!("/signals/{id}/hardships/unlink"),
            vec![("hardship", hardship.as_str())],
            404,
        ),
    ] {
        let res = s.post(&path, &fields).await;
        assert_eq!(res.status().as_u16(), status, "{path} {fields:?}");
        let page = res.text().await.unwrap();
        assert!(page.contains("<h1"), "a readable page: {page}");
    }
    // A refused measure comes back on the hardship's page as it was typed,
    // the field that is missing marked, and nothing stored.
    let typed = "Een tekst die de reviewer niet kwijt wil";
    let res = s
        .post(
            &measures,
            &[
                ("kind", "proposal"),
                ("lever", "practice"),
                ("text", typed),
                ("organisation", " "),
                ("source", "Rapport Y"),
                ("target", "2027-03-01"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("data-refused=\"measure\""), "{page}");
    assert!(page.contains(&format!(">{typed}</textarea>")), "{page}");
    assert!(page.contains("value=\"Rapport Y\"") && page.contains("value=\"2027-03-01\""));
    assert!(
        page.contains("value=\"proposal\" selected")
            && page.contains("value=\"practice\" selected")
    );
    assert!(page.contains("id=\"m-organisation\" name=\"organisation\" type=\"text\" maxlength=\"300\" value=\"\" required aria-invalid=\"true\""), "{page}");
    let measures_stored: i64 = db(&server)
        .query_row("SELECT count(*) FROM measures", [], |r| r.get(0))
        .unwrap();
    assert_eq!(measures_stored, 0);
    let res = s
        .in_language("en")
        .post(&measures, &with(&[("kind", "wish"), ("lever", "law")]))
        .await;
    assert_eq!(res.status().as_u16(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Choose the kind and the lever")
    );
    let (status, _) = s.get("/hardships/nosuchhardship").await;
    assert_eq!(status, 404);
    assert_eq!(audit_count(&server, "measure"), 0);
    assert_eq!(audit_count(&server, "link"), 0);
}

/// Creates a hardship with one measure over HTTP; (hardship, measure).
async fn hardship_with_measure(s: &Session, title: &str, measure: &str) -> (String, String) {
    let res = s
        .post(
            "/hardships",
            &[("title", title), ("description", "Het patroon")],
        )
        .await;
    let hardship = hardship_in(&res);
    let res = s
        .post(
            &format!("/hardships/{hardship}/measures"),
            &[
                ("kind", "measure"),
                ("lever", "law"),
                ("text", measure),
                ("organisation", "Ministerie van SZW"),
                ("source", "Hardheden en oplossingen 2025"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, page) = s.get(&format!("/hardships/{hardship}")).await;
    let measure = all_after(&page, "data-measure=\"").remove(0);
    (hardship, measure)
}

fn published_count(server: &Server, table: &str) -> i64 {
    db(server)
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn publishing_is_an_audited_act_whose_texts_the_guard_holds_back_until_confirmed() {
    let server = Server::start();
    let s = demo_login(&server).await;
    let (internal, public, internal_measure) =
        (canary("INTERNAL"), canary("PUBLIC"), canary("INMEASURE"));
    let (hardship, measure) = hardship_with_measure(&s, &internal, &internal_measure).await;
    let page = format!("/hardships/{hardship}");
    let (_, shown) = s.get(&page).await;
    assert!(shown.contains("data-published=\"false\""), "{shown}");
    // The form starts from the measure's sealed text, never from the title.
    assert!(shown.contains(&internal_measure));
    assert!(
        shown.contains(
            "id=\"p-public_title\" name=\"public_title\" type=\"text\" maxlength=\"300\" value=\"\""
        ),
        "{shown}"
    );

    let publish = format!("{page}/publish");
    let text_field = format!("m_{measure}_text");
    let org_field = format!("m_{measure}_organisation");
    let summary = format!("{public} Mail jan@voorbeeld.nl voor meer");
    let form = |summary: &str, confirm: &'static str| {
        vec![
            ("public_title".to_owned(), public.clone()),
            ("public_summary".to_owned(), summary.to_owned()),
            (text_field.clone(), "De norm wordt aangepast".to_owned()),
            (org_field.clone(), "Ministerie van SZW".to_owned()),
            ("confirm".to_owned(), confirm.to_owned()),
        ]
    };
    let post = |fields: Vec<(String, String)>| {
        let s = &s;
        let publish = publish.clone();
        async move {
            let pairs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            s.post(&publish, &pairs).await
        }
    };

    // The guard finds the address: held back, the texts come back as typed,
    // and nothing of them reaches the disk or the log.
    let res = post(form(&summary, "")).await;
    assert_eq!(res.status().as_u16(), 422);
    let check = res.text().await.unwrap();
    assert!(check.contains("data-finding=\"email\""), "{check}");
    assert!(check.contains("data-field=\"public_summary\""));
    assert!(check.contains(&public) && check.contains("name=\"confirm\""));
    assert_eq!(published_count(&server, "publications"), 0);
    let scan = server.data_files();
    scan.assert_read(&["signaal.db", "signaal.db-wal"]);
    for needle in [&internal, &public, &internal_measure] {
        scan.assert_nowhere(needle.as_bytes(), needle);
        assert!(
            !server.output().contains(needle.as_str()),
            "{needle} in the log"
        );
    }
    // A missing title: the form again, with why.
    let mut untitled = form("Een samenvatting", "");
    untitled[0].1.clear();
    let res = post(untitled).await;
    assert_eq!(res.status().as_u16(), 422);
    assert!(res.text().await.unwrap().contains("aria-invalid=\"true\""));
    assert_eq!(published_count(&server, "publications"), 0);

    // Confirmed: published, in the clear, with its audit row.
    let res = post(form(&summary, "1")).await;
    assert_eq!(res.status().as_u16(), 303);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .contains("done=published")
    );
    assert_eq!(published_count(&server, "publications"), 1);
    assert_eq!(published_count(&server, "published_measures"), 1);
    let (_, shown) = s.get(&page).await;
    assert!(shown.contains("data-published=\"true\"") && shown.contains(&public));
    let (_, english) = s.in_language("en").get(&page).await;
    assert!(english.contains("Published on") && english.contains("Take the publication back"));

    // Published again without the measure's text: the measure goes off the
    // public page, and the page says so.
    let mut without = form("Een samenvatting", "");
    without[2].1.clear();
    let res = post(without).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(published_count(&server, "published_measures"), 0);
    let (_, shown) = s.get(&page).await;
    assert!(shown.contains("data-not-public=\"1\""), "{shown}");

    // Taken back: the public texts go; a second time is a conflict.
    let res = s.post(&format!("{page}/unpublish"), &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(published_count(&server, "publications"), 0);
    assert_eq!(published_count(&server, "published_measures"), 0);
    let res = s.post(&format!("{page}/unpublish"), &[]).await;
    assert_eq!(res.status().as_u16(), 409);
    // Unknown hardship; a measure of another hardship cannot be slipped in.
    let res = s
        .post(
            "/hardships/nosuchhardship/publish",
            &[("public_title", "t"), ("public_summary", "s")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 404);

    assert_eq!(audit_count(&server, "publish"), 2);
    assert_eq!(audit_count(&server, "unpublish"), 1);
    let (code, out, err) = server.run(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
    // The sealed texts never left their envelopes.
    let scan = server.data_files();
    for needle in [&internal, &internal_measure] {
        scan.assert_nowhere(needle.as_bytes(), needle);
    }
}

#[tokio::test]
async fn the_overview_filters_by_organisation_domain_lever_status_and_change_and_flags_what_is_late()
 {
    let server = Server::start();
    let s = demo_login(&server).await;
    let mut made = Vec::new();
    for (title, domain, organisations, lever, org, target, status) in [
        (
            "Kostendelersnorm",
            "social-assistance",
            "UWV",
            "law",
            "SZW",
            "2020-01-01",
            "agreed",
        ),
        (
            "Naheffing toeslag",
            "taxes",
            "",
            "practice",
            "Belastingdienst",
            "",
            "implemented",
        ),
    ] {
        let res = s
            .post(
                "/hardships",
                &[
                    ("title", title),
                    ("description", "Het patroon"),
                    ("domain", domain),
                    ("organisations", organisations),
                ],
            )
            .await;
        let hardship = hardship_in(&res);
        let res = s
            .post(
                &format!("/hardships/{hardship}/measures"),
                &[
                    ("kind", "measure"),
                    ("lever", lever),
                    ("text", "De regel aanpassen"),
                    ("organisation", org),
                    ("target", target),
                ],
            )
            .await;
        assert_eq!(res.status().as_u16(), 303);
        let (_, page) = s.get(&format!("/hardships/{hardship}")).await;
        let measure = all_after(&page, "data-measure=\"").remove(0);
        let res = s
            .post(
                &format!("/hardships/{hardship}/measures/{measure}/status"),
                &[("status", status)],
            )
            .await;
        assert_eq!(res.status().as_u16(), 303);
        made.push(hardship);
    }
    let (late, done) = (&made[0], &made[1]);
    let shown = |page: &str| all_after(page, "data-hardship=\"");
    let (status, all) = s.get("/hardships").await;
    assert_eq!(status, 200);
    assert_eq!(shown(&all).len(), 2);
    assert!(
        all.contains(&format!("data-hardship=\"{late}\" data-overdue=\"1\"")),
        "{all}"
    );
    assert!(all.contains(&format!("data-hardship=\"{done}\" data-overdue=\"0\"")));
    assert!(all.contains("data-count-status=\"implemented\""));
    assert!(all.contains("over de streefdatum"));
    let today = time::OffsetDateTime::now_utc().date().to_string();
    for (query, wanted) in [
        ("organisation=uwv", vec![late]),
        ("organisation=BELASTING", vec![done]),
        ("domain=taxes", vec![done]),
        ("lever=law", vec![late]),
        ("status=implemented", vec![done]),
        ("status=withdrawn", vec![]),
        ("overdue=1", vec![late]),
        (&format!("since={today}") as &str, vec![late, done]),
        ("since=2999-01-01", vec![]),
        ("domain=taxes&lever=law", vec![]),
    ] {
        let (status, page) = s.get(&format!("/hardships?{query}")).await;
        assert_eq!(status, 200, "{query}");
        let mut found = shown(&page);
        found.sort();
        let mut wanted: Vec<String> = wanted.into_iter().cloned().collect();
        wanted.sort();
        assert_eq!(found, wanted, "{query}");
    }
    let (_, since) = s.get(&format!("/hardships?since={today}")).await;
    for step in ["proposed", "agreed", "implemented"] {
        assert!(
            since.contains(&format!("data-change=\"{step}\"")),
            "{step}: {since}"
        );
    }
    let (_, english) = s.in_language("en").get("/hardships?overdue=1").await;
    assert!(english.contains("past the target date") && english.contains("Show all"));
    for bad in [
        "lever=magic",
        "status=done",
        "since=gisteren",
        "domain=elders",
    ] {
        let (status, page) = s.get(&format!("/hardships?{bad}")).await;
        assert_eq!(status, 400, "{bad}");
        assert!(page.contains("lang=\"nl\""), "{bad}: a readable page");
    }
    // What was opened for the organisation filter is in the chain.
    let detail: String = db(&server)
        .query_row(
            "SELECT detail FROM audit WHERE action = 'hardship-view' AND detail LIKE '%organisations of%' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        detail,
        "overview: titles of 2 hardships, organisations of 2 measures"
    );
}
