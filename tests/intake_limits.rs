//! A flood is stopped without locking out a ministry, and without storing addresses.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{Options, Server, client_from, submit};

fn server_with(env: &[(&str, &str)]) -> Server {
    Server::start_with(Options {
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Options::default()
    })
}

#[tokio::test]
async fn a_burst_from_one_address_is_limited_while_a_colleague_elsewhere_still_gets_receipts() {
    let server = server_with(&[
        ("SIGNAAL_SUBMIT_BURST", "3"),
        ("SIGNAAL_SUBMIT_PER_HOUR", "3"),
    ]);
    let flooder = client_from("127.0.0.2");
    for _ in 0..3 {
        assert_eq!(
            submit(&flooder, &server, &[("situation", "een patroon")])
                .await
                .0,
            200
        );
    }
    let res = flooder
        .post(format!("{}/signal", server.intake))
        .form(&[("situation", "nog een"), ("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    let page = res.text().await.unwrap();
    assert!(page.contains("Please wait a moment"), "{page}");
    assert!(page.contains("has not been stored"), "{page}");
    assert!(!page.contains("data-receipt"));

    let colleague = client_from("127.0.0.3");
    let (status, page) = submit(&colleague, &server, &[("situation", "ander patroon")]).await;
    assert_eq!(status, 200);
    assert!(common::receipt_in(&page).is_some());
    assert_eq!(server.signal_count(), 4);
}

#[tokio::test]
async fn the_global_limit_holds_under_many_addresses() {
    let server = server_with(&[("SIGNAAL_GLOBAL_PER_SECOND", "5")]);
    let mut accepted = 0;
    let mut limited = 0;
    let started = std::time::Instant::now();
    for i in 10..40 {
        let c = client_from(&format!("127.0.1.{i}"));
        match submit(&c, &server, &[("situation", "veel adressen")])
            .await
            .0
        {
            200 => accepted += 1,
            429 => limited += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    // The quota is 5 a second with a burst of 5: however long the 30
    // requests took on this machine, no more got through than that allows.
    let took = started.elapsed().as_secs_f64();
    let allowed = 5 + (5.0 * took).ceil() as i64;
    assert!(accepted >= 5, "accepted {accepted}");
    assert!(
        accepted <= allowed,
        "accepted {accepted} in {took:.2} s, allowed {allowed}"
    );
    assert!(limited > 0, "30 requests in {took:.2} s and none limited");
    assert_eq!(accepted + limited, 30);
    assert_eq!(server.signal_count(), accepted);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_default_limits_let_fifty_colleagues_behind_one_address_file_and_come_back() {
    // The defaults as shipped, not the kit's: a ministry's colleagues reach
    // signaal through one egress address, after a news item all in one hour.
    let server = Server::start_with(Options {
        configured_limits: true,
        ..Options::default()
    });
    let defaults = signaal::config::Limits::default();
    assert_eq!(
        (
            defaults.submit_burst,
            defaults.submit_per_hour,
            defaults.lookup_burst,
            defaults.lookup_per_hour
        ),
        (60, 240, 60, 240)
    );
    let egress = client_from("127.0.0.9");
    let mut codes = Vec::new();
    for i in 0..50 {
        let (status, page) =
            submit(&egress, &server, &[("situation", &format!("collega {i}"))]).await;
        assert_eq!(status, 200, "colleague {i}");
        codes.push(common::receipt_in(&page).unwrap());
    }
    // Each comes back with their code, from the same address, at once.
    let lookups: Vec<_> = codes
        .into_iter()
        .map(|code| {
            let c = egress.clone();
            let url = format!("{}/follow-up", server.intake);
            tokio::spawn(async move {
                c.post(url)
                    .form(&[("receipt", code.as_str())])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for lookup in lookups {
        assert_eq!(lookup.await.unwrap(), 200);
    }
    // A script from the same address is held after the burst.
    let mut limited = false;
    for _ in 0..20 {
        if submit(&egress, &server, &[("situation", "te veel")])
            .await
            .0
            == 429
        {
            limited = true;
            break;
        }
    }
    assert!(limited, "a flood from one address is held");
    assert!(server.signal_count() <= 61);
}

#[tokio::test]
async fn over_the_global_limit_a_right_code_waits_too_and_the_page_says_so() {
    let server = server_with(&[("SIGNAAL_GLOBAL_PER_SECOND", "1")]);
    let c = client_from("127.0.2.1");
    let (status, page) = submit(&c, &server, &[("situation", "een patroon")]).await;
    assert_eq!(status, 200, "{page}");
    let receipt = common::receipt_in(&page).unwrap();
    // One a second for everyone together: a few look-ups at once of the
    // right code run into it.
    let mut limited = None;
    for _ in 0..5 {
        let res = c
            .post(format!("{}/follow-up?lang=en", server.intake))
            .form(&[("receipt", receipt.as_str()), ("lang", "en")])
            .send()
            .await
            .unwrap();
        if res.status().as_u16() == 429 {
            limited = Some(res.text().await.unwrap());
            break;
        }
    }
    let page = limited.expect("a right code is refused over the global limit");
    assert!(
        page.contains("only when it is too busy for everyone together must you wait as well"),
        "{page}"
    );
    assert!(!page.contains("always works"), "{page}");
}
