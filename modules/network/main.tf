# Subnet layout: the VPC is cut into 16 equal blocks (newbits 4, a /16 gives /20s).
# netnum = tier_offset + az_index with tier offsets ingress 0, trading 4, data 8;
# blocks 3, 7, 11 and 12-15 stay free for a fourth AZ or a later tier.
locals {
  newbits = 4

  tier_offsets = {
    ingress = 0
    trading = 4
    data    = 8
  }

  subnets = {
    for pair in setproduct(keys(local.tier_offsets), range(length(var.azs))) :
    "${pair[0]}-${var.azs[pair[1]]}" => {
      tier = pair[0]
      az   = var.azs[pair[1]]
      cidr = cidrsubnet(var.cidr, local.newbits, local.tier_offsets[pair[0]] + pair[1])
    }
  }

  flow_log_group_name = "/aws/vpc-flow-logs/${var.name}"
  flow_log_group_arn  = "arn:${var.partition}:logs:${var.region}:${var.account_id}:log-group:${local.flow_log_group_name}"
  flow_log_role_name  = "${var.name}-flow-logs"
  flow_log_role_arn   = "arn:${var.partition}:iam::${var.account_id}:role/${local.flow_log_role_name}"
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-default-deny" })
}

resource "aws_subnet" "this" {
  for_each = local.subnets

  vpc_id                  = aws_vpc.this.id
  availability_zone       = each.value.az
  cidr_block              = each.value.cidr
  map_public_ip_on_launch = false

  tags = merge(var.tags, {
    Name = "${var.name}-${each.key}"
    Tier = each.value.tier
  })
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-igw" })
}

resource "aws_route_table" "this" {
  for_each = local.tier_offsets

  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, {
    Name = "${var.name}-${each.key}"
    Tier = each.key
  })
}

# The only default route to the internet gateway; trading and data have none.
resource "aws_route" "this" {
  route_table_id         = aws_route_table.this["ingress"].id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "this" {
  for_each = local.subnets

  subnet_id      = aws_subnet.this[each.key].id
  route_table_id = aws_route_table.this[each.value.tier].id
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.flow_log_group_name
  retention_in_days = var.flow_log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = merge(var.tags, { Name = local.flow_log_group_name })
}

resource "aws_iam_role" "this" {
  name                 = local.flow_log_role_name
  description          = "Delivers VPC flow logs of ${var.name} to CloudWatch Logs"
  permissions_boundary = var.permissions_boundary_arn
  max_session_duration = 3600

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "VpcFlowLogsDelivery"
      Effect    = "Allow"
      Principal = { Service = "vpc-flow-logs.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = var.account_id }
        ArnLike      = { "aws:SourceArn" = "arn:${var.partition}:ec2:${var.region}:${var.account_id}:vpc-flow-log/*" }
      }
    }]
  })

  tags = merge(var.tags, { Name = local.flow_log_role_name })
}

resource "aws_iam_role_policy" "this" {
  name = "flow-log-delivery"
  role = aws_iam_role.this.name

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid    = "WriteFlowLogGroup"
      Effect = "Allow"
      Action = [
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
      ]
      Resource = [local.flow_log_group_arn, "${local.flow_log_group_arn}:*"]
    }]
  })
}

resource "aws_flow_log" "this" {
  vpc_id                   = aws_vpc.this.id
  traffic_type             = "ALL"
  log_destination_type     = "cloud-watch-logs"
  log_destination          = local.flow_log_group_arn
  iam_role_arn             = local.flow_log_role_arn
  max_aggregation_interval = 60

  tags = merge(var.tags, { Name = "${var.name}-flow-log" })

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role.this, aws_iam_role_policy.this]
}
