/*
 * Test library (an ordinary shared library) that defines main: the library
 * main_elsewhere.c links, so that a dlsym of "main" on that object's handle
 * finds this one, which the loader must not start.
 */
int main(int argc, char **argv);
int main(int argc, char **argv)
{
    (void)argv;
    return argc;
}

int MainHelperValue(void);
int MainHelperValue(void)
{
    return 42;
}
