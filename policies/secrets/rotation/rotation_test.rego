package lz.rules.secrets.rotation

import data.lz.testing as t

_secret := t.rcu("aws_secretsmanager_secret", "db", {"name": "db"}, {"arn": true, "id": true})

test_rotation_by_reference_passes if {
	r := t.rcu("aws_secretsmanager_secret_rotation", "db", {"rotation_rules": [{"automatically_after_days": 30}]}, {"secret_id": true})
	plan := t.plan_cfg([_secret, r], [t.cfg("aws_secretsmanager_secret_rotation", "db", {"secret_id": t.ref(["aws_secretsmanager_secret.db.id", "aws_secretsmanager_secret.db"])})])
	count(deny) == 0 with input as plan
}

test_missing_rotation_denied if {
	fs := deny with input as t.plan([_secret])
	{f.address | some f in fs} == {"aws_secretsmanager_secret.db"}
}
