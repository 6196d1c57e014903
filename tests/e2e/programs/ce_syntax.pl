print "Hello, world!\n"
print 1;
