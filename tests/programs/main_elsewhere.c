/*
 * Test program (fltsim_add_user_program) with no main of its own that links a
 * library defining one (main_helper.c); its section headers are removed after
 * the link (tests/CMakeLists.txt), so the loader can only dlopen it: the main
 * dlsym then gives is the library's, which the loader refuses.
 */
#include <windows.h>

int MainHelperValue(void);
int ProgramWithoutItsOwnMain(void);
int ProgramWithoutItsOwnMain(void)
{
    return MainHelperValue();
}
