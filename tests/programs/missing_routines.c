/*
 * Test program (fltsim_add_user_program) that calls two Win32 routines
 * fltsim does not provide and libc's 4-byte wcslen: the loader refuses it
 * before any of it runs, naming all three.
 */
#include <stddef.h>

#include <windows.h>

BOOL WINAPI FltsimFixtureWin32RoutineMissing(DWORD Value);
DWORD WINAPI FltsimFixtureOtherWin32RoutineMissing(void);
/* libc's, for a 4-byte wchar_t (the assembler name is given, so no header
 * mapping can apply). */
SIZE_T LibcWcslen(PCWSTR String) __asm__("wcslen");

int main(int argc, char **argv)
{
    (void)argv;
    if (FltsimFixtureWin32RoutineMissing((DWORD)argc))
        return (int)FltsimFixtureOtherWin32RoutineMissing();
    return (int)LibcWcslen(L"never");
}
