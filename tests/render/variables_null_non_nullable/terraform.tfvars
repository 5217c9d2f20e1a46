v = null
w = null
n = null
