#include <stdio.h>
#include <sys/ptrace.h>

/* The syscall filter kills the box: RTE, signal 31, "forbidden system call: ptrace". */
int main(void)
{
    ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    puts("still alive");
    return 0;
}
