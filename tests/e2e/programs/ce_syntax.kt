fun main() {
    val x =
}
