/*
 * Writes the test support's sample PML capture (pml_sample.c) into a folder:
 * sample-x86.pml, sample-x64.pml and sample-x64.pml.gz, the captures the
 * replay ctest entries and the fuzzer's seed corpus use from a fresh clone.
 * usage: make_captures DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pml_writer.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: make_captures DIR\n", stderr);
        return 2;
    }
    static const struct {
        const char *name;
        bool is64, gz;
    } files[] = {
        {"sample-x86.pml", false, false},
        {"sample-x64.pml", true, false},
        {"sample-x64.pml.gz", true, true},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", argv[1], files[i].name);
        size_t size;
        unsigned char *data = pml_sample(files[i].is64, &size);
        bool ok = pml_save(path, data, size, files[i].gz);
        free(data);
        if (!ok) {
            fprintf(stderr, "make_captures: %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    return 0;
}
