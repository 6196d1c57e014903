println("Hello, world!"
