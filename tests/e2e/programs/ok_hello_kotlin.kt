// @file:JvmName renames the class that holds main (HelloKt -> Greeter): the run must not guess
// class names, it asks the jar's manifest, which kotlinc wrote.
@file:JvmName("Greeter")

object Decoy {
    fun main() = println("not this one")
}

class Helper(private val name: String) {
    fun greeting() = "Hello, $name!"
}

fun main() {
    println(Helper("world").greeting())
}
