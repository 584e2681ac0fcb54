//! A professional reads on the intake what came of the signals: the
//! hardships the team published, how many signals lie behind each (never a
//! number below five), what is being done and what changed this year — and,
//! on the follow-up page of their own signal, which hardship it is part of.
//! Nothing tells which signals are linked, and nothing the team wrote for
//! itself shows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod review_support;

use std::time::{Duration, Instant};

use common::{Options, Server, canary, client};
use review_support::{attr_after, demo_login, signal_with_id};
use signaal::store::Store;
use signaal::store::publications::NewPublication;

/// An answer of the intake: status, headers and page.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    page: String,
}

async fn get(server: &Server, path: &str) -> Answer {
    let res = client()
        .get(format!("{}{path}", server.intake))
        .send()
        .await
        .unwrap();
    Answer {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        page: res.text().await.unwrap(),
    }
}

/// The headers every intake page carries.
fn assert_intake_headers(h: &reqwest::header::HeaderMap, what: &str) {
    assert_eq!(
        h["content-security-policy"],
        signaal::web::CSP,
        "{what}: CSP"
    );
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
    assert_eq!(h["cache-control"], "no-store", "{what}");
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(!h.contains_key("set-cookie"), "{what}: a cookie");
    assert!(!h.contains_key("server"), "{what}: a Server header");
}

#[tokio::test]
async fn with_nothing_published_the_results_say_so_in_dutch_and_english_with_the_intake_headers() {
    let server = Server::start();
    for (path, lang, text) in [
        (
            "/resultaten",
            "nl",
            "Het team heeft nog geen hardheden openbaar gemaakt",
        ),
        (
            "/results",
            "en",
            "The team has not made any hardships public yet",
        ),
        (
            "/resultaten?lang=en",
            "en",
            "Results: hardships and what is being done",
        ),
        (
            "/results?lang=nl",
            "nl",
            "Resultaten: hardheden en wat eraan gebeurt",
        ),
        // A language no one offers: the page's own.
        (
            "/resultaten?lang=de",
            "nl",
            "Aantallen onder de 5 tonen we als „&lt;5”",
        ),
        (
            "/results?lang=",
            "en",
            "Numbers below 5 are shown as “&lt;5”",
        ),
    ] {
        let a = get(&server, path).await;
        assert_eq!(a.status, 200, "{path}");
        assert_intake_headers(&a.headers, path);
        assert!(a.page.contains(&format!("<html lang=\"{lang}\"")), "{path}");
        assert!(a.page.contains(text), "{path}: {}", a.page);
        assert!(a.page.contains("data-results-empty"), "{path}");
    }
    // The language link leads to the page of the other language.
    let nl = get(&server, "/resultaten").await.page;
    assert!(nl.contains(r#"href="/results?lang=en""#), "{nl}");
    let en = get(&server, "/results").await.page;
    assert!(en.contains(r#"href="/resultaten?lang=nl""#), "{en}");
    // Every intake page links to it, in its language.
    for (path, link) in [
        ("/", r#"href="/resultaten?lang=nl""#),
        ("/?lang=en", r#"href="/results?lang=en""#),
        ("/privacy", r#"href="/resultaten?lang=nl""#),
        ("/follow-up?lang=en", r#"href="/results?lang=en""#),
        ("/nope", r#"href="/resultaten?lang=nl""#),
    ] {
        assert!(get(&server, path).await.page.contains(link), "{path}");
    }
    // A page that is not there, as an address would have it.
    for path in [
        "/resultaten?page=2",
        "/resultaten?page=0",
        "/results?page=x",
        "/results?page=99999999",
    ] {
        let a = get(&server, path).await;
        assert_eq!(a.status, 404, "{path}");
        assert_intake_headers(&a.headers, path);
        assert!(a.page.contains("<h1>"), "{path}");
    }
    assert!(
        get(&server, "/results?page=1")
            .await
            .page
            .contains("data-results-empty")
    );
    // HEAD is answered as GET without the body; another method is a page.
    let res = client()
        .head(format!("{}/resultaten", server.intake))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_intake_headers(res.headers(), "HEAD");
    assert!(res.text().await.unwrap().is_empty());
    for method in [reqwest::Method::POST, reqwest::Method::DELETE] {
        let res = client()
            .request(method.clone(), format!("{}/resultaten", server.intake))
            .form(&[("page", "1")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 405, "{method}");
        assert!(res.headers()["allow"].to_str().unwrap().contains("GET"));
        assert_intake_headers(res.headers(), "405");
        let page = res.text().await.unwrap();
        assert!(page.contains("Deze pagina werkt zo niet"), "{page}");
    }
}

/// Opens the server's store from this process (as the review face running
/// in a process of its own would), runs `f`, and closes it again.
async fn in_another_process<T, F>(server: &Server, f: impl FnOnce(Store) -> F) -> T
where
    F: std::future::Future<Output = T>,
{
    let store = Store::open(&server.data_dir()).unwrap();
    let out = f(store.clone()).await;
    tokio::task::spawn_blocking(move || store.close())
        .await
        .unwrap();
    out
}

/// `POST /follow-up` with `code`: the sender's page.
async fn follow_up(server: &Server, code: &str) -> String {
    let res = client()
        .post(format!("{}/follow-up", server.intake))
        .form(&[("receipt", code)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_published_hardship_shows_its_public_texts_a_count_never_below_five_and_its_progress() {
    let server = Server::start_with(Options {
        env: vec![("SIGNAAL_LOOKUP_PER_HOUR".into(), "100000".into())],
        ..Options::default()
    });
    let s = demo_login(&server).await;
    let mut signals = Vec::new();
    for n in 0..8 {
        signals.push(signal_with_id(&server, &s, n).await);
    }
    // What the team writes for itself (sealed) and what it publishes.
    let (inner_title, inner_pattern, inner_measure) =
        (canary("INNER"), canary("PATTERN"), canary("MEASURE"));
    let (public_title, public_summary, public_measure) =
        (canary("TITLE"), canary("SUMMARY"), canary("PUBLICMEASURE"));
    let res = s
        .post(
            "/hardships",
            &[
                ("title", &inner_title),
                ("description", &inner_pattern),
                ("domain", "social-assistance"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let hardship = to
        .strip_prefix("/hardships/")
        .unwrap()
        .split(['?', '/'])
        .next()
        .unwrap()
        .to_owned();
    let measures = format!("/hardships/{hardship}/measures");
    let res = s
        .post(
            &measures,
            &[
                ("kind", "measure"),
                ("lever", "law"),
                ("text", &inner_measure),
                ("organisation", "SZW (intern)"),
                ("target", "2026-01-15"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, page) = s.get(&format!("/hardships/{hardship}")).await;
    let measure = attr_after(&page, "data-measure=\"").unwrap();

    // Seen once before anything is published: the empty page is kept.
    assert!(
        get(&server, "/resultaten")
            .await
            .page
            .contains("data-results-empty")
    );
    for (_, id) in &signals[..3] {
        let res = s
            .post(
                &format!("/signals/{id}/hardships"),
                &[("hardship", &hardship)],
            )
            .await;
        assert_eq!(res.status().as_u16(), 303);
    }
    let h = hardship.clone();
    let published = in_another_process(&server, |store| {
        let new = NewPublication {
            title: public_title.clone(),
            summary: public_summary.clone(),
            cause: "De kostendelersnorm in de Participatiewet".into(),
            measures: vec![(
                measure.clone(),
                public_measure.clone(),
                "Ministerie van SZW".into(),
                String::new(),
            )],
        };
        async move { store.publish(h, "demo".into(), new).await }
    })
    .await
    .unwrap();
    assert!(published);
    // The measure moves on in the serving process: the page shows it at once.
    for status in ["agreed", "in_progress"] {
        let res = s
            .post(
                &format!("{measures}/{measure}/status"),
                &[("status", status), ("note", "")],
            )
            .await;
        assert_eq!(res.status().as_u16(), 303);
    }
    let a = get(&server, "/resultaten").await;
    assert_eq!(a.status, 200);
    assert_intake_headers(&a.headers, "/resultaten");
    let page = &a.page;
    for shown in [
        public_title.as_str(),
        public_summary.as_str(),
        public_measure.as_str(),
        "De kostendelersnorm in de Participatiewet",
        "Ministerie van SZW",
        "data-signals=\"&lt;5\"",
        "In uitvoering",
        "Wet",
        "Bijstand en Participatiewet",
        "data-past-target",
        "Streefdatum verstreken",
        "Wat er in 2026 veranderde",
        "openbaar gemaakt",
    ] {
        assert!(page.contains(shown), "{shown} is not on the page:\n{page}");
    }
    let never = |page: &str, what: &str| {
        for (code, id) in &signals {
            assert!(!page.contains(id.as_str()), "{what}: a signal id");
            assert!(!page.contains(code.as_str()), "{what}: a receipt code");
        }
        for hidden in [
            hardship.as_str(),
            measure.as_str(),
            inner_title.as_str(),
            inner_pattern.as_str(),
            inner_measure.as_str(),
            "SZW (intern)",
            "Situatie nummer",
        ] {
            assert!(!page.contains(hidden), "{what}: {hidden}");
        }
        assert!(!page.contains("data-signals=\"3\""), "{what}: the count 3");
    };
    never(page, "/resultaten");

    // Implemented: no longer past its target; in English too.
    let res = s
        .post(
            &format!("{measures}/{measure}/status"),
            &[("status", "implemented"), ("note", "")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let nl = get(&server, "/resultaten").await.page;
    assert!(nl.contains("Uitgevoerd") && !nl.contains("data-past-target"));
    let en = get(&server, "/results").await.page;
    for shown in [
        "Implemented",
        "Lever",
        "Law",
        "What changed in 2026",
        "made public",
        public_title.as_str(),
    ] {
        assert!(en.contains(shown), "{shown} is not on the English page");
    }
    never(&en, "/results");

    // Six signals: the number itself.
    for (_, id) in &signals[3..6] {
        s.post(
            &format!("/signals/{id}/hardships"),
            &[("hardship", &hardship)],
        )
        .await;
    }
    let six = get(&server, "/resultaten").await.page;
    assert!(six.contains("data-signals=\"6\""), "{six}");
    assert!(!six.contains("data-signals=\"&lt;5\""));
    // Seven, then a sender withdraws one: the page counts six at once.
    s.post(
        &format!("/signals/{}/hardships", signals[7].1),
        &[("hardship", &hardship)],
    )
    .await;
    assert!(
        get(&server, "/resultaten")
            .await
            .page
            .contains("data-signals=\"7\"")
    );
    let res = client()
        .post(format!("{}/follow-up/withdrawn", server.intake))
        .form(&[("receipt", signals[7].0.as_str()), ("withdraw", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("data-withdrawn"));
    let after = get(&server, "/resultaten").await.page;
    assert!(after.contains("data-signals=\"6\""), "{after}");

    // The sender of a linked signal sees what it is part of; of other
    // signals nothing, not even how many. The unlinked one sees nothing.
    let linked = follow_up(&server, &signals[0].0).await;
    assert!(
        linked.contains("Uw signaal maakt deel uit van:"),
        "{linked}"
    );
    assert!(linked.contains(&public_title) && linked.contains(&public_measure));
    assert!(linked.contains("Uitgevoerd"));
    assert!(!linked.contains("data-signals") && !linked.contains(">6<"));
    for (code, id) in &signals[1..] {
        assert!(!linked.contains(id.as_str()) && !linked.contains(code.as_str()));
    }
    for hidden in [&hardship, &measure, &inner_title, &inner_measure] {
        assert!(!linked.contains(hidden.as_str()), "{hidden}");
    }
    let unlinked = follow_up(&server, &signals[6].0).await;
    assert!(!unlinked.contains(&public_title) && !unlinked.contains("data-part-of"));

    // Taken back by another process: gone from the page within the time
    // the page is kept, and from the sender's page at once.
    let h = hardship.clone();
    let unpublished = in_another_process(&server, |store| async move {
        store.unpublish(h, "demo".into()).await
    })
    .await
    .unwrap();
    assert!(unpublished);
    assert!(
        !follow_up(&server, &signals[0].0)
            .await
            .contains(&public_title)
    );
    let deadline = Instant::now() + signaal_fresh() + Duration::from_secs(5);
    loop {
        let page = get(&server, "/resultaten").await.page;
        if !page.contains(&public_title) {
            assert!(page.contains("data-results-empty"));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still published after {:?}",
            signaal_fresh()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// How long the intake keeps a results page drawn from the store.
fn signaal_fresh() -> Duration {
    Duration::from_secs(10)
}
