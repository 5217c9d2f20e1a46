//! The key policy of each pipeline signing key, read back (issue 26): after `rehearsal setup
//! --kms`, GetKeyPolicy on every KMS key the register names returns exactly the document
//! `lz_platform::pipeline_roles::signing_key_policy` writes for the pipeline roles of the
//! environments the identity is bound to, so the key that KMS holds is the one the review of
//! those documents judged (LocalStack stores the policy; it does not enforce it). LocalStack, a
//! rehearsal checkout.

mod common;

use common::{checkout, ok};

#[test]
fn each_pipeline_keys_policy_reads_back_as_the_document_pipeline_roles_wrote() {
    let (d, keys) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    checkout(d.path(), keys.path());
    let d = d.path();
    // The KMS rehearsal over the checkout's (its own key directory: key files are never overwritten).
    let kms_keys = tempfile::tempdir().unwrap();
    ok(d, &["rehearsal", "setup", "--keys", &kms_keys.path().display().to_string(), "--kms"]);

    let profiles = lz_platform::aws_setup::Profiles::load(d).unwrap();
    let dev = profiles.pipeline_role_arn("dev").unwrap();
    let (account, role) = lz_platform::aws_setup::role_parts(&dev).unwrap();
    let region = lz_platform::overlays::env_file(d, "dev").unwrap().region;
    let aws = lz_platform::reach::account(lz_platform::localstack::ENDPOINT, &account, &region, &role, &lz_platform::reach::session("review")).unwrap();
    let register = lz_evidence::Identities::load(&d.join("governance/identities.toml")).unwrap();
    let rt = lz_platform::aws::runtime().unwrap();
    let mut read = 0;
    for id in register.iter() {
        let Some(arn) = &id.kms_key else { continue };
        let bound = id.environments.clone().unwrap_or_else(|| panic!("{} has a KMS key and no environments", id.name));
        let signers: Vec<String> = bound.iter().map(|env| profiles.pipeline_role_arn(env).unwrap()).collect();
        let want = lz_platform::pipeline_roles::signing_key_policy(&account, &signers);
        let got = rt.block_on(lz_platform::kms_keys::key_policy(&aws, arn)).unwrap_or_else(|e| panic!("{}: {e:#}", id.name));
        let got: serde_json::Value = serde_json::from_str(&got).unwrap_or_else(|e| panic!("{}: the key policy is not JSON: {e}\n{got}", id.name));
        assert_eq!(got, want, "{}: the policy KMS holds for {arn} is not the one pipeline_roles wrote", id.name);
        // And it lets only the bound environments' pipeline roles sign: another environment's
        // role appears nowhere in it.
        for other in lz_platform::ENVIRONMENTS.iter().filter(|e| !bound.iter().any(|b| b == *e)) {
            let role = profiles.pipeline_role_arn(other).unwrap();
            assert!(!got.to_string().contains(&format!("\"{role}\"")), "{}: {other}'s pipeline role {role} is named in the key policy", id.name);
        }
        read += 1;
    }
    assert_eq!(read, 10, "each environment's deployer and policy identity has a KMS key");
}
