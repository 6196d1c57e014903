IO.puts("Hello, world!"
