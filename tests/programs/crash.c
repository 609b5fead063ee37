/*
 * Test program (fltsim_add_user_program): prints a line, then writes through
 * a NULL pointer. A user program runs inside fltsim's process, so this is a
 * crash of the run; the crash report must name the program, not blame a
 * filter or fltsim (tests/scenarios/programs/crash.yaml.in).
 */
#include <windows.h>

int main(int argc, char **argv)
{
    (void)argc;
    printf("%s: about to crash\n", argv[0]);
    /* Not NULL itself, so that UBSan lets the store fault; through a
     * volatile so that the optimizer cannot see the address. */
    static volatile ULONG_PTR nowhere_address = 16;
    volatile int *nowhere = (volatile int *)nowhere_address;
    *nowhere = 1;
    return 0;
}
