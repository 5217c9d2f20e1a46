# The region is checked where it is set.
region = "us-east-1"
