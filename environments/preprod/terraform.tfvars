environment = "preprod"
account_id  = "444444444444"
region      = "eu-west-2"

vpc_cidr = "10.40.0.0/16"
azs      = ["eu-west-2a", "eu-west-2b", "eu-west-2c"]

log_archive_retention_days  = 2190
log_retention_days          = 2192
kms_deletion_window_in_days = 30

services = {
  order-gateway = {
    tier         = "ingress"
    port         = 443
    replicas     = 3
    public       = true
    egress_ports = [8443]
    secrets      = ["tls-certificate"]
  }
  matching-engine = {
    tier         = "trading"
    port         = 8443
    replicas     = 4
    from_tiers   = ["ingress"]
    egress_ports = [443, 5432, 8443]
    secrets      = ["fix-session-credentials"]
  }
  market-data = {
    tier         = "trading"
    port         = 8443
    replicas     = 2
    from_tiers   = ["trading"]
    egress_ports = [443]
    secrets      = ["feed-api-key"]
  }
  position-store = {
    tier         = "data"
    port         = 5432
    replicas     = 3
    from_tiers   = ["trading"]
    egress_ports = [443]
    secrets      = ["db-credentials"]
  }
}
