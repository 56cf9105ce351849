//! The RDS and MSK IAM tokens we sign, checked against AWS's own Python
//! signers (botocore's `generate_db_auth_token` and
//! `aws-msk-iam-sasl-signer-python`) for the same fixed clock and
//! credentials: every query parameter, the signature included, must agree.
//! The RDS token comes from aws-sdk-rds's `AuthTokenGenerator`; this holds
//! what we hand it (credentials, region, clock) to botocore's answer. (The
//! unit tests in `src/platform/aws.rs` also hold it to the published vector
//! of aws-sdk-rust's generator.)

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use base64::Engine as _;
use binlog_poller::platform::aws::{msk_auth_token, rds_auth_token};
use common::Services;

/// 2026-03-14T15:09:26Z.
const NOW: u64 = 1_773_500_966;

/// Runs the reference signers with `botocore.auth.get_current_datetime`
/// pinned to [`NOW`]; prints the RDS token and the MSK token.
const PYTHON: &str = r#"
import base64, datetime, sys
from unittest import mock
import botocore.auth, botocore.session
from botocore.credentials import Credentials
from aws_msk_iam_sasl_signer import MSKAuthTokenProvider as msk

now = datetime.datetime.fromtimestamp(int(sys.argv[1]), datetime.timezone.utc)
akid, secret, token = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "FQoG/session+token="
with mock.patch.object(botocore.auth, "get_current_datetime", lambda *a, **k: now):
    rds = botocore.session.Session().create_client(
        "rds", region_name="eu-central-1", aws_access_key_id=akid,
        aws_secret_access_key=secret, aws_session_token=token)
    print(rds.generate_db_auth_token(
        DBHostname="cdc.cluster-abc.eu-central-1.rds.amazonaws.com", Port=3306,
        DBUsername="cdc_user", Region="eu-central-1"))
    tok, expiry_ms = msk.__dict__["__construct_auth_token"]("eu-central-1", Credentials(akid, secret, token))
    print(tok)
    print(expiry_ms)
"#;

fn creds() -> Credentials {
    Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some("FQoG/session+token=".into()),
        None,
        "test",
    )
}

/// `(path, params)` of a URL or RDS token, the parameters decoded.
fn split(url: &str) -> (String, BTreeMap<String, String>) {
    let (path, query) = url.split_once('?').expect("a query");
    let params = query
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("k=v");
            (k.to_string(), decode(v))
        })
        .collect();
    (path.to_string(), params)
}

fn decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).expect("hex"));
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8")
}

#[tokio::test]
async fn tokens_match_the_aws_reference_signers() {
    let Some(s) = Services::get() else { return };
    let text = common::run_ok(
        Command::new(s.python()).args(["-c", PYTHON, &NOW.to_string()]),
        "reference signer",
    );
    let lines: Vec<&str> = text.lines().collect();
    let [want_rds, want_msk, want_expiry_ms] = lines[..] else {
        panic!("unexpected output {text:?}")
    };
    let now = UNIX_EPOCH + Duration::from_secs(NOW);

    let ours = rds_auth_token(
        &creds(),
        "eu-central-1",
        "cdc.cluster-abc.eu-central-1.rds.amazonaws.com",
        3306,
        "cdc_user",
        now,
    )
    .await
    .expect("sign");
    let (our_path, our_params) = split(&ours);
    let (want_path, want_params) = split(want_rds);
    assert_eq!(our_path, want_path);
    assert_eq!(our_params, want_params, "RDS token parameters differ");
    assert_eq!(our_params["X-Amz-Date"], "20260314T150926Z");
    assert_eq!(our_params["X-Amz-Expires"], "900");
    assert_eq!(
        our_params["X-Amz-Credential"],
        "AKIDEXAMPLE/20260314/eu-central-1/rds-db/aws4_request"
    );

    let (token, expires) = msk_auth_token(&creds(), "eu-central-1", now).expect("sign");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let ours = String::from_utf8(b64.decode(&token).expect("base64url")).expect("utf-8");
    let theirs = String::from_utf8(b64.decode(want_msk).expect("base64url")).expect("utf-8");
    let (our_path, mut our_params) = split(&ours);
    let (want_path, mut want_params) = split(&theirs);
    assert_eq!(our_path, want_path);
    // The one parameter allowed to differ names the signing library; it is
    // appended after signing, so it is not part of the signature.
    assert!(our_params
        .remove("User-Agent")
        .unwrap()
        .starts_with("binlog-poller/"));
    assert!(want_params.remove("User-Agent").is_some());
    assert_eq!(our_params, want_params, "MSK token parameters differ");
    assert_eq!(
        expires
            .duration_since(UNIX_EPOCH)
            .expect("after epoch")
            .as_millis()
            .to_string(),
        want_expiry_ms
    );
}
