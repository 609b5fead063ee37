/*
 * Test program (fltsim_add_user_program): prints its arguments, then echoes
 * each line typed at its console until "quit" or end of input, and exits
 * with 10 plus the number of lines it echoed. Loaded from its shared object
 * by the scenarios of tests/scenarios/programs.
 */
#include <windows.h>

int main(int argc, char **argv)
{
    printf("%s: %d argument(s)\n", argv[0], argc - 1);
    for (int i = 1; i < argc; i++)
        printf("arg %d: %s\n", i, argv[i]);
    printf("process %lu ready\n", GetCurrentProcessId());
    char line[128];
    int lines = 0;
    while (fgets(line, sizeof(line), stdin) != NULL) {
        if (strcmp(line, "quit\n") == 0)
            break;
        printf("echo: %s", line);
        lines++;
    }
    printf("bye\n");
    return 10 + lines;
}
