public class Thrower {
    public static void main(String[] args) {
        throw new IllegalStateException("uncaught: the JVM exits with code 1");
    }
}
