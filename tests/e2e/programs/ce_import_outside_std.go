package main

// Not in the standard library: no module cache and no network in the box, so CE.
import "github.com/example/nothere"

func main() {
	nothere.Run()
}
