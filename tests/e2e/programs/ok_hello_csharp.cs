using System;
using System.Numerics;  // referenced by the recipe: mcs leaves it out by default

class Hello {
    static void Main() {
        BigInteger n = BigInteger.Pow(2, 70);
        Console.WriteLine(n > long.MaxValue ? "Hello, world!" : "BigInteger is wrong");
    }
}
