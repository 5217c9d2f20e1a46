ports = [80, "https"]
