# A policy statement list that is empty in one branch: the statements differ in their
# attributes (one has a Condition), so they cannot become one list type.
variable "restricted" {
  type    = bool
  default = false
}

output "statements" {
  value = var.restricted ? [] : [
    { Effect = "Allow", Action = ["secretsmanager:GetSecretValue"] },
    { Effect = "Deny", Action = ["secretsmanager:GetSecretValue"], Condition = { StringNotEquals = { "secretsmanager:VersionStage" = "AWSCURRENT" } } },
  ]
}
