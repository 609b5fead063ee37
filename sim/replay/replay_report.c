/*
 * The replay's report (fltsim/replay.h): the rows counted as they are
 * replayed or skipped, by operation, by skip reason and by divergence (an
 * operation whose simulated status is not its recorded Result, with its
 * first rows as examples), sorted at the end, printed and freed. What a row
 * is and whether it matched is decided by the other parts; this file only
 * counts what it is told.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay_internal.h"

/* Counts by name, in a map (names are copied): adds rows rows, of which
 * matched matched. False when out of memory (nothing added). */
static bool count_add(struct smap *index, struct fltsim_replay_count **items, size_t *n,
                      size_t *cap, const char *name, uint64_t rows, uint64_t matched)
{
    size_t i = fltsim__replay_smap_get(index, name);
    if (i == SIZE_MAX) {
        if (*n == *cap) {
            size_t c = *cap == 0 ? 16 : *cap * 2;
            struct fltsim_replay_count *p = realloc(*items, c * sizeof(*p));
            if (p == NULL)
                return false;
            *items = p;
            *cap = c;
        }
        char *copy = strdup(name);
        if (copy == NULL || !fltsim__replay_smap_put(index, name, *n)) {
            free(copy);
            return false;
        }
        (*items)[*n] = (struct fltsim_replay_count){copy, 0, 0};
        i = (*n)++;
    }
    (*items)[i].count += rows;
    (*items)[i].matched += matched;
    return true;
}

/* A namespace remark: listed with the skip reasons, not a row. */
void fltsim__replay_note(struct replay *rp, const char *reason)
{
    if (!count_add(&rp->skip_index, &rp->report->skips, &rp->report->skip_count, &rp->skip_cap,
                   reason, 1, 0))
        fltsim__replay_fail(rp, "out of memory");
}

/* count rows not replayed for reason. */
void fltsim__replay_skip_rows(struct replay *rp, const char *reason, uint64_t count)
{
    rp->report->skipped += count;
    if (!count_add(&rp->skip_index, &rp->report->skips, &rp->report->skip_count, &rp->skip_cap,
                   reason, count, 0))
        fltsim__replay_fail(rp, "out of memory");
}

void fltsim__replay_skip(struct replay *rp, const char *reason)
{
    fltsim__replay_skip_rows(rp, reason, 1);
}

void fltsim__replay_record_result(struct replay *rp, const struct fltsim_capture_event *ev,
                                  NTSTATUS simulated)
{
    struct fltsim_replay_report *r = rp->report;
    bool match = simulated == ev->result;
    r->replayed++;
    if (match)
        r->matched++;
    if (!count_add(&rp->op_index, &r->operations, &r->operation_count, &rp->op_cap, ev->operation,
                   1, match)) {
        fltsim__replay_fail(rp, "out of memory");
        return;
    }
    if (match)
        return;
    char key[256];
    snprintf(key, sizeof(key), "%s|%08X|%08X", ev->operation, (unsigned)ev->result,
             (unsigned)simulated);
    size_t i = fltsim__replay_smap_get(&rp->div_index, key);
    if (i == SIZE_MAX) {
        if (r->divergence_count == rp->div_cap) {
            size_t c = rp->div_cap == 0 ? 16 : rp->div_cap * 2;
            struct fltsim_replay_divergence *p = realloc(r->divergences, c * sizeof(*p));
            if (p == NULL) {
                fltsim__replay_fail(rp, "out of memory");
                return;
            }
            r->divergences = p;
            rp->div_cap = c;
        }
        struct fltsim_replay_divergence *d = &r->divergences[r->divergence_count];
        memset(d, 0, sizeof(*d));
        d->operation = strdup(ev->operation);
        d->recorded = ev->result;
        d->simulated = simulated;
        d->examples = calloc(rp->options->max_examples != 0 ? rp->options->max_examples : 3,
                             sizeof(*d->examples));
        if (d->operation == NULL || d->examples == NULL ||
            !fltsim__replay_smap_put(&rp->div_index, key, r->divergence_count)) {
            free(d->operation);
            free(d->examples);
            fltsim__replay_fail(rp, "out of memory");
            return;
        }
        i = r->divergence_count++;
    }
    struct fltsim_replay_divergence *d = &r->divergences[i];
    d->count++;
    size_t max = rp->options->max_examples != 0 ? rp->options->max_examples : 3;
    if (d->example_count < max) {
        struct fltsim_replay_example *x = &d->examples[d->example_count];
        x->index = ev->index;
        x->line = ev->line;
        x->path = strdup(ev->path);
        if (x->path != NULL)
            d->example_count++;
    }
}

static int by_count(const void *a, const void *b)
{
    const struct fltsim_replay_count *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->name, y->name);
}

static int by_divergence(const void *a, const void *b)
{
    const struct fltsim_replay_divergence *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->operation, y->operation);
}

void fltsim__replay_report_sort(struct fltsim_replay_report *report)
{
    if (report->skip_count > 0)
        qsort(report->skips, report->skip_count, sizeof(report->skips[0]), by_count);
    if (report->operation_count > 0)
        qsort(report->operations, report->operation_count, sizeof(report->operations[0]),
              by_count);
    if (report->divergence_count > 0)
        qsort(report->divergences, report->divergence_count, sizeof(report->divergences[0]),
              by_divergence);
}

void fltsim_replay_report_free(struct fltsim_replay_report *report)
{
    for (size_t i = 0; i < report->skip_count; i++)
        free(report->skips[i].name);
    for (size_t i = 0; i < report->operation_count; i++)
        free(report->operations[i].name);
    for (size_t i = 0; i < report->divergence_count; i++) {
        struct fltsim_replay_divergence *d = &report->divergences[i];
        for (size_t j = 0; j < d->example_count; j++)
            free(d->examples[j].path);
        free(d->examples);
        free(d->operation);
    }
    free(report->skips);
    free(report->operations);
    free(report->divergences);
    memset(report, 0, sizeof(*report));
}

static double pct(uint64_t a, uint64_t b)
{
    return b == 0 ? 0.0 : 100.0 * (double)a / (double)b;
}

void fltsim_replay_report_print(const struct fltsim_replay_report *r, const char *path, FILE *out)
{
    char b1[48], b2[48];
    fprintf(out, "replay of %s\n", path);
    fprintf(out, "  rows read            %llu\n", (unsigned long long)r->rows);
    fprintf(out, "  file-system rows     %llu\n", (unsigned long long)r->fs_rows);
    fprintf(out, "  replayed             %llu (%.1f%% of file-system rows)\n",
            (unsigned long long)r->replayed, pct(r->replayed, r->fs_rows));
    fprintf(out, "  status as recorded   %llu  fidelity %.1f%%\n", (unsigned long long)r->matched,
            pct(r->matched, r->replayed));
    fprintf(out, "  skipped              %llu\n", (unsigned long long)r->skipped);
    fprintf(out, "  namespace            %llu files, %llu directories; %llu implied opens\n",
            (unsigned long long)r->namespace_files, (unsigned long long)r->namespace_dirs,
            (unsigned long long)r->implied_opens);
    fprintf(out, "  verifier reports     %u\n", (unsigned)r->reports);
    if (r->operation_count > 0) {
        fprintf(out, "\nreplayed by operation (rows, status as recorded):\n");
        for (size_t i = 0; i < r->operation_count; i++)
            fprintf(out, "  %-40s %8llu %8llu  %5.1f%%\n", r->operations[i].name,
                    (unsigned long long)r->operations[i].count,
                    (unsigned long long)r->operations[i].matched,
                    pct(r->operations[i].matched, r->operations[i].count));
    }
    if (r->skip_count > 0) {
        fprintf(out, "\nskipped by reason:\n");
        for (size_t i = 0; i < r->skip_count; i++)
            fprintf(out, "  %8llu  %s\n", (unsigned long long)r->skips[i].count,
                    r->skips[i].name);
    }
    if (r->divergence_count > 0) {
        fprintf(out, "\ndivergences (operation: recorded -> simulated, rows, first examples):\n");
        for (size_t i = 0; i < r->divergence_count; i++) {
            const struct fltsim_replay_divergence *d = &r->divergences[i];
            fprintf(out, "  %s: %s -> %s  %llu\n", d->operation,
                    fltsim_capture_status_name(d->recorded, b1, sizeof(b1)),
                    fltsim_capture_status_name(d->simulated, b2, sizeof(b2)),
                    (unsigned long long)d->count);
            for (size_t j = 0; j < d->example_count; j++) {
                if (d->examples[j].line != 0)
                    fprintf(out, "      row %llu (line %llu) %s\n",
                            (unsigned long long)d->examples[j].index + 1,
                            (unsigned long long)d->examples[j].line, d->examples[j].path);
                else
                    fprintf(out, "      event %llu %s\n",
                            (unsigned long long)d->examples[j].index, d->examples[j].path);
            }
        }
    }
}
