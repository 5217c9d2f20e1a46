package lz.rules.iam.github_oidc

import data.lz.testing as t

_role(condition) := t.rc("aws_iam_role", "gha", {"name": "lz-github-actions", "assume_role_policy": json.marshal({"Statement": [{
	"Effect": "Allow",
	"Principal": {"Federated": "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"},
	"Action": "sts:AssumeRoleWithWebIdentity",
	"Condition": condition,
}]})})

_sub(op, v) := {op: {"token.actions.githubusercontent.com:sub": v, "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}

test_pinned_repository_passes if {
	count(deny) == 0 with input as t.plan([_role(_sub("StringEquals", "repo:acme/landing-zone:environment:prod"))])
	count(deny) == 0 with input as t.plan([_role(_sub("StringLike", ["repo:acme/landing-zone:ref:refs/heads/*"]))])
}

test_wildcard_repository_denied if {
	some f in deny with input as t.plan([_role(_sub("StringLike", "repo:acme/*"))])
	f.message == `GitHub OIDC sub "repo:acme/*" is not pinned to one repository`
	count(deny) == 1 with input as t.plan([_role(_sub("StringLike", "repo:*/landing-zone:*"))])
	count(deny) == 1 with input as t.plan([_role(_sub("StringLike", "*"))])
}

test_missing_sub_denied if {
	some f in deny with input as t.plan([_role({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}})])
	f.message == "GitHub OIDC trust has no sub condition"
}
