package lz.rules.secrets.rotation

import data.lz.testing as t

_secret := t.rcu("aws_secretsmanager_secret", "db", {"name": "db"}, {"arn": true, "id": true})

_tagged(days) := t.rcu("aws_secretsmanager_secret", "db", {"name": "db", "tags": {"RotationDays": days}}, {"arn": true, "id": true})

test_rotation_by_reference_passes if {
	r := t.rcu("aws_secretsmanager_secret_rotation", "db", {"rotation_rules": [{"automatically_after_days": 30}]}, {"secret_id": true})
	plan := t.plan_cfg([_secret, r], [t.cfg("aws_secretsmanager_secret_rotation", "db", {"secret_id": t.ref(["aws_secretsmanager_secret.db.id", "aws_secretsmanager_secret.db"])})])
	count(deny) == 0 with input as plan
}

test_missing_rotation_denied if {
	fs := deny with input as t.plan([_secret])
	{f.address | some f in fs} == {"aws_secretsmanager_secret.db"}
}

test_schedule_tag_passes if {
	every days in ["1", "30", "90"] {
		count(deny) == 0 with input as t.plan([_tagged(days)])
	}
}

test_schedule_tag_out_of_range_or_malformed_denied if {
	every days in ["0", "91", "30.5", "monthly", ""] {
		fs := deny with input as t.plan([_tagged(days)])
		{f.address | some f in fs} == {"aws_secretsmanager_secret.db"}
	}
}

test_unknown_schedule_tag_is_unverifiable if {
	s := t.rcu("aws_secretsmanager_secret", "db", {"name": "db", "tags": {}}, {"arn": true, "tags": {"RotationDays": true}})
	fs := deny with input as t.plan([s])
	some f in fs
	f.address == "aws_secretsmanager_secret.db"
	startswith(f.message, "unverifiable:")
}
