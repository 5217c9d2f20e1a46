//! LocalStack smoke test: each environment is its own account (derived from the access key
//! id), and AssumeRole into a role created with IAM returns short-lived credentials for that
//! account. Needs LocalStack: `cargo xtask test` starts it; otherwise this fails loudly.

use std::path::PathBuf;

use lz_platform::{aws, localstack, overlays};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn accounts_are_per_environment_and_assume_role_works() {
    let root = root();
    let endpoint = localstack::require(&root).expect("LocalStack is required");
    let dev = overlays::env_file(&root, "dev").unwrap();
    let prod = overlays::env_file(&root, "prod").unwrap();
    assert_ne!(dev.account_id, prod.account_id);
    let rt = aws::runtime().unwrap();
    rt.block_on(async {
        let mut seen = Vec::new();
        for env in [&dev, &prod] {
            let sts = aws::sts(&endpoint, aws::account_credentials(&env.account_id), &env.region);
            let who = sts.get_caller_identity().send().await.expect("GetCallerIdentity");
            assert_eq!(who.account(), Some(env.account_id.as_str()), "{}: account from the access key id", env.name);
            seen.push(who.account().unwrap().to_string());
        }
        assert_ne!(seen[0], seen[1]);

        let creds = aws::account_credentials(&dev.account_id);
        let iam = aws::iam(&endpoint, creds.clone(), &dev.region);
        let role_name = format!("lz-smoke-deployer-{}", std::process::id());
        let trust = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{}:root", dev.account_id)}, "Action": "sts:AssumeRole"}]
        });
        let role = iam
            .create_role()
            .role_name(&role_name)
            .assume_role_policy_document(trust.to_string())
            .max_session_duration(3600)
            .send()
            .await
            .expect("CreateRole");
        let role_arn = role.role().unwrap().arn().to_string();
        assert!(role_arn.contains(&dev.account_id), "{role_arn}");

        let sts = aws::sts(&endpoint, creds, &dev.region);
        let assumed = sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("smoke")
            .duration_seconds(900)
            .send()
            .await
            .expect("AssumeRole");
        let c = assumed.credentials().expect("credentials");
        assert!(!c.access_key_id().is_empty() && !c.secret_access_key().is_empty() && !c.session_token().is_empty());
        let expires = c.expiration().secs();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        assert!(expires > now && expires <= now + 3600 + 60, "short-lived: expires in {}s", expires - now);

        let session = aws_credential_types::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            None,
            "assumed",
        );
        let who = aws::sts(&endpoint, session, &dev.region).get_caller_identity().send().await.expect("caller identity of the session");
        assert_eq!(who.account(), Some(dev.account_id.as_str()));
        assert!(who.arn().unwrap_or_default().contains(&format!("assumed-role/{role_name}/smoke")), "{:?}", who.arn());

        iam.delete_role().role_name(&role_name).send().await.expect("DeleteRole");
    });
}
