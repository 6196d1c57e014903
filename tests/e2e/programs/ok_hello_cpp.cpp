#include <iostream>
#include <string>

int main() {
    std::string greeting = "Hello, world!";
    std::cout << greeting << '\n';
}
