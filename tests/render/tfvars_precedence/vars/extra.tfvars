from_var_file = "vars/extra.tfvars"
from_cli      = "vars/extra.tfvars"
settings = {
  size = 10
  tags = {
    owner = "var-file"
    cost  = "shared"
  }
}
