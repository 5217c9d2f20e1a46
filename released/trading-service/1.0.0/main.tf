locals {
  log_group_name = "/trading/${var.tier}/${var.name}"
  role_name      = "${var.name}-task"
  role_arn       = "arn:${var.partition}:iam::${var.account_id}:role/${local.role_name}"
  secrets_key    = var.secrets_kms_key_arn == null ? var.kms_key_arn : var.secrets_kms_key_arn
  secrets_alias  = can(regex(":alias/", local.secrets_key)) ? regex("alias/.+$", local.secrets_key) : null

  # Secrets Manager decrypts on the task's behalf, so kms:Decrypt is scoped to calls made through
  # it. An alias ARN is matched through kms:ResourceAliases, which keeps the document known.
  decrypt_statement = merge(
    {
      Sid      = "DecryptSecretsThroughSecretsManager"
      Effect   = "Allow"
      Action   = ["kms:Decrypt"]
      Resource = local.secrets_alias == null ? local.secrets_key : "arn:${var.partition}:kms:${var.region}:${var.account_id}:key/*"
    },
    {
      Condition = merge(
        { StringEquals = { "kms:ViaService" = "secretsmanager.${var.region}.amazonaws.com" } },
        local.secrets_alias == null ? {} : { "ForAnyValue:StringEquals" = { "kms:ResourceAliases" = local.secrets_alias } },
      )
    },
  )

  task_statements = concat(
    length(var.secret_arns) == 0 ? [] : [{
      Sid      = "ReadReferencedSecrets"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = var.secret_arns
    }],
    [local.decrypt_statement],
  )
}

resource "aws_security_group" "this" {
  name                   = "${var.name}-${var.tier}"
  description            = "Service ${var.name} in the ${var.tier} tier"
  vpc_id                 = var.vpc_id
  revoke_rules_on_delete = true

  dynamic "ingress" {
    for_each = var.ingress_rules
    content {
      description      = ingress.value.description
      from_port        = ingress.value.port
      to_port          = ingress.value.port
      protocol         = "tcp"
      cidr_blocks      = [for c in ingress.value.cidr_blocks : c if !strcontains(c, ":")]
      ipv6_cidr_blocks = [for c in ingress.value.cidr_blocks : c if strcontains(c, ":")]
      security_groups  = ingress.value.source_security_group_id == null ? [] : [ingress.value.source_security_group_id]
    }
  }

  dynamic "egress" {
    for_each = var.egress_ports
    content {
      description      = "Service ${var.name} to approved destinations on ${egress.value}"
      from_port        = egress.value
      to_port          = egress.value
      protocol         = "tcp"
      cidr_blocks      = [for c in var.egress_cidr_blocks : c if !strcontains(c, ":")]
      ipv6_cidr_blocks = [for c in var.egress_cidr_blocks : c if strcontains(c, ":")]
    }
  }

  tags = merge(var.tags, {
    Name    = "${var.name}-${var.tier}"
    Service = var.name
    Tier    = var.tier
  })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = merge(var.tags, {
    Name    = local.log_group_name
    Service = var.name
  })
}

resource "aws_iam_role" "task" {
  name                 = local.role_name
  description          = "Task role of service ${var.name}"
  permissions_boundary = var.permissions_boundary_arn
  max_session_duration = 3600

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EcsTasksOfThisAccount"
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = var.account_id }
        ArnLike      = { "aws:SourceArn" = "arn:${var.partition}:ecs:${var.region}:${var.account_id}:*" }
      }
    }]
  })

  tags = merge(var.tags, {
    Name    = local.role_name
    Service = var.name
  })
}

resource "aws_iam_role_policy" "task" {
  name = "${var.name}-secrets"
  role = aws_iam_role.task.name

  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.task_statements
  })
}
