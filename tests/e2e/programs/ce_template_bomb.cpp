// Every level doubles the parameter pack: 2^30 types. The compile box's memory limit ends it.
template <int N, class... T> struct X : X<N - 1, T..., T...> {};
template <class... T> struct X<0, T...> {};

int main() {
    X<30, int> x;
    (void)x;
}
