//! An observer who sees only the lengths of what the server sends (TLS
//! records) cannot tell a right code from a wrong one or a limited one: every
//! answer to a code is one size, head and body. The status codes stay what
//! they are (a wrong code is a 404, a limited one a 429).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::time::Duration;

use common::{Options, Server, client_from, receipt_in, submit};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// POSTs `body` to `path` from `ip` with `Connection: close`; returns the
/// status and the lengths of the head and the body as sent.
async fn sizes(server: &Server, ip: &str, path: &str, body: &str) -> (u16, usize, usize) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{ip}:0").parse().unwrap()).unwrap();
    let mut stream = socket
        .connect(server.intake.trim_start_matches("http://").parse().unwrap())
        .await
        .unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut all = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut all))
        .await
        .unwrap()
        .unwrap();
    let head = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let status = String::from_utf8_lossy(&all[9..12]).parse().unwrap();
    (status, head, all.len() - head)
}

#[tokio::test]
async fn a_right_a_wrong_and_a_limited_code_get_answers_of_one_size() {
    let server = Server::start_with(Options {
        env: vec![
            // Two wrong codes use up an address's look-ups; one message its
            // submissions.
            ("SIGNAAL_LOOKUP_BURST".into(), "2".into()),
            ("SIGNAAL_LOOKUP_PER_HOUR".into(), "2".into()),
            ("SIGNAAL_SUBMIT_BURST".into(), "1".into()),
            ("SIGNAAL_SUBMIT_PER_HOUR".into(), "1".into()),
        ],
        ..Options::default()
    });
    let (status, page) = submit(
        &client_from("127.0.0.70"),
        &server,
        &[(
            "situation",
            "De peildatum pakt hard uit voor mantelzorgers.",
        )],
    )
    .await;
    assert_eq!(status, 200);
    let code = receipt_in(&page).unwrap();
    let right = format!("receipt={code}");
    let wrong = "receipt=AAAA-BBBB-CCCC-DDDD-EEEE";
    let message = format!("receipt={code}&message=Nog+een+aanvulling.");

    let mut seen = Vec::new();
    for (what, path, body, status) in [
        ("right code", "/follow-up", right.as_str(), 200),
        ("wrong code", "/follow-up", wrong, 404),
        ("malformed code", "/follow-up", "receipt=x", 404),
        ("message", "/follow-up/message", message.as_str(), 200),
        ("limited, wrong code", "/follow-up", wrong, 429),
        // A right code opens even after the wrong ones ran out.
        (
            "right code past the limit",
            "/follow-up",
            right.as_str(),
            200,
        ),
        ("receipt past the limit", "/receipt", right.as_str(), 200),
        (
            "limited message",
            "/follow-up/message",
            message.as_str(),
            429,
        ),
    ] {
        let (got, head, body) = sizes(&server, "127.0.0.71", path, body).await;
        assert_eq!(got, status, "{what}");
        println!("{what}: status {got}, head {head} bytes, body {body} bytes");
        seen.push((what, head, body));
    }
    // The receipt page again, from an address with tries left.
    let (got, head, body) = sizes(&server, "127.0.0.72", "/receipt", &right).await;
    assert_eq!(got, 200);
    seen.push(("receipt", head, body));
    let (_, head0, body0) = seen[0];
    assert_eq!(body0, 8192, "the smallest bucket");
    for (what, head, body) in &seen {
        assert_eq!(
            (*head, *body),
            (head0, body0),
            "{what} differs in size: {seen:?}"
        );
    }
}

#[tokio::test]
async fn an_ordinary_client_reads_the_padded_page_as_it_was() {
    let server = Server::start();
    let c = client_from("127.0.0.73");
    let res = c
        .post(format!("{}/follow-up", server.intake))
        .form(&[("receipt", "AAAA-BBBB-CCCC-DDDD-EEEE")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-length"], "8192");
    let page = res.text().await.unwrap();
    assert_eq!(page.len(), 8192);
    assert!(page.trim_end().ends_with("</html>"), "{page}");
}

/// The shipped nginx example's intake, as it is but for its port, its
/// certificate, its logs and signaal's address: its top and its first
/// `server` block after "# The public intake.".
fn shipped_intake_site(port: u16, dir: &std::path::Path, upstream: &str) -> String {
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx/signaal.conf"),
    )
    .unwrap();
    let top = &shipped[..shipped.find("\nserver {").unwrap()];
    let intake = &shipped[shipped.find("# The public intake.").unwrap()..];
    let intake = &intake[..intake.find("\n}\n").unwrap() + 3];
    let mut site = format!("{top}\n{intake}");
    assert_eq!(site.matches("listen 443 ssl").count(), 1, "{site}");
    site = site
        .lines()
        .filter(|l| !l.trim_start().starts_with("listen [::]:443"))
        .map(|l| {
            if l.trim_start().starts_with("listen 443 ssl") {
                // Only the port and the default_server flag change: `http2`
                // (or its absence) stays as shipped.
                l.replace("listen 443", &format!("listen 127.0.0.1:{port}"))
                    .replace(" default_server", "")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    site.replace("/etc/signaal/tls", &dir.display().to_string())
        .replace("/var/log/nginx", &dir.display().to_string())
        .replace("http://127.0.0.1:8080", upstream)
}

/// Runs nginx in the foreground until dropped.
struct Nginx(std::process::Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        common::stop_child(&mut self.0);
    }
}

/// POSTs `body` to `url` over TLS with curl, asking for HTTP/2; returns the
/// HTTP version spoken, the status, and the head and body as received.
fn curl_post(url: &str, body: &str) -> (String, u16, Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let (head, page) = (dir.path().join("head"), dir.path().join("body"));
    let out = std::process::Command::new("curl")
        .args(["-sS", "-k", "--http2", "--max-time", "30", "--data", body])
        .arg("-D")
        .arg(&head)
        .arg("-o")
        .arg(&page)
        .args(["-w", "%{http_version} %{http_code}", url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8(out.stdout).unwrap();
    let (version, status) = said.split_once(' ').unwrap();
    (
        version.to_owned(),
        status.parse().unwrap(),
        std::fs::read(head).unwrap(),
        std::fs::read(page).unwrap(),
    )
}

/// Through the shipped nginx example over TLS, as a visitor's browser
/// reaches the intake: HTTP/1.1 even when HTTP/2 is asked for (its header
/// compression would tell the statuses apart again), and every answer to a
/// code one size, head and body, as nginx sends it.
#[tokio::test]
async fn through_the_shipped_nginx_every_answer_to_a_code_is_one_size() {
    if !common::tool_available("nginx", &["-v"], "apt-get install nginx") {
        return;
    }
    let server = Server::start_with(Options {
        env: vec![
            ("SIGNAAL_LOOKUP_BURST".into(), "2".into()),
            ("SIGNAAL_LOOKUP_PER_HOUR".into(), "2".into()),
            // nginx connects from 127.0.0.2 (`proxy_bind`).
            ("SIGNAAL_TRUSTED_PROXIES".into(), "127.0.0.2/32".into()),
        ],
        ..Options::default()
    });
    let (status, page) = submit(
        &client_from("127.0.0.74"),
        &server,
        &[("situation", "De peildatum pakt hard uit.")],
    )
    .await;
    assert_eq!(status, 200);
    let code = receipt_in(&page).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let openssl = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args([
            "ec_paramgen_curve:P-256",
            "-noenc",
            "-days",
            "2",
            "-subj",
            "/CN=x",
        ])
        .arg("-keyout")
        .arg(dir.path().join("intake.key"))
        .arg("-out")
        .arg(dir.path().join("intake.crt"))
        .output()
        .unwrap();
    assert!(openssl.status.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let site = shipped_intake_site(port, dir.path(), &server.intake);
    std::fs::write(dir.path().join("signaal.conf"), &site).unwrap();
    std::fs::write(
        dir.path().join("nginx.conf"),
        format!(
            "pid {0}/nginx.pid;\nerror_log {0}/error.log;\nevents {{}}\n\
             http {{\n  include {0}/signaal.conf;\n}}\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let _nginx = Nginx(
        std::process::Command::new("nginx")
            .args(["-g", "daemon off;", "-e"])
            .arg(dir.path().join("startup.log"))
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "nginx did not start");
        std::thread::sleep(Duration::from_millis(50));
    }

    let url = format!("https://127.0.0.1:{port}/follow-up");
    let right = format!("receipt={code}");
    let wrong = "receipt=AAAA-BBBB-CCCC-DDDD-EEEE";
    let mut seen = Vec::new();
    for (what, body, status) in [
        ("right code", right.as_str(), 200),
        ("wrong code", wrong, 404),
        ("malformed code", "receipt=x", 404),
        ("limited, wrong code", wrong, 429),
        ("right code past the limit", right.as_str(), 200),
    ] {
        let (version, got, head, page) = curl_post(&url, body);
        assert_eq!(version, "1.1", "{what}: the intake must not speak HTTP/2");
        assert_eq!(got, status, "{what}");
        println!(
            "{what}: HTTP/{version} {got}, head {} bytes, body {} bytes",
            head.len(),
            page.len()
        );
        seen.push((what, head.len(), page.len()));
    }
    let (_, head0, body0) = seen[0];
    assert_eq!(body0, 8192);
    for (what, head, body) in &seen {
        assert_eq!(
            (*head, *body),
            (head0, body0),
            "{what} differs in size: {seen:?}"
        );
    }
}
