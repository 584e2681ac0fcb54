//! The programme team works in Dutch: the review face speaks Dutch, and
//! English to a reviewer whose browser asks for English first. Every page and
//! every refusal says the same in both, and no text is ever missing.
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

const ENGLISH: &str = "en-GB,en;q=0.9,nl;q=0.5";

/// A signal with an e-mail address in it (so the guard flags it), a domain
/// confirmed at triage, a team message and an internal note, so every part of
/// the queue and the signal page is drawn.
async fn server_with_a_worked_signal() -> (Server, Session, String) {
    let server = Server::start();
    submit_signal(
        &server,
        &[
            ("situation", "Schrijf naar burger@example.nl, zegt de brief"),
            ("domain", "benefits"),
            ("confirm_personal_data", "yes"),
        ],
    )
    .await;
    let s = demo_login(&server).await;
    let id = signal_ids(&s.get("/").await.1).remove(0);
    let to_signal = format!("/signals/{id}");
    let triage = s
        .post(
            &format!("{to_signal}/triage"),
            &[("status", "new"), ("domain", "benefits")],
        )
        .await;
    assert_eq!(triage.status().as_u16(), 303);
    for (path, field) in [("messages", "message"), ("notes", "note")] {
        let res = s
            .post(&format!("{to_signal}/{path}"), &[(field, "Een vraag")])
            .await;
        assert_eq!(res.status().as_u16(), 303);
    }
    (server, s, id)
}

#[tokio::test]
async fn a_reviewer_works_in_dutch_and_a_colleague_with_an_english_browser_in_english() {
    let (server, s, id) = server_with_a_worked_signal().await;
    let signal = format!("/signals/{id}");
    // (language, the page's words that must be there) per reviewer.
    let cases = [
        (
            None,
            "nl",
            [
                "Wachtrij",
                "nieuw",
                "Wat gaat er mis voor burgers?",
                "<dd class=\"answer\" dir=\"auto\">Toeslagen en uitkeringen</dd>",
                "<td data-domain=\"benefits\">Toeslagen en uitkeringen</td>",
                "een e-mailadres",
                "Gesprek met de melder",
                "Interne notities",
                "<td data-action=\"view\">geopend (ontsleuteld)",
                "Rapportage",
                "Zoek in de antwoorden",
                "1 van 1 signalen doorzocht",
                "Niet gevonden",
                "Geweigerd",
            ],
        ),
        (
            Some(ENGLISH),
            "en",
            [
                "Queue",
                "new",
                "What goes wrong for people?",
                "<dd class=\"answer\" dir=\"auto\">Benefits and allowances</dd>",
                "<td data-domain=\"benefits\">Benefits and allowances</td>",
                "an e-mail address",
                "Thread with the sender",
                "Internal notes",
                "<td data-action=\"view\">opened (decrypted)",
                "Report",
                "Search the answers",
                "Searched 1 of 1",
                "Not found",
                "Refused",
            ],
        ),
    ];
    for (accept_language, code, words) in cases {
        let asking;
        let b = match accept_language {
            Some(value) => {
                asking = s.in_language(value);
                &asking
            }
            None => &s,
        };
        let (_, queue) = b.get("/").await;
        let (_, page) = b.get(&signal).await;
        let (_, report) = b.get("/report").await;
        let (_, search) = b.get("/search").await;
        let found = b.post("/search", &[("q", "burger")]).await;
        let found = found.text().await.unwrap();
        let (missing_status, missing) = b.get("/signals/nosuchsignal").await;
        let foreign = b
            .client
            .post(format!("{}{signal}/notes", b.base))
            .header("cookie", &b.cookie)
            .header("origin", "https://evil.example")
            .form(&[("csrf", b.csrf().await.as_str()), ("note", "x")])
            .send()
            .await
            .unwrap();
        let foreign_status = foreign.status().as_u16();
        let foreign = foreign.text().await.unwrap();
        assert_eq!(missing_status, 404);
        assert_eq!(foreign_status, 403);
        let pages = [&queue, &page, &report, &search, &found, &missing, &foreign];
        for p in pages {
            assert!(p.contains(&format!("<html lang=\"{code}\">")), "{p}");
        }
        let all = pages.map(String::as_str).join("\n");
        for word in words {
            assert!(all.contains(word), "{code}: {word:?} is missing");
        }
        assert!(queue.contains("data-status=\"new\""), "the value stays");
    }
    let text = server.output();
    assert!(!text.contains("missing text"), "{text}");
}

#[tokio::test]
async fn the_login_page_and_its_refusal_follow_the_browser_too() {
    let server = Server::start();
    let client = common::client();
    for (accept_language, title, refused) in [
        (
            None,
            "Inloggen",
            "Naam, wachtwoordzin of code niet geaccepteerd.",
        ),
        (
            Some(ENGLISH),
            "Log in",
            "Name, passphrase or code not accepted.",
        ),
        (
            Some("de-DE, fr;q=0.8"),
            "Inloggen",
            "Naam, wachtwoordzin of code niet geaccepteerd.",
        ),
    ] {
        let with_lang = |req: reqwest::RequestBuilder| match accept_language {
            Some(lang) => req.header("accept-language", lang),
            None => req,
        };
        let form = with_lang(client.get(format!("{}/login", server.review)))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(form.contains(&format!("<h1>{title}</h1>")), "{form}");
        let res = with_lang(client.post(format!("{}/login", server.review)))
            .header("origin", &server.review)
            .form(&[("name", "demo"), ("passphrase", "not the passphrase")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 401);
        let body = res.text().await.unwrap();
        assert!(body.contains(refused), "{body}");
        assert!(body.contains(&format!("<h1>{title}</h1>")), "{body}");
    }
    assert!(!server.output().contains("missing text"));
}
