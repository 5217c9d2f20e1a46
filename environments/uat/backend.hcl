bucket       = "lz-uat-tfstate-333333333333"
key          = "uat/landing-zone.tfstate"
region       = "eu-west-2"
use_lockfile = true
encrypt      = true
