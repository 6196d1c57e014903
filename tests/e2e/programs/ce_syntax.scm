(display "Hello, world!"
