cat("Hello, world!\n"
