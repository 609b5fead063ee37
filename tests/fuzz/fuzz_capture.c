/*
 * libFuzzer target for the capture readers (issue 6): the input is written
 * to a temporary file and read to the end through fltsim_capture_open(AUTO),
 * so every reader the format guess can pick is exercised (CSV, XML, PML),
 * and then decoded as a Detail string for every operation of the table.
 * Built only with -DFLTSIM_FUZZ=ON (clang); corpus seeds:
 * tests/fixtures/capture/ (CSV, XML) and the sample PML captures the build
 * writes into tests/captures/ (tests/support/pml_sample.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fltsim/capture.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_capture(const uint8_t *data, size_t size)
{
    static char path[64];
    if (path[0] == '\0') {
        snprintf(path, sizeof(path), "/tmp/fuzz_capture_%ld", (long)getpid());
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        abort();
    if (size > 0 && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    char error[700];
    struct fltsim_capture *cap =
        fltsim_capture_open(path, FLTSIM_CAPTURE_AUTO, error, sizeof(error));
    if (cap != NULL) {
        const struct fltsim_capture_event *ev;
        int r;
        uint64_t n = 0;
        while ((r = fltsim_capture_next(cap, &ev)) == 1) {
            /* touch what the event points at */
            if (strlen(ev->operation) + strlen(ev->path) + strlen(ev->detail) +
                    strlen(ev->result_text) + strlen(ev->process_name) ==
                SIZE_MAX)
                abort();
            if ((ev->params.present & FLTSIM_CP_FILE_NAME) && ev->params.file_name == NULL)
                abort();
            if (ev->index != n++)
                abort();
        }
        if (r < 0 && fltsim_capture_error(cap)[0] == '\0')
            abort(); /* an error always says what */
        fltsim_capture_close(cap);
    } else if (error[0] == '\0') {
        abort();
    }
}

static void decode_details(const uint8_t *data, size_t size)
{
    char *detail = malloc(size + 1);
    char *strings = malloc(size + 1);
    if (detail == NULL || strings == NULL)
        abort();
    memcpy(detail, data, size);
    detail[size] = '\0';
    char error[200];
    struct fltsim_capture_params params;
    for (int pml_op = 0; pml_op < 48; pml_op++)
        for (int sub = -1; sub < 80; sub++) {
            const struct fltsim_capture_op *op = fltsim_capture_op_by_code(pml_op, sub);
            if (op == NULL || (sub >= 0 && op->sub != sub) || (sub < 0 && op->sub >= 0))
                continue;
            error[0] = '\0';
            if (!fltsim_capture_detail_parse(op, detail, &params, strings, size + 1, error,
                                             sizeof(error)) &&
                error[0] == '\0')
                abort();
        }
    NTSTATUS status;
    char name[16];
    if (fltsim_capture_status_parse(detail, &status))
        (void)fltsim_capture_status_name(status, name, sizeof(name));
    free(detail);
    free(strings);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_capture(data, size);
    decode_details(data, size);
    return 0;
}
