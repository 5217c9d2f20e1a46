//! The one AWS configuration (`lz_platform::aws_setup`) against LocalStack, by the same code a
//! real organisation uses:
//! - a CI identity: an OIDC token from an issuer this test starts (127.0.0.1, discovery + JWKS,
//!   an ES256 JWT signed here) exchanged with `AssumeRoleWithWebIdentity` for the pipeline role;
//! - the role chain pipeline (tooling account) -> the environment's deployer role (its account
//!   from `env.toml`), the session named after the run;
//! - HTTPS to LocalStack's TLS endpoint, trusting LocalStack's own certificate explicitly (and
//!   refused without it: verification is on).
//!
//! LocalStack does not check web identity tokens (any token is exchanged); the issuer's token is
//! checked here against the JWKS the issuer serves, as STS would. Needs LocalStack
//! (`cargo xtask test` starts it); otherwise this fails loudly.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use lz_platform::aws_setup::{session_name, Aws, Base, EndpointProfile, Profiles};
use aws_credential_types::Credentials;
use lz_platform::{aws, localstack, overlays};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The tooling account that hosts the pipeline role (not an environment's).
const TOOLING: &str = "999999999999";

/// A minimal OIDC issuer on 127.0.0.1: `/.well-known/openid-configuration` and `/jwks`.
struct Issuer {
    url: String,
    key: p256::ecdsa::SigningKey,
}

impl Issuer {
    fn start() -> Issuer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        use sha2::Digest as _;
        let seed = sha2::Sha256::digest(format!("{:?} {}", std::time::SystemTime::now(), std::process::id()));
        let key = p256::ecdsa::SigningKey::from_slice(&seed).unwrap();
        let point = key.verifying_key().to_encoded_point(false);
        let jwks = serde_json::json!({"keys": [{
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "lz-test",
            "x": B64URL.encode(point.x().unwrap()), "y": B64URL.encode(point.y().unwrap()),
        }]})
        .to_string();
        let discovery = serde_json::json!({
            "issuer": url, "jwks_uri": format!("{url}/jwks"),
            "id_token_signing_alg_values_supported": ["ES256"], "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
        })
        .to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let mut line = String::new();
                let _ = BufReader::new(&s).read_line(&mut line);
                let body = if line.starts_with("GET /.well-known/openid-configuration ") {
                    Some(&discovery)
                } else if line.starts_with("GET /jwks ") {
                    Some(&jwks)
                } else {
                    None
                };
                let _ = match body {
                    Some(b) => write!(s, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{b}", b.len()),
                    None => write!(s, "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"),
                };
            }
        });
        Issuer { url, key }
    }

    /// A GitHub-Actions-like ID token for `sub`, audience `sts.amazonaws.com`.
    fn token(&self, sub: &str) -> String {
        use p256::ecdsa::signature::Signer as _;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let header = serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": "lz-test"});
        let claims = serde_json::json!({"iss": self.url, "sub": sub, "aud": "sts.amazonaws.com", "iat": now, "nbf": now, "exp": now + 300});
        let input = format!("{}.{}", B64URL.encode(header.to_string()), B64URL.encode(claims.to_string()));
        let sig: p256::ecdsa::Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", B64URL.encode(sig.to_bytes()))
    }
}

/// What STS does with a token of a registered provider: discovery, JWKS, issuer and signature.
fn check_token_like_sts(token: &str, issuer: &str) {
    use p256::ecdsa::signature::Verifier as _;
    let discovery: serde_json::Value =
        serde_json::from_str(&ureq::get(&format!("{issuer}/.well-known/openid-configuration")).call().unwrap().into_string().unwrap()).unwrap();
    assert_eq!(discovery["issuer"], issuer);
    let jwks: serde_json::Value =
        serde_json::from_str(&ureq::get(discovery["jwks_uri"].as_str().unwrap()).call().unwrap().into_string().unwrap()).unwrap();
    let jwk = &jwks["keys"][0];
    let mut sec1 = vec![4u8];
    sec1.extend(B64URL.decode(jwk["x"].as_str().unwrap()).unwrap());
    sec1.extend(B64URL.decode(jwk["y"].as_str().unwrap()).unwrap());
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).unwrap();
    let (input, sig) = token.rsplit_once('.').unwrap();
    let sig = p256::ecdsa::Signature::from_slice(&B64URL.decode(sig).unwrap()).unwrap();
    vk.verify(input.as_bytes(), &sig).expect("the token verifies with the issuer's JWKS");
    let claims: serde_json::Value = serde_json::from_slice(&B64URL.decode(input.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(claims["iss"], issuer);
    assert_eq!(claims["aud"], "sts.amazonaws.com");
}

/// Registers the issuer as an OIDC provider of the tooling account and creates the pipeline
/// role it may assume, and the deployer role of the environment account trusting the pipeline
/// role (as an organisation sets them up; LocalStack does not enforce the trust policies).
async fn set_up_roles(endpoint: &str, region: &str, issuer: &str, env_account: &str, env_role: &str) -> String {
    let tooling = aws::iam(endpoint, aws::account_credentials(TOOLING), region);
    let host = issuer.trim_start_matches("http://");
    let _ = tooling
        .create_open_id_connect_provider()
        .url(issuer)
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list("0".repeat(40))
        .send()
        .await;
    // dev's pipeline role (one per environment), with the documents an organisation creates.
    let pipeline_role = "lz-pipeline-dev";
    let pipeline_arn = format!("arn:aws:iam::{TOOLING}:role/{pipeline_role}");
    let trust = lz_platform::pipeline_roles::pipeline_trust(&format!("arn:aws:iam::{TOOLING}:oidc-provider/{host}"), host, "example/landing-zone", "dev");
    let _ = tooling.create_role().role_name(pipeline_role).assume_role_policy_document(trust.to_string()).send().await;
    let env_iam = aws::iam(endpoint, aws::account_credentials(env_account), region);
    let trust = lz_platform::pipeline_roles::environment_trust(&pipeline_arn);
    let _ = env_iam.create_role().role_name(env_role).assume_role_policy_document(trust.to_string()).send().await;
    format!("arn:aws:iam::{TOOLING}:role/{pipeline_role}")
}

#[test]
fn web_identity_then_the_environment_role_named_after_the_run() {
    let root = root();
    let endpoint = localstack::require(&root).expect("LocalStack is required");
    let dev = overlays::env_file(&root, "dev").unwrap();
    let profiles = Profiles::load(&root).unwrap();
    let profile = profiles.get("localstack").unwrap().clone();
    assert_eq!(profile.endpoint.as_deref(), Some(endpoint.as_str()));
    let issuer = Issuer::start();
    let token = issuer.token("repo:example/landing-zone:environment:dev");
    check_token_like_sts(&token, &issuer.url);
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, &token).unwrap();
    let env_role_arn = profiles.environment_role_arn("dev", &dev.account_id);
    let env_role = env_role_arn.rsplit('/').next().unwrap().to_string();
    let run = format!("run-{}", std::process::id());
    let session = session_name("dev", &run);
    let rt = aws::runtime().unwrap();
    rt.block_on(async {
        let pipeline_role = set_up_roles(&endpoint, &dev.region, &issuer.url, &dev.account_id, &env_role).await;
        let ci = Aws::load(&profile, &dev.region, Base::WebIdentity { role_arn: pipeline_role.clone(), token_file, session: session.clone() })
            .await
            .unwrap();
        let (account, arn) = ci.caller().await.expect("the web identity credentials work");
        assert_eq!(account, TOOLING);
        assert_eq!(arn, format!("arn:aws:sts::{TOOLING}:assumed-role/lz-pipeline-dev/{session}"));
        // The chain's second hop: into the environment's account, named after the run.
        let deployer = ci.assume_role(&env_role_arn, &session).await.expect("pipeline -> environment");
        let (account, arn) = deployer.caller().await.unwrap();
        assert_eq!(account, dev.account_id);
        assert!(arn.ends_with(&format!(":assumed-role/{env_role}/{session}")), "{arn}");
        // A role ARN without a 12-digit account is refused before any call.
        let wrong = ci.assume_role(&format!("arn:aws:iam::{}:role/{env_role}", "x".repeat(12)), &session).await;
        assert!(format!("{:#}", wrong.unwrap_err()).contains("not 12 digits"));
        // The credentials handed on (to Terraform's process) are the environment role's.
        let creds = deployer.credentials().await.unwrap();
        assert!(creds.session_token().is_some());

    });
}

#[test]
fn https_to_localstack_trusts_its_certificate_explicitly_and_nothing_else() {
    let root = root();
    localstack::require(&root).expect("LocalStack is required");
    let ca = localstack::tls_certificate(&root).expect("LocalStack's TLS certificate (server.test.pem.crt in its cache directory)");
    let region = "eu-west-2";
    let rt = aws::runtime().unwrap();
    rt.block_on(async {
        let creds = || Base::Static(Credentials::new(TOOLING, "test", None, None, "test"));
        let trusted = EndpointProfile::at("localstack-tls", localstack::TLS_ENDPOINT, Some(ca.clone()));
        let aws = Aws::load(&trusted, region, creds()).await.unwrap();
        let (account, _) = aws.caller().await.expect("STS over TLS with LocalStack's certificate trusted");
        assert_eq!(account, TOOLING);
        // The same endpoint without the certificate: the handshake fails (no verification is skipped).
        let untrusted = EndpointProfile::at("localstack-tls", localstack::TLS_ENDPOINT, None);
        let aws = Aws::load(&untrusted, region, creds()).await.unwrap();
        let err = aws.caller().await.expect_err("an untrusted certificate is refused");
        let text = format!("{err:#}");
        eprintln!("untrusted: {text}");
        assert!(text.contains("UnknownIssuer") || text.to_lowercase().contains("certificate"), "{text}");
        // Plain HTTP to the TLS-only name is not TLS: the trusted profile really speaks TLS.
        assert!(trusted.endpoint.as_deref().unwrap().starts_with("https://"));
    });
}

/// Every shipped client goes through `lz_platform::reach` (endpoint profile, base credentials, a
/// checked `AssumeRole` named after the run). The CI identity installed as the base: a missing
/// token is an error (the base is really used), the OIDC token then reaches the environment's
/// role, and a second client reuses the kept session.
#[test]
fn reach_goes_from_the_ci_token_to_the_environment_role_named_after_the_run() {
    use lz_platform::reach;
    let root = root();
    let endpoint = localstack::require(&root).expect("LocalStack is required");
    let dev = overlays::env_file(&root, "dev").unwrap();
    let issuer = Issuer::start();
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    let run = format!("reach-{}", std::process::id());
    reach::set_run(&run);
    let role = reach::deployer_role("dev");
    let pipeline_role = aws::runtime().unwrap().block_on(set_up_roles(&endpoint, &dev.region, &issuer.url, &dev.account_id, &role));
    let base = Base::WebIdentity { role_arn: pipeline_role, token_file: token_file.clone(), session: session_name("ci", &run) };
    reach::set_base(base);
    let e = reach::account(&endpoint, &dev.account_id, &dev.region, &role, &reach::session("dev")).expect_err("no token yet");
    assert!(format!("{e:#}").contains("reading the web identity token"), "{e:#}");

    std::fs::write(&token_file, issuer.token("repo:example/landing-zone:environment:dev")).unwrap();
    let aws = reach::account(&endpoint, &dev.account_id, &dev.region, &role, &reach::session("dev")).unwrap_or_else(|e| panic!("{e:#}"));
    let (account, arn) = aws::runtime().unwrap().block_on(aws.caller()).unwrap();
    assert_eq!(account, dev.account_id);
    assert_eq!(arn, format!("arn:aws:sts::{}:assumed-role/{role}/lz-dev-{run}", dev.account_id));
    // The client acts in the environment's account: a bucket it creates is that account's.
    let bucket = format!("lz-reach-{}", std::process::id());
    let rt = aws::runtime().unwrap();
    let here = aws_sdk_s3::types::CreateBucketConfiguration::builder()
        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(dev.region.as_str()))
        .build();
    rt.block_on(aws.s3().create_bucket().bucket(&bucket).create_bucket_configuration(here).send()).unwrap();
    let names = |c: aws_sdk_s3::Client| -> Vec<String> {
        rt.block_on(c.list_buckets().send()).unwrap().buckets().iter().filter_map(|b| b.name().map(str::to_string)).collect()
    };
    assert!(names(aws::s3(&endpoint, aws::account_credentials(&dev.account_id), &dev.region)).contains(&bucket));
    assert!(!names(aws::s3(&endpoint, aws::account_credentials(TOOLING), &dev.region)).contains(&bucket));
    // The session is kept: the next client needs no new token (the file is gone) and no new role.
    std::fs::remove_file(&token_file).unwrap();
    let again = reach::account(&endpoint, &dev.account_id, &dev.region, &role, &reach::session("dev")).unwrap_or_else(|e| panic!("{e:#}"));
    let key = |a: &Aws| reach::credentials(a).unwrap().access_key_id().to_string();
    assert_eq!(key(&again), key(&aws));
    rt.block_on(aws.s3().delete_bucket().bucket(&bucket).send()).unwrap();
}

/// No shipped source builds an AWS client from an account's access key (the LocalStack shortcut
/// of `lz_platform::aws`): tests' raw writes may, nothing else.
#[test]
fn no_shipped_client_takes_the_localstack_shortcut() {
    let root = root();
    let shortcut = regex::Regex::new(r"(lz_platform|crate)::aws::(s3|s3_with|s3_client|sts|iam|secretsmanager|account_credentials)\(").unwrap();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("crates")).unwrap().map(|e| e.unwrap().path().join("src")).collect();
    dirs.push(root.join("xtask/src"));
    let mut found = Vec::new();
    for dir in dirs.into_iter().filter(|d| d.is_dir()) {
        for f in walkdir::WalkDir::new(&dir).into_iter().map(|e| e.unwrap()).filter(|e| e.path().extension().is_some_and(|x| x == "rs")) {
            if f.path().ends_with("platform/src/aws.rs") {
                continue;
            }
            let text = std::fs::read_to_string(f.path()).unwrap();
            for (i, line) in text.lines().enumerate() {
                if shortcut.is_match(line) {
                    found.push(format!("{}:{}: {}", f.path().display(), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "clients built with the LocalStack shortcut instead of lz_platform::reach:\n{}", found.join("\n"));
    // The guard finds what it looks for.
    assert!(shortcut.is_match("let s3 = lz_platform::aws::s3(&e, c, &r);"));
}
