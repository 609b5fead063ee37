/*
 * Test program (fltsim_add_user_program) that defines neither main nor
 * wmain: the loader refuses it, naming the object.
 */
#include <windows.h>

int ProgramWithoutMain(int argc, char **argv);
int ProgramWithoutMain(int argc, char **argv)
{
    (void)argv;
    printf("never run\n");
    return argc;
}
