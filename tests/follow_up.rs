//! A professional comes back with the receipt code: reads the status and the
//! team's questions, answers them — and nobody without the code, the operator
//! included, reads the sender's side from what is stored.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod review_support;

use std::time::{Duration, Instant};

use common::{Options, Server, TeamKey, canary, client, client_from, contains, receipt_in, submit};
use review_support::{add_reviewer, code, demo_login, login, signal_ids, totp_in};

const PASS: &str = "a long passphrase for anna";

/// What the follow-up pages answer: status, headers and page.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    page: String,
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A demo server that allows many look-ups (the limit has its own test).
fn server() -> Server {
    Server::start_with(Options {
        env: env(&[("SIGNAAL_LOOKUP_PER_HOUR", "100000")]),
        ..Options::default()
    })
}

async fn post(c: &reqwest::Client, server: &Server, path: &str, fields: &[(&str, &str)]) -> Answer {
    let res = c
        .post(format!("{}{path}", server.intake))
        .form(fields)
        .send()
        .await
        .unwrap();
    Answer {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        page: res.text().await.unwrap(),
    }
}

/// `POST /follow-up` with `receipt`.
async fn come_back(server: &Server, receipt: &str) -> Answer {
    post(&client(), server, "/follow-up", &[("receipt", receipt)]).await
}

/// `POST /follow-up/message`.
async fn write(server: &Server, fields: &[(&str, &str)]) -> Answer {
    post(&client(), server, "/follow-up/message", fields).await
}

/// Submits `situation`; returns the receipt code.
async fn give_signal(server: &Server, situation: &str) -> String {
    let (status, page) = submit(&client(), server, &[("situation", situation)]).await;
    assert_eq!(status, 200, "{page}");
    receipt_in(&page).unwrap()
}

/// The code as someone might type it: lower case, spaces for dashes, the
/// letters o and l for the digits 0 and 1.
fn sloppy(receipt: &str) -> String {
    receipt
        .to_lowercase()
        .replace('-', " ")
        .replace('0', "o")
        .replace('1', "l")
}

/// The same code with one symbol changed.
fn one_off(receipt: &str) -> String {
    let mut chars: Vec<char> = receipt.chars().collect();
    chars[7] = if chars[7] == 'X' { 'Y' } else { 'X' };
    chars.into_iter().collect()
}

fn sent_messages(server: &Server) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(
        server.data_dir().join("signaal.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    conn.query_row(
        "SELECT count(*) FROM all_messages WHERE author = 'sender'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

/// Every form action, link and image address on a page.
fn addresses(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    for marker in ["href=\"", "action=\"", "src=\""] {
        for (i, _) in page.match_indices(marker) {
            let rest = &page[i + marker.len()..];
            out.push(rest[..rest.find('"').unwrap()].to_owned());
        }
    }
    out
}

/// Asserts that no form of `receipt` appears in a URL or header of `answer`.
fn code_stays_in_the_body(answer: &Answer, receipt: &str) {
    let forms = [
        receipt.to_owned(),
        receipt.replace('-', ""),
        sloppy(receipt),
        receipt.to_lowercase().replace('-', ""),
    ];
    for (name, value) in &answer.headers {
        let value = value
            .to_str()
            .unwrap_or_default()
            .to_uppercase()
            .replace('-', "");
        assert!(
            !value.contains(&receipt.replace('-', "")),
            "the code is in the {name} header"
        );
    }
    assert!(
        !answer.headers.contains_key("set-cookie"),
        "a cookie was set"
    );
    for address in addresses(&answer.page) {
        for form in &forms {
            assert!(!address.contains(form.as_str()), "the code is in {address}");
        }
    }
}

#[tokio::test]
async fn a_sender_and_the_team_hold_a_whole_conversation_that_only_they_can_read() {
    let team = TeamKey::generate();
    let mut server = Server::start_with(Options {
        team: vec![team.recipient()],
        env: env(&[("SIGNAAL_LOOKUP_PER_HOUR", "100000")]),
        ..Options::default()
    });
    let totp = totp_in(&add_reviewer(&server, "anna", PASS, &[]));
    // The intake seals to the recipients it read at start: restart to include anna.
    server.restart();
    let (said, asked, answered) = (canary("SAID"), canary("ASKED"), canary("ANSWERED"));

    // 1. The sender gives a signal and keeps the code.
    let receipt = give_signal(&server, &format!("De regel pakt hard uit: {said}")).await;

    // 2. A reviewer reads it and asks a question.
    let anna = login(&server, "anna", PASS, &code(&totp, 0)).await;
    let id = signal_ids(&anna.get("/").await.1).remove(0);
    let res = anna
        .post(&format!("/signals/{id}/messages"), &[("message", &asked)])
        .await;
    assert_eq!(res.status().as_u16(), 303);

    // 3. The sender comes back, types the code sloppily, and reads the question.
    let back = come_back(&server, &sloppy(&receipt)).await;
    assert_eq!(back.status, 200, "{}", back.page);
    assert!(back.page.contains(&said), "the signal as sent");
    assert!(back.page.contains(&asked), "the team's question");
    assert!(
        back.page.contains("data-status=\"in_progress\""),
        "a question counts as being looked at"
    );
    assert!(back.page.contains("data-author=\"team\""));
    // The open question stands at the top, before the status, with its day
    // written out for people and kept for machines.
    let question = back
        .page
        .find("data-open-question")
        .expect("the question is highlighted");
    assert!(question < back.page.find("data-status").unwrap());
    assert!(back.page[question..].find(&asked).is_some());
    let today = time::OffsetDateTime::now_utc().date();
    let written = format!("<time datetime=\"{today}\">{} ", today.day());
    assert!(back.page.contains(&written), "a day written out: {written}");
    code_stays_in_the_body(&back, &receipt);
    assert_eq!(back.headers["cache-control"], "no-store");

    // 4. The sender answers; the page says so only once it is stored.
    let reply = write(
        &server,
        &[
            ("receipt", &receipt),
            ("message", &answered),
            ("lang", "en"),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.page);
    assert!(reply.page.contains("data-sent"));
    assert!(reply.page.contains("<html lang=\"en\""));
    assert!(
        !reply.page.contains("data-open-question"),
        "answered, no longer open"
    );
    assert_eq!(sent_messages(&server), 1, "the message is stored");
    let order = (
        reply.page.find(&asked).unwrap(),
        reply.page.find(&answered).unwrap(),
    );
    assert!(order.0 < order.1, "the thread is in order");
    code_stays_in_the_body(&reply, &receipt);
    let again = come_back(&server, &receipt).await;
    assert!(
        again.page.contains(&answered),
        "the sender's own message opens with the code"
    );

    // 5. The reviewer sees a new reply and reads it.
    let queue = anna.get("/").await.1;
    let row = &queue[queue.find(&format!("data-signal=\"{id}\"")).unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("data-unanswered=\"1\""),
        "one unanswered reply: {row}"
    );
    assert!(
        row.contains("data-flag=\"reply\""),
        "marked as a new reply: {row}"
    );
    let (_, page) = anna.get(&format!("/signals/{id}")).await;
    assert!(page.contains(&answered), "the reviewer reads the answer");
    assert!(page.contains("data-author=\"sender\""));
    // Once the team writes back, the reply no longer waits.
    anna.post(
        &format!("/signals/{id}/messages"),
        &[("message", "Dank u.")],
    )
    .await;
    let queue = anna.get("/").await.1;
    let row = &queue[queue.find(&format!("data-signal=\"{id}\"")).unwrap()..];
    assert!(!row[..row.find("</tr>").unwrap()].contains("data-flag=\"reply\""));

    // Nothing of it on disk or in the log; not the code either. The data
    // folder is read while the server runs (with its WAL) and after it
    // stopped, and each scan must find the ciphertext of the stored signal.
    let secrets = [said.as_str(), asked.as_str(), answered.as_str()];
    let codes = [receipt.clone(), receipt.replace('-', "")];
    let envelope: Vec<u8> = rusqlite::Connection::open(server.data_dir().join("signaal.db"))
        .unwrap()
        .query_row(
            "SELECT envelope FROM all_signals WHERE id = ?1",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    let control = common::control_of(&envelope);
    let check = |scan: &common::Scan| {
        for s in secrets
            .iter()
            .copied()
            .chain(codes.iter().map(String::as_str))
        {
            scan.assert_nowhere(s.as_bytes(), s);
        }
        scan.assert_finds(&control, "the stored envelope");
    };
    let live = server.data_files();
    live.assert_read(&["signaal.db", "signaal.db-wal"]);
    check(&live);
    assert!(server.stop().success());
    let stopped = server.data_files();
    stopped.assert_read(&["signaal.db"]);
    check(&stopped);
    let log = server.output();
    assert!(
        log.contains("POST /follow-up/message 200: "),
        "requests are counted in the summary: {log}"
    );
    assert!(
        !log.contains("route=\"/follow-up"),
        "but have no line of their own"
    );
    for s in secrets
        .iter()
        .copied()
        .chain(codes.iter().map(String::as_str))
    {
        assert!(!log.contains(s), "{s} in the log");
    }
    assert!(!log.to_uppercase().contains(&receipt.replace('-', "")));

    // The team opens the exported signal and every message of the thread with
    // the standard age tool.
    if !common::age_cli_available() {
        return;
    }
    let out = server.root.path().join("export");
    let (status, stdout, stderr) =
        server.run(&["export", "--encrypted", out.to_str().unwrap(), "--thread"]);
    assert_eq!(status, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("exported 1 signals and 3 messages"),
        "{stdout}"
    );
    let key = server.root.path().join("team.key");
    team.write_identity_file(&key);
    let plain = common::age_cli_decrypt(&key, &out.join(format!("{id}.age"))).unwrap();
    assert!(contains(&plain, said.as_bytes()));
    let thread = out.join(format!("{id}.thread"));
    for (file, expected) in [
        ("0001-team.age", asked.as_str()),
        ("0002-sender.age", answered.as_str()),
        ("0003-team.age", "Dank u."),
    ] {
        let plain =
            common::age_cli_decrypt(&key, &thread.join(file)).expect("age -d opens a message");
        assert!(contains(&plain, expected.as_bytes()), "{file}");
    }
}

#[tokio::test]
async fn a_wrong_a_malformed_and_a_nearly_right_code_all_get_the_same_plain_refusal() {
    let server = server();
    let receipt = give_signal(&server, "Een regel die te hard uitpakt.").await;
    let near = one_off(&receipt);
    assert_eq!(come_back(&server, &receipt).await.status, 200);
    let tries = [
        "ABCD-EFGH-JKMN-PQRS-TV01".to_owned(),
        near.clone(),
        sloppy(&near),
        "not a code at all".to_owned(),
        String::new(),
        receipt[..20].to_owned(),
        format!("{receipt}0"),
        "ÄBCD-EFGH-JKMN-PQRS-TV01".to_owned(),
    ];
    let mut pages = Vec::new();
    for typed in &tries {
        let answer = come_back(&server, typed).await;
        assert_eq!(answer.status, 404, "{typed}");
        assert!(answer.page.contains("id=\"error-summary\""));
        assert!(
            !answer.page.contains("Een regel"),
            "{typed} opened the signal"
        );
        pages.push(answer.page);
        // Nor can a message be added with it.
        let answer = write(&server, &[("receipt", typed), ("message", "hallo")]).await;
        assert_eq!(answer.status, 404);
    }
    assert!(
        pages.windows(2).all(|w| w[0] == w[1]),
        "every refusal is the same page"
    );
    assert_eq!(sent_messages(&server), 0);
}

#[tokio::test]
async fn an_unknown_code_takes_as_long_to_refuse_as_a_known_one_takes_to_open() {
    let server = server();
    let receipt = give_signal(&server, "Een regel die te hard uitpakt.").await;
    let s = demo_login(&server).await;
    let id = signal_ids(&s.get("/").await.1).remove(0);
    for i in 0..3 {
        s.post(
            &format!("/signals/{id}/messages"),
            &[("message", &format!("Vraag {i}"))],
        )
        .await;
    }
    let near = one_off(&receipt);
    let kinds = [receipt.as_str(), near.as_str(), "malformed"];
    // Each round asks all three at once after one another, so that a busy
    // moment of the machine (other tests run beside this one) hits each
    // kind alike; what is compared is the spread within a round.
    let mut spreads = Vec::new();
    for _ in 0..9 {
        let mut round = Vec::new();
        for (k, typed) in kinds.iter().enumerate() {
            let started = Instant::now();
            let answer = come_back(&server, typed).await;
            let took = started.elapsed();
            assert_eq!(answer.status, if k == 0 { 200 } else { 404 });
            assert!(
                took >= Duration::from_millis(250),
                "{typed} answered in {took:?}"
            );
            round.push(took);
        }
        let spread = *round.iter().max().unwrap() - *round.iter().min().unwrap();
        println!("known, near miss, malformed: {round:?}");
        spreads.push(spread);
    }
    spreads.sort();
    let median = spreads[spreads.len() / 2];
    assert!(
        median < Duration::from_millis(50),
        "within a round the answers differ by {median:?} (median): {spreads:?}"
    );
}

#[tokio::test]
async fn guessing_codes_from_one_network_is_held_back_with_a_readable_page() {
    let server = Server::start_with(Options {
        env: env(&[("SIGNAAL_LOOKUP_PER_HOUR", "4")]),
        ..Options::default()
    });
    let receipt = give_signal(&server, "Een regel die te hard uitpakt.").await;
    let guesser = client_from("127.0.0.9");
    let mut limited = None;
    for i in 0..12 {
        let guess = format!("ABCD-EFGH-JKMN-PQRS-{:04}", i);
        let answer = post(
            &guesser,
            &server,
            "/follow-up",
            &[("receipt", &guess), ("lang", "en")],
        )
        .await;
        if answer.status == 429 {
            limited = Some((i, answer));
            break;
        }
        assert_eq!(answer.status, 404);
    }
    let (after, answer) = limited.expect("a flood of guesses is limited");
    assert_eq!(after, 4, "four tries, then the limit");
    assert!(answer.headers.contains_key("retry-after"));
    assert!(
        answer.page.contains("<h1>Please wait a moment</h1>"),
        "{}",
        answer.page
    );
    // The way on is the follow-up page, and the wait is written out.
    assert!(
        answer.page.contains(r#"href="/follow-up?lang=en""#),
        "{}",
        answer.page
    );
    assert!(
        answer.page.contains("Please try again in "),
        "{}",
        answer.page
    );
    assert!(!answer.page.contains(" 1 minutes"), "{}", answer.page);
    // A colleague behind the same address with the right code still gets in,
    // can write, and can ask for the receipt again.
    let right = post(&guesser, &server, "/follow-up", &[("receipt", &receipt)]).await;
    assert_eq!(right.status, 200);
    let msg = post(
        &guesser,
        &server,
        "/follow-up/message",
        &[("receipt", &receipt), ("message", "Een aanvulling.")],
    )
    .await;
    assert_eq!(msg.status, 200);
    assert!(msg.page.contains("data-sent"));
    let again = post(
        &guesser,
        &server,
        "/receipt",
        &[("receipt", &receipt), ("show_lang", "en")],
    )
    .await;
    assert_eq!(again.status, 200);
    assert!(again.page.contains("data-receipt"));
    // The next wrong code is still held back.
    let wrong = post(
        &guesser,
        &server,
        "/follow-up",
        &[("receipt", "ABCD-EFGH-JKMN-PQRS-ZZZZ")],
    )
    .await;
    assert_eq!(wrong.status, 429);
    // Another network still comes back.
    let other = post(
        &client_from("127.0.0.10"),
        &server,
        "/follow-up",
        &[("receipt", &receipt)],
    )
    .await;
    assert_eq!(other.status, 200);
}

#[tokio::test]
async fn fifteen_right_codes_from_one_office_all_open_their_thread() {
    // The strictest limit there is: one wrong code an hour per address.
    let server = Server::start_with(Options {
        env: env(&[("SIGNAAL_LOOKUP_PER_HOUR", "1")]),
        ..Options::default()
    });
    let office = client_from("127.0.0.20");
    let receipt = give_signal(&server, "Een regel die te hard uitpakt.").await;
    // A colleague mistypes once and uses up the address's wrong codes.
    let typo = post(
        &office,
        &server,
        "/follow-up",
        &[("receipt", &one_off(&receipt))],
    )
    .await;
    assert_eq!(typo.status, 404);
    for i in 0..15 {
        let answer = post(&office, &server, "/follow-up", &[("receipt", &receipt)]).await;
        assert_eq!(answer.status, 200, "look-up {i}: {}", answer.page);
        assert!(answer.page.contains("data-status"), "look-up {i}");
    }
}

#[tokio::test]
async fn a_message_a_limit_stops_comes_back_with_its_text_and_is_not_sent() {
    // A burst of one message an address, one an hour.
    let server = Server::start_with(Options {
        env: env(&[
            ("SIGNAAL_SUBMIT_BURST", "2"),
            ("SIGNAAL_SUBMIT_PER_HOUR", "1"),
        ]),
        ..Options::default()
    });
    let receipt = give_signal(&server, "Een regel die te hard uitpakt.").await;
    let first = write(
        &server,
        &[("receipt", &receipt), ("message", "Eerste aanvulling.")],
    )
    .await;
    assert_eq!(first.status, 200);
    assert!(first.page.contains("data-sent"));
    let before = sent_messages(&server);
    let text = "Tweede aanvulling, met de peildatum van 1 januari.";
    let stopped = write(
        &server,
        &[("receipt", &receipt), ("message", text), ("lang", "en")],
    )
    .await;
    assert_eq!(stopped.status, 429, "{}", stopped.page);
    assert!(stopped.headers.contains_key("retry-after"));
    assert!(
        stopped.page.contains("Your message has not been sent yet"),
        "{}",
        stopped.page
    );
    assert!(stopped.page.contains(text), "the text is kept in its box");
    assert!(!stopped.page.contains("data-sent"));
    assert!(stopped.page.contains(r#"id="message""#));
    assert_eq!(sent_messages(&server), before, "nothing was stored");
}

#[tokio::test]
async fn a_message_with_a_bsn_is_held_back_until_the_sender_confirms() {
    let server = server();
    let receipt = give_signal(&server, "Een regel die te hard uitpakt.").await;
    let text = "Het ging om mevrouw met BSN 123456782.";
    let held = write(&server, &[("receipt", &receipt), ("message", text)]).await;
    assert_eq!(held.status, 200);
    assert!(held.page.contains("id=\"guard-summary\""));
    assert!(held.page.contains("confirm_personal_data"));
    assert!(!held.page.contains("data-sent"));
    assert!(held.page.contains(text), "the message is kept in the form");
    assert_eq!(sent_messages(&server), 0, "nothing stored");
    let sent = write(
        &server,
        &[
            ("receipt", &receipt),
            ("message", text),
            ("confirm_personal_data", "yes"),
        ],
    )
    .await;
    assert_eq!(sent.status, 200);
    assert!(sent.page.contains("data-sent"));
    assert_eq!(sent_messages(&server), 1);
}

#[tokio::test]
async fn an_empty_overlong_or_broken_message_is_refused_and_nothing_is_stored() {
    let server = Server::start_with(Options {
        env: env(&[
            ("SIGNAAL_LOOKUP_PER_HOUR", "100000"),
            ("SIGNAAL_MAX_BODY_BYTES", "32768"),
        ]),
        ..Options::default()
    });
    let receipt = give_signal(&server, "Een regel die te hard uitpakt.").await;
    let empty = write(&server, &[("receipt", &receipt), ("message", "  \n ")]).await;
    assert_eq!(empty.status, 422);
    assert!(empty.page.contains("id=\"error-summary\""));
    let long = "a".repeat(10_001);
    let too_long = write(&server, &[("receipt", &receipt), ("message", &long)]).await;
    assert_eq!(too_long.status, 422);
    assert!(too_long.page.contains("10000"));
    let huge = "a".repeat(40_000);
    let too_large = write(&server, &[("receipt", &receipt), ("message", &huge)]).await;
    assert_eq!(too_large.status, 413);
    let c = client();
    let url = format!("{}/follow-up/message", server.intake);
    let bad = c
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("receipt={receipt}&message=%ff%fe"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let twice = c
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("receipt={receipt}&message=a&message=b"))
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status().as_u16(), 400);
    let json = c
        .post(&url)
        .header("content-type", "application/json")
        .body(format!("{{\"receipt\":\"{receipt}\",\"message\":\"x\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status().as_u16(), 415);
    assert_eq!(sent_messages(&server), 0);
}

#[tokio::test]
async fn the_code_never_appears_in_an_address_a_header_or_the_log() {
    let mut server = server();
    let receipt = give_signal(&server, "Een regel die te hard uitpakt.").await;
    let start = client()
        .get(format!("{}/follow-up?lang=en", server.intake))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status().as_u16(), 200);
    let page = start.text().await.unwrap();
    assert!(page.contains("action=\"/follow-up?lang=en\""));
    assert!(page.contains("name=\"receipt\""));
    for typed in [receipt.clone(), sloppy(&receipt), one_off(&receipt)] {
        let answer = come_back(&server, &typed).await;
        code_stays_in_the_body(&answer, &receipt);
        let answer = write(
            &server,
            &[("receipt", &typed), ("message", "Een aanvulling.")],
        )
        .await;
        code_stays_in_the_body(&answer, &receipt);
        let answer = post(
            &client(),
            &server,
            "/receipt?lang=nl",
            &[("receipt", &typed), ("show_lang", "en")],
        )
        .await;
        code_stays_in_the_body(&answer, &receipt);
    }
    assert!(server.stop().success());
    let log = server.output().to_uppercase().replace(['-', ' '], "");
    assert!(
        !log.contains(&receipt.replace('-', "")),
        "the code is in the log"
    );
    assert!(
        !log.contains(&one_off(&receipt).replace('-', "")),
        "a guess is in the log"
    );
}

#[tokio::test]
async fn the_follow_up_pages_speak_dutch_and_english_with_the_intake_headers() {
    let server = server();
    let receipt = give_signal(&server, "Een regel die te hard uitpakt.").await;
    for (lang, title) in [
        ("nl", "Terugkomen met uw code"),
        ("en", "Come back with your code"),
    ] {
        let res = client()
            .get(format!("{}/follow-up?lang={lang}", server.intake))
            .send()
            .await
            .unwrap();
        let h = res.headers().clone();
        let page = res.text().await.unwrap();
        assert!(page.contains(&format!("<html lang=\"{lang}\"")));
        assert!(page.contains(title));
        assert_eq!(h["cache-control"], "no-store");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .starts_with("default-src 'none'")
        );
        assert!(!h.contains_key("set-cookie"));
        let answer = post(
            &client(),
            &server,
            &format!("/follow-up?lang={lang}"),
            &[("receipt", &receipt)],
        )
        .await;
        assert_eq!(answer.status, 200);
        assert!(answer.page.contains(&format!("<html lang=\"{lang}\"")));
        assert!(answer.page.contains("data-status=\"new\""));
        assert_eq!(answer.headers["cache-control"], "no-store");
        assert_eq!(answer.headers["referrer-policy"], "no-referrer");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_says_sent_only_after_the_message_is_synced_to_disk() {
    if !common::strace_available() {
        return;
    }
    // Every WAL sync takes a second: a page that said "sent" before the
    // message's commit was synced would come sooner than that.
    let server = Server::start_with(Options {
        env: env(&[("SIGNAAL_LOOKUP_PER_HOUR", "100000")]),
        strace: Some("delay_exit=1000000".into()),
        ..Options::default()
    });
    let receipt = give_signal(&server, "Een regel die te hard uitpakt.").await;
    let before = server.wal_syncs().len();
    let sent = common::epoch_now();
    let reply = write(
        &server,
        &[("receipt", &receipt), ("message", "Een aanvulling.")],
    )
    .await;
    let shown = common::epoch_now();
    assert_eq!(reply.status, 200, "{}", reply.page);
    assert!(reply.page.contains("data-sent"));
    let syncs = server.wal_syncs();
    assert!(
        syncs[before..]
            .iter()
            .any(|s| s.at >= sent && s.at + 1.0 <= shown),
        "no WAL sync began after the message was sent ({sent:.3}) and ended before the \
         page said sent ({shown:.3}): {syncs:?}"
    );
    assert_eq!(sent_messages(&server), 1);
}

#[tokio::test]
async fn a_message_that_cannot_be_stored_says_nothing_was_kept_and_keeps_the_text() {
    let server = Server::start_with(Options {
        env: env(&[
            ("SIGNAAL_LOOKUP_PER_HOUR", "100000"),
            ("SIGNAAL_MAX_DB_MIB", "1"),
        ]),
        ..Options::default()
    });
    let receipt = give_signal(&server, "Een regel die te hard uitpakt.").await;
    // Fill the store: long signals first, then short ones, until nothing fits.
    for situation in [
        "Een lang verhaal over een regel die vaak verkeerd uitpakt. ".repeat(150),
        "Kort.".to_owned(),
    ] {
        let mut full = false;
        for _ in 0..400 {
            let (status, _) = submit(&client(), &server, &[("situation", &situation)]).await;
            if status == 503 {
                full = true;
                break;
            }
            assert_eq!(status, 200);
        }
        assert!(full, "the store filled up");
    }
    let text = format!(
        "Een aanvulling die niet meer past. {}",
        "Meer. ".repeat(900)
    );
    let answer = write(
        &server,
        &[("receipt", &receipt), ("message", &text), ("lang", "en")],
    )
    .await;
    assert_eq!(answer.status, 503);
    assert!(answer.page.contains("Nothing was kept"), "{}", answer.page);
    assert!(!answer.page.contains("data-sent"));
    assert!(answer.page.contains(&text), "the text is still in the form");
    assert_eq!(sent_messages(&server), 0);
}

#[tokio::test]
async fn switching_language_keeps_the_receipt_the_thread_and_the_message_being_written() {
    let server = server();
    let code = give_signal(&server, "Een regel die te hard uitpakt.").await;

    // The receipt page's language switch sends the code (in the body only) to
    // /receipt, which shows the same receipt in English.
    let (_, first) = submit(
        &client(),
        &server,
        &[("situation", "Nog een signaal."), ("lang", "nl")],
    )
    .await;
    assert!(first.contains(r#"form="receipt-again""#), "{first}");
    let other = receipt_in(&first).unwrap();
    let again = post(
        &client(),
        &server,
        "/receipt?lang=nl",
        &[
            ("receipt", other.as_str()),
            ("lang", "nl"),
            ("show_lang", "en"),
        ],
    )
    .await;
    assert_eq!(again.status, 200);
    assert!(again.page.contains(r#"<html lang="en">"#));
    assert_eq!(receipt_in(&again.page).as_deref(), Some(other.as_str()));
    assert_eq!(again.headers["cache-control"], "no-store");
    // Only for a code that opens a signal: never a receipt for nothing.
    let forged = post(
        &client(),
        &server,
        "/receipt",
        &[("receipt", "ABCD-EFGH-JKMN-PQRS-TV01"), ("show_lang", "en")],
    )
    .await;
    assert_eq!(forged.status, 404);
    assert!(receipt_in(&forged.page).is_none());
    assert_eq!(server.signal_count(), 2);

    // On the thread page the switch sends the message form: the thread comes
    // back in English with the unsent message still in its box, and nothing is sent.
    let thread = come_back(&server, &code).await;
    assert!(thread.page.contains(r#"form="message-form""#));
    let draft = "Half geschreven antwoord aan het team";
    let switched = write(
        &server,
        &[
            ("receipt", code.as_str()),
            ("message", draft),
            ("lang", "nl"),
            ("show_lang", "en"),
        ],
    )
    .await;
    assert_eq!(switched.status, 200);
    assert!(switched.page.contains(r#"<html lang="en">"#));
    assert!(
        switched.page.contains("Een regel die te hard uitpakt."),
        "the signal as sent"
    );
    assert!(switched.page.contains(draft), "the message being written");
    assert!(!switched.page.contains("data-sent"));
    assert_eq!(sent_messages(&server), 0);
}

#[tokio::test]
async fn when_everyone_together_is_over_the_limit_a_message_comes_back_unsent_with_its_text() {
    // One look-up a second for all senders together.
    let server = Server::start_with(Options {
        env: env(&[("SIGNAAL_GLOBAL_PER_SECOND", "1")]),
        ..Options::default()
    });
    let receipt = give_signal(&server, "Een regel die te hard uitpakt.").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let before = sent_messages(&server);
    let texts: Vec<String> = (0..4)
        .map(|i| format!("Aanvulling nummer {i} bij drukte."))
        .collect();
    let send = |text: &str| {
        let fields = [
            ("receipt", receipt.clone()),
            ("message", text.to_owned()),
            ("lang", "en".to_owned()),
        ];
        let server = &server;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post(&client(), server, "/follow-up/message", &fields).await
        }
    };
    let (a, b, c, d) = tokio::join!(
        send(&texts[0]),
        send(&texts[1]),
        send(&texts[2]),
        send(&texts[3])
    );
    let answers = [a, b, c, d];
    let stored: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
    let held: Vec<(&Answer, &String)> = answers
        .iter()
        .zip(&texts)
        .filter(|(a, _)| a.status == 429)
        .collect();
    assert!(
        !held.is_empty(),
        "four at once over a limit of one a second"
    );
    assert!(
        held.iter().any(|(a, _)| !a.page.contains("data-status")),
        "the message form on its own, when not even the look-up could be tried"
    );
    for (answer, text) in &held {
        assert!(answer.headers.contains_key("retry-after"));
        assert!(
            answer.page.contains("Your message has not been sent yet"),
            "{}",
            answer.page
        );
        assert!(answer.page.contains(text.as_str()), "the text is kept");
        assert!(
            answer
                .page
                .contains(r#"action="/follow-up/message?lang=en""#),
            "and can be sent again"
        );
        assert!(!answer.page.contains("data-sent"));
    }
    assert_eq!(
        sent_messages(&server) - before,
        stored.len() as i64,
        "only what was answered as sent is stored"
    );
}
