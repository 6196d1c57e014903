// javac accepts a file with no class at all and writes nothing: there is nothing to run.
