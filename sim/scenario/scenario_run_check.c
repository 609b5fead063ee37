/*
 * Scenario running, the expectations (scenario_run_internal.h), checked on
 * the runner: a step's (status, returned, information, data, names) once it
 * is seen to finish, and the end of run's (files, handles, verifier reports,
 * the golden trace). A failure is one log line naming the step or the end of
 * run, and is counted in the result; a failed status no injected fault
 * explains is counted for fault exploration too. The run and its trace are
 * scenario_run.c's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <fltsim/faultfs.h>
#include <fltsim/memfs.h>

#include "scenario_run_internal.h"
#include "common/output.h"

/* ------------------------------------------------------------------------- */
/* Expectations (on the runner)                                              */
/* ------------------------------------------------------------------------- */

/* "step 3 'r1' (read)" for messages. */
static const char *step_name(const struct fltsim_scenario *sc, size_t i, char *buf, size_t size)
{
    const struct sc_step *s = &sc->steps[i];
    if (s->id != NULL)
        snprintf(buf, size, "step %zu '%s' (%s)", i + 1, s->id, s->label);
    else
        snprintf(buf, size, "step %zu (%s)", i + 1, s->label);
    return buf;
}

static void expect_fail(struct run *run, size_t i, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void expect_fail(struct run *run, size_t i, const char *what, const char *fmt, ...)
{
    char name[128], detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    fltsim__run_log(run, "%s:%d: %s: %s: %s", run->sc->path, run->sc->steps[i].line,
                    step_name(run->sc, i, name, sizeof(name)), what, detail);
    run->result->expectations_failed++;
}

static void format_bytes(const unsigned char *data, size_t size, char *out, size_t out_size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < size && used + 8 < out_size; i++) {
        unsigned char c = data[i];
        if (c == '"' || c == '\\')
            used += (size_t)snprintf(out + used, out_size - used, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            out[used++] = (char)c, out[used] = '\0';
        else
            used += (size_t)snprintf(out + used, out_size - used, "\\x%02x", c);
    }
    if (used + 8 >= out_size)
        snprintf(out + used, out_size - used, "...");
}

static void check_bytes(struct run *run, size_t i, const char *what, const struct sc_bytes *want,
                        const unsigned char *got, size_t got_size)
{
    run->result->expectations_checked++;
    if (got_size == want->size && (got_size == 0 || memcmp(got, want->data, got_size) == 0))
        return;
    char a[256], b[256];
    format_bytes(want->data, want->size, a, sizeof(a));
    format_bytes(got, got_size, b, sizeof(b));
    expect_fail(run, i, what, "expected \"%s\" (%zu bytes), actual \"%s\" (%zu bytes)", a,
                want->size, b, got_size);
}

/* Whether status is one an extra fault of the run injects (its status, or
 * its kind's default, or for a file-system fault the refusal of a fast-I/O
 * request), or STATUS_INSUFFICIENT_RESOURCES (a failed allocation
 * propagated). */
static bool injected_status(const struct run *run, NTSTATUS status)
{
    if (status == STATUS_INSUFFICIENT_RESOURCES)
        return true;
    for (size_t k = 0; k < run->options->extra_fault_count; k++) {
        const struct fltsim_fault *f = &run->options->extra_faults[k];
        NTSTATUS s = f->status;
        if (s == 0)
            s = f->kind == FLTSIM_FAULT_DEFERRED_QUEUE  ? STATUS_FLT_NOT_SAFE_TO_POST_OPERATION
                : f->kind == FLTSIM_FAULT_GENERIC_QUEUE ? STATUS_FLT_DELETING_OBJECT
                : f->kind == FLTSIM_FAULT_FS            ? STATUS_IO_DEVICE_ERROR
                                                        : STATUS_INSUFFICIENT_RESOURCES;
        if (status == s)
            return true;
        /* A file-system fault on a fast-I/O request declines it (faultfs.h):
         * a fast_only step then sees the refusal. */
        if (f->kind == FLTSIM_FAULT_FS && status == STATUS_FLT_DISALLOW_FAST_IO)
            return true;
    }
    return false;
}

/* A status that differs from the expectation: counted for fault exploration
 * when it is a failure no injected fault explains (scenario.h). */
static void judge_status(struct run *run, size_t i, NTSTATUS want, NTSTATUS got)
{
    if (NT_SUCCESS(got) || injected_status(run, got) || run->steps[i].no_handle ||
        run->steps[i].after_fault)
        return;
    if (run->result->statuses_unexplained++ == 0) {
        char a[48], b[48];
        snprintf(run->result->first_unexplained, sizeof(run->result->first_unexplained),
                 "step %zu (line %d): expected %s, actual %s", i + 1, run->sc->steps[i].line,
                 fltsim_ntstatus_format(want, a, sizeof(a)),
                 fltsim_ntstatus_format(got, b, sizeof(b)));
    }
}

static void check_status(struct run *run, size_t i, const char *what, NTSTATUS want, NTSTATUS got)
{
    run->result->expectations_checked++;
    if (want == got)
        return;
    judge_status(run, i, want, got);
    char a[48], b[48];
    expect_fail(run, i, what, "expected %s, actual %s", fltsim_ntstatus_format(want, a, sizeof(a)),
                fltsim_ntstatus_format(got, b, sizeof(b)));
}

/* The names in a directory-enumeration buffer, each through cb. */
static void check_names(struct run *run, size_t i, const struct sc_step *s, const struct rstep *r)
{
    size_t len_at, name_at;
    switch (s->info_class) {
    case FileFullDirectoryInformation:
        len_at = offsetof(FILE_FULL_DIR_INFORMATION, FileNameLength);
        name_at = offsetof(FILE_FULL_DIR_INFORMATION, FileName);
        break;
    case FileBothDirectoryInformation:
        len_at = offsetof(FILE_BOTH_DIR_INFORMATION, FileNameLength);
        name_at = offsetof(FILE_BOTH_DIR_INFORMATION, FileName);
        break;
    case FileNamesInformation:
        len_at = offsetof(FILE_NAMES_INFORMATION, FileNameLength);
        name_at = offsetof(FILE_NAMES_INFORMATION, FileName);
        break;
    case FileIdBothDirectoryInformation:
        len_at = offsetof(FILE_ID_BOTH_DIR_INFORMATION, FileNameLength);
        name_at = offsetof(FILE_ID_BOTH_DIR_INFORMATION, FileName);
        break;
    case FileIdFullDirectoryInformation:
        len_at = offsetof(FILE_ID_FULL_DIR_INFORMATION, FileNameLength);
        name_at = offsetof(FILE_ID_FULL_DIR_INFORMATION, FileName);
        break;
    default:
        len_at = offsetof(FILE_DIRECTORY_INFORMATION, FileNameLength);
        name_at = offsetof(FILE_DIRECTORY_INFORMATION, FileName);
        break;
    }
    char got[2048] = "", want[2048] = "";
    size_t used = 0, count = 0;
    bool malformed = false;
    if (NT_SUCCESS(r->status)) {
        size_t at = 0, end = r->information <= s->length ? r->information : s->length;
        while (at + name_at <= end) {
            ULONG next, name_len;
            memcpy(&next, r->buffer + at, sizeof(next));
            memcpy(&name_len, r->buffer + at + len_at, sizeof(name_len));
            if (at + name_at + name_len > end) {
                malformed = true;
                break;
            }
            WCHAR wname[260];
            size_t units = name_len / sizeof(WCHAR);
            if (units > 259)
                units = 259;
            memcpy(wname, r->buffer + at + name_at, units * sizeof(WCHAR));
            char name[800];
            fltsim_utf16_to_utf8(wname, units, name, sizeof(name));
            if (used < sizeof(got))
                used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s", count ? ", " : "",
                                         name);
            count++;
            if (next == 0)
                break;
            at += next;
        }
    }
    used = 0;
    for (size_t k = 0; k < s->expect.name_count && used < sizeof(want); k++)
        used += (size_t)snprintf(want + used, sizeof(want) - used, "%s%s", k ? ", " : "",
                                 s->expect.names[k]);
    run->result->expectations_checked++;
    if (malformed || strcmp(got, want) != 0)
        expect_fail(run, i, "names", "expected [%s], actual [%s]%s", want, got,
                    malformed ? " (malformed buffer)" : "");
}

static void check_step(struct run *run, size_t i)
{
    const struct sc_step *s = &run->sc->steps[i];
    struct rstep *r = &run->steps[i];
    const struct sc_step_expect *e = &s->expect;
    r->checked = true;
    if (s->kind == SC_STEP_WAIT || s->kind == SC_STEP_NOTE || s->kind == SC_STEP_FLTMC)
        return;
    if (!e->any) {
        run->result->expectations_checked++;
        if (!NT_SUCCESS(r->status)) {
            char b[48];
            judge_status(run, i, STATUS_SUCCESS, r->status);
            expect_fail(run, i, "status", "expected success, actual %s",
                        fltsim_ntstatus_format(r->status, b, sizeof(b)));
        }
        return;
    }
    if (e->has_status)
        check_status(run, i, "status", e->status, r->status);
    if (e->has_returned)
        check_status(run, i, "returned", e->returned, r->returned);
    if (e->has_information) {
        run->result->expectations_checked++;
        if ((ULONG64)r->information != e->information)
            expect_fail(run, i, "information", "expected %llu, actual %llu",
                        (unsigned long long)e->information, (unsigned long long)r->information);
    }
    if (e->has_granted) {
        run->result->expectations_checked++;
        if ((ULONG64)r->information != e->granted)
            expect_fail(run, i, "granted", "expected 0x%lx, actual 0x%lx",
                        (unsigned long)e->granted, (unsigned long)r->information);
    }
    if (e->data.set) {
        size_t got = r->information <= s->length ? r->information : s->length;
        check_bytes(run, i, "data", &e->data, r->buffer, NT_SUCCESS(r->status) ? got : 0);
    }
    if (e->has_names)
        check_names(run, i, s, r);
}

/* Waits for a handed step to finish and checks it (once). */
void fltsim__run_finish_step(struct run *run, size_t i)
{
    struct rstep *r = &run->steps[i];
    if (!r->handed || r->checked)
        return;
    KeWaitForSingleObject(&r->done, Executive, KernelMode, FALSE, NULL);
    check_step(run, i);
}

void fltsim__run_finish_all(struct run *run, size_t upto)
{
    for (size_t i = 0; i < upto; i++)
        fltsim__run_finish_step(run, i);
}

/* ------------------------------------------------------------------------- */
/* End of run                                                                */
/* ------------------------------------------------------------------------- */

static void end_fail(struct run *run, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void end_fail(struct run *run, int line, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    if (line > 0)
        fltsim__run_log(run, "%s:%d: end of run: %s", run->sc->path, line, detail);
    else
        fltsim__run_log(run, "%s: end of run: %s", run->sc->path, detail);
    run->result->expectations_failed++;
}

/* Reads a file of a hostfs volume from the host (the expectation is about
 * what the file system left, read without going through filters). */
static bool read_host_file(const char *root, PCWSTR path, unsigned char **data, size_t *size,
                           bool *exists)
{
    char rel[1024], full[2048];
    fltsim_utf16_to_utf8(path, fltsim_wcslen(path), rel, sizeof(rel));
    for (char *p = rel; *p != '\0'; p++)
        if (*p == '\\')
            *p = '/';
    snprintf(full, sizeof(full), "%s%s", root, rel);
    FILE *f = fopen(full, "rb");
    *exists = f != NULL;
    *data = NULL;
    *size = 0;
    if (f == NULL)
        return errno == ENOENT || errno == ENOTDIR;
    size_t cap = 4096;
    *data = malloc(cap);
    bool ok = *data != NULL;
    while (ok) {
        if (*size == cap) {
            unsigned char *p = realloc(*data, cap * 2);
            if (p == NULL) {
                ok = false;
                break;
            }
            *data = p;
            cap *= 2;
        }
        size_t n = fread(*data + *size, 1, cap - *size, f);
        *size += n;
        if (n == 0)
            break;
    }
    fclose(f);
    return ok;
}

void fltsim__run_check_end_files(struct run *run)
{
    const struct sc_end_expect *e = &run->sc->expect;
    for (size_t i = 0; i < e->file_count; i++) {
        const struct sc_end_file *ef = &e->files[i];
        const struct sc_volume *v = &run->sc->volumes[ef->volume];
        unsigned char *data = NULL;
        size_t size = 0;
        bool exists = false;
        run->result->expectations_checked++;
        if (v->fs == SC_FS_HOSTFS) {
            if (!read_host_file(v->root, ef->path, &data, &size, &exists)) {
                end_fail(run, ef->line, "%s cannot be read from the host", ef->display);
                free(data);
                continue;
            }
        } else {
            PFLT_VOLUME volume = fltsim__run_find_volume(run, ef->volume);
            /* Scenario volumes are memfs behind faultfs (mount_wrapped). */
            struct fltsim_memfs *fs =
                volume ? fltsim_faultfs_inner(fltsim_volume_fs(volume)) : NULL;
            struct fltsim_memfs_stat st;
            if (fs != NULL && NT_SUCCESS(fltsim_memfs_stat(fs, ef->path, &st)) && st.exists &&
                !st.delete_pending) {
                exists = true;
                size = (size_t)st.size;
                data = malloc(size ? size : 1);
                size_t got = 0;
                if (data == NULL || (!st.directory && !NT_SUCCESS(fltsim_memfs_read_file(
                                                          fs, ef->path, data, size, &got)))) {
                    end_fail(run, ef->line, "%s cannot be read from memfs", ef->display);
                    free(data);
                    continue;
                }
                size = got;
            }
        }
        if (ef->exists != exists) {
            end_fail(run, ef->line, "%s: expected it to %s, but it %s", ef->display,
                     ef->exists ? "exist" : "be absent", exists ? "exists" : "does not exist");
        } else if (ef->data.set &&
                   (size != ef->data.size || (size && memcmp(data, ef->data.data, size) != 0))) {
            char a[256], b[256];
            format_bytes(ef->data.data, ef->data.size, a, sizeof(a));
            format_bytes(data, size, b, sizeof(b));
            end_fail(run, ef->line, "%s: expected \"%s\" (%zu bytes), actual \"%s\" (%zu bytes)",
                     ef->display, a, ef->data.size, b, size);
        }
        free(data);
    }
}

/* The handles left open at the end, when the scenario expects a count. */
void fltsim__run_check_handles(struct run *run)
{
    const struct sc_end_expect *e = &run->sc->expect;
    if (!e->has_handles)
        return;
    ULONG open = fltsim_io_handle_count(run->sys);
    run->result->expectations_checked++;
    if (open != e->handles)
        end_fail(run, 0, "handles: expected %lu open, actual %lu", (unsigned long)e->handles,
                 (unsigned long)open);
}

/* For fault exploration: the reports beyond the expected ones, counted
 * whether or not the run could be carried out. */
void fltsim__run_count_unexpected_reports(struct run *run)
{
    const struct sc_end_expect *e = &run->sc->expect;
    /* Unexpected: the reports left once each expected one has matched one. */
    bool matched_expected[64] = {false};
    for (size_t i = 0; i < run->report_count; i++) {
        bool matched = false;
        for (size_t k = 0; !matched && k < e->report_count && k < 64; k++) {
            if (!matched_expected[k] && strcmp(run->reports[i], e->reports[k]) == 0)
                matched_expected[k] = matched = true;
        }
        if (!matched && run->result->reports_unexpected++ == 0)
            snprintf(run->result->first_unexpected_report,
                     sizeof(run->result->first_unexpected_report), "%s", run->reports[i]);
    }
}

void fltsim__run_check_reports(struct run *run)
{
    const struct sc_end_expect *e = &run->sc->expect;
    run->result->reports = (ULONG)run->report_count;
    bool compare = e->has_reports || run->verifier == FLTSIM_VERIFIER_STRICT;
    if (!compare)
        return;
    run->result->expectations_checked++;
    bool same = run->report_count == e->report_count;
    for (size_t i = 0; same && i < e->report_count; i++)
        same = strcmp(run->reports[i], e->reports[i]) == 0;
    if (same)
        return;
    char want[512] = "", got[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < e->report_count && used < sizeof(want); i++)
        used += (size_t)snprintf(want + used, sizeof(want) - used, "%s%s", i ? ", " : "",
                                 e->reports[i]);
    used = 0;
    for (size_t i = 0; i < run->report_count && used < sizeof(got); i++)
        used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s", i ? ", " : "",
                                 run->reports[i]);
    end_fail(run, 0, "verifier reports: expected [%s], actual [%s]", want, got);
}

/* The golden file's bytes (*size of them; the caller frees), read to its end
 * but never past SC_GOLDEN_MAX_BYTES: the loader refused a file that was not
 * regular or was larger, and it may have changed since. NULL after logging. */
static char *read_golden(struct run *run, FILE *f, const char *path, size_t *size)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fltsim__run_log(run,
                        "%s: golden trace %s is not a regular file; expected a file that "
                        "--update-golden writes",
                        run->sc->path, path);
        return NULL;
    }
    size_t cap = st.st_size > 0 && (unsigned long long)st.st_size < SC_GOLDEN_MAX_BYTES
                     ? (size_t)st.st_size + 1
                     : 4096;
    char *buf = malloc(cap);
    size_t used = 0, got;
    while (buf != NULL && (got = fread(buf + used, 1, cap - used, f)) > 0) {
        used += got;
        if (used > SC_GOLDEN_MAX_BYTES) {
            fltsim__run_log(run,
                            "%s: golden trace %s is larger than %u MiB; expected a file "
                            "that --update-golden writes",
                            run->sc->path, path, SC_GOLDEN_MAX_BYTES >> 20);
            free(buf);
            return NULL;
        }
        if (used == cap) {
            size_t more = cap * 2 > SC_GOLDEN_MAX_BYTES + 1 ? SC_GOLDEN_MAX_BYTES + 1 : cap * 2;
            char *grown = realloc(buf, more);
            if (grown == NULL)
                free(buf);
            buf = grown;
            cap = more;
        }
    }
    if (buf == NULL || ferror(f)) {
        fltsim__run_log(run, "%s: golden trace %s cannot be read: %s", run->sc->path, path,
                        buf == NULL ? "out of memory" : strerror(errno));
        free(buf);
        return NULL;
    }
    *size = used;
    return buf;
}

/* Compares the normalized trace with the golden file, or rewrites it. */
void fltsim__run_check_golden(struct run *run, const struct fltsim_scenario_run_options *options)
{
    const char *path = run->sc->golden;
    if (options->update_golden) {
        /* Whole or not at all: a temporary file renamed onto the golden
         * trace, so a failed write leaves the old one as it was. */
        struct fltsim__output out;
        int err = fltsim__output_open(&out, path);
        if (err == 0) {
            fwrite(run->golden_text, 1, run->golden_size, out.stream);
            err = fltsim__output_commit(&out);
        }
        if (err != 0) {
            fltsim__run_log(run, "%s: golden trace %s cannot be written: %s; it is left as it was",
                            run->sc->path, path, strerror(err));
            run->result->error = true;
        }
        run->result->golden_checked = !run->result->error;
        return;
    }
    run->result->golden_checked = true;
    run->result->expectations_checked++;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fltsim__run_log(run,
                        "%s: golden trace %s cannot be read (%s); expected it to exist (write it "
                        "with --update-golden)",
                        run->sc->path, path, strerror(errno));
        run->result->golden_mismatch = true;
        run->result->expectations_failed++;
        return;
    }
    size_t gsize;
    char *golden = read_golden(run, f, path, &gsize);
    fclose(f);
    if (golden == NULL) {
        run->result->error = true;
        return;
    }
    const char *actual = run->golden_text, *actual_end = actual + run->golden_size;
    const char *want = golden, *want_end = golden + gsize;
    size_t lineno = 0;
    bool differ = false;
    while (!differ && (actual < actual_end || want < want_end)) {
        lineno++;
        const char *anl =
            actual < actual_end ? memchr(actual, '\n', (size_t)(actual_end - actual)) : NULL;
        const char *gnl = want < want_end ? memchr(want, '\n', (size_t)(want_end - want)) : NULL;
        size_t alen = (size_t)((anl ? anl : actual_end) - actual);
        size_t glen = (size_t)((gnl ? gnl : want_end) - want);
        if (want >= want_end) {
            fltsim__run_log(run,
                            "%s:%zu: golden trace ends here; actual trace goes on with \"%.*s\"",
                            path, lineno, (int)alen, actual);
            differ = true;
        } else if (actual >= actual_end) {
            fltsim__run_log(run, "%s:%zu: golden trace has \"%.*s\"; actual trace ends before it",
                            path, lineno, (int)glen, want);
            differ = true;
        } else if (glen != alen || memcmp(want, actual, alen) != 0) {
            fltsim__run_log(run,
                            "%s:%zu: golden trace differs:\n  expected: %.*s\n  actual:   %.*s",
                            path, lineno, (int)glen, want, (int)alen, actual);
            differ = true;
        }
        actual = anl ? anl + 1 : actual_end;
        want = gnl ? gnl + 1 : want_end;
    }
    free(golden);
    if (differ) {
        run->result->golden_mismatch = true;
        run->result->expectations_failed++;
    }
}
