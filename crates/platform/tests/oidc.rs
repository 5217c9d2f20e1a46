//! The CI run's OIDC token over HTTPS (`lz_platform::oidc`) and its exchange for the pipeline
//! role (`Base::GitHubActions`), against an issuer this test starts on 127.0.0.1 with TLS (it
//! serves LocalStack's own certificate, issued for `localhost`, trusted explicitly): the bearer is
//! checked, an untrusted certificate and plain HTTP are refused, and the token reaches the
//! pipeline role through `AssumeRoleWithWebIdentity` on LocalStack (which accepts any token).
//! Needs LocalStack (`cargo xtask test` starts it); otherwise this fails loudly.

use std::path::PathBuf;

use lz_platform::aws_setup::{session_name, Aws, Base, EndpointProfile};
use lz_platform::oidc::{TokenRequest, STS_AUDIENCE};
use lz_platform::oidc_issuer::{Issuer, JWT};
use lz_platform::{aws, localstack};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const TOOLING: &str = "999999999999";
const BEARER: &str = "request-token-of-this-job";

#[test]
fn the_oidc_token_comes_over_verified_https_and_reaches_the_pipeline_role() {
    let root = root();
    let endpoint = localstack::require(&root).expect("LocalStack is required");
    let cert = localstack::tls_certificate(&root).expect("LocalStack's TLS certificate and key (server.test.pem.crt/.key)");
    let pem = std::fs::read(&cert).unwrap();
    let issuer = Issuer::start(&cert, BEARER).unwrap();
    let url = issuer.url.clone();
    let request = |bearer: &str, ca: Option<Vec<u8>>| TokenRequest { url: url.clone(), bearer: bearer.into(), extra_ca: ca };

    assert_eq!(request(BEARER, Some(pem.clone())).token(STS_AUDIENCE).unwrap_or_else(|e| panic!("{e:#}")), JWT);
    // The issuer's certificate is not in the system's roots: refused, verification is on.
    let e = request(BEARER, None).token(STS_AUDIENCE).unwrap_err();
    assert!(format!("{e:#}").to_lowercase().contains("certificate") || format!("{e:#}").contains("UnknownIssuer"), "{e:#}");
    // A wrong request token: the issuer's refusal is the error, and the token is not printed.
    let e = format!("{:#}", request("not-the-token", Some(pem.clone())).token(STS_AUDIENCE).unwrap_err());
    assert!(e.contains("HTTP 401") && !e.contains("not-the-token"), "{e}");
    // Plain HTTP never carries the request token.
    let plain = TokenRequest { url: url.replace("https://", "http://"), bearer: BEARER.into(), extra_ca: None };
    assert!(format!("{:#}", plain.token(STS_AUDIENCE).unwrap_err()).contains("not https://"));
    assert_eq!(issuer.served(), 1);

    // The token, asked for by the credential provider, is exchanged for the pipeline role.
    let region = "eu-west-2";
    let pipeline = "lz-pipeline";
    let rt = aws::runtime().unwrap();
    rt.block_on(async {
        let _ = aws::iam(&endpoint, aws::account_credentials(TOOLING), region)
            .create_role()
            .role_name(pipeline)
            .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Principal":{"Federated":"*"}}]}"#)
            .send()
            .await;
        let session = session_name("ci", &format!("oidc-{}", std::process::id()));
        let base = Base::GitHubActions { role_arn: format!("arn:aws:iam::{TOOLING}:role/{pipeline}"), request: request(BEARER, Some(pem.clone())), session: session.clone() };
        let ci = Aws::load(&EndpointProfile::at("localstack", &endpoint, None), region, base).await.unwrap();
        let (account, arn) = ci.caller().await.unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!((account.as_str(), arn), (TOOLING, format!("arn:aws:sts::{TOOLING}:assumed-role/{pipeline}/{session}")));
        // A job whose request token is wrong gets no credentials (the token is really fetched).
        let base = Base::GitHubActions { role_arn: format!("arn:aws:iam::{TOOLING}:role/{pipeline}"), request: request("stale", Some(pem.clone())), session };
        let ci = Aws::load(&EndpointProfile::at("localstack", &endpoint, None), region, base).await.unwrap();
        let e = ci.caller().await.unwrap_err();
        assert!(format!("{e:#}").contains("HTTP 401"), "{e:#}");
    });
    assert_eq!(issuer.served(), 2);
}
