package lz.rules.iam.no_users

import data.lz.testing as t

test_roles_pass if {
	count(deny) == 0 with input as t.plan([t.rc("aws_iam_role", "r", {})])
}

test_user_and_key_denied if {
	fs := deny with input as t.plan([t.rc("aws_iam_user", "ci", {"name": "ci"}), t.rc("aws_iam_access_key", "ci", {"user": "ci"})])
	{f.address | some f in fs} == {"aws_iam_user.ci", "aws_iam_access_key.ci"}
}
