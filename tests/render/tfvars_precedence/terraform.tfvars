from_tfvars      = "terraform.tfvars"
from_tfvars_json = "terraform.tfvars"
from_auto_a      = "terraform.tfvars"
from_auto_b      = "terraform.tfvars"
from_var_file    = "terraform.tfvars"
from_cli         = "terraform.tfvars"
required_number  = 1
settings = {
  size = "2"
  tags = { owner = "platform" }
}
