//! Triage in a few clicks: lists to choose from, a refusal shown inline with
//! everything kept, post/redirect/get with a confirmation, "save and next"
//! through the queue's own order; a sender's reply marked handled; the
//! standard messages and the one-click acknowledgement.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod review_support;

use common::Server;
use review_support::*;

/// `POST` a form to the intake; the page.
async fn intake(server: &Server, path: &str, fields: &[(&str, &str)]) -> String {
    let res = common::client()
        .post(format!("{}{path}", server.intake))
        .form(fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "{path}");
    res.text().await.unwrap()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_triage_is_chosen_from_lists_refused_inline_with_input_kept_and_saved_with_next_in_queue_order()
 {
    let server = Server::start();
    for i in 0..4 {
        submit_signal(&server, &[("situation", &format!("Hardheid nummer {i}"))]).await;
    }
    let s = demo_login(&server).await;
    let (_, queue) = s.get("/?status=new&sort=oldest").await;
    let ids = signal_ids(&queue);
    assert_eq!(ids.len(), 4);
    // The queue links carry the queue's filter and the signal's place in it.
    let link = attr_after(&queue, "class=\"ref\" href=\"")
        .unwrap()
        .replace("&amp;", "&");
    assert!(
        link.starts_with(&format!("/signals/{}?from=", ids[0])),
        "{link}"
    );
    let (_, page) = s.get(&link).await;
    assert!(
        page.contains("<select id=\"t-domain\" name=\"domain\""),
        "domain is a list"
    );
    assert!(
        page.contains("<option value=\"benefits\">Toeslagen"),
        "labels in Dutch, codes as values"
    );
    assert!(page.contains("<select id=\"t-assignee\" name=\"assignee\""));
    assert!(
        page.contains("<option value=\"demo\">demo</option>"),
        "the reviewers to choose from"
    );
    assert!(page.contains("rel=\"next\""), "a next signal");
    let from = "status=new&sort=oldest&page=1";

    // A name typed with spaces: refused on the same page, with what was chosen kept.
    let res = s
        .post(
            &format!("/signals/{}/triage", ids[0]),
            &[
                ("status", "in_progress"),
                ("domain", "housing"),
                ("origin", "policy"),
                ("labels", "wachtlijst, spoed"),
                ("assignee", "Anna de Vries"),
                ("from", from),
                ("pos", "0"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("Kies een van de beoordelaars."), "{page}");
    assert!(
        page.contains("aria-invalid=\"true\" aria-describedby=\"t-assignee-error\""),
        "{page}"
    );
    assert!(
        page.contains("<option value=\"housing\" selected>"),
        "the domain is kept"
    );
    assert!(
        page.contains("<option value=\"policy\" selected>"),
        "the origin is kept"
    );
    assert!(
        page.contains("value=\"wachtlijst, spoed\""),
        "the labels typed are kept"
    );
    assert!(
        page.contains("<option value=\"Anna de Vries\" selected>"),
        "even the refused name"
    );
    assert!(
        page.contains("Hardheid nummer"),
        "the signal is still shown"
    );
    let status: String = db(&server)
        .query_row(
            "SELECT status FROM all_signals WHERE id = ?1",
            [&ids[0]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(status, "new", "nothing was saved");

    // Saved and next: the first leaves the "new" filter; the next in the same
    // order comes, with a confirmation.
    let res = s
        .post(
            &format!("/signals/{}/triage", ids[0]),
            &[
                ("status", "in_progress"),
                ("domain", "housing"),
                ("origin", "policy"),
                ("labels", "wachtlijst, spoed"),
                ("assignee", ""),
                ("assign_me", "1"),
                ("then", "next"),
                ("from", from),
                ("pos", "0"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let next = location(&res);
    assert!(next.starts_with(&format!("/signals/{}?", ids[1])), "{next}");
    let (_, page) = s.get(&next).await;
    assert!(page.contains("data-done=\"triage\""), "{page}");
    let refn = format!(
        "{}-{}",
        ids[0][..4].to_uppercase(),
        &ids[0][4..8].to_uppercase()
    );
    assert!(
        page.contains(&format!("Triage van {refn} opgeslagen")),
        "{page}"
    );
    let (assignee, labels): (String, String) = db(&server)
        .query_row(
            "SELECT assignee, labels FROM all_signals WHERE id = ?1",
            [&ids[0]],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(assignee, "demo", "assign to me");
    assert_eq!(labels, "wachtlijst, spoed");
    // Previous and next keep the filter: back from the second is no longer
    // the first (it left "new"), and next is the third.
    assert!(
        page.contains(&format!("href=\"/signals/{}?from=", ids[2])),
        "next is the third"
    );
    assert!(
        !page.contains(&format!("href=\"/signals/{}?from=", ids[0])),
        "{page}"
    );

    // A plain save comes back to the same signal with a confirmation (PRG).
    let res = s
        .post(
            &format!("/signals/{}/triage", ids[1]),
            &[
                ("status", "forwarded"),
                ("domain", ""),
                ("origin", ""),
                ("assignee", ""),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(location(&res), format!("/signals/{}?done=triage", ids[1]));
    let (_, page) = s.get(&location(&res)).await;
    assert!(page.contains("Triage opgeslagen."));

    // The labels are the team's now: offered as choices on every signal, and a filter.
    let (_, other) = s.get(&format!("/signals/{}", ids[3])).await;
    assert!(other.contains("name=\"label\" value=\"spoed\""), "{other}");
    let (_, spoed) = s.get("/?label=spoed").await;
    assert_eq!(signal_ids(&spoed), [ids[0].clone()]);
    assert!(spoed.contains("data-label=\"spoed\""), "shown as a chip");
    let (_, mine) = s.get("/?who=mine").await;
    assert_eq!(signal_ids(&mine), [ids[0].clone()]);
    let (_, nobody) = s.get("/?who=nobody").await;
    assert_eq!(signal_ids(&nobody).len(), 3);
}

#[tokio::test]
async fn a_reply_is_marked_handled_and_a_new_signal_is_acknowledged_with_the_standard_text_in_its_language()
 {
    let server = Server::start();
    let receipt_page = intake(
        &server,
        "/signal?lang=en",
        &[("situation", "A rule that hits too hard")],
    )
    .await;
    let receipt = common::receipt_in(&receipt_page).unwrap();
    let s = demo_login(&server).await;
    let id = signal_ids(&s.get("/").await.1).remove(0);
    let (_, page) = s.get(&format!("/signals/{id}")).await;
    assert!(page.contains("Ontvangst bevestigen"));
    let views = |server: &Server| -> i64 {
        db(server)
            .query_row(
                "SELECT count(*) FROM audit WHERE signal_id = ?1 AND action = 'view'",
                [&id],
                |r| r.get(0),
            )
            .unwrap()
    };
    let before = views(&server);
    let res = s.post(&format!("/signals/{id}/acknowledge"), &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(location(&res), format!("/signals/{id}?done=ack"));
    // It opened the envelope for the sender's language: audited.
    assert_eq!(
        views(&server),
        before + 1,
        "the acknowledgement's decryption is audited"
    );
    // The sender reads the English acknowledgement with the code.
    let thread = intake(&server, "/follow-up", &[("receipt", &receipt)]).await;
    assert!(
        thread.contains("Thank you for your signal. We have received it"),
        "{thread}"
    );
    let status: String = db(&server)
        .query_row("SELECT status FROM all_signals WHERE id = ?1", [&id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(status, "in_progress");

    // A standard text is put in the box to edit, in the sender's language.
    let (_, page) = s.get(&format!("/signals/{id}?insert=more")).await;
    assert!(
        page.contains("To assess it properly we would like to know a little more"),
        "{page}"
    );

    // The sender answers: flagged in the queue until a reviewer marks it handled.
    intake(
        &server,
        "/follow-up/message",
        &[("receipt", &receipt), ("message", "Here is more")],
    )
    .await;
    let (_, queue) = s.get("/").await;
    assert!(queue.contains("data-flag=\"reply\""));
    let (_, attention) = s.get("/?attention=1").await;
    assert_eq!(signal_ids(&attention), std::slice::from_ref(&id));
    let res = s.post(&format!("/signals/{id}/handled"), &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, queue) = s.get("/").await;
    assert!(
        !queue.contains("data-flag=\"reply\""),
        "the flag clears without writing back"
    );
    let (_, attention) = s.get("/?attention=1").await;
    assert!(signal_ids(&attention).is_empty());
    let handled: i64 = db(&server)
        .query_row(
            "SELECT count(*) FROM audit WHERE action = 'triage' AND detail = 'replies handled=1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(handled, 1, "audited");
}

#[tokio::test]
async fn three_selected_signals_get_a_status_an_assignee_and_a_label_at_once_each_audited() {
    let server = Server::start();
    for i in 0..5 {
        submit_signal(&server, &[("situation", &format!("Bulk {i}"))]).await;
    }
    let s = demo_login(&server).await;
    let (_, all) = s.get("/?all=1").await;
    assert_eq!(all.matches(" checked").count(), 5, "select all on the page");
    let ids = signal_ids(&all);
    let res = s
        .post(
            "/bulk",
            &[
                ("id", &ids[0]),
                ("id", &ids[1]),
                ("id", &ids[2]),
                ("status", "closed"),
                ("assignee", "demo"),
                ("label", "gebundeld"),
                ("back", "sort=oldest&page=1"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(location(&res), "/?sort=oldest&page=1&bulk=3");
    let (_, page) = s.get(&location(&res)).await;
    assert!(page.contains("3 signalen gewijzigd."), "{page}");
    let (_, closed) = s.get("/?status=closed&label=gebundeld&who=mine").await;
    let mut got = signal_ids(&closed);
    got.sort();
    let mut want = ids[..3].to_vec();
    want.sort();
    assert_eq!(got, want);
    let audited: i64 = db(&server)
        .query_row(
            "SELECT count(*) FROM audit WHERE action = 'triage' AND detail LIKE 'bulk status=closed%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 3);
    let res = s
        .post("/bulk", &[("status", "closed"), ("back", "page=1")])
        .await;
    assert_eq!(location(&res), "/?sort=newest&page=1&bulk=none");
    // The team's labels are offered by the label filter (a list, no script).
    let (_, queue) = s.get("/").await;
    assert!(
        queue.contains("list=\"f-labels\"")
            && queue.contains("<datalist id=\"f-labels\"><option value=\"gebundeld\"></option>"),
        "{queue}"
    );
    // A signal that has the most labels gets none more in bulk.
    let ten: Vec<String> = (0..10).map(|i| format!("l{i}")).collect();
    let ten = ten.join(", ");
    s.post(
        &format!("/signals/{}/triage", ids[3]),
        &[
            ("status", "in_progress"),
            ("domain", ""),
            ("origin", ""),
            ("labels", &ten),
            ("assignee", ""),
        ],
    )
    .await;
    let labels = |id: &str| -> String {
        db(&server)
            .query_row("SELECT labels FROM all_signals WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap()
    };
    assert_eq!(labels(&ids[3]), ten, "ten labels set at triage");
    s.post(
        "/bulk",
        &[
            ("id", &ids[3]),
            ("id", &ids[4]),
            ("label", "elfde"),
            ("back", "page=1"),
        ],
    )
    .await;
    assert_eq!(labels(&ids[3]), ten, "no eleventh label");
    assert_eq!(labels(&ids[4]), "elfde");
}

#[tokio::test]
async fn an_empty_note_or_message_is_answered_at_its_box_in_the_pages_language() {
    let server = Server::start();
    submit_signal(&server, &[("situation", "Iets")]).await;
    let s = demo_login(&server).await;
    let id = signal_ids(&s.get("/").await.1).remove(0);
    for (path, field, said) in [
        ("notes", "note", "Schrijf eerst de notitie."),
        ("messages", "message", "Schrijf eerst het bericht."),
    ] {
        let res = s
            .post(&format!("/signals/{id}/{path}"), &[(field, "  ")])
            .await;
        assert_eq!(res.status().as_u16(), 303);
        let to = location(&res);
        assert_eq!(to, format!("/signals/{id}?empty={field}#{field}"));
        let (_, page) = s.get(to.split('#').next().unwrap()).await;
        assert!(page.contains(said), "{page}");
        assert!(
            page.contains(&format!("aria-describedby=\"{field}-error\"")),
            "{page}"
        );
    }
    let (_, en) = s
        .in_language("en")
        .get(&format!("/signals/{id}?empty=note"))
        .await;
    assert!(en.contains("Write the note first."));
}
