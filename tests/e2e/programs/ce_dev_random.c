/* The preprocessor reads an endless device: the compile box's limits must stop it. */
#include "/dev/random"

int main(void) { return 0; }
