//! The `kiosk-gateway` binary as an operator uses it: init, token create, kiosk issue/list/revoke,
//! serve on port 0, registrations list with and without identity.

// Test helpers outside #[test] functions unwrap too; a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use kiosk_api::v1::KioskId;
use kiosk_api::{ClientSettings, GatewayClient, Timeouts, sample};
use zeroize::Zeroizing;

fn gw(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kiosk-gateway"));
    c.arg("--dir").arg(dir);
    c
}

fn ok(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        c,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Kills the server child even when an assertion fails.
struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn operator_workflow() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("state");
    let out = ok(gw(&dir).args(["init", "--site", "ub-hk", "--kind", "one-stop"]));
    assert!(out.starts_with("ca_sha256 "), "{out}");

    // A second init must not replace the CA.
    let again = gw(&dir)
        .args(["init", "--site", "ub-hk", "--kind", "one-stop"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));

    // Token for the wrong site or kind is refused; the right one prints a valid QR payload.
    assert!(
        !gw(&dir)
            .args(["token", "create", "--site", "other"])
            .status()
            .unwrap()
            .success()
    );
    assert!(
        !gw(&dir)
            .args(["token", "create", "--kind", "clinic"])
            .status()
            .unwrap()
            .success()
    );
    let line = ok(gw(&dir).args([
        "--json", "token", "create", "--site", "ub-hk", "--kind", "one-stop",
    ]));
    let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    let fingerprint = out.trim().strip_prefix("ca_sha256 ").unwrap();
    assert_eq!(
        v["qr"].as_str().unwrap(),
        format!(
            "kiosk-enrol:v1?gw=https%3A%2F%2Flocalhost%3A8443&tok={}&ca={fingerprint}\
             &site=ub-hk&kind=one-stop",
            v["token"].as_str().unwrap()
        )
    );

    // Issue credentials to files.
    let kdir = tmp.path().join("kiosk");
    let kiosk_id = ok(gw(&dir)
        .args(["kiosk", "issue", "--label", "test"])
        .arg("--out")
        .arg(&kdir));
    let kiosk_id = KioskId::new(kiosk_id.trim()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(kdir.join("kiosk.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // Serve on port 0 and read the URL from stdout.
    let mut child = gw(&dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = Child(child);
    let mut url = String::new();
    BufReader::new(stdout).read_line(&mut url).unwrap();
    let url = url.trim().to_string();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let client = GatewayClient::new(&ClientSettings {
        base_url: url,
        ca_pem: std::fs::read_to_string(kdir.join("ca.pem")).unwrap(),
        cert_pem: std::fs::read_to_string(kdir.join("kiosk.pem")).unwrap(),
        key_pem: Zeroizing::new(std::fs::read_to_string(kdir.join("kiosk.key")).unwrap()),
        timeouts: Timeouts::default(),
    })
    .unwrap();
    let reg = sample::public_service_registration(&kiosk_id, "1.001");
    let ticket = client.submit_registration(&reg).await.unwrap();
    assert_eq!(ticket.display, "1.001-001");

    // List without identity: no personal data; with it: the registration.
    let plain = ok(gw(&dir).args(["--json", "registrations", "list"]));
    let line: serde_json::Value = serde_json::from_str(plain.lines().next().unwrap()).unwrap();
    assert_eq!(line["key"], reg.idempotency_key.to_string());
    assert_eq!(line["kiosk"], kiosk_id.as_str());
    assert_eq!(line["ticket"], "1.001-001");
    assert!(
        !plain.contains("001089012345") && !plain.contains("Nguyễn"),
        "{plain}"
    );
    let full = ok(gw(&dir).args(["--json", "registrations", "list", "--with-identity"]));
    assert!(full.contains("001089012345"));
    let human = ok(gw(&dir).args(["registrations", "list", "--with-identity"]));
    assert!(
        human.contains("0010******45") && !human.contains("001089012345"),
        "{human}"
    );
    let future = ok(gw(&dir).args(["registrations", "list", "--since", "2999-01-01T00:00:00Z"]));
    assert!(future.is_empty(), "{future}");
    let bad = gw(&dir)
        .args(["registrations", "list", "--since", "yesterday"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));

    // Kiosk list and revoke; the running server refuses the kiosk at once.
    let kiosks = ok(gw(&dir).args(["--json", "kiosk", "list"]));
    assert!(kiosks.contains(kiosk_id.as_str()) && kiosks.contains("\"revoked\":false"));
    ok(gw(&dir).args(["kiosk", "revoke", kiosk_id.as_str()]));
    let kiosks = ok(gw(&dir).args(["--json", "kiosk", "list"]));
    assert!(kiosks.contains("\"revoked\":true"), "{kiosks}");
    let refused = client
        .submit_registration(&sample::public_service_registration(&kiosk_id, "1.001"))
        .await;
    assert!(
        matches!(refused, Err(kiosk_api::Error::Refused { .. })),
        "{refused:?}"
    );
    assert!(
        !gw(&dir)
            .args(["revoke", "nobody"])
            .status()
            .unwrap()
            .success()
    );
    drop(child);
}

#[tokio::test]
async fn insurance_import_from_json_lines() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("state");
    ok(gw(&dir).args(["init", "--site", "bv", "--kind", "clinic"]));
    let import = |text: &str| {
        let mut child = gw(&dir)
            .args(["insurance", "import", "-"])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    // A bad line refuses the whole file and names the line, not the ID.
    let bad = import(
        "{\"id_number\":\"001089012345\",\"status\":\"valid\"}\n{\"id_number\":\"079200000001\",\"status\":\"maybe\"}\n",
    );
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("line 2"), "{err}");
    assert!(!err.contains("079200000001"), "{err}");
    use kiosk_gateway::store::Store;
    let store = kiosk_gateway::ops::open_store(&dir).unwrap();
    let first = kiosk_gateway::insurance::id_hash("001089012345");
    assert!(
        store.insurance_card(&first).unwrap().is_none(),
        "nothing imported"
    );
    let unknown = import("{\"id_number\":\"001089012345\",\"status\":\"valid\",\"name\":\"x\"}\n");
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown key `name`"));

    let good = import(
        "{\"id_number\":\"001089012345\",\"status\":\"valid\",\"card_number\":\"DN4010123456789\",\"valid_to\":\"2027-12-31\"}\n\n",
    );
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(String::from_utf8_lossy(&good.stderr).contains("imported 1"));

    // The gateway answers from the imported table.
    let gateway = kiosk_gateway::start(&dir, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let creds = kiosk_gateway::ops::issue_kiosk_credentials(&dir, None).unwrap();
    let client = GatewayClient::new(&ClientSettings {
        base_url: gateway.url(),
        ca_pem: creds.ca_pem.clone(),
        cert_pem: creds.cert_pem.clone(),
        key_pem: Zeroizing::new(creds.key_pem.clone()),
        timeouts: Timeouts::default(),
    })
    .unwrap();
    let answer = client
        .check_insurance(&kiosk_api::v1::InsuranceCheckRequest {
            id_number: "001089012345".into(),
            full_name: "Nguyễn Văn Thử".into(),
            date_of_birth: time::macros::date!(1989 - 03 - 14),
        })
        .await
        .unwrap();
    assert_eq!(answer.status, kiosk_api::v1::InsuranceStatus::Valid);
    assert_eq!(answer.card_number.as_deref(), Some("DN4010123456789"));
    gateway.shutdown().await;
}
