// Not Main: the public class decides the file name (Hello.java), and `java Hello` runs it.
// A decoy in a comment: public class Main {}
import java.util.ArrayList;

class Helper {
    public class Inner {}  /* nested, so not the file's class */
    static String greeting() { return "Hello, world!"; }
}

public final class Hello {
    static final String DECOY = "public class Decoy {";

    public static void main(String[] args) {
        ArrayList<String> out = new ArrayList<>();
        out.add(Helper.greeting());
        System.out.println(String.join("", out));
    }
}
