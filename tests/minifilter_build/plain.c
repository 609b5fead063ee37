/* A target of the project's own that links nothing of fltsim's: its compile
 * command must carry none of fltsim's settings (run.cmake). */
int main(void)
{
    return 0;
}
