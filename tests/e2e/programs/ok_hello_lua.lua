local greeting = string.format("%s, %s!", "Hello", "world")
print(greeting)
