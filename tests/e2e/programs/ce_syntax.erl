main(_) -> io:format("Hello, world!~n")
