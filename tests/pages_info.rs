//! The pages around the form: privacy, the accessibility statement, the embed
//! kit with its QR code, and the work-network notice.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{Options, Server, client, client_from};

const PUBLIC_URL: &str = "https://signaal.example.nl/melden";

fn with(env: &[(&str, &str)]) -> Server {
    // A demonstration under a public address: demo keys, said so.
    Server::start_with(Options {
        env: env
            .iter()
            .chain(&[("SIGNAAL_DEMO", "true")])
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..Options::default()
    })
}

async fn page(c: &reqwest::Client, url: String) -> (u16, reqwest::header::HeaderMap, String) {
    let res = c.get(url).send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.text().await.unwrap())
}

#[tokio::test]
async fn the_privacy_page_says_honestly_what_is_kept_and_what_cannot_be_protected() {
    let server = Server::start();
    let (status, _, nl) = page(&client(), format!("{}/privacy", server.intake)).await;
    assert_eq!(status, 200);
    for text in [
        "versleuteld",
        "De dag",
        "IP-adres",
        "Cookies",
        "heel even",
        "proxy",
        "werkcomputer",
        "mobiel internet",
        "Tor Browser",
        "/embed/qr.png",
    ] {
        assert!(nl.contains(text), "nl: {text}");
    }
    let (_, _, en) = page(&client(), format!("{}/privacy?lang=en", server.intake)).await;
    for text in [
        "encrypted",
        "The date",
        "IP address",
        "for a moment",
        "proxy logs",
        "monitored",
        "mobile data",
        "Tor Browser",
    ] {
        assert!(en.contains(text), "en: {text}");
    }
    // Every intake page links to it.
    for path in ["/", "/embed", "/toegankelijkheid", "/nope"] {
        let (_, _, p) = page(&client(), format!("{}{path}", server.intake)).await;
        assert!(
            p.contains(r#"href="/privacy?lang=nl""#),
            "{path} links to the privacy page"
        );
    }
}

#[tokio::test]
async fn the_accessibility_statement_names_wcag_2_1_aa_in_both_languages() {
    let server = Server::start();
    let (status, _, nl) = page(&client(), format!("{}/toegankelijkheid", server.intake)).await;
    assert_eq!(status, 200);
    assert!(nl.contains(r#"<html lang="nl">"#));
    assert!(nl.contains("verklaring") && nl.contains("WCAG") && nl.contains("2.1"));
    let (status, _, en) = page(&client(), format!("{}/accessibility", server.intake)).await;
    assert_eq!(status, 200);
    assert!(en.contains(r#"<html lang="en">"#));
    assert!(en.contains("Accessibility statement") && en.contains("axe-core"));
}

#[tokio::test]
async fn the_embed_kit_offers_plain_links_to_the_public_url_without_tracking() {
    let server = with(&[("SIGNAAL_PUBLIC_URL", PUBLIC_URL)]);
    let (status, _, kit) = page(&client(), format!("{}/embed", server.intake)).await;
    assert_eq!(status, 200);
    // Snippets are shown as text: the markup is escaped inside the page.
    let link =
        format!("&lt;a href=&quot;{PUBLIC_URL}&quot; rel=&quot;noreferrer noopener&quot;&gt;");
    assert!(kit.contains(&link), "the Dutch text link");
    assert!(
        kit.contains(&format!("{PUBLIC_URL}?lang=en")),
        "the English link"
    );
    assert_eq!(
        kit.matches("&quot; rel=&quot;noreferrer noopener&quot;")
            .count(),
        4,
        "4 snippets: a link and a button, in two languages"
    );
    assert_eq!(
        kit.matches(r#"rel="noreferrer noopener""#).count(),
        2,
        "2 previews"
    );
    assert!(
        !kit.contains(r#"style=""#),
        "the button's style is text to copy, not an attribute of this page"
    );
    for bad in ["iframe&gt;", "&lt;script", "utm_source", "onclick"] {
        assert!(!kit.contains(bad), "{bad}");
    }
    assert!(kit.contains(r#"href="/embed/qr.svg""#) && kit.contains(r#"href="/embed/qr.png""#));
}

#[tokio::test]
async fn the_qr_code_downloads_as_svg_and_png() {
    let server = with(&[("SIGNAAL_PUBLIC_URL", PUBLIC_URL)]);
    let res = client()
        .get(format!("{}/embed/qr.svg", server.intake))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    let svg = res.text().await.unwrap();
    assert!(svg.contains("<svg") && !svg.contains("<script"));
    let res = client()
        .get(format!("{}/embed/qr.png", server.intake))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    let png = res.bytes().await.unwrap();
    let (width, height, grey) = greyscale(&png);
    assert_eq!(width, height, "a square image of whole modules");
    assert!(width >= 250, "large enough to print");
    // What a phone's camera reads from it: the public address, nothing more.
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| grey[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    let (_, content) = grids[0].decode().expect("the QR code decodes");
    assert_eq!(content, PUBLIC_URL);
}

/// A PNG decoded to one byte of grey per pixel: (width, height, pixels).
fn greyscale(png: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    let channels = frame.color_type.samples();
    let pixels = buf[..frame.buffer_size()]
        .chunks(channels)
        .map(|p| match p.len() {
            1 | 2 => p[0],
            _ => ((u16::from(p[0]) + u16::from(p[1]) + u16::from(p[2])) / 3) as u8,
        })
        .collect();
    (frame.width as usize, frame.height as usize, pixels)
}

#[tokio::test]
async fn a_visitor_from_a_work_network_sees_the_notice_and_others_do_not() {
    let server = with(&[
        ("SIGNAAL_PUBLIC_URL", PUBLIC_URL),
        ("SIGNAAL_WORK_NETWORKS", "127.0.0.2/32"),
        ("SIGNAAL_INTAKE_ADDR", "0.0.0.0:0"),
    ]);
    let port = server.intake.rsplit(':').next().unwrap();
    let (_, _, from_work) = page(
        &client_from("127.0.0.2"),
        format!("http://127.0.0.2:{port}/"),
    )
    .await;
    assert!(from_work.contains("werknetwerk"), "the notice");
    assert!(
        from_work.contains(r#"src="/embed/qr.png""#),
        "with the QR code"
    );
    assert!(from_work.contains(PUBLIC_URL), "and the address to type");
    let (_, _, from_home) = page(
        &client_from("127.0.0.3"),
        format!("http://127.0.0.3:{port}/"),
    )
    .await;
    assert!(!from_home.contains("werknetwerk"));
    assert!(
        !server.output().contains("127.0.0.2"),
        "the address is not logged"
    );
}

#[tokio::test]
async fn every_intake_page_carries_the_security_headers_and_sets_no_cookie() {
    let server = Server::start();
    for path in [
        "/",
        "/?lang=en",
        "/privacy",
        "/embed",
        "/toegankelijkheid",
        "/accessibility",
        "/nope",
    ] {
        let (_, h, _) = page(&client(), format!("{}{path}", server.intake)).await;
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .starts_with("default-src 'none'"),
            "{path}"
        );
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        let cache = if path.starts_with("/?") || path == "/" {
            "private, max-age=0"
        } else {
            "no-store"
        };
        assert_eq!(h["cache-control"], cache, "{path}");
        assert!(h.get("set-cookie").is_none(), "{path}");
    }
}
