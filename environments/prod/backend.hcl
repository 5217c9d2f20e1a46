bucket       = "lz-prod-tfstate-555555555555"
key          = "prod/landing-zone.tfstate"
region       = "eu-west-2"
use_lockfile = true
encrypt      = true
