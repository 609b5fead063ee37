/*
 * Test program (fltsim_add_user_program): prints a line, then writes through
 * a NULL pointer. A user program runs inside fltsim's process, so this is a
 * crash of the run; the crash report must name the program, not blame a
 * filter or fltsim (tests/scenarios/programs/crash.yaml.in).
 */
#include <windows.h>

static volatile int *volatile nowhere;

int main(int argc, char **argv)
{
    (void)argc;
    printf("%s: about to crash\n", argv[0]);
    *nowhere = 1;
    return 0;
}
