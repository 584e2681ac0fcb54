//! Who may enter the review face: reviewers made with `signaal reviewer add` or
//! with the Debian age CLI, unlocking with passphrase and TOTP; everyone else
//! gets one answer, and every attempt is audited.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod review_support;

use common::{Options, Server, TeamKey, canary};
use review_support::*;

const PASS: &str = "correct horse battery staple";

fn production(team: &TeamKey) -> Options {
    Options {
        team: vec![team.recipient()],
        env: vec![
            ("SIGNAAL_PRODUCTION".into(), "true".into()),
            (
                "SIGNAAL_PUBLIC_URL".into(),
                "https://signaal.example/".into(),
            ),
        ],
        ..Options::default()
    }
}

fn audit_rows(server: &Server) -> Vec<(String, String, String)> {
    let conn = db(server);
    let mut stmt = conn
        .prepare("SELECT actor, action, detail FROM audit ORDER BY seq")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn a_reviewer_made_by_the_cli_logs_in_with_totp_reads_the_canary_and_the_age_cli_opens_the_export()
 {
    let team = TeamKey::generate();
    let mut server = Server::start_with(production(&team));
    // Made by the command line itself, at age's default work factor.
    let (status, out, err) = run_with_stdin(
        &server,
        &["reviewer", "add", "alice", "--add-recipient"],
        &format!("{PASS}\n{PASS}\n"),
    );
    assert_eq!(status, 0, "{out}{err}");
    assert!(out.contains("recipient: age1"), "{out}");
    assert!(
        out.contains('█') || out.contains('▀'),
        "a terminal QR code is printed"
    );
    let totp = totp_in(&out);
    // The intake seals to the recipients it read at start: restart to include alice.
    server.restart();
    let secret = canary("login");
    submit_signal(
        &server,
        &[("situation", &format!("Het ging mis: {secret}"))],
    )
    .await;

    let s = login(&server, "alice", PASS, &code(&totp, 0)).await;
    let c = &s.set_cookie;
    assert!(c.starts_with("__Host-signaal-review="), "{c}");
    for attr in ["; Path=/", "; Secure", "; HttpOnly", "; SameSite=Strict"] {
        assert!(c.contains(attr), "{attr} missing in {c}");
    }
    assert!(!c.to_ascii_lowercase().contains("domain="), "{c}");
    let token = s.cookie.split_once('=').unwrap().1;
    assert_eq!(token.len(), 64, "256 bits, hex");

    let (status, queue) = s.get("/").await;
    assert_eq!(status, 200);
    assert!(
        queue.contains(&secret),
        "the queue shows the first words, decrypted"
    );
    let ids = signal_ids(&queue);
    assert_eq!(ids.len(), 1);
    let (status, page) = s.get(&format!("/signals/{}", ids[0])).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&secret),
        "the reviewer reads what the sender wrote"
    );

    if !common::age_cli_available() {
        return;
    }
    let export = server.root.path().join("export");
    let (code, out, err) = server.run(&["export", "--encrypted", export.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let identity = server.keys_dir().join("reviewers/alice.age");
    let file = export.join(format!("{}.age", ids[0]));
    // The passphrase-protected identity file itself, typed at age's prompt.
    let args = format!(
        "-d -i {} -o plain.json {}",
        identity.display(),
        file.display()
    );
    assert!(
        age_with_tty(server.root.path(), &args, PASS, &["Enter passphrase"]),
        "age -d -i alice.age failed"
    );
    let plain = std::fs::read_to_string(server.root.path().join("plain.json")).unwrap();
    assert!(plain.contains(&secret));
}

#[tokio::test]
async fn an_identity_made_by_age_keygen_and_age_p_logs_in_unchanged() {
    if !common::age_cli_available() {
        return;
    }
    let team = TeamKey::generate();
    let mut server = Server::start_with(production(&team));
    let dir = server.root.path().to_owned();
    let keygen = common::output_within(
        std::process::Command::new("age-keygen")
            .args(["-o", "plain.txt"])
            .current_dir(&dir),
        None,
        common::DEADLINE,
    );
    assert!(keygen.status.success());
    assert!(age_with_tty(
        &dir,
        "-p -a -o made-by-age.age plain.txt",
        PASS,
        &["Enter passphrase", "Confirm passphrase"]
    ));
    let made = std::fs::read(dir.join("made-by-age.age")).unwrap();
    let out = add_reviewer(&server, "bob", PASS, &["--identity", "made-by-age.age"]);
    assert_eq!(
        std::fs::read(server.keys_dir().join("reviewers/bob.age")).unwrap(),
        made,
        "an age -p file is kept byte for byte"
    );
    let totp = totp_in(&out);
    server.restart();
    let secret = canary("agep");
    submit_signal(
        &server,
        &[("situation", &format!("Regel raakt hard: {secret}"))],
    )
    .await;
    let s = login(&server, "bob", PASS, &code(&totp, 0)).await;
    let ids = signal_ids(&s.get("/").await.1);
    assert!(
        s.get(&format!("/signals/{}", ids[0]))
            .await
            .1
            .contains(&secret)
    );

    // A plain age-keygen file is wrapped with the passphrase instead.
    let out = add_reviewer(&server, "carol", PASS, &["--identity", "plain.txt"]);
    assert!(out.contains("recipient: age1"));
    let wrapped = std::fs::read(server.keys_dir().join("reviewers/carol.age")).unwrap();
    assert!(wrapped.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"));
}

#[tokio::test]
async fn wrong_passphrase_unknown_name_wrong_or_replayed_code_get_one_answer_and_are_audited() {
    let team = TeamKey::generate();
    let mut server = Server::start_with(production(&team));
    let totp = totp_in(&add_reviewer(&server, "alice", PASS, &[]));

    let mut answers = Vec::new();
    for (name, pass, code) in [
        ("alice", "wrong passphrase!", code(&totp, 0)),
        ("nobody", PASS, code(&totp, 0)),
        ("alice", PASS, "000000".to_owned()),
        ("alice", PASS, String::new()),
    ] {
        let res = try_login(&server, name, pass, &code).await;
        let status = res.status().as_u16();
        assert!(res.headers().get("set-cookie").is_none());
        answers.push((status, res.text().await.unwrap()));
    }
    for (status, body) in &answers {
        assert_eq!(*status, 401);
        assert!(body.contains("Naam, wachtwoordzin of code niet geaccepteerd."));
    }
    let first = code(&totp, 0);
    login(&server, "alice", PASS, &first).await;
    let replay = try_login(&server, "alice", PASS, &first).await;
    assert_eq!(replay.status().as_u16(), 401, "a used time step is refused");
    let next = code(&totp, 1);
    login(&server, "alice", PASS, &next).await;
    // A clean stop writes the refusals only counted so far.
    server.stop();
    server.restart();
    let after_restart = try_login(&server, "alice", PASS, &next).await;
    assert_eq!(
        after_restart.status().as_u16(),
        401,
        "a restart does not reopen the replay window"
    );

    let rows = audit_rows(&server);
    let failed: Vec<_> = rows.iter().filter(|r| r.1 == "login-failed").collect();
    let reasons: Vec<&str> = failed.iter().map(|r| r.2.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "passphrase",
            "unknown-name",
            "totp",
            "totp-replayed",
            // The second wrong code of the minute was counted, not written
            // at once: its row came at the stop.
            "totp: 1 more in that minute",
            "totp-replayed"
        ]
    );
    assert_eq!(failed[1].0, "(unknown)", "a typed unknown name is not kept");
    assert_eq!(rows.iter().filter(|r| r.1 == "login").count(), 2);
    let log = server.output();
    assert!(!log.contains(PASS) && !log.contains("wrong passphrase!"));
}

#[tokio::test]
async fn a_revoked_reviewer_cannot_log_in_and_loses_an_open_session_at_once() {
    let team = TeamKey::generate();
    let server = Server::start_with(production(&team));
    let out = add_reviewer(&server, "alice", PASS, &[]);
    let totp = totp_in(&out);
    let s = login(&server, "alice", PASS, &code(&totp, 0)).await;
    assert_eq!(s.get("/").await.0, 200);

    let recipient = out
        .lines()
        .find_map(|l| l.strip_prefix("recipient: "))
        .unwrap()
        .trim()
        .to_owned();
    let team_pub = server.keys_dir().join("team.pub");
    let kept: String = std::fs::read_to_string(&team_pub)
        .unwrap()
        .lines()
        .filter(|l| l.trim() != recipient)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&team_pub, kept).unwrap();

    let res = s.get_raw("/").await;
    assert_eq!(res.status().as_u16(), 303, "the open session ends");
    let res = try_login(&server, "alice", PASS, &code(&totp, 1)).await;
    assert_eq!(res.status().as_u16(), 401);
    assert!(
        audit_rows(&server)
            .iter()
            .any(|r| r.1 == "login-failed" && r.2 == "revoked")
    );
}

#[tokio::test]
async fn the_demo_reviewer_logs_in_with_the_printed_passphrase_under_a_demo_banner() {
    let server = Server::start();
    let (status, page) = {
        let res = common::client()
            .get(format!("{}/login", server.review))
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    };
    assert_eq!(status, 200);
    assert!(page.contains("data-demo"));
    let s = demo_login(&server).await;
    assert!(
        s.set_cookie.starts_with("signaal-review="),
        "{}",
        s.set_cookie
    );
    assert!(s.set_cookie.contains("; HttpOnly") && s.set_cookie.contains("; SameSite=Strict"));
    let (status, queue) = s.get("/").await;
    assert_eq!(status, 200);
    assert!(
        queue.contains("data-demo"),
        "the DEMO banner is on every page"
    );
}

#[tokio::test]
async fn reviewers_are_listed_and_a_removed_reviewer_cannot_log_in() {
    let team = TeamKey::generate();
    let server = Server::start_with(production(&team));
    let totp = totp_in(&add_reviewer(&server, "alice", PASS, &[]));
    let (code, out, _) = server.run(&["reviewer", "list"]);
    assert_eq!(code, 0);
    assert_eq!(out, "alice\ttotp: yes\n");
    let (code, _, err) = run_with_stdin(
        &server,
        &["reviewer", "add", "alice"],
        &format!("{PASS}\n{PASS}\n"),
    );
    assert_ne!(code, 0, "an existing reviewer is not overwritten");
    assert!(err.contains("exists"), "{err}");
    let (code, _, err) = run_with_stdin(&server, &["reviewer", "add", "bob"], "short\nshort\n");
    assert_ne!(code, 0);
    assert!(err.contains("at least 10 characters"), "{err}");
    // A quick work factor is for tests and demos: production makes no file
    // that is cheaper to guess than age's own.
    let (code, _, err) = run_with_stdin(
        &server,
        &["reviewer", "add", "bob", "--work-factor", "17"],
        &format!("{PASS}\n{PASS}\n"),
    );
    assert_ne!(code, 0);
    assert!(err.contains("work factor of at least 18"), "{err}");
    assert!(!server.keys_dir().join("reviewers/bob.age").exists());
    let (code, _, err) = run_with_stdin(
        &server,
        &["reviewer", "add", "bob", "--no-totp"],
        &format!("{PASS}\n{PASS}\n"),
    );
    assert_ne!(code, 0, "production needs TOTP: {err}");

    let (code, out, _) = server.run(&["reviewer", "remove", "alice"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("team.pub"),
        "reminds to remove the recipient: {out}"
    );
    assert_eq!(server.run(&["reviewer", "list"]).1, "");
    let res = try_login(&server, "alice", PASS, &code_now(&totp)).await;
    assert_eq!(res.status().as_u16(), 401);
}

fn code_now(totp: &totp_rs::TOTP) -> String {
    code(totp, 0)
}

#[tokio::test]
async fn an_unknown_name_costs_as_much_time_as_a_wrong_passphrase() {
    // The demo reviewer's file uses scrypt work factor 16: tenths of a second.
    let server = Server::start();
    let attempt = |name: &'static str| {
        let server = &server;
        async move {
            let started = std::time::Instant::now();
            let res = try_login(server, name, "not the passphrase", "").await;
            assert_eq!(res.status().as_u16(), 401);
            started.elapsed().as_secs_f64()
        }
    };
    // In pairs, one after the other, so that a busy moment of the machine
    // weighs on both alike; the median of the pairs' ratios is compared.
    let mut ratios = Vec::new();
    for _ in 0..5 {
        let known = attempt("demo").await;
        let unknown = attempt("nobody").await;
        ratios.push(unknown / known);
    }
    ratios.sort_by(f64::total_cmp);
    let ratio = ratios[ratios.len() / 2];
    assert!(
        (0.33..3.0).contains(&ratio),
        "an unknown name takes {ratio:.2} times as long as a wrong passphrase: {ratios:?}"
    );
}

#[tokio::test]
async fn guessing_one_reviewers_passphrase_is_slowed_to_a_trickle() {
    let team = TeamKey::generate();
    let server = Server::start_with(production(&team));
    let totp = totp_in(&add_reviewer(&server, "alice", PASS, &[]));
    for i in 0..10 {
        let res = try_login(&server, "alice", &format!("guess number {i}"), "").await;
        assert_eq!(res.status().as_u16(), 401);
    }
    let res = try_login(&server, "alice", PASS, &code(&totp, 0)).await;
    assert_eq!(
        res.status().as_u16(),
        429,
        "even the right passphrase waits now"
    );
    assert!(res.text().await.unwrap().contains("Te veel pogingen"));
    let other = try_login(&server, "bob", "whatever it is", "").await;
    assert_eq!(
        other.status().as_u16(),
        401,
        "another name is not held back"
    );
    let limited: i64 = db(&server)
        .query_row(
            "SELECT count(*) FROM audit WHERE action = 'login-failed' AND detail = 'rate-limited'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(limited, 1);
}

#[tokio::test]
async fn guesses_at_a_reviewers_name_do_not_lock_her_out_of_a_browser_she_logged_in_from() {
    let team = TeamKey::generate();
    let server = Server::start_with(production(&team));
    let totp = totp_in(&add_reviewer(&server, "alice", PASS, &[]));
    // Alice logs in once in her browser, which is given a device cookie.
    let first = try_login(&server, "alice", PASS, &code(&totp, -1)).await;
    assert_eq!(first.status().as_u16(), 303);
    let cookies: Vec<String> = first
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let device = cookies
        .iter()
        .find(|c| c.starts_with("__Host-signaal-device="))
        .unwrap_or_else(|| panic!("no device cookie in {cookies:?}"));
    for attribute in [
        "Path=/",
        "Secure",
        "HttpOnly",
        "SameSite=Strict",
        "Max-Age=",
    ] {
        assert!(device.contains(attribute), "{device}");
    }
    let device = device.split(';').next().unwrap().to_owned();
    // Someone who knows her name spends its allowance, from elsewhere.
    let mut limited = 0;
    for i in 0..30 {
        let res = try_login(&server, "alice", &format!("guess number {i}"), "").await;
        limited += usize::from(res.status().as_u16() == 429);
    }
    assert!(limited >= 19, "{limited} of 30 guesses were limited");
    // Without her browser's cookie even the right passphrase waits; in her
    // browser she is in at once.
    let elsewhere = try_login(&server, "alice", PASS, &code(&totp, 0)).await;
    assert_eq!(elsewhere.status().as_u16(), 429);
    let made_up = format!("__Host-signaal-device={}", "ab".repeat(32));
    let forged = try_login_with(&server, Some(&made_up), "alice", PASS, &code(&totp, 0)).await;
    assert_eq!(
        forged.status().as_u16(),
        429,
        "a made-up device is no device"
    );
    let res = try_login_with(&server, Some(&device), "alice", PASS, &code(&totp, 0)).await;
    assert_eq!(
        res.status().as_u16(),
        303,
        "her browser's login was refused"
    );
    let again: Vec<_> = res.headers().get_all("set-cookie").iter().collect();
    assert_eq!(
        again.len(),
        1,
        "a known device gets no new cookie: {again:?}"
    );
    // Guesses typed into her browser slow only that browser: with the login
    // above, ten attempts, then one a minute.
    for i in 0..9 {
        let res = try_login_with(&server, Some(&device), "alice", &format!("typo {i}"), "").await;
        assert_eq!(res.status().as_u16(), 401);
    }
    let res = try_login_with(&server, Some(&device), "alice", PASS, &code(&totp, 1)).await;
    assert_eq!(res.status().as_u16(), 429);
}

#[tokio::test]
async fn at_a_terminal_the_passphrase_is_asked_twice_without_echo_and_must_match() {
    let server = Server::start();
    let (ok, screen) = signaal_with_tty(
        &server,
        "reviewer add dave --no-totp --work-factor 12",
        &[
            ("Passphrase: ", PASS),
            ("Passphrase again: ", "a different passphrase"),
        ],
    );
    assert!(!ok, "{screen}");
    assert!(screen.contains("Passphrase again"), "{screen}");
    assert!(screen.contains("differ"), "{screen}");
    let (ok, screen) = signaal_with_tty(
        &server,
        "reviewer add dave --no-totp --work-factor 12 --add-recipient",
        &[("Passphrase: ", PASS), ("Passphrase again: ", PASS)],
    );
    assert!(ok, "{screen}");
    assert!(
        !screen.contains(PASS),
        "the passphrase is not echoed: {screen}"
    );
    let s = login(&server, "dave", PASS, "").await;
    assert_eq!(s.get("/").await.0, 200);
}

#[tokio::test]
async fn a_hand_made_identity_gets_its_second_factor_with_reviewer_totp() {
    let team = TeamKey::generate();
    let server = Server::start_with(production(&team));
    // As `age-keygen | age -p` would leave it: an identity file and a team.pub line.
    let id = age::x25519::Identity::generate();
    let file = signaal::crypto::wrap_identity(&id, PASS, Some(12)).unwrap();
    std::fs::create_dir_all(server.keys_dir().join("reviewers")).unwrap();
    std::fs::write(server.keys_dir().join("reviewers/erin.age"), file).unwrap();
    let team_pub = server.keys_dir().join("team.pub");
    let text = std::fs::read_to_string(&team_pub).unwrap();
    std::fs::write(&team_pub, format!("{text}{}\n", id.to_public())).unwrap();
    let res = try_login(&server, "erin", PASS, "").await;
    assert_eq!(
        res.status().as_u16(),
        401,
        "production refuses a reviewer without TOTP"
    );

    let (status, _, err) = run_with_stdin(&server, &["reviewer", "totp", "erin"], "wrong one\n");
    assert_ne!(status, 0, "{err}");
    let (status, out, err) =
        run_with_stdin(&server, &["reviewer", "totp", "erin"], &format!("{PASS}\n"));
    assert_eq!(status, 0, "{err}");
    let totp = totp_in(&out);
    let s = login(&server, "erin", PASS, &code(&totp, 0)).await;
    assert_eq!(s.get("/").await.0, 200);
}

#[tokio::test]
async fn a_refused_login_keeps_the_name_and_puts_focus_on_the_passphrase() {
    let server = Server::start();
    let first = common::client()
        .get(format!("{}/login", server.review))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        first.contains(r#"autocomplete="username" value="" autofocus"#),
        "an empty form starts at the name: {first}"
    );
    assert!(first.contains("novalidate") && !first.contains("pattern="));

    let refused = try_login(&server, "alice", "wrong passphrase!", "")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        refused.contains(r#"value="alice">"#),
        "the typed name is kept: {refused}"
    );
    assert!(
        refused.contains(r#"autocomplete="current-password" autofocus"#),
        "focus goes to the passphrase: {refused}"
    );
    assert!(!refused.contains("wrong passphrase!"));

    // Something that is no name (a passphrase typed in the wrong field) is
    // not shown back.
    let typed = "correct horse in the name field";
    let refused = try_login(&server, typed, "x", "")
        .await
        .text()
        .await
        .unwrap();
    assert!(!refused.contains("horse"), "{refused}");
    assert!(refused.contains(r#"autocomplete="username" value="" autofocus"#));
}
