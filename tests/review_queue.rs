//! The queue a reviewer scans: a reference that can be read aloud, what each
//! signal is about (decrypted while the page is made, and audited), the
//! sender's choice of domain and scale, and the domain filter that follows
//! that choice until triage confirms another.
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

/// The `<tr>` of signal `id` on `page`.
fn row<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page.find(&format!("data-signal=\"{id}\"")).unwrap();
    let row = &page[start..];
    &row[..row.find("</tr>").unwrap()]
}

fn glance_rows(server: &Server) -> Vec<String> {
    db(server)
        .prepare("SELECT detail FROM audit WHERE action = 'glance' ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn the_queue_shows_each_signals_reference_first_words_and_sender_choices_and_audits_the_view()
{
    let server = Server::start();
    let word = canary("KINDEROPVANG");
    let tail = canary("TAIL");
    let care = format!(
        "De kinderopvangtoeslag {word} wordt teruggevorderd omdat een formulier een dag te laat kwam, \
         terwijl het gezin er niets aan kon doen en de gemeente het al wist. {tail}"
    );
    submit_signal(
        &server,
        &[("situation", &care), ("domain", "youth"), ("scale", "many")],
    )
    .await;
    submit_signal(
        &server,
        &[
            ("situation", "Een boete voor de belasting"),
            ("domain", "taxes"),
        ],
    )
    .await;
    submit_signal(&server, &[("situation", "Zonder keuze")]).await;
    let s = demo_login(&server).await;
    let (status, page) = s.get("/").await;
    assert_eq!(status, 200);
    let ids = signal_ids(&page);
    assert_eq!(ids.len(), 3);
    let care_id = ids
        .iter()
        .find(|id| row(&page, id).contains(&word))
        .expect("the first words of the situation are in the queue")
        .clone();
    let r = row(&page, &care_id);
    assert!(!r.contains(&tail), "only the first words: {r}");
    assert!(r.contains("…"), "a cut snippet says so: {r}");
    assert!(
        r.contains("data-domain=\"youth\" data-domain-by=\"sender\""),
        "{r}"
    );
    assert!(r.contains("Jeugd") && r.contains("Veel mensen"), "{r}");
    // The reference: the id's first eight characters in two groups of four.
    let reference = format!(
        "{}-{}",
        care_id[..4].to_uppercase(),
        care_id[4..8].to_uppercase()
    );
    assert!(r.contains(&format!(">{reference}</a>")), "{r}");
    // One audit row for the page view, naming every signal shown.
    let rows = glance_rows(&server);
    assert_eq!(rows.len(), 1, "{rows:?}");
    for id in &ids {
        assert!(rows[0].contains(id.as_str()), "{} in {:?}", id, rows[0]);
    }
    s.get("/").await;
    assert_eq!(glance_rows(&server).len(), 2, "every page view is audited");

    // Typed as said on the phone: lower case, a space.
    let res = s
        .get_raw(&format!(
            "/?ref={}",
            reference.to_lowercase().replace('-', "+")
        ))
        .await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        res.headers()["location"],
        format!("/signals/{care_id}").as_str()
    );
    let (status, none) = s.get("/?ref=ZZZZ-ZZZZ").await;
    assert_eq!(status, 200);
    assert!(
        none.contains("Geen signaal met kenmerk ZZZZ-ZZZZ"),
        "{none}"
    );

    // The domain filter follows the sender's choice until triage says otherwise.
    let (_, youth) = s.get("/?domain=youth").await;
    assert_eq!(signal_ids(&youth), std::slice::from_ref(&care_id));
    let res = s
        .post(
            &format!("/signals/{care_id}/triage"),
            &[
                ("status", "in_progress"),
                ("domain", "taxes"),
                ("origin", ""),
                ("labels", ""),
                ("assignee", ""),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, youth) = s.get("/?domain=youth").await;
    assert!(signal_ids(&youth).is_empty(), "triage overrides the sender");
    let (_, taxes) = s.get("/?domain=taxes").await;
    assert_eq!(
        signal_ids(&taxes).len(),
        2,
        "confirmed, and chosen by a sender"
    );
    assert!(row(&taxes, &care_id).contains("data-domain=\"taxes\">"));

    // Every checkbox names its signal.
    let labels: Vec<String> = page
        .match_indices("aria-label=\"signaal ")
        .map(|(i, _)| attr_after(&page[i..], "aria-label=\"").unwrap())
        .collect();
    assert_eq!(labels.len(), 3, "{labels:?}");
    let mut unique = labels.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 3, "{labels:?}");

    // Shown on the page, and nowhere on disk or in the log.
    let scan = server.data_files();
    scan.assert_read(&["signaal.db"]);
    for needle in [&word, &tail] {
        scan.assert_nowhere(needle.as_bytes(), needle);
        assert!(
            !server.output().contains(needle.as_str()),
            "{needle} in the log"
        );
    }
}

#[tokio::test]
async fn the_first_queue_page_shows_twenty_five_and_counts_to_ten_thousand_at_most() {
    let server = Server::start();
    for i in 0..27 {
        submit_signal(&server, &[("situation", &format!("Signaal {i}"))]).await;
    }
    let s = demo_login(&server).await;
    let (_, first) = s.get("/").await;
    assert_eq!(signal_ids(&first).len(), 25);
    assert!(first.contains("data-total=\"27\""));
    assert!(first.contains("rel=\"next\""));
    let (_, second) = s.get("/?page=2").await;
    assert_eq!(signal_ids(&second).len(), 2);
}

#[tokio::test]
async fn search_keeps_the_query_shows_the_sentence_marked_and_escaped_and_finds_notes_and_labels() {
    let server = Server::start();
    submit_signal(
        &server,
        &[(
            "situation",
            "Eerst iets anders. De <b>kinderopvang</b> stopt na een dag. Verder niets.",
        )],
    )
    .await;
    submit_signal(&server, &[("situation", "Een tweede signaal")]).await;
    let s = demo_login(&server).await;
    let ids = signal_ids(&s.get("/").await.1);
    let second = ids
        .iter()
        .find(|id| {
            db(&server)
                .query_row(
                    "SELECT 1 FROM all_signals WHERE id = ?1",
                    [id.as_str()],
                    |_| Ok(()),
                )
                .is_ok()
        })
        .unwrap()
        .clone();
    let res = s
        .post("/search", &[("q", "KINDEROPVANG"), ("scope", "100")])
        .await;
    let page = res.text().await.unwrap();
    assert!(
        page.contains("value=\"KINDEROPVANG\""),
        "the query stays in the box: {page}"
    );
    assert!(
        page.contains("De &lt;b&gt;<mark>kinderopvang</mark>&lt;/b&gt; stopt na een dag."),
        "{page}"
    );
    assert!(!page.contains("Eerst iets anders"), "only the sentence");
    assert!(
        page.contains("<details class=\"advanced\">"),
        "the scope is folded away"
    );

    // A note and a label are found too.
    let other = ids.iter().find(|i| **i != second).unwrap();
    let target = if page.contains(&format!("data-signal=\"{second}\"")) {
        other
    } else {
        &second
    };
    s.post(
        &format!("/signals/{target}/notes"),
        &[("note", "Bellen met de uitvoerder")],
    )
    .await;
    let page = s
        .post("/search", &[("q", "uitvoerder")])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("data-signal=\"{target}\" data-found-in=\"note\"")),
        "{page}"
    );
    s.post(
        &format!("/signals/{target}/triage"),
        &[
            ("status", "closed"),
            ("domain", ""),
            ("origin", ""),
            ("labels", "peildatum"),
            ("assignee", ""),
        ],
    )
    .await;
    let page = s
        .post("/search", &[("q", "peildatum")])
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-found-in=\"label\""), "{page}");
    // Within the queue's filters.
    let page = s
        .post("/search", &[("q", "peildatum"), ("status", "new")])
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("0 gevonden."), "{page}");
    // Nothing typed: said on the same page, not a dead end.
    let res = s.post("/search", &[("q", "  ")]).await;
    assert_eq!(res.status().as_u16(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Vul in waarnaar u zoekt.")
    );
}

/// The ids a search page lists as hits.
fn hits(page: &str) -> Vec<String> {
    let mut out: Vec<String> = page
        .match_indices("<li data-signal=\"")
        .filter_map(|(i, m)| page[i + m.len()..].split('"').next().map(str::to_owned))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn search_combines_with_the_queues_filters_label_mine_attention_and_the_senders_domain() {
    let server = Server::start();
    // Five signals with the same word; the third one's sender chose youth.
    for i in 0..5 {
        let text = format!("De toeslag stopt ({i}).");
        if i == 2 {
            submit_signal(&server, &[("situation", &text), ("domain", "youth")]).await;
        } else {
            submit_signal(&server, &[("situation", &text)]).await;
        }
    }
    let s = demo_login(&server).await;
    let all = {
        let mut ids = signal_ids(&s.get("/").await.1);
        ids.sort();
        ids
    };
    assert_eq!(all.len(), 5);
    // Which id holds which number, as the page shows it.
    let mut by_number = vec![String::new(); 5];
    for id in &all {
        let (_, page) = s.get(&format!("/signals/{id}")).await;
        let n = (0..5).find(|n| page.contains(&format!("({n})"))).unwrap();
        by_number[n] = id.clone();
    }
    // 0: labelled "spoed"; 1: assigned to demo; 4: ten days old, unacknowledged.
    s.post(
        &format!("/signals/{}/triage", by_number[0]),
        &[
            ("status", "in_progress"),
            ("domain", ""),
            ("origin", ""),
            ("labels", "spoed"),
            ("assignee", ""),
        ],
    )
    .await;
    s.post(
        &format!("/signals/{}/triage", by_number[1]),
        &[
            ("status", "in_progress"),
            ("domain", ""),
            ("origin", ""),
            ("labels", ""),
            ("assignee", "demo"),
        ],
    )
    .await;
    {
        let conn = db(&server);
        let today = time::OffsetDateTime::now_utc().date().to_string();
        for table in ["signals", "inbox_signals"] {
            conn.execute(
                &format!("UPDATE {table} SET received_on = date(?2, '-10 days') WHERE id = ?1"),
                [by_number[4].as_str(), today.as_str()],
            )
            .unwrap();
        }
    }
    let search = async |extra: &[(&str, &str)]| {
        let mut form = vec![("q", "toeslag")];
        form.extend_from_slice(extra);
        s.post("/search", &form).await.text().await.unwrap()
    };
    let one = |n: usize| vec![by_number[n].clone()];
    assert_eq!(hits(&search(&[]).await), all, "no filter: all five");
    let page = search(&[("label", "spoed")]).await;
    assert_eq!(hits(&page), one(0), "label");
    assert!(
        page.contains("id=\"s-label\" name=\"label\" value=\"spoed\""),
        "the filter stays: {page}"
    );
    let page = search(&[("who", "mine")]).await;
    assert_eq!(hits(&page), one(1), "mine");
    assert!(page.contains("<option value=\"mine\" selected>"), "{page}");
    let mut nobody = all.clone();
    nobody.retain(|id| *id != by_number[1]);
    assert_eq!(
        hits(&search(&[("who", "nobody")]).await),
        nobody,
        "unassigned"
    );
    let page = search(&[("attention", "1")]).await;
    assert_eq!(hits(&page), one(4), "needs attention");
    assert!(
        page.contains(
            "id=\"s-attention\" type=\"checkbox\" name=\"attention\" value=\"1\" checked"
        ),
        "{page}"
    );
    assert_eq!(
        hits(&search(&[("domain", "youth")]).await),
        one(2),
        "the sender's domain"
    );
    assert!(
        hits(&search(&[("label", "spoed"), ("who", "mine")]).await).is_empty(),
        "both at once"
    );
    // The queue's filter carries over: its link opens the search with the
    // same filters chosen.
    let (_, queue) = s
        .get("/?label=spoed&who=mine&attention=1&sort=oldest")
        .await;
    assert!(
        queue.contains(
            "href=\"/search?label=spoed&amp;who=mine&amp;attention=1&amp;sort=oldest&amp;page=1\""
        ),
        "{queue}"
    );
    let (status, form) = s
        .get("/search?label=spoed&who=mine&attention=1&sort=oldest&page=1")
        .await;
    assert_eq!(status, 200);
    assert!(
        form.contains("name=\"label\" value=\"spoed\"")
            && form.contains("<option value=\"mine\" selected>")
            && form.contains("name=\"attention\" value=\"1\" checked"),
        "{form}"
    );
    // Reading the sender's choice of domain for the search was audited.
    let audited: i64 = db(&server)
        .query_row(
            "SELECT count(*) FROM audit WHERE detail LIKE 'domain chosen by the sender read:%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(audited >= 1);
}

#[tokio::test]
async fn the_metadata_of_selected_or_filtered_signals_downloads_as_csv_audited_without_content() {
    let server = Server::start();
    let secret = canary("CSV");
    for i in 0..3 {
        submit_signal(&server, &[("situation", &format!("Signaal {i} {secret}"))]).await;
    }
    let s = demo_login(&server).await;
    let ids = signal_ids(&s.get("/").await.1);
    s.post(
        &format!("/signals/{}/triage", ids[0]),
        &[
            ("status", "closed"),
            ("domain", "taxes"),
            ("origin", "law"),
            ("labels", "=SUM(A1)"),
            ("assignee", "demo"),
        ],
    )
    .await;
    let res = s
        .post("/queue.csv", &[("id", &ids[0]), ("id", &ids[1])])
        .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "reference,id,received_on,status,domain,origin,labels,assignee,flags"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].contains(&format!(
            "\"{}\",\"closed\",\"taxes\",\"law\",\"'=SUM(A1)\",\"demo\"",
            signaal_day(&server, &ids[0])
        )),
        "{csv}"
    );
    assert!(!csv.contains(&secret), "no content");
    // None selected: what the filter shows.
    let csv = s
        .post("/queue.csv", &[("back", "status=new")])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let audited: Vec<String> = db(&server)
        .prepare("SELECT detail FROM audit WHERE action = 'export' ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        audited,
        [
            "metadata csv of 2 selected signals",
            "metadata csv of 2 filtered signals"
        ]
    );

    // A page that does not exist keeps the frame for a reviewer.
    let (status, page) = s.get("/no/such/page").await;
    assert_eq!(status, 404);
    assert!(
        page.contains("Uitloggen") && page.contains("Niet gevonden"),
        "{page}"
    );
    // So does a signal, hardship or envelope that does not exist, answered by
    // a route's handler rather than the fallback; without a session the same
    // address is the plain page (no navigation, no reviewer's name).
    for missing in [
        "/signals/aaaaaaaaaaaaaaaa",
        "/signals/aaaaaaaaaaaaaaaa/envelope.age",
        "/hardships/aaaaaaaaaaaaaaaa",
    ] {
        let (status, page) = s.get(missing).await;
        assert_eq!(status, 404, "{missing}");
        assert!(
            page.contains("Uitloggen")
                && page.contains("Niet gevonden")
                && page.contains("href=\"/search\""),
            "{missing}: {page}"
        );
    }
    let bare = reqwest::get(format!("{}/no/such/page", s.base))
        .await
        .unwrap();
    assert_eq!(bare.status().as_u16(), 404);
    let bare = bare.text().await.unwrap();
    assert!(
        bare.contains("Niet gevonden") && !bare.contains("Uitloggen"),
        "{bare}"
    );

    // Opening a signal again and again folds into one line of its trail.
    for _ in 0..3 {
        s.get(&format!("/signals/{}", ids[1])).await;
    }
    let (_, page) = s.get(&format!("/signals/{}", ids[1])).await;
    assert!(page.contains("data-folded=\"4\""), "{page}");
    assert!(page.contains("geopend (ontsleuteld) 4× tussen"), "{page}");
    // A second session of the same reviewer folds on its own line: the fold
    // is per session, which each view row names as its login row does.
    let again = demo_login(&server).await;
    again.get(&format!("/signals/{}", ids[1])).await;
    let (_, page) = again.get(&format!("/signals/{}", ids[1])).await;
    assert!(
        page.contains("data-folded=\"2\"") && page.contains("data-folded=\"4\""),
        "{page}"
    );
    let conn = db(&server);
    let logins: Vec<String> = conn
        .prepare("SELECT detail FROM audit WHERE action = 'login' ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let views: Vec<String> = conn
        .prepare("SELECT detail FROM audit WHERE action = 'view' AND signal_id = ?1 ORDER BY seq")
        .unwrap()
        .query_map([ids[1].as_str()], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(logins.len(), 2);
    assert_ne!(logins[0], logins[1], "each session its own name");
    assert_eq!(views.len(), 6);
    assert!(
        views[..4].iter().all(|v| *v == logins[0]),
        "{views:?} {logins:?}"
    );
    assert!(
        views[4..].iter().all(|v| *v == logins[1]),
        "{views:?} {logins:?}"
    );
}

fn signaal_day(server: &Server, id: &str) -> String {
    db(server)
        .query_row(
            "SELECT received_on FROM all_signals WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
}

#[tokio::test]
async fn most_urgent_first_and_workflow_order_sort_the_queue_over_http() {
    let server = Server::start();
    for i in 0..6 {
        submit_signal(&server, &[("situation", &format!("Volgorde {i}"))]).await;
    }
    let s = demo_login(&server).await;
    let ids = signal_ids(&s.get("/").await.1);
    assert_eq!(ids.len(), 6);
    // (status, days waiting) per signal, every day different.
    let set = [
        ("new", 20),
        ("in_progress", 10),
        ("forwarded", 30),
        ("closed", 40),
        ("not_admissible", 5),
        ("new", 2),
    ];
    {
        let conn = db(&server);
        let today = time::OffsetDateTime::now_utc().date().to_string();
        for (id, (status, days)) in ids.iter().zip(set) {
            for table in ["signals", "inbox_signals"] {
                conn.execute(
                    &format!(
                        "UPDATE {table} SET status = ?2, received_on = date(?3, ?4) WHERE id = ?1"
                    ),
                    [
                        id.as_str(),
                        status,
                        today.as_str(),
                        &format!("-{days} days"),
                    ],
                )
                .unwrap();
            }
        }
    }
    let order = |picks: [usize; 6]| picks.map(|i| ids[i].clone()).to_vec();
    // Open signals (new, in progress) first, longest waiting first; then the rest, so.
    let (_, urgent) = s.get("/?sort=urgent").await;
    assert_eq!(
        signal_ids(&urgent),
        order([0, 1, 5, 3, 2, 4]),
        "most urgent first"
    );
    // Workflow order of status (not alphabetical), longest waiting first within each.
    let (_, by_status) = s.get("/?sort=status").await;
    assert_eq!(
        signal_ids(&by_status),
        order([0, 5, 1, 2, 3, 4]),
        "new, in progress, forwarded, closed, not admissible"
    );
    assert!(
        by_status.contains("<option value=\"status\" selected>"),
        "{by_status}"
    );
    // With a filter, the same orders hold within it.
    let (_, new_urgent) = s.get("/?status=new&sort=urgent").await;
    assert_eq!(signal_ids(&new_urgent), [ids[0].clone(), ids[5].clone()]);
    let (_, oldest) = s.get("/?sort=oldest").await;
    assert_eq!(
        signal_ids(&oldest),
        order([3, 2, 0, 1, 4, 5]),
        "oldest first"
    );
}

#[tokio::test]
async fn a_domain_filter_says_when_older_untriaged_signals_were_not_read_for_the_senders_choice() {
    let mut server = Server::start();
    submit_signal(
        &server,
        &[("situation", "Jeugdzorg stopt."), ("domain", "youth")],
    )
    .await;
    submit_signal(&server, &[("situation", "Zonder domein.")]).await;
    let s = demo_login(&server).await;
    let (_, youth) = s.get("/?domain=youth").await;
    let chose = signal_ids(&youth);
    assert_eq!(chose.len(), 1, "the sender's choice is read: {youth}");
    assert!(!youth.contains("data-chosen-partly"), "all read: {youth}");
    // Read once a session: the next pages and a search in the same session
    // read no envelope again (no new audit row); another session reads them.
    let reads = || -> i64 {
        db(&server)
            .query_row(
                "SELECT count(*) FROM audit WHERE detail LIKE 'domain chosen by the sender read:%'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(reads(), 1);
    let (_, again) = s.get("/?domain=youth&sort=oldest").await;
    assert_eq!(signal_ids(&again), chose);
    s.post("/search", &[("q", "stopt"), ("domain", "youth")])
        .await;
    assert_eq!(reads(), 1, "the session kept what it read");
    let other = demo_login(&server).await;
    let (_, theirs) = other.get("/?domain=youth").await;
    assert_eq!(signal_ids(&theirs), chose);
    assert_eq!(reads(), 2, "another session reads for itself");
    let chose = chose[0].clone();
    server.stop();
    // The one that chose youth ten days old, then 510 newer untriaged
    // signals without a choice (copies of the other): it is past the newest 500.
    {
        let conn = db(&server);
        let today = time::OffsetDateTime::now_utc().date().to_string();
        for table in ["signals", "inbox_signals"] {
            conn.execute(
                &format!("UPDATE {table} SET received_on = date(?2, '-10 days') WHERE id = ?1"),
                [chose.as_str(), today.as_str()],
            )
            .unwrap();
        }
        let copied = conn
            .execute(
                "INSERT INTO signals (rowid, id, received_on, status, domain, lookup_tag,
                                      source_recipient, format, envelope)
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 510)
                 SELECT abs(random() >> 1), lower(hex(randomblob(10))), ?2, 'new', NULL,
                        randomblob(32), o.source_recipient, o.format, o.envelope
                 FROM n, (SELECT * FROM all_signals WHERE id <> ?1) o",
                [chose.as_str(), today.as_str()],
            )
            .unwrap();
        assert_eq!(copied, 510);
    }
    server.restart();
    let s = demo_login(&server).await;
    let (_, youth) = s.get("/?domain=youth").await;
    assert!(youth.contains("data-chosen-partly"), "{youth}");
    assert!(youth.contains("de 500 nieuwste signalen"), "{youth}");
    assert!(
        signal_ids(&youth).is_empty(),
        "past the newest 500: {youth}"
    );
    // Triage confirms the domain: then the filter finds it, whatever its age.
    s.post(
        &format!("/signals/{chose}/triage"),
        &[
            ("status", "in_progress"),
            ("domain", "youth"),
            ("origin", ""),
            ("labels", ""),
            ("assignee", ""),
        ],
    )
    .await;
    let (_, youth) = s.get("/?domain=youth").await;
    assert_eq!(signal_ids(&youth), [chose]);
    // Without a domain filter nothing is read and nothing is said.
    let (_, all) = s.get("/").await;
    assert!(!all.contains("data-chosen-partly"));
}
