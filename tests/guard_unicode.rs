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
    let typed = "Nummer 1234\u{200b}56782 \u{202e}omgekeerd";
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

    // A follow-up message with full-width digits is held back too.
    let res = c
        .post(format!("{}/follow-up/message", server.intake))
        .form(&[
            ("receipt", receipt.as_str()),
            ("message", "Mijn nummer is ０６１２３４５６７８."),
            ("lang", "nl"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(!page.contains("data-sent"), "held back: {page}");
    assert!(page.contains("confirm_personal_data"), "{page}");

    // The reviewer sees the flag, and the text isolated in its own element.
    let s = demo_login(&server).await;
    let (_, queue) = s.get("/").await;
    let id = signal_ids(&queue)
        .pop()
        .expect("the signal is in the queue");
    let (status, page) = s.get(&format!("/signals/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"data-guard="bsn""#),
        "the reviewer's flag: {page}"
    );
    let at = page.find(typed).expect("the text as typed");
    let open = page[..at].rfind('<').unwrap();
    assert!(
        page[open..at].contains(r#"dir="auto""#),
        "the sender's text sits in an isolating element: {}",
        &page[open..at]
    );
}
