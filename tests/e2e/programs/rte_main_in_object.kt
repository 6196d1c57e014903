// kotlinc records a main class in the jar only for a top-level `fun main`; a main inside an
// object is not found, and `java -jar` fails: RTE, "no main manifest attribute".
object Main {
    @JvmStatic
    fun main(args: Array<String>) {
        println("never run")
    }
}
