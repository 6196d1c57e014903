#include <stdio.h>

int main(void) {
    long long a, b;  /* a + b may need 33 bits */
    if (scanf("%lld %lld", &a, &b) != 2) return 1;
    printf("%lld\n", a + b);
    return 0;
}
