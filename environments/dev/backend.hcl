bucket       = "lz-dev-tfstate-111111111111"
key          = "dev/landing-zone.tfstate"
region       = "eu-west-2"
use_lockfile = true
encrypt      = true
