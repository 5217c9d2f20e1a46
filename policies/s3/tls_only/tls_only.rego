# METADATA
# title: S3 bucket policies deny insecure transport
# description: >-
#   Every bucket has a bucket policy with a Deny statement conditioned on
#   aws:SecureTransport being false.
# custom:
#   id: LZ-S3-004
#   severity: high
#   remediation: >-
#     Add a bucket policy statement that denies s3:* when aws:SecureTransport is false
#   controls:
#     - CIS-AWS-2.1.2
package lz.rules.s3.tls_only

import data.lz.lib

deny contains f if {
	some b in lib.of_type("aws_s3_bucket")
	not _has_policy(b)
	not _inline_policy(b)
	not lib.maybe_linked("aws_s3_bucket_policy", "bucket", b)
	f := lib.finding(b.address, "bucket has no bucket policy denying aws:SecureTransport=false")
}

deny contains f if {
	some b in lib.of_type("aws_s3_bucket")
	not _has_policy(b)
	not _inline_policy(b)
	lib.maybe_linked("aws_s3_bucket_policy", "bucket", b)
	f := lib.unlinked(b.address, "aws_s3_bucket_policy")
}

# Provider v3 inline policy argument of aws_s3_bucket.
_inline_policy(b) if lib.present(b, ["policy"])

deny contains f if {
	some b in lib.of_type("aws_s3_bucket")
	not _has_policy(b)
	_inline_policy(b)
	not _denies_insecure(lib.val(b, ["policy"]))
	f := lib.finding(b.address, "inline bucket policy does not deny requests with aws:SecureTransport=false")
}

deny contains f if {
	some p in lib.of_type("aws_s3_bucket_policy")
	not lib.unknown(p, ["policy"])
	not _denies_insecure(lib.val(p, ["policy"]))
	f := lib.finding(p.address, "bucket policy does not deny requests with aws:SecureTransport=false")
}

deny contains f if {
	some p in lib.of_type("aws_s3_bucket_policy")
	lib.unknown(p, ["policy"])
	f := lib.unverifiable(p.address, "policy")
}

# Targets linked to a dependent, computed once per evaluation (functions are not memoized).
_linked_targets contains b.address if {
	some p in lib.of_type("aws_s3_bucket_policy")
	some b in lib.linked_to(p, "bucket", "aws_s3_bucket")
}

_has_policy(b) if b.address in _linked_targets

_denies_insecure(policy) if {
	some s in lib.statements(lib.policy_doc(policy))
	s.Effect == "Deny"
	some v in lib.as_list(s.Condition.Bool["aws:SecureTransport"])
	lower(sprintf("%v", [v])) == "false"
}
