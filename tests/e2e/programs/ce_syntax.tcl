if {1} {
    puts "Hello, world!"
