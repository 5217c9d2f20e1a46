# METADATA
# title: GitHub OIDC trust is pinned to one repository
# description: >-
#   A role trusting token.actions.githubusercontent.com conditions every such Allow
#   statement on the token's sub claim (StringEquals or StringLike), and every sub value
#   names a single repository: repo:<owner>/<repo>:... with no wildcard in owner or repo.
# custom:
#   id: LZ-IAM-005
#   severity: critical
#   remediation: >-
#     Pin the token.actions.githubusercontent.com sub condition to one repository
#     (repo:ORG/NAME and an environment or ref), never a wildcard
#   controls:
#     - LZ-IAM-GUARDRAIL-OIDC
package lz.rules.iam.github_oidc

import data.lz.lib

_host := "token.actions.githubusercontent.com"

_github_statements contains [r, s] if {
	some r in lib.of_type("aws_iam_role")
	not lib.unknown(r, ["assume_role_policy"])
	some s in lib.statements(lib.policy_doc(lib.val(r, ["assume_role_policy"])))
	s.Effect == "Allow"
	some p in lib.as_list(s.Principal.Federated)
	contains(lib.str(p), _host)
}

deny contains f if {
	some [r, s] in _github_statements
	count(_subs(s)) == 0
	f := lib.finding(r.address, "GitHub OIDC trust has no sub condition")
}

deny contains f if {
	some [r, s] in _github_statements
	some sub in _subs(s)
	not regex.match(`^repo:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+:.+$`, lib.str(sub))
	f := lib.finding(r.address, sprintf("GitHub OIDC sub %q is not pinned to one repository", [sub]))
}

_subs(s) := {v |
	some op in ["StringEquals", "StringLike"]
	some v in lib.as_list(object.get(s, ["Condition", op, sprintf("%s:sub", [_host])], []))
}
