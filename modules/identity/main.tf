locals {
  # trust: "human" (trusted principals with MFA), "break-glass" (MFA with a maximum age),
  # "github" (GitHub Actions OIDC for one repository environment).
  roles = {
    author = {
      description = "Writes infrastructure changes; no deployment rights"
      privileged  = false
      trust       = "human"
    }
    reviewer = {
      description = "Reviews proposed changes and plans"
      privileged  = false
      trust       = "human"
    }
    approver = {
      description = "Approves promotions between environments"
      privileged  = true
      trust       = "human"
    }
    deployer = {
      description = "Applies approved plans from the GitHub deployment environment"
      privileged  = true
      trust       = "github"
    }
    auditor = {
      description = "Read-only access to configuration and audit evidence"
      privileged  = false
      trust       = "human"
    }
    break-glass = {
      description = "Emergency access; MFA-bound and short-lived"
      privileged  = true
      trust       = "break-glass"
    }
  }

  github_oidc_host         = "token.actions.githubusercontent.com"
  github_oidc_provider_arn = "arn:${var.partition}:iam::${var.account_id}:oidc-provider/${local.github_oidc_host}"

  module_boundary_arn      = "arn:${var.partition}:iam::${var.account_id}:policy/${var.name_prefix}-boundary"
  permissions_boundary_arn = var.permissions_boundary_arn == null ? local.module_boundary_arn : var.permissions_boundary_arn

  boundary_services = [
    "cloudtrail", "cloudwatch", "ec2", "ecr", "ecs", "elasticloadbalancing", "iam", "kms",
    "logs", "s3", "secretsmanager", "sns", "sqs", "ssm", "sts", "tag",
  ]

  principal_arns = [
    for p in var.trusted_principals : can(regex("^[0-9]{12}$", p)) ? "arn:${var.partition}:iam::${p}:root" : p
  ]

  trust_policies = {
    human = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid       = "TrustedPrincipalsWithMfa"
        Effect    = "Allow"
        Principal = { AWS = local.principal_arns }
        Action    = ["sts:AssumeRole", "sts:SetSourceIdentity"]
        Condition = {
          Bool = { "aws:MultiFactorAuthPresent" = "true" }
        }
      }]
    })
    break-glass = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid       = "BreakGlassWithRecentMfa"
        Effect    = "Allow"
        Principal = { AWS = local.principal_arns }
        Action    = ["sts:AssumeRole", "sts:SetSourceIdentity"]
        Condition = {
          Bool            = { "aws:MultiFactorAuthPresent" = "true" }
          NumericLessThan = { "aws:MultiFactorAuthAge" = var.break_glass_mfa_max_age }
        }
      }]
    })
    github = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid       = "GitHubDeploymentEnvironment"
        Effect    = "Allow"
        Principal = { Federated = local.github_oidc_provider_arn }
        Action    = "sts:AssumeRoleWithWebIdentity"
        Condition = {
          StringEquals = {
            "${local.github_oidc_host}:aud" = "sts.amazonaws.com"
            "${local.github_oidc_host}:sub" = "repo:${var.github_repository}:environment:${var.github_environment}"
          }
        }
      }]
    })
  }

  policy_attachments = {
    for pair in flatten([
      for role, arns in var.managed_policy_arns : [for arn in arns : { role = role, arn = arn }]
    ]) : "${pair.role}|${pair.arn}" => pair
  }
}

resource "aws_iam_policy" "boundary" {
  count = var.permissions_boundary_arn == null ? 1 : 0

  name        = "${var.name_prefix}-boundary"
  description = "Permissions boundary of every role in the ${var.name_prefix} landing zone"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # The ceiling is the services the landing zone runs on, never "*": a role can hold no
        # permission outside them whatever policy is attached to it.
        Sid      = "AllowLandingZoneServices"
        Effect   = "Allow"
        Action   = [for service in local.boundary_services : "${service}:*"]
        Resource = "*"
      },
      {
        Sid    = "DenyLongLivedCredentials"
        Effect = "Deny"
        Action = [
          "iam:CreateUser",
          "iam:CreateAccessKey",
          "iam:CreateLoginProfile",
          "iam:UpdateLoginProfile",
        ]
        Resource = "*"
      },
      {
        Sid    = "DenyBoundaryRemoval"
        Effect = "Deny"
        Action = [
          "iam:DeleteRolePermissionsBoundary",
          "iam:DeleteUserPermissionsBoundary",
        ]
        Resource = "*"
      },
      {
        Sid    = "DenyRolesWithoutBoundary"
        Effect = "Deny"
        Action = [
          "iam:CreateRole",
          "iam:PutRolePermissionsBoundary",
        ]
        Resource = "*"
        Condition = {
          StringNotEquals = { "iam:PermissionsBoundary" = local.module_boundary_arn }
        }
      },
      {
        Sid    = "DenyBoundaryPolicyChange"
        Effect = "Deny"
        Action = [
          "iam:CreatePolicyVersion",
          "iam:DeletePolicy",
          "iam:DeletePolicyVersion",
          "iam:SetDefaultPolicyVersion",
        ]
        Resource = local.module_boundary_arn
        # Only break-glass may change the boundary itself; everyone else would lock it in place.
        Condition = {
          ArnNotLike = { "aws:PrincipalArn" = "arn:${var.partition}:iam::${var.account_id}:role/${var.name_prefix}-break-glass" }
        }
      },
      {
        Sid    = "DenyAuditTampering"
        Effect = "Deny"
        Action = [
          "cloudtrail:DeleteTrail",
          "cloudtrail:StopLogging",
          "cloudtrail:PutEventSelectors",
          "ec2:DeleteFlowLogs",
          "organizations:LeaveOrganization",
        ]
        Resource = "*"
      },
    ]
  })

  tags = merge(var.tags, { Name = "${var.name_prefix}-boundary" })
}

resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://${local.github_oidc_host}"
  client_id_list = ["sts.amazonaws.com"]

  tags = merge(var.tags, { Name = "${var.name_prefix}-github-actions" })
}

resource "aws_iam_role" "this" {
  for_each = local.roles

  name                 = "${var.name_prefix}-${each.key}"
  description          = each.value.description
  assume_role_policy   = local.trust_policies[each.value.trust]
  permissions_boundary = local.permissions_boundary_arn
  max_session_duration = each.value.privileged ? 3600 : var.max_session_duration

  tags = merge(var.tags, {
    Name       = "${var.name_prefix}-${each.key}"
    Role       = each.key
    Privileged = each.value.privileged ? "true" : "false"
  })

  # The boundary policy and the OIDC provider must exist before IAM accepts the role.
  depends_on = [aws_iam_policy.boundary, aws_iam_openid_connect_provider.github]
}

resource "aws_iam_role_policy_attachment" "this" {
  for_each = local.policy_attachments

  role       = aws_iam_role.this[each.value.role].name
  policy_arn = each.value.arn
}
