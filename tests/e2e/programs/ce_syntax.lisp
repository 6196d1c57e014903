(write-line "Hello, world!"
