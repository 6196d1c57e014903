echo("Hello, world!"
