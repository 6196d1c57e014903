(println "Hello, world!"
