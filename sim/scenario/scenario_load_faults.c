/*
 * Scenario loading, the faults (scenario_load_internal.h): `faults:`, each a
 * rule of the model's fault injection (a pool allocation by tag, nth or
 * probability; a deferred or generic work-item queue call) or of faultfs on
 * one volume (by path and major: a failure status, an asynchronous
 * completion, a delay). The statuses are checked against what the failing
 * routine can return; installing the rules is scenario_run.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_load_internal.h"

/* A pool tag as written in pool dumps: "FMwi" is the ULONG 'iwMF'. */
static bool get_tag(struct ld *ld, yaml_node_t *node, ULONG *out)
{
    if (!fltsim__ld_want_scalar(ld, node, "tag"))
        return false;
    const char *s = fltsim__ld_text_of(node);
    size_t n = strlen(s);
    if (n < 1 || n > 4)
        return fltsim__ld_fail(
            ld, node, "tag '%s' is not a pool tag; expected 1 to 4 characters such as FMwi", s);
    ULONG tag = 0;
    for (size_t i = 0; i < 4; i++) {
        unsigned char c = i < n ? (unsigned char)s[i] : ' ';
        if (c < 0x20 || c > 0x7e)
            return fltsim__ld_fail(ld, node, "tag '%s' is not a pool tag; expected printable ASCII",
                                   s);
        tag |= (ULONG)c << (8 * i);
    }
    *out = tag;
    return true;
}

static bool get_major(struct ld *ld, yaml_node_t *node, int *out)
{
    if (!fltsim__ld_want_scalar(ld, node, "major"))
        return false;
    for (int m = 0; m <= 0xff; m++) {
        const char *name = fltsim_major_name((UCHAR)m);
        if (name != NULL && m <= IRP_MJ_MAXIMUM_FUNCTION &&
            strcmp(name, fltsim__ld_text_of(node)) == 0) {
            *out = m;
            return true;
        }
    }
    return fltsim__ld_fail(ld, node,
                           "unknown major '%s'; expected an IRP major such as IRP_MJ_READ",
                           fltsim__ld_text_of(node));
}

static bool get_probability(struct ld *ld, yaml_node_t *node, double *out)
{
    if (!fltsim__ld_want_scalar(ld, node, "probability"))
        return false;
    const char *s = fltsim__ld_text_of(node);
    char *end = NULL;
    errno = 0;
    double p = strtod(s, &end);
    /* Written so that NaN fails too. */
    if (!fltsim__ld_is_plain(node) || end == s || *end != '\0' || errno != 0 ||
        !(p > 0.0 && p <= 1.0))
        return fltsim__ld_fail(ld, node,
                               "probability '%s' is not a number in (0, 1]; expected e.g. 0.25", s);
    *out = p;
    return true;
}

static bool load_fault(struct ld *ld, yaml_node_t *m, struct sc_fault *f)
{
    static const char *const keys[] = {"kind",  "nth",    "tag",      "probability",
                                       "seed",  "status", "volume",   "path",
                                       "major", "async",  "delay_ms", NULL};
    static const struct name_value kinds[] = {{"alloc", FLTSIM_FAULT_ALLOC},
                                              {"deferred_queue", FLTSIM_FAULT_DEFERRED_QUEUE},
                                              {"generic_queue", FLTSIM_FAULT_GENERIC_QUEUE},
                                              {"fs", FLTSIM_FAULT_FS},
                                              {NULL, 0}};
    /* Which keys each kind takes (besides kind and nth). */
    static const char *const alloc_keys[] = {"tag", "probability", "seed", NULL};
    static const char *const queue_keys[] = {"status", NULL};
    static const char *const fs_keys[] = {"volume", "path",     "major", "status",
                                          "async",  "delay_ms", NULL};
    yaml_node_t *n;
    ULONG64 v;
    if (!fltsim__ld_want_mapping(ld, m, "a fault") ||
        !fltsim__ld_check_keys(ld, m, "a fault", keys) ||
        !fltsim__ld_require(ld, m, "kind", "a fault", &n) ||
        !fltsim__ld_get_enum(ld, n, "kind", "fault kind", kinds, &v))
        return false;
    enum fltsim_fault_kind kind = (enum fltsim_fault_kind)v;
    const char *const *allowed = kind == FLTSIM_FAULT_ALLOC ? alloc_keys
                                 : kind == FLTSIM_FAULT_FS  ? fs_keys
                                                            : queue_keys;
    for (size_t i = 0; keys[i] != NULL; i++) {
        if (strcmp(keys[i], "kind") == 0 || strcmp(keys[i], "nth") == 0 ||
            (n = fltsim__ld_get(ld, m, keys[i])) == NULL)
            continue;
        bool ok = false;
        for (size_t j = 0; allowed[j] != NULL; j++)
            ok = ok || strcmp(allowed[j], keys[i]) == 0;
        if (!ok)
            return fltsim__ld_fail(ld, n, "'%s' does not apply to a fault of kind %s", keys[i],
                                   fltsim_fault_kind_name(kind));
    }
    ULONG64 nth = 0;
    yaml_node_t *nth_node = fltsim__ld_get(ld, m, "nth");
    if (nth_node != NULL) {
        if (!fltsim__ld_get_uint(ld, nth_node, "nth", UINT64_MAX, &nth))
            return false;
        if (nth == 0)
            return fltsim__ld_fail(ld, nth_node,
                                   "nth 0; expected 1 for the first matching point, 2 ...");
    }
    if (kind == FLTSIM_FAULT_FS) {
        f->fs = true;
        f->rule.nth = nth;
        f->rule.major = -1;
        if (!fltsim__ld_require(ld, m, "volume", "an fs fault", &n) ||
            !fltsim__ld_parse_drive(ld, n, &f->drive))
            return false;
        bool found = false;
        for (size_t i = 0; i < ld->sc->volume_count; i++)
            found = found || ld->sc->volumes[i].drive == f->drive;
        if (!found)
            return fltsim__ld_fail(ld, n, "volume %c: is not declared under 'volumes'",
                                   (char)f->drive);
        if ((n = fltsim__ld_get(ld, m, "path")) != NULL &&
            !fltsim__ld_get_string(ld, n, "path", &f->rule.path))
            return false;
        if ((n = fltsim__ld_get(ld, m, "major")) != NULL && !get_major(ld, n, &f->rule.major))
            return false;
        if ((n = fltsim__ld_get(ld, m, "status")) != NULL) {
            if (!fltsim__ld_get_status(ld, n, "status", &f->rule.status))
                return false;
            if (NT_SUCCESS(f->rule.status))
                return fltsim__ld_fail(ld, n,
                                       "status %s is a success status; expected a failure such as "
                                       "STATUS_IO_DEVICE_ERROR",
                                       fltsim__ld_text_of(n));
        }
        bool async = false;
        if ((n = fltsim__ld_get(ld, m, "async")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "async", &async))
            return false;
        f->rule.async = async ? TRUE : FALSE;
        if ((n = fltsim__ld_get(ld, m, "delay_ms")) != NULL &&
            !fltsim__ld_get_ulong(ld, n, "delay_ms", &f->rule.delay_ms))
            return false;
        if (f->rule.status == STATUS_SUCCESS && !async && f->rule.delay_ms == 0)
            return fltsim__ld_fail(ld, m,
                                   "the fs fault does nothing; expected status, async: true or "
                                   "delay_ms");
        return true;
    }
    f->model.kind = kind;
    f->model.nth = nth;
    if ((n = fltsim__ld_get(ld, m, "tag")) != NULL && !get_tag(ld, n, &f->model.tag))
        return false;
    if ((n = fltsim__ld_get(ld, m, "probability")) != NULL) {
        if (!get_probability(ld, n, &f->model.probability))
            return false;
        if (nth_node != NULL)
            return fltsim__ld_fail(ld, n,
                                   "probability and nth cannot be combined; expected one of them");
    }
    if ((n = fltsim__ld_get(ld, m, "seed")) != NULL) {
        if (fltsim__ld_get(ld, m, "probability") == NULL)
            return fltsim__ld_fail(ld, n,
                                   "seed applies with probability; expected probability too");
        if (!fltsim__ld_get_uint(ld, n, "seed", UINT64_MAX, &f->model.seed))
            return false;
    }
    if ((n = fltsim__ld_get(ld, m, "status")) != NULL) {
        if (!fltsim__ld_get_status(ld, n, "status", &f->model.status))
            return false;
        NTSTATUS st = f->model.status;
        if (kind == FLTSIM_FAULT_DEFERRED_QUEUE && st != STATUS_FLT_NOT_SAFE_TO_POST_OPERATION &&
            st != STATUS_FLT_DELETING_OBJECT)
            return fltsim__ld_fail(
                ld, n,
                "FltQueueDeferredIoWorkItem does not fail with %s; expected "
                "STATUS_FLT_NOT_SAFE_TO_POST_OPERATION or STATUS_FLT_DELETING_OBJECT",
                fltsim__ld_text_of(n));
        if (kind == FLTSIM_FAULT_GENERIC_QUEUE && st != STATUS_FLT_DELETING_OBJECT)
            return fltsim__ld_fail(ld, n,
                                   "FltQueueGenericWorkItem does not fail with %s; expected "
                                   "STATUS_FLT_DELETING_OBJECT",
                                   fltsim__ld_text_of(n));
    }
    return true;
}

bool fltsim__ld_load_faults(struct ld *ld, yaml_node_t *list)
{
    struct fltsim_scenario *sc = ld->sc;
    if (!fltsim__ld_want_list(ld, list, "faults"))
        return false;
    sc->fault_count = fltsim__ld_list_count(list);
    if (sc->fault_count == 0)
        return true;
    sc->faults = fltsim__ld_alloc(ld, sc->fault_count * sizeof(*sc->faults));
    if (sc->faults == NULL)
        return fltsim__ld_oom(ld, list);
    for (size_t i = 0; i < sc->fault_count; i++)
        if (!load_fault(ld, fltsim__ld_list_item(ld, list, i), &sc->faults[i]))
            return false;
    return true;
}
