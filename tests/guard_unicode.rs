//! The guard reads what a person reads: a zero-width space, a word joiner or
//! full-width digits do not hide a BSN, an IBAN or an e-mail address — on the
//! form, in a follow-up message, and in the reviewer's flags — while the text
//! is kept as typed, and bidirectional controls in it cannot reorder the
//! reviewer's page.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod review_support;

use common::{Server, client, receipt_in, submit};
use review_support::{demo_login, signal_ids};

#[tokio::test]
async fn hidden_characters_do_not_smuggle_personal_data_past_the_guard() {
    let server = Server::start();
    let c = client();
    for (text, kind) in [
        (
            "Mevrouw met nummer 1234\u{200b}56782 kreeg een boete.",
            "burgerservicenummer",
        ),
        (
            "Haar nummer １２３４５６７８２ stond op de brief.",
            "burgerservicenummer",
        ),
        (
            "Terugbetalen op NL91ABNA04171\u{200b}64300 werd geëist.",
            "rekeningnummer",
        ),
        (
            "Mail jan\u{200b}@voorbeeld.nl voor de stukken.",
            "e-mailadres",
        ),
    ] {
        let (status, page) = submit(&c, &server, &[("situation", text), ("lang", "nl")]).await;
        assert_eq!(status, 200);
        assert!(receipt_in(&page).is_none(), "held back: {text:?}");
        assert!(page.contains(r#"id="guard-summary""#), "{text:?}");
        assert!(page.contains(kind), "{kind} named for {text:?}");
        assert!(
            page.contains(text),
            "the text comes back as typed: {text:?}"
        );
    }
    assert_eq!(server.signal_count(), 0, "nothing stored while held back");

    // Confirmed, the signal goes through as typed, with a bidi override in it.
    let typed = "Nummer 1234\u{200b}56782, rekening NL91ABNA04171\u{2060}64300, \
                 mail jan\u{fe0f}@voorbeeld.nl, bel ０６１２３４５６７８ \u{202e}omgekeerd";
    let (_, page) = submit(
        &c,
        &server,
        &[
            ("situation", typed),
            ("lang", "nl"),
            ("confirm_personal_data", "yes"),
        ],
    )
    .await;
    let receipt = receipt_in(&page).expect("confirmed, it is stored");

    // A follow-up message is held back for each hidden variant too: full-width
    // digits, a zero-width space, a word joiner, a soft hyphen, a variation
    // selector and a Hangul filler.
    for message in [
        // The four of the form, in a message too.
        "Mevrouw met nummer 1234\u{200b}56782 kreeg een boete.",
        "Haar nummer １２３４５６７８２ stond op de brief.",
        "Terugbetalen op NL91ABNA04171\u{200b}64300 werd geëist.",
        "Mail jan\u{200b}@voorbeeld.nl voor de stukken.",
        "Mijn nummer is ０６１２３４５６７８.",
        "Mijn nummer is 06\u{200b}12345678.",
        "Mijn nummer is 06\u{2060}12345678.",
        "Schrijf naar jan\u{00ad}@voorbeeld.nl.",
        "Het BSN is 1234\u{fe0f}56782.",
        "Het BSN is 1234\u{3164}56782.",
    ] {
        let res = c
            .post(format!("{}/follow-up/message", server.intake))
            .form(&[
                ("receipt", receipt.as_str()),
                ("message", message),
                ("lang", "nl"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let page = res.text().await.unwrap();
        assert!(!page.contains("data-sent"), "held back: {message:?}");
        assert!(page.contains("confirm_personal_data"), "{message:?}");
    }
    let stored: i64 = rusqlite::Connection::open_with_flags(
        server.data_dir().join("signaal.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap()
    .query_row("SELECT count(*) FROM all_messages", [], |r| r.get(0))
    .unwrap();
    assert_eq!(stored, 0, "no message stored while held back");

    // The reviewer sees the flag, and the text isolated in its own element.
    let s = demo_login(&server).await;
    let (_, queue) = s.get("/").await;
    let id = signal_ids(&queue)
        .pop()
        .expect("the signal is in the queue");
    let (status, page) = s.get(&format!("/signals/{id}")).await;
    assert_eq!(status, 200);
    let flags = page
        .split(r#"data-guard=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the reviewer's flags");
    for kind in ["bsn", "iban", "email", "phone"] {
        assert!(
            flags.split(' ').any(|k| k == kind),
            "the reviewer's flags name {kind}: {flags}"
        );
    }
    let at = page.find(typed).expect("the text as typed");
    let open = page[..at].rfind('<').unwrap();
    assert!(
        page[open..at].contains(r#"dir="auto""#),
        "the sender's text sits in an isolating element: {}",
        &page[open..at]
    );
}
