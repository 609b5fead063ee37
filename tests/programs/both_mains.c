/*
 * Test program (fltsim_add_user_program) that defines both main and wmain:
 * the loader cannot tell which one starts it and refuses it.
 */
#include <windows.h>

int main(int argc, char **argv)
{
    (void)argv;
    return argc;
}

/* No header declares wmain (nor main); -Wmissing-prototypes wants one. */
int wmain(int argc, WCHAR **argv);
int wmain(int argc, WCHAR **argv)
{
    (void)argv;
    return argc;
}
