/*
 * Scenario loading, the expectations (scenario_load_internal.h): a step's
 * expect: (status, the status an async call returned, information, the data
 * a read returned, the names a directory query listed) and the top-level
 * expect: (what the files hold at the end, the verifier reports, the handles
 * left open). Checking them during and after a run is scenario_run_check.c's.
 */
#include <string.h>

#include "scenario_load_internal.h"

static const struct name_value information_names[] = {{"FILE_SUPERSEDED", FILE_SUPERSEDED},
                                                      {"FILE_OPENED", FILE_OPENED},
                                                      {"FILE_CREATED", FILE_CREATED},
                                                      {"FILE_OVERWRITTEN", FILE_OVERWRITTEN},
                                                      {"FILE_EXISTS", FILE_EXISTS},
                                                      {"FILE_DOES_NOT_EXIST", FILE_DOES_NOT_EXIST},
                                                      {NULL, 0}};

bool fltsim__ld_load_step_expect(struct ld *ld, yaml_node_t *node, struct sc_step *s)
{
    static const char *const keys[] = {"status", "returned", "information", "data",
                                       "hex",    "names",    NULL};
    struct sc_step_expect *e = &s->expect;
    yaml_node_t *n;
    if (!fltsim__ld_want_mapping(ld, node, "'expect'") ||
        !fltsim__ld_check_keys(ld, node, "a step's expect", keys))
        return false;
    e->any = true;
    if ((n = fltsim__ld_get(ld, node, "status")) != NULL) {
        if (!fltsim__ld_get_status(ld, n, "status", &e->status))
            return false;
        e->has_status = true;
    }
    if ((n = fltsim__ld_get(ld, node, "returned")) != NULL) {
        if (s->kind != SC_STEP_IO || !s->async)
            return fltsim__ld_fail(ld, n,
                                   "'returned' applies to async reads and writes; expected "
                                   "'async: true' on this step");
        if (!fltsim__ld_get_status(ld, n, "returned", &e->returned))
            return false;
        e->has_returned = true;
    }
    if ((n = fltsim__ld_get(ld, node, "information")) != NULL) {
        if (!fltsim__ld_want_scalar(ld, n, "information"))
            return false;
        ULONG64 v;
        if (fltsim__ld_is_plain(n) && fltsim__ld_parse_uint(fltsim__ld_text_of(n), &v)) {
            e->information = v;
        } else if (!fltsim__ld_get_enum(ld, n, "information", "information value",
                                        information_names, &e->information)) {
            return false;
        }
        e->has_information = true;
    }
    if (!fltsim__ld_get_bytes(ld, node, "a step's expect", &e->data))
        return false;
    if (e->data.set && (s->kind != SC_STEP_IO || s->op != SC_OP_READ))
        return fltsim__ld_fail(
            ld,
            fltsim__ld_get(ld, node, "data") ? fltsim__ld_get(ld, node, "data")
                                             : fltsim__ld_get(ld, node, "hex"),
            "expected data applies to read steps; expected status or information here");
    if ((n = fltsim__ld_get(ld, node, "names")) != NULL) {
        if (s->kind != SC_STEP_IO || s->op != SC_OP_QUERY_DIRECTORY)
            return fltsim__ld_fail(ld, n,
                                   "'names' applies to query_directory steps; expected status, "
                                   "information or data here");
        if (!fltsim__ld_want_list(ld, n, "names"))
            return false;
        e->name_count = fltsim__ld_list_count(n);
        e->names = fltsim__ld_alloc(ld, (e->name_count + 1) * sizeof(*e->names));
        if (e->names == NULL)
            return fltsim__ld_oom(ld, n);
        for (size_t i = 0; i < e->name_count; i++)
            if (!fltsim__ld_get_string(ld, fltsim__ld_list_item(ld, n, i), "names", &e->names[i]))
                return false;
        e->has_names = true;
    }
    return true;
}

bool fltsim__ld_load_end_expect(struct ld *ld, yaml_node_t *node)
{
    static const char *const keys[] = {"files", "reports", "handles", "programs", NULL};
    static const char *const file_keys[] = {"path", "data", "hex", "exists", NULL};
    struct sc_end_expect *e = &ld->sc->expect;
    yaml_node_t *n;
    if (!fltsim__ld_want_mapping(ld, node, "'expect'") ||
        !fltsim__ld_check_keys(ld, node, "the end expect", keys))
        return false;
    if ((n = fltsim__ld_get(ld, node, "files")) != NULL) {
        if (!fltsim__ld_want_list(ld, n, "files"))
            return false;
        e->file_count = fltsim__ld_list_count(n);
        e->files = fltsim__ld_alloc(ld, (e->file_count + 1) * sizeof(*e->files));
        if (e->files == NULL)
            return fltsim__ld_oom(ld, n);
        for (size_t i = 0; i < e->file_count; i++) {
            yaml_node_t *f = fltsim__ld_list_item(ld, n, i), *p;
            struct sc_end_file *ef = &e->files[i];
            if (!fltsim__ld_want_mapping(ld, f, "an expected file") ||
                !fltsim__ld_check_keys(ld, f, "an expected file", file_keys) ||
                !fltsim__ld_require(ld, f, "path", "an expected file", &p) ||
                !fltsim__ld_want_scalar(ld, p, "path"))
                return false;
            ef->line = (int)f->start_mark.line + 1;
            ef->column = (int)f->start_mark.column + 1;
            const char *t = fltsim__ld_text_of(p);
            char drive[3] = {t[0], ':', 0};
            if (t[0] == '\0' || t[1] != ':' || t[2] != '\\')
                return fltsim__ld_fail(ld, p,
                                       "path '%s' does not name a drive; expected a path such as "
                                       "C:\\docs\\a.txt",
                                       t);
            yaml_node_t fake = *p;
            fake.data.scalar.value = (yaml_char_t *)drive;
            fake.data.scalar.length = 2;
            WCHAR letter;
            if (!fltsim__ld_parse_drive(ld, &fake, &letter))
                return false;
            ef->volume = ld->sc->volume_count;
            for (size_t v = 0; v < ld->sc->volume_count; v++)
                if (ld->sc->volumes[v].drive == letter)
                    ef->volume = v;
            if (ef->volume == ld->sc->volume_count)
                return fltsim__ld_fail(ld, p,
                                       "path '%s' is on no declared volume; expected a drive from "
                                       "'volumes'",
                                       t);
            if (!fltsim__ld_get_string(ld, p, "path", &ef->display))
                return false;
            size_t wn = strlen(t + 2) + 1;
            WCHAR *w = fltsim__ld_alloc(ld, wn * sizeof(WCHAR));
            if (w == NULL)
                return fltsim__ld_oom(ld, p);
            if (fltsim_utf8_to_utf16(t + 2, w, wn) == (size_t)-1)
                return fltsim__ld_fail(ld, p, "path is not valid UTF-8");
            ef->path = w;
            ef->exists = true;
            yaml_node_t *ex = fltsim__ld_get(ld, f, "exists");
            if (ex != NULL && !fltsim__ld_get_bool(ld, ex, "exists", &ef->exists))
                return false;
            if (!fltsim__ld_get_bytes(ld, f, "an expected file", &ef->data))
                return false;
            if (!ef->exists && ef->data.set)
                return fltsim__ld_fail(ld, ex, "exists: false with data; expected one of them");
        }
    }
    if ((n = fltsim__ld_get(ld, node, "reports")) != NULL) {
        if (!fltsim__ld_want_list(ld, n, "reports"))
            return false;
        e->has_reports = true;
        e->report_count = fltsim__ld_list_count(n);
        e->reports = fltsim__ld_alloc(ld, (e->report_count + 1) * sizeof(*e->reports));
        if (e->reports == NULL)
            return fltsim__ld_oom(ld, n);
        for (size_t i = 0; i < e->report_count; i++)
            if (!fltsim__ld_get_string(ld, fltsim__ld_list_item(ld, n, i), "reports",
                                       &e->reports[i]))
                return false;
    }
    if ((n = fltsim__ld_get(ld, node, "handles")) != NULL) {
        if (!fltsim__ld_get_ulong(ld, n, "handles", &e->handles))
            return false;
        e->has_handles = true;
    }
    if ((n = fltsim__ld_get(ld, node, "programs")) != NULL && !fltsim__ld_load_end_programs(ld, n))
        return false;
    return true;
}
