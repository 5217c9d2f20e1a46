package lz.rules.secrets.encryption

import data.lz.testing as t

test_key_passes if {
	count(deny) == 0 with input as t.plan([t.rc("aws_secretsmanager_secret", "s", {"kms_key_id": "arn:aws:kms:eu-west-2:111111111111:alias/secrets"})])
}

test_no_key_denied if {
	fs := deny with input as t.plan([t.rc("aws_secretsmanager_secret", "s", {"name": "db"})])
	{f.address | some f in fs} == {"aws_secretsmanager_secret.s"}
}

test_unknown_key_unverifiable if {
	some f in deny with input as t.plan([t.rcu("aws_secretsmanager_secret", "s", {}, {"kms_key_id": true})])
	startswith(f.message, "unverifiable:")
}
