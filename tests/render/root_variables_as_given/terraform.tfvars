obj           = { a = 1, d = [{}], extra = "dropped" }
num_as_string = 5
items         = [{}, { k = "v" }]
