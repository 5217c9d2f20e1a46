locals {
  lambda_arn_prefix = "arn:${var.partition}:lambda:${var.region}:${var.account_id}:function:"
  rotated           = { for name, s in var.secrets : name => s if s.rotation_lambda_arn != null }
}

resource "aws_secretsmanager_secret" "this" {
  for_each = var.secrets

  name                           = each.key
  description                    = each.value.description
  kms_key_id                     = var.kms_key_arn
  recovery_window_in_days        = each.value.recovery_window_in_days
  force_overwrite_replica_secret = false

  # The rotation schedule and the consumers, recorded on the secret: LZ-SEC-002 reads the
  # schedule, `cargo xtask rotate` verifies the consumers after each rotation.
  tags = merge(var.tags, each.value.tags, {
    Name               = each.key
    DataClassification = each.value.data_classification
    RotationDays       = tostring(each.value.rotation_days)
    }, length(each.value.consumer_roles) == 0 ? {} : {
    ConsumerRoles = join(" ", each.value.consumer_roles)
  })

  lifecycle {
    precondition {
      condition     = startswith(var.kms_key_arn, "arn:${var.partition}:kms:${var.region}:${var.account_id}:")
      error_message = "The kms_key_arn must belong to the secrets' partition, region and account."
    }
  }
}

resource "aws_secretsmanager_secret_rotation" "this" {
  for_each = local.rotated

  secret_id           = aws_secretsmanager_secret.this[each.key].id
  rotation_lambda_arn = each.value.rotation_lambda_arn
  # Values are loaded out of band after creation; rotating before that would fail.
  rotate_immediately = false

  rotation_rules {
    automatically_after_days = each.value.rotation_days
  }

  lifecycle {
    precondition {
      condition     = startswith(each.value.rotation_lambda_arn, local.lambda_arn_prefix)
      error_message = "The rotation_lambda_arn of ${each.key} must be a function in the secrets' partition, region and account."
    }
  }
}
