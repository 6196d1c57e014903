section .text
global _start
_start:
    mov rax,
