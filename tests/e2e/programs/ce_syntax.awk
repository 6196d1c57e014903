BEGIN { print "Hello, world!" 
