//! The files in deploy/: the systemd units pass `systemd-analyze verify` and
//! rate "OK" or better in `systemd-analyze security`, and the proxy
//! configurations write no client address to any log.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(path)
}

fn systemd_analyze_available() -> bool {
    let ok = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        common::skip("systemd-analyze is not installed (apt-get install systemd)");
    }
    ok
}

/// The units, copied with ExecStart pointing at the binary under test.
fn units_here(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(deploy("systemd")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replace("/usr/bin/signaal", &common::binary().display().to_string());
        let copy = dir.join(path.file_name().unwrap());
        std::fs::write(&copy, text).unwrap();
        out.push(copy);
    }
    out.sort();
    out
}

#[test]
fn the_systemd_units_pass_verify_and_rate_ok_in_the_security_analysis() {
    if !systemd_analyze_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let units = units_here(dir.path());
    assert!(units.len() >= 5, "{units:?}");
    for unit in &units {
        let out = common::output_within(
            Command::new("systemd-analyze").arg("verify").arg(unit),
            None,
            common::DEADLINE,
        );
        let err = String::from_utf8_lossy(&out.stderr);
        let name = unit.file_name().unwrap().to_string_lossy();
        let ours: Vec<&str> = err.lines().filter(|l| l.contains(name.as_ref())).collect();
        assert!(out.status.success() && ours.is_empty(), "{name}: {err}");
        if !name.ends_with(".service") {
            continue;
        }
        let out = common::output_within(
            Command::new("systemd-analyze")
                .args(["security", "--offline=true"])
                .arg(unit),
            None,
            common::DEADLINE,
        );
        let report = String::from_utf8_lossy(&out.stdout);
        let level: f64 = report
            .lines()
            .find_map(|l| {
                l.split_once("Overall exposure level for ")?
                    .1
                    .split_once(": ")
            })
            .and_then(|(_, rest)| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("no exposure level for {name}: {report}"));
        assert!(level <= 1.5, "{name} rates {level}:\n{report}");
    }
}

#[test]
fn the_units_sandbox_what_the_operator_guide_promises() {
    for unit in [
        "signaal.service",
        "signaal-intake.service",
        "signaal-review.service",
    ] {
        let text = std::fs::read_to_string(deploy(&format!("systemd/{unit}"))).unwrap();
        for line in [
            "User=signaal",
            "ProtectSystem=strict",
            "ReadWritePaths=/var/lib/signaal",
            "NoNewPrivileges=yes",
            "PrivateTmp=yes",
            "MemoryDenyWriteExecute=yes",
            "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
            "SystemCallFilter=@system-service",
            "LimitCORE=0",
            "MemorySwapMax=0",
            "ExecStartPre=/usr/bin/signaal check",
            "Type=notify",
            "NotifyAccess=main",
            "WatchdogSec=30s",
        ] {
            assert!(text.lines().any(|l| l == line), "{unit} lacks {line}");
        }
        let writable: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("ReadWritePaths="))
            .collect();
        assert_eq!(writable, ["ReadWritePaths=/var/lib/signaal"], "{unit}");
    }
    // The units that run beside the faces: the same folder and mode (so a
    // nightly run does not reset /var/lib/signaal to 0755), an alarm on failure.
    for unit in [
        "signaal-backup.service",
        "signaal-purge.service",
        "signaal-offsite.service",
    ] {
        let text = std::fs::read_to_string(deploy(&format!("systemd/{unit}"))).unwrap();
        assert!(
            text.lines()
                .any(|l| l == "OnFailure=signaal-failed@%n.service"),
            "{unit} raises no alarm"
        );
        if text.contains("StateDirectory=signaal") {
            assert!(
                text.lines().any(|l| l == "StateDirectoryMode=0700"),
                "{unit} resets the data folder's mode"
            );
        }
        for line in [
            "ProtectProc=invisible",
            "ProcSubset=pid",
            "PrivateUsers=yes",
            "RemoveIPC=yes",
        ] {
            assert!(text.lines().any(|l| l == line), "{unit} lacks {line}");
        }
    }
    let backup = std::fs::read_to_string(deploy("systemd/signaal-backup.service")).unwrap();
    assert!(backup.contains("IPAddressDeny=any"));
    assert!(backup.contains("SystemCallFilter=setrlimit prlimit64"));
    let intake = std::fs::read_to_string(deploy("systemd/signaal-intake.service")).unwrap();
    assert!(intake.contains("--face intake"));
    assert!(intake.contains("InaccessiblePaths=-/etc/signaal/keys/reviewers"));
}

#[test]
fn the_proxy_configurations_log_no_client_address() {
    let nginx = std::fs::read_to_string(deploy("nginx/signaal.conf")).unwrap();
    let config: Vec<&str> = nginx
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .collect();
    let formats: Vec<&&str> = config
        .iter()
        .filter(|l| l.starts_with("log_format"))
        .collect();
    assert!(
        !formats.is_empty(),
        "the address-free format is there to use"
    );
    for line in formats {
        // Only what says nothing of the sender and not the time of day:
        // every variable is one of these.
        let allowed = [
            "signaal_day",
            "request_method",
            "uri",
            "status",
            "body_bytes_sent",
        ];
        for (i, _) in line.match_indices('$') {
            let name: String = line[i + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(allowed.contains(&name.as_str()), "${name} in {line}");
        }
    }
    // $signaal_day is the day of $time_iso8601 and nothing after it.
    let map = config
        .iter()
        .position(|l| *l == "map $time_iso8601 $signaal_day {")
        .expect("the map that makes $signaal_day");
    assert_eq!(
        config[map + 1..map + 4],
        [
            r#""~^(?<day>\d{4}-\d{2}-\d{2})T" $day;"#,
            r#"default "-";"#,
            "}"
        ]
    );
    for line in &config {
        if line.starts_with("access_log") {
            assert!(
                *line == "access_log off;" || line.ends_with("signaal_noaddr;"),
                "{line}"
            );
        }
        if line.starts_with("error_log") {
            assert!(
                line.ends_with(" crit;"),
                "error logs below crit name the client: {line}"
            );
        }
        if line.starts_with("ssl_protocols") {
            assert_eq!(*line, "ssl_protocols TLSv1.2 TLSv1.3;");
        }
        if line.starts_with("proxy_set_header X-Forwarded-For") {
            assert!(
                line.ends_with("$remote_addr;"),
                "replace, never append: {line}"
            );
        }
    }
    assert!(
        config
            .iter()
            .any(|l| l.starts_with("add_header Strict-Transport-Security"))
    );
    assert!(config.contains(&"ssl_verify_client on;"));
    let caddy = std::fs::read_to_string(deploy("caddy/Caddyfile")).unwrap();
    let caddy: Vec<&str> = caddy
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .collect();
    assert!(
        !caddy.iter().any(|l| l.starts_with("log")),
        "Caddy logs nothing unless told"
    );
    assert!(
        caddy
            .iter()
            .any(|l| l.starts_with("Strict-Transport-Security \"max-age=63072000"))
    );
    assert!(caddy.contains(&"-Server"));
    assert!(caddy.contains(&"mode require_and_verify"));
    let tor = std::fs::read_to_string(deploy("tor/torrc.signaal")).unwrap();
    let ports: Vec<&str> = tor
        .lines()
        .filter(|l| l.starts_with("HiddenServicePort"))
        .collect();
    // The intake only, through its Tor listener, which reads the circuit's
    // PROXY header; the example configuration names the same address.
    assert_eq!(
        ports,
        ["HiddenServicePort 80 127.0.0.1:8082"],
        "the intake only"
    );
    assert!(
        tor.lines()
            .any(|l| l == "HiddenServiceExportCircuitID haproxy")
    );
    let example = std::fs::read_to_string(deploy("signaal.toml.example")).unwrap();
    assert!(example.contains("# tor_addr = \"127.0.0.1:8082\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_configuration_serves_in_production_mode() {
    // The example as an operator installs it; the kit's environment only moves
    // the addresses to free ports and the folders into a temporary one.
    let etc = tempfile::tempdir().unwrap();
    let config = etc.path().join("signaal.toml");
    std::fs::copy(deploy("signaal.toml.example"), &config).unwrap();
    let team = common::TeamKey::generate();
    let server = common::Server::start_with(common::Options {
        team: vec![team.recipient()],
        env: vec![("SIGNAAL_CONFIG".into(), config.display().to_string())],
        args: vec!["--production".into()],
        configured_limits: true,
        ..common::Options::default()
    });
    assert!(!server.output().contains("DEMO"), "{}", server.output());
    let (status, page) =
        common::submit(&common::client(), &server, &[("situation", "production")]).await;
    assert_eq!(status, 200, "{page}");
    assert!(common::receipt_in(&page).is_some());
    // As the package makes it: the keys folder is the service's alone.
    let closed = std::os::unix::fs::PermissionsExt::from_mode(0o700);
    std::fs::set_permissions(server.keys_dir(), closed).unwrap();
    let out = common::output_within(
        Command::new(common::binary())
            .arg("check")
            .envs(server.env()),
        None,
        common::DEADLINE,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether a proxy is installed; with `CI=true` a missing one fails.
fn proxy_available(program: &str, args: &[&str]) -> bool {
    common::tool_available(program, args, "apt-get install nginx caddy")
}

/// The certificates and the revocation list that deploy/README.md makes, in
/// a folder of their own (by the same openssl commands, a CA and all).
fn guide_certificates(dir: &Path) {
    let ca = dir.join("ca");
    std::fs::create_dir_all(ca.join("issued")).unwrap();
    std::fs::create_dir_all(dir.join("reviewers")).unwrap();
    let cnf = std::fs::read_to_string(deploy("tls/team-ca.cnf"))
        .unwrap()
        .replace("/etc/signaal/tls", &dir.display().to_string());
    std::fs::write(ca.join("team-ca.cnf"), cnf).unwrap();
    std::fs::write(ca.join("index.txt"), "").unwrap();
    std::fs::write(ca.join("serial"), "1000\n").unwrap();
    std::fs::write(ca.join("crlnumber"), "1000\n").unwrap();
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&ca)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-noenc",
    ];
    let team_ca = dir.join("team-ca.crt").display().to_string();
    let mut args = vec!["req", "-x509", "-new", "-config", "team-ca.cnf"];
    args.extend(["-extensions", "team_ca_root", "-keyout", "team-ca.key"]);
    args.extend(ec);
    args.extend(["-days", "1825", "-out", &team_ca]);
    openssl(&args);
    let crl = dir.join("team-ca.crl").display().to_string();
    openssl(&["ca", "-config", "team-ca.cnf", "-gencrl", "-out", &crl]);
    for (name, extensions) in [("review", "review_server"), ("intake", "review_server")] {
        let key = dir.join(format!("{name}.key")).display().to_string();
        let crt = dir.join(format!("{name}.crt")).display().to_string();
        let mut args = vec![
            "req", "-new", "-keyout", &key, "-subj", "/CN=x", "-out", "x.csr",
        ];
        args.extend(ec);
        openssl(&args);
        openssl(&[
            "ca",
            "-config",
            "team-ca.cnf",
            "-batch",
            "-extensions",
            extensions,
            "-in",
            "x.csr",
            "-out",
            &crt,
        ]);
    }
    std::fs::copy(dir.join("review.crt"), dir.join("reviewers/anna.crt")).unwrap();
}

#[test]
fn the_nginx_example_passes_nginx_t_with_the_guides_certificates() {
    if !proxy_available("nginx", &["-v"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tls = dir.path().join("tls");
    guide_certificates(&tls);
    let logs = dir.path().join("log");
    std::fs::create_dir_all(&logs).unwrap();
    // As shipped, but for where the certificates and logs are.
    let site = std::fs::read_to_string(deploy("nginx/signaal.conf"))
        .unwrap()
        .replace("/etc/signaal/tls", &tls.display().to_string())
        .replace("/var/log/nginx", &logs.display().to_string());
    std::fs::write(dir.path().join("signaal.conf"), site).unwrap();
    let main = format!(
        "pid {0}/nginx.pid;\nerror_log {0}/error.log;\nevents {{}}\nhttp {{\n  include {0}/signaal.conf;\n}}\n",
        dir.path().display()
    );
    std::fs::write(dir.path().join("nginx.conf"), main).unwrap();
    let out = Command::new("nginx")
        .arg("-t")
        .arg("-e")
        .arg(logs.join("startup.log"))
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("test is successful"), "{err}");
    let shipped = std::fs::read_to_string(deploy("nginx/signaal.conf")).unwrap();
    assert_eq!(
        shipped.matches("# EDIT:").count(),
        2,
        "the guide says two lines"
    );
    assert!(shipped.contains("\nserver_tokens off;"));
    assert!(shipped.contains("ssl_crl /etc/signaal/tls/team-ca.crl;"));
}

/// A port on loopback that nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// nginx in the foreground, stopped when dropped.
struct Nginx(std::process::Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What a reviewer's browser gets from the review face through nginx: the
/// status and the body, with the certificate and key given (or none).
fn through_nginx(port: u16, cert: Option<(&Path, &Path)>) -> (String, String) {
    let mut curl = Command::new("curl");
    curl.args(["-sk", "--max-time", "5", "-w", "\n%{http_code}"]);
    if let Some((crt, key)) = cert {
        curl.arg("--cert").arg(crt).arg("--key").arg(key);
    }
    let out = curl
        .arg(format!("https://127.0.0.1:{port}/healthz"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    (status.to_owned(), body.to_owned())
}

/// Section 6 end to end: the team CA, a reviewer's certificate issued and
/// revoked by the guide's openssl commands, and the shipped nginx site (its
/// addresses moved to free loopback ports) in front of a real signaal.
#[test]
fn a_reviewer_certificate_opens_the_review_face_through_nginx_until_it_is_revoked() {
    if !proxy_available("nginx", &["-v"])
        || !common::tool_available("curl", &["-V"], "apt-get install curl")
    {
        return;
    }
    let server = common::Server::start();
    let dir = tempfile::tempdir().unwrap();
    let tls = dir.path().join("tls");
    guide_certificates(&tls);
    let ca = tls.join("ca");
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&ca)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // Issue (section 6, as written).
    let anna_crt = tls.join("reviewers/anna.crt");
    std::fs::remove_file(&anna_crt).unwrap();
    let anna_key = ca.join("anna.key");
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-noenc",
        "-keyout",
        "anna.key",
        "-subj",
        "/CN=anna",
        "-out",
        "anna.csr",
    ]);
    let anna = anna_crt.display().to_string();
    openssl(&[
        "ca",
        "-config",
        "team-ca.cnf",
        "-batch",
        "-extensions",
        "reviewer",
        "-in",
        "anna.csr",
        "-out",
        &anna,
    ]);
    // A certificate from another CA, with the same name.
    let stranger_key = dir.path().join("stranger.key");
    let stranger_crt = dir.path().join("stranger.crt");
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-noenc",
        ])
        .arg("-keyout")
        .arg(&stranger_key)
        .args(["-subj", "/CN=anna", "-days", "2", "-out"])
        .arg(&stranger_crt)
        .output()
        .unwrap();
    assert!(out.status.success());

    let logs = dir.path().join("log");
    std::fs::create_dir_all(&logs).unwrap();
    let (plain, public, review) = (free_port(), free_port(), free_port());
    let intake_addr = server.intake.trim_start_matches("http://").to_owned();
    let review_addr = server.review.trim_start_matches("http://").to_owned();
    let site = std::fs::read_to_string(deploy("nginx/signaal.conf"))
        .unwrap()
        .replace("/etc/signaal/tls", &tls.display().to_string())
        .replace("/var/log/nginx", &logs.display().to_string())
        .replace("listen [::]:80 default_server;", "")
        .replace("listen [::]:443 ssl default_server;", "")
        .replace(
            "listen 80 default_server;",
            &format!("listen 127.0.0.1:{plain} default_server;"),
        )
        .replace(
            "listen 443 ssl default_server;",
            &format!("listen 127.0.0.1:{public} ssl default_server;"),
        )
        .replace(
            "listen 127.0.0.1:8443 ssl",
            &format!("listen 127.0.0.1:{review} ssl"),
        )
        .replace("http://127.0.0.1:8080", &format!("http://{intake_addr}"))
        .replace("http://127.0.0.1:8081", &format!("http://{review_addr}"));
    std::fs::write(dir.path().join("signaal.conf"), site).unwrap();
    let main = format!(
        "daemon off;\npid {0}/nginx.pid;\nerror_log {0}/error.log;\nevents {{}}\nhttp {{\n  include {0}/signaal.conf;\n}}\n",
        dir.path().display()
    );
    std::fs::write(dir.path().join("nginx.conf"), main).unwrap();
    let nginx = Nginx(
        Command::new("nginx")
            .arg("-e")
            .arg(logs.join("startup.log"))
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", review)).is_err() {
        assert!(std::time::Instant::now() < deadline, "nginx did not listen");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    let (status, body) = through_nginx(review, Some((&anna_crt, &anna_key)));
    assert_eq!(
        (status.as_str(), body.as_str()),
        ("200", "ok"),
        "with Anna's certificate"
    );
    let (status, body) = through_nginx(review, None);
    assert_eq!(status, "400", "without a certificate: {body}");
    assert!(
        body.contains("No required SSL certificate was sent"),
        "{body}"
    );
    let (status, body) = through_nginx(review, Some((&stranger_crt, &stranger_key)));
    assert_eq!(status, "400", "a certificate of another CA: {body}");

    // Revoke (section 6, as written), then reload nginx.
    openssl(&["ca", "-config", "team-ca.cnf", "-revoke", &anna]);
    let crl = tls.join("team-ca.crl").display().to_string();
    openssl(&["ca", "-config", "team-ca.cnf", "-gencrl", "-out", &crl]);
    let master = rustix::process::Pid::from_raw(nginx.0.id() as i32).unwrap();
    rustix::process::kill_process(master, rustix::process::Signal::HUP).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, body) = through_nginx(review, Some((&anna_crt, &anna_key)));
        if status == "400" {
            assert!(body.contains("SSL certificate error"), "{body}");
            break;
        }
        assert_eq!(status, "200", "{body}");
        assert!(
            std::time::Instant::now() < deadline,
            "the revocation never took"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // The public face needs no certificate, and is not the review face.
    let out = Command::new("curl")
        .args(["-sk", "--max-time", "5"])
        .arg(format!("https://127.0.0.1:{public}/healthz"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok");
    drop(nginx);
}

#[test]
fn the_caddyfile_validates_on_the_caddy_that_debian_ships() {
    if !proxy_available("caddy", &["version"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tls = dir.path().join("tls");
    guide_certificates(&tls);
    let file = std::fs::read_to_string(deploy("caddy/Caddyfile"))
        .unwrap()
        .replace("/etc/caddy/signaal", &tls.display().to_string());
    let path = dir.path().join("Caddyfile");
    std::fs::write(&path, file).unwrap();
    let out = Command::new("caddy")
        .args(["validate", "--adapter", "caddyfile", "--config"])
        .arg(&path)
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert!(said.contains("Valid configuration"), "{said}");

    // What Caddy makes of it: the intake (:443) speaks HTTP/1.1 only, since
    // header compression would make the padded answers to a code differ in
    // size again, and reads a whole body before signaal sees the request.
    let adapted = Command::new("caddy")
        .args(["adapt", "--adapter", "caddyfile", "--config"])
        .arg(&path)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(adapted.status.success());
    let json: serde_json::Value = serde_json::from_slice(&adapted.stdout).unwrap();
    let servers = json["apps"]["http"]["servers"].as_object().unwrap();
    let intake = servers
        .values()
        .find(|s| s["listen"] == serde_json::json!([":443"]))
        .unwrap_or_else(|| panic!("no :443 server in {servers:?}"));
    assert_eq!(intake["protocols"], serde_json::json!(["h1"]), "{intake}");
    let proxies: Vec<&serde_json::Value> = intake["routes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["handle"].as_array().unwrap())
        .flat_map(|h| h["routes"].as_array().into_iter().flatten())
        .flat_map(|r| r["handle"].as_array().unwrap())
        .filter(|h| h["handler"] == "reverse_proxy")
        .collect();
    assert_eq!(proxies.len(), 1, "{intake}");
    assert_eq!(proxies[0]["buffer_requests"], true, "{intake}");
}
