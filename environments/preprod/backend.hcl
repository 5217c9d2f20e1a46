bucket       = "lz-preprod-tfstate-444444444444"
key          = "preprod/landing-zone.tfstate"
region       = "eu-west-2"
use_lockfile = true
encrypt      = true
