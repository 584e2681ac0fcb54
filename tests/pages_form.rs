//! The form, the personal-data guard and the receipt, over HTTP against the
//! real binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{Server, client, receipt_in, submit};

async fn get(
    url: &str,
    accept_language: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = client().get(url);
    if let Some(al) = accept_language {
        req = req.header("accept-language", al);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.text().await.unwrap())
}

#[tokio::test]
async fn the_form_asks_one_required_question_and_tucks_the_rest_away() {
    let server = Server::start();
    let (status, _, page) = get(&format!("{}/", server.intake), None).await;
    assert_eq!(status, 200);
    assert_eq!(page.matches(" required").count(), 1, "one required field");
    assert!(page.contains(r#"name="situation""#));
    let details = page.find("<details").unwrap();
    for optional in [
        "rule",
        "organisation",
        "domain",
        "origin",
        "scale",
        "since",
        "reported",
        "solution",
    ] {
        let at = page.find(&format!(r#"name="{optional}""#)).unwrap();
        assert!(at > details, "{optional} sits in the optional group");
    }
    assert!(page.contains("Professionals voor Maatwerk Multiproblematiek"));
    assert!(
        page.contains("De eerste vraag kost ongeveer twee minuten; de rest is niet verplicht."),
        "the intro is honest about the time"
    );
    assert!(!page.contains("<script"), "no JavaScript");
    assert!(!page.contains("style="), "no inline style");
}

#[tokio::test]
async fn the_form_and_its_stylesheet_weigh_less_than_30_kilobytes() {
    let server = Server::start();
    for lang in ["nl", "en"] {
        let (_, _, page) = get(&format!("{}/?lang={lang}", server.intake), None).await;
        let (_, _, css) = get(&format!("{}/style.css", server.intake), None).await;
        let total = page.len() + css.len();
        println!(
            "form ({lang}) {} + stylesheet {} = {total} bytes",
            page.len(),
            css.len()
        );
        assert!(total <= 30 * 1024, "{total} bytes");
        // Nothing from another origin: every src is local, and the only
        // addresses elsewhere are links a person may follow (the acute
        // route, the Whistleblowers Authority), which send no referrer.
        for outside in [r#"src="http"#, r#"src="//"#, r#"href="//"#] {
            assert!(!page.contains(outside), "{outside} in the form");
        }
        for (at, _) in page.match_indices(r#"href="http"#) {
            let start = page[..at].rfind('<').unwrap();
            let end = at + page[at..].find('>').unwrap();
            let tag = &page[start..end];
            assert!(
                tag.starts_with("<a ") && tag.contains(r#"rel="noreferrer""#),
                "{tag} in the form"
            );
        }
    }
}

#[tokio::test]
async fn the_language_follows_the_link_first_then_the_browser_and_no_cookie_is_set() {
    let server = Server::start();
    let url = format!("{}/", server.intake);
    let (_, headers, page) = get(&url, None).await;
    assert!(page.contains(r#"<html lang="nl">"#), "Dutch by default");
    assert!(headers.get("set-cookie").is_none());
    let (_, _, page) = get(&url, Some("en-GB,en;q=0.9,nl;q=0.5")).await;
    assert!(page.contains(r#"<html lang="en">"#), "the browser's wish");
    let (_, headers, page) = get(&format!("{url}?lang=nl"), Some("en-GB")).await;
    assert!(page.contains(r#"<html lang="nl">"#), "the link wins");
    assert!(headers.get("set-cookie").is_none());
    // A Dutch page keeps its links Dutch for an English browser.
    assert!(page.contains(r#"href="/privacy?lang=nl""#));
}

#[tokio::test]
async fn a_blank_signal_comes_back_with_an_error_summary_and_everything_typed() {
    let server = Server::start();
    let c = client();
    let (status, page) = submit(
        &c,
        &server,
        &[
            ("situation", "  "),
            ("organisation", "UWV <kantoor>"),
            ("lang", "nl"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains(r#"id="error-summary""#));
    assert!(
        page.contains("autofocus"),
        "the summary takes focus without JavaScript"
    );
    assert!(page.contains(r##"href="#situation""##));
    assert!(page.contains(r#"aria-describedby="situation-hint situation-error""#));
    assert!(page.contains("UWV &lt;kantoor&gt;"), "kept, and escaped");
    assert!(page.contains("<details class=\"more\" open"));
    assert!(page.contains("<h2 id=\"error-summary-title\">Er is een probleem</h2>"));
    assert!(
        page.contains(
            r#"<p class="error" id="situation-error"><span class="visually-hidden">Fout: </span>"#
        ),
        "a screen reader hears that the line is an error"
    );
    assert_eq!(server.signal_count(), 0);
}

#[tokio::test]
async fn a_signal_with_a_bsn_is_held_back_until_the_sender_confirms() {
    let server = Server::start();
    let c = client();
    let text = "Mevrouw met BSN 123456782 kreeg een boete van de gemeente.";
    let (status, page) = submit(&c, &server, &[("situation", text), ("lang", "nl")]).await;
    assert_eq!(status, 200);
    assert!(
        receipt_in(&page).is_none(),
        "no receipt for a held-back signal"
    );
    assert!(page.contains(r#"id="guard-summary""#));
    assert!(page.contains("burgerservicenummer"));
    assert!(page.contains(text), "the text is kept");
    assert!(page.contains(r#"name="confirm_personal_data""#));
    assert_eq!(server.signal_count(), 0, "nothing stored yet");
    assert!(
        !server.output().contains("123456782"),
        "nothing logged of it"
    );

    let (status, page) = submit(
        &c,
        &server,
        &[
            ("situation", text),
            ("lang", "nl"),
            ("confirm_personal_data", "yes"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(receipt_in(&page).is_some(), "confirmed, it goes through");
    assert_eq!(server.signal_count(), 1);
}

#[tokio::test]
async fn each_kind_of_personal_data_is_named_in_the_notice_with_its_field() {
    let server = Server::start();
    let c = client();
    let (_, page) = submit(
        &c,
        &server,
        &[
            (
                "situation",
                "Rekening NL91 ABNA 0417 1643 00, bel 06-12345678.",
            ),
            (
                "solution",
                "Mail j.jansen@example.nl, woont 1234 AB 5, geboren 12-03-1980.",
            ),
            ("lang", "en"),
        ],
    )
    .await;
    for kind in [
        "bank account number",
        "phone number",
        "e-mail address",
        "postcode with house number",
        "date of birth",
    ] {
        assert!(page.contains(kind), "{kind} is named");
    }
    assert!(
        page.contains(r##"href="#solution""##),
        "the notice links to the field"
    );
    assert!(
        !page.contains("NL91 ABNA 0417 1643 00,</a>"),
        "values are not repeated in the notice"
    );
    assert_eq!(server.signal_count(), 0);
}

#[tokio::test]
async fn nine_digits_failing_the_11_proef_go_straight_through() {
    let server = Server::start();
    let (status, page) = submit(
        &client(),
        &server,
        &[(
            "situation",
            "Zaaknummer 123456781 laat zien dat de regel te hard is.",
        )],
    )
    .await;
    assert_eq!(status, 200);
    assert!(receipt_in(&page).is_some());
    assert_eq!(server.signal_count(), 1);
}

#[tokio::test]
async fn the_receipt_page_shows_the_code_large_explains_what_next_and_is_never_cached() {
    let server = Server::start();
    let res = client()
        .post(format!("{}/signal", server.intake))
        .form(&[
            ("situation", "Een regel die te hard uitpakt."),
            ("lang", "nl"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let page = res.text().await.unwrap();
    let code = receipt_in(&page).unwrap();
    assert_eq!(code.len(), 24);
    assert!(
        page.contains(&format!(">{code}</p>")),
        "the code is the element's whole text"
    );
    for text in [
        "Binnen 7 dagen",
        "op papier",
        "wachtwoordkluis",
        "werkcomputer",
        "/follow-up?lang=nl",
        "afdrukken",
    ] {
        assert!(page.contains(text), "{text}");
    }
}

#[tokio::test]
async fn a_signal_refused_by_the_rate_limit_comes_back_in_the_form_with_its_text() {
    let server = common::Server::start_with(common::Options {
        env: vec![
            ("SIGNAAL_SUBMIT_BURST".into(), "1".into()),
            ("SIGNAAL_SUBMIT_PER_HOUR".into(), "1".into()),
        ],
        ..common::Options::default()
    });
    let c = client();
    let (status, _) = submit(
        &c,
        &server,
        &[("situation", "Eerste signaal."), ("lang", "nl")],
    )
    .await;
    assert_eq!(status, 200);
    let res = c
        .post(format!("{}/signal", server.intake))
        .form(&[
            ("situation", "Tweede signaal, nog niet bewaard."),
            ("lang", "nl"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    let page = res.text().await.unwrap();
    assert!(page.contains("Even wachten"), "the page says what happened");
    assert!(page.contains("niet opgeslagen"));
    assert!(
        page.contains(">Tweede signaal, nog niet bewaard.</textarea>"),
        "the text is kept"
    );
    assert!(receipt_in(&page).is_none());
    assert_eq!(server.signal_count(), 1);
}

#[tokio::test]
async fn switching_language_on_a_form_shown_again_keeps_what_was_typed_and_sends_nothing() {
    let server = Server::start();
    let c = client();
    // Sent without the one required answer: the form comes back, typed text in it.
    let (status, page) = submit(
        &c,
        &server,
        &[("organisation", "Gemeente Voorbeeld"), ("lang", "nl")],
    )
    .await;
    assert_eq!(status, 422);
    // Its language switch is a button that sends the form, not a link that drops it.
    assert!(page.contains(r#"form="signal-form""#), "{page}");
    assert!(page.contains(r#"name="show_lang" value="en""#));
    assert!(page.contains(r#"formaction="/signal?lang=en""#));
    assert!(page.contains(r#"<form id="signal-form""#));
    // Pressing it: the same form in English, with what was typed; nothing stored,
    // even when the answers are complete.
    let (status, page) = submit(
        &c,
        &server,
        &[
            ("situation", "De regel raakt mensen onevenredig hard."),
            ("organisation", "Gemeente Voorbeeld"),
            ("lang", "nl"),
            ("show_lang", "en"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"<html lang="en">"#));
    assert!(page.contains("De regel raakt mensen onevenredig hard."));
    assert!(page.contains(r#"value="Gemeente Voorbeeld""#));
    assert!(
        receipt_in(&page).is_none(),
        "a language switch is not a submission"
    );
    assert_eq!(server.signal_count(), 0);
    // And back, from English to Dutch.
    let (status, page) = submit(
        &c,
        &server,
        &[
            ("situation", "Terug naar het Nederlands."),
            ("lang", "en"),
            ("show_lang", "nl"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"<html lang="nl">"#));
    assert!(page.contains("Terug naar het Nederlands."));
    assert_eq!(server.signal_count(), 0);
    // On the first visit too the switch sends what was typed along, and a
    // form sent blank by it comes back in the other language without errors.
    let (_, _, blank) = get(&format!("{}/?lang=nl", server.intake), None).await;
    assert!(blank.contains(r#"name="show_lang" value="en""#), "{blank}");
    let (status, page) = submit(
        &c,
        &server,
        &[("situation", ""), ("lang", "nl"), ("show_lang", "en")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"<html lang="en">"#));
    assert!(!page.contains("error-summary"), "a switch shows no error");
    assert_eq!(server.signal_count(), 0);
}
