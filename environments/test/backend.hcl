bucket       = "lz-test-tfstate-222222222222"
key          = "test/landing-zone.tfstate"
region       = "eu-west-2"
use_lockfile = true
encrypt      = true
