/*
 * Test program (fltsim_add_user_program) with wmain: its arguments arrive as
 * 16-bit WCHAR strings, printed back with %ws; it exits with their count.
 */
#include <windows.h>

/* No header declares wmain (nor main); -Wmissing-prototypes wants one. */
int wmain(int argc, WCHAR **argv);
int wmain(int argc, WCHAR **argv)
{
    for (int i = 1; i < argc; i++)
        printf("wide arg %d: %ws\n", i, argv[i]);
    return argc - 1;
}
