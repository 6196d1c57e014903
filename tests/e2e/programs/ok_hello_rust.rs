fn main() {
    let who = "world";
    println!("Hello, {who}!");
}
