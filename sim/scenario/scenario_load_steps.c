/*
 * Scenario loading, the steps (scenario_load_internal.h): `threads:` (main is
 * predefined) and `steps:` in order, each an operation (op:, whose keys
 * scenario_load_io.c reads) or a control step (wait, load, unload, attach,
 * detach, complete_pended, note, fltmc; the program steps are
 * scenario_load_programs.c's, the process steps scenario_load_ps.c's). References are checked against what is
 * declared before them: filters, volumes, threads, step ids, and handles
 * that an earlier create or open binds and no close has released. A step's
 * expect: is scenario_load_expect.c's.
 */
#include <stdio.h>
#include <string.h>

#include "scenario_load_internal.h"
#include "common/filter_object.h"

bool fltsim__ld_load_threads(struct ld *ld, yaml_node_t *list)
{
    static const char *const thread_keys[] = {"name", "process", "thread", NULL};
    struct fltsim_scenario *sc = ld->sc;
    size_t count = 0;
    if (list != NULL) {
        if (!fltsim__ld_want_list(ld, list, "threads"))
            return false;
        count = fltsim__ld_list_count(list);
    }
    sc->thread_count = count + 1;
    sc->threads = fltsim__ld_alloc(ld, sc->thread_count * sizeof(*sc->threads));
    if (sc->threads == NULL)
        return fltsim__ld_oom(ld, list);
    sc->threads[0] = (struct sc_thread){"main", 1000, 1001};
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *t = fltsim__ld_list_item(ld, list, i), *n;
        struct sc_thread *th = &sc->threads[i + 1];
        if (!fltsim__ld_want_mapping(ld, t, "a thread") ||
            !fltsim__ld_check_keys(ld, t, "a thread", thread_keys) ||
            !fltsim__ld_require(ld, t, "name", "a thread", &n) ||
            !fltsim__ld_get_string(ld, n, "name", &th->name))
            return false;
        for (size_t j = 0; j <= i; j++)
            if (strcmp(sc->threads[j].name, th->name) == 0)
                return fltsim__ld_fail(ld, n,
                                       "thread '%s' is declared twice%s; expected unique names",
                                       th->name, j == 0 ? " (main is predefined)" : "");
        th->process_id = 1000;
        th->thread_id = 1001 + (ULONG)(i + 1);
        if ((n = fltsim__ld_get(ld, t, "process")) != NULL &&
            !fltsim__ld_get_ulong(ld, n, "process", &th->process_id))
            return false;
        if ((n = fltsim__ld_get(ld, t, "thread")) != NULL &&
            !fltsim__ld_get_ulong(ld, n, "thread", &th->thread_id))
            return false;
        /* Windows reuses thread ids once a thread is gone, so a capture can
         * hold one id in two processes; the pair identifies the thread. */
        for (size_t j = 0; j <= i; j++)
            if (sc->threads[j].thread_id == th->thread_id &&
                sc->threads[j].process_id == th->process_id)
                return fltsim__ld_fail(
                    ld, t,
                    "thread '%s' has process %lu and thread id %lu, as thread '%s' has; "
                    "expected a unique (process, thread) pair",
                    th->name, (unsigned long)th->process_id, (unsigned long)th->thread_id,
                    sc->threads[j].name);
    }
    return true;
}

/* ------------------------------------------------------------------------- */
/* Steps                                                                     */
/* ------------------------------------------------------------------------- */

static bool find_filter(struct ld *ld, yaml_node_t *node, size_t *out)
{
    if (!fltsim__ld_want_scalar(ld, node, "filter"))
        return false;
    for (size_t i = 0; i < ld->sc->filter_count; i++)
        if (strcasecmp(ld->sc->filters[i].name, fltsim__ld_text_of(node)) == 0) {
            *out = i;
            return true;
        }
    return fltsim__ld_fail(ld, node, "unknown filter '%s'; expected a name from 'filters'",
                           fltsim__ld_text_of(node));
}

static bool find_volume(struct ld *ld, yaml_node_t *node, size_t *out)
{
    WCHAR drive;
    if (!fltsim__ld_parse_drive(ld, node, &drive))
        return false;
    for (size_t i = 0; i < ld->sc->volume_count; i++)
        if (ld->sc->volumes[i].drive == drive) {
            *out = i;
            return true;
        }
    return fltsim__ld_fail(ld, node, "unknown volume '%s'; expected a drive from 'volumes'",
                           fltsim__ld_text_of(node));
}

static bool find_thread(struct ld *ld, yaml_node_t *node, size_t *out)
{
    if (!fltsim__ld_want_scalar(ld, node, "thread"))
        return false;
    char names[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < ld->sc->thread_count; i++) {
        if (strcmp(ld->sc->threads[i].name, fltsim__ld_text_of(node)) == 0) {
            *out = i;
            return true;
        }
        if (used < sizeof(names))
            used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
                                     ld->sc->threads[i].name);
    }
    return fltsim__ld_fail(ld, node, "unknown thread '%s'; expected one of %s",
                           fltsim__ld_text_of(node), names);
}

/* The handle a step uses: must be bound by an earlier create/open. */
bool fltsim__ld_use_handle(struct ld *ld, yaml_node_t *step, struct sc_step *s)
{
    yaml_node_t *n;
    char where[64];
    snprintf(where, sizeof(where), "%s %s step", fltsim__ld_article(s->label), s->label);
    return fltsim__ld_require(ld, step, "handle", where, &n) &&
           fltsim__ld_handle_ref(ld, n, "handle", &s->handle);
}

bool fltsim__ld_handle_ref(struct ld *ld, yaml_node_t *n, const char *key, int *index)
{
    if (!fltsim__ld_want_scalar(ld, n, key))
        return false;
    for (size_t i = 0; i < ld->sc->handle_count; i++)
        if (strcmp(ld->sc->handles[i], fltsim__ld_text_of(n)) == 0 && ld->handle_open[i]) {
            *index = (int)i;
            return true;
        }
    return fltsim__ld_fail(ld, n,
                           "%s '%s' is not opened by an earlier step; expected a handle bound "
                           "by create or open",
                           key, fltsim__ld_text_of(n));
}

bool fltsim__ld_bind_handle(struct ld *ld, yaml_node_t *node, struct sc_step *s)
{
    struct fltsim_scenario *sc = ld->sc;
    if (!fltsim__ld_want_scalar(ld, node, "handle"))
        return false;
    if (fltsim__ld_text_of(node)[0] == '\0')
        return fltsim__ld_fail(ld, node, "handle name is empty; expected a name such as h1");
    for (size_t i = 0; i < sc->handle_count; i++)
        if (strcmp(sc->handles[i], fltsim__ld_text_of(node)) == 0) {
            if (ld->handle_open[i])
                return fltsim__ld_fail(ld, node,
                                       "handle '%s' is already open; expected a close step "
                                       "before it is bound again",
                                       fltsim__ld_text_of(node));
            s->handle = (int)i;
            ld->handle_open[i] = true;
            ld->handle_ps[i] = false;
            return true;
        }
    s->handle = (int)sc->handle_count;
    if (!fltsim__ld_get_string(ld, node, "handle", &sc->handles[sc->handle_count]))
        return false;
    ld->handle_open[sc->handle_count++] = true;
    return true;
}

/* The names of the control keys, in the order they are looked for. */
static const char *const control_keys[] = {"wait",
                                           "load",
                                           "unload",
                                           "attach",
                                           "detach",
                                           "note",
                                           "complete_pended",
                                           "fltmc",
                                           "start",
                                           "wait_program",
                                           "stop",
                                           "kill",
                                           "input",
                                           "create_process",
                                           "open_process",
                                           "open_thread",
                                           "duplicate",
                                           "terminate_process",
                                           NULL};
#define STEP_KEYS                                                                                  \
    "op, wait, load, unload, attach, detach, complete_pended, note, fltmc, start, input, "         \
    "wait_program, stop, kill, create_process, open_process, open_thread, duplicate, "             \
    "terminate_process"

static bool load_control_step(struct ld *ld, yaml_node_t *m, struct sc_step *s, size_t index,
                              const char *key)
{
    static const char *const wait_keys[] = {"wait", "id", NULL};
    static const char *const note_keys[] = {"note", "id", NULL};
    static const char *const fltmc_keys[] = {"fltmc", "id", NULL};
    static const char *const unload_keys[] = {"unload", "mandatory", "id", "thread",
                                              "nowait", "expect",    NULL};
    static const char *const attach_keys[] = {"filter", "volume", "instance", "altitude", NULL};
    static const char *const detach_keys[] = {"filter", "volume", "instance", NULL};
    struct fltsim_scenario *sc = ld->sc;
    yaml_node_t *v = fltsim__ld_get(ld, m, key), *n;
    s->label = key;
    s->handle = -1;
    char where[64];
    snprintf(where, sizeof(where), "%s %s step", fltsim__ld_article(key), key);

    if (strcmp(key, "wait") == 0) {
        s->kind = SC_STEP_WAIT;
        if (!fltsim__ld_check_keys(ld, m, where, wait_keys))
            return false;
        if (v->type == YAML_SCALAR_NODE) {
            if (strcmp(fltsim__ld_text_of(v), "all") != 0)
                return fltsim__ld_fail(ld, v,
                                       "wait '%s' is not 'all'; expected all or a list of step ids",
                                       fltsim__ld_text_of(v));
            s->wait_all = true;
            return true;
        }
        if (!fltsim__ld_want_list(ld, v, "wait"))
            return false;
        s->wait_count = fltsim__ld_list_count(v);
        s->wait_steps = fltsim__ld_alloc(ld, (s->wait_count + 1) * sizeof(*s->wait_steps));
        if (s->wait_steps == NULL)
            return fltsim__ld_oom(ld, v);
        for (size_t i = 0; i < s->wait_count; i++) {
            yaml_node_t *idn = fltsim__ld_list_item(ld, v, i);
            if (!fltsim__ld_want_scalar(ld, idn, "wait"))
                return false;
            size_t j = 0;
            while (j < index && (sc->steps[j].id == NULL ||
                                 strcmp(sc->steps[j].id, fltsim__ld_text_of(idn)) != 0))
                j++;
            if (j == index)
                return fltsim__ld_fail(ld, idn,
                                       "step id '%s' is not the id of an earlier step; expected "
                                       "the id of a step above this one",
                                       fltsim__ld_text_of(idn));
            s->wait_steps[i] = j;
        }
        return true;
    }
    if (strcmp(key, "note") == 0) {
        s->kind = SC_STEP_NOTE;
        return fltsim__ld_check_keys(ld, m, where, note_keys) &&
               fltsim__ld_get_string(ld, v, "note", &s->note);
    }

    if (strcmp(key, "fltmc") == 0) {
        s->kind = SC_STEP_FLTMC;
        if (!fltsim__ld_check_keys(ld, m, where, fltmc_keys) ||
            !fltsim__ld_want_scalar(ld, v, "fltmc"))
            return false;
        if (!fltsim_fltmc_view_parse(fltsim__ld_text_of(v), &s->fltmc))
            return fltsim__ld_fail(ld, v,
                                   "fltmc view '%s' is unknown; expected filters, instances or "
                                   "volumes",
                                   fltsim__ld_text_of(v));
        return true;
    }

    const char *const *keys = unload_keys;
    static const char *load_keys[] = {"load", "id", "thread", "nowait", "expect", NULL};
    static const char *attach_step_keys[] = {"attach", "id", "thread", "nowait", "expect", NULL};
    static const char *detach_step_keys[] = {"detach", "id", "thread", "nowait", "expect", NULL};
    static const char *cp_keys[] = {"complete_pended", "id", "thread", "nowait", "expect", NULL};
    if (strcmp(key, "load") == 0) {
        s->kind = SC_STEP_LOAD;
        keys = load_keys;
    } else if (strcmp(key, "unload") == 0) {
        s->kind = SC_STEP_UNLOAD;
    } else if (strcmp(key, "attach") == 0) {
        s->kind = SC_STEP_ATTACH;
        keys = attach_step_keys;
    } else if (strcmp(key, "detach") == 0) {
        s->kind = SC_STEP_DETACH;
        keys = detach_step_keys;
    } else {
        s->kind = SC_STEP_COMPLETE_PENDED;
        keys = cp_keys;
    }
    if (!fltsim__ld_check_keys(ld, m, where, keys))
        return false;

    if (s->kind == SC_STEP_ATTACH || s->kind == SC_STEP_DETACH) {
        const char *const *akeys = s->kind == SC_STEP_ATTACH ? attach_keys : detach_keys;
        if (!fltsim__ld_want_mapping(ld, v, "'attach'/'detach'") ||
            !fltsim__ld_check_keys(ld, v, where, akeys) ||
            !fltsim__ld_require(ld, v, "filter", where, &n) || !find_filter(ld, n, &s->filter) ||
            !fltsim__ld_require(ld, v, "volume", where, &n) || !find_volume(ld, n, &s->volume))
            return false;
        if ((n = fltsim__ld_get(ld, v, "instance")) != NULL &&
            !fltsim__ld_get_wstring(ld, n, "instance", &s->instance))
            return false;
        if ((n = fltsim__ld_get(ld, v, "altitude")) != NULL &&
            !fltsim__ld_check_altitude(ld, n, &s->altitude))
            return false;
        if (s->kind == SC_STEP_DETACH && s->instance == NULL) {
            struct sc_filter *f = &sc->filters[s->filter];
            s->instance = f->default_instance ? f->default_instance : f->instances[0].name;
        }
        return true;
    }
    if (!find_filter(ld, v, &s->filter))
        return false;
    if ((n = fltsim__ld_get(ld, m, "mandatory")) != NULL &&
        !fltsim__ld_get_bool(ld, n, "mandatory", &s->mandatory))
        return false;
    if (s->kind == SC_STEP_COMPLETE_PENDED) {
        struct sc_filter *f = &sc->filters[s->filter];
        bool has_hook = false;
        if (f->builtin != NULL) {
            has_hook = f->builtin->complete_pended != NULL;
        } else {
            has_hook = fltsim__filter_object_exports(f->object, "FltSimCompletePended");
        }
        if (!has_hook)
            return fltsim__ld_fail(ld, v,
                                   "filter '%s' holds nothing to complete; expected a builtin with "
                                   "a complete_pended hook or a shared object exporting "
                                   "FltSimCompletePended",
                                   f->name);
    }
    return true;
}

bool fltsim__ld_load_steps(struct ld *ld, yaml_node_t *list)
{
    struct fltsim_scenario *sc = ld->sc;
    if (!fltsim__ld_want_list(ld, list, "steps"))
        return false;
    if (fltsim__ld_list_count(list) == 0)
        return fltsim__ld_fail(ld, list, "'steps' is empty; expected at least one step");
    sc->step_count = fltsim__ld_list_count(list);
    sc->steps = fltsim__ld_alloc(ld, sc->step_count * sizeof(*sc->steps));
    /* At most one handle name per step. */
    sc->handles = fltsim__ld_alloc(ld, (sc->step_count + 1) * sizeof(*sc->handles));
    ld->handle_open = fltsim__ld_alloc(ld, (sc->step_count + 1) * sizeof(*ld->handle_open));
    ld->handle_ps = fltsim__ld_alloc(ld, (sc->step_count + 1) * sizeof(*ld->handle_ps));
    sc->processes = fltsim__ld_alloc(ld, (sc->step_count + 1) * sizeof(*sc->processes));
    if (sc->steps == NULL || sc->handles == NULL || ld->handle_open == NULL ||
        ld->handle_ps == NULL || sc->processes == NULL)
        return fltsim__ld_oom(ld, list);

    for (size_t i = 0; i < sc->step_count; i++) {
        yaml_node_t *m = fltsim__ld_list_item(ld, list, i), *n;
        struct sc_step *s = &sc->steps[i];
        if (!fltsim__ld_want_mapping(ld, m, "a step"))
            return false;
        s->line = (int)m->start_mark.line + 1;
        s->column = (int)m->start_mark.column + 1;
        const char *control = NULL;
        yaml_node_t *opn = fltsim__ld_get(ld, m, "op");
        for (size_t k = 0; control_keys[k] != NULL; k++) {
            if (fltsim__ld_get(ld, m, control_keys[k]) == NULL)
                continue;
            /* A start step's input: is the text it types, not a step. */
            if (control != NULL && strcmp(control, "start") == 0 &&
                strcmp(control_keys[k], "input") == 0)
                continue;
            if (control != NULL || opn != NULL)
                return fltsim__ld_fail(ld, fltsim__ld_get(ld, m, control_keys[k]),
                                       "a step has both '%s' and '%s'; expected one of " STEP_KEYS,
                                       opn ? "op" : control, control_keys[k]);
            control = control_keys[k];
        }
        if (opn == NULL && control == NULL)
            return fltsim__ld_fail(ld, m, "a step has no operation; expected one of " STEP_KEYS);

        if ((n = fltsim__ld_get(ld, m, "id")) != NULL) {
            if (!fltsim__ld_get_string(ld, n, "id", &s->id))
                return false;
            for (size_t j = 0; j < i; j++)
                if (sc->steps[j].id != NULL && strcmp(sc->steps[j].id, s->id) == 0)
                    return fltsim__ld_fail(ld, n,
                                           "step id '%s' is used twice (step %zu has it); expected "
                                           "unique ids",
                                           s->id, j + 1);
        }
        if ((n = fltsim__ld_get(ld, m, "thread")) != NULL && !find_thread(ld, n, &s->thread))
            return false;
        if ((n = fltsim__ld_get(ld, m, "nowait")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "nowait", &s->nowait))
            return false;

        if (opn != NULL) {
            if (!fltsim__ld_load_io_step(ld, m, s, opn))
                return false;
            if (s->handle >= 0 && ld->handle_ps[s->handle]) {
                if (s->op != SC_OP_CLOSE)
                    return fltsim__ld_fail(ld, opn,
                                           "handle '%s' is a process or thread handle; expected "
                                           "close as the only op on it",
                                           sc->handles[s->handle]);
                s->ps_handle = true;
            }
        } else if (strcmp(control, "create_process") == 0 || strcmp(control, "open_process") == 0 ||
                   strcmp(control, "open_thread") == 0 || strcmp(control, "duplicate") == 0 ||
                   strcmp(control, "terminate_process") == 0) {
            if (!fltsim__ld_load_ps_step(ld, m, s, control))
                return false;
            continue;
        } else if (strcmp(control, "start") == 0 || strcmp(control, "input") == 0 ||
                   strcmp(control, "wait_program") == 0 || strcmp(control, "stop") == 0 ||
                   strcmp(control, "kill") == 0) {
            /* On the runner, with an expect: of their own. */
            if (!fltsim__ld_load_program_step(ld, m, s, control))
                return false;
            continue;
        } else if (!load_control_step(ld, m, s, i, control)) {
            return false;
        }
        if ((n = fltsim__ld_get(ld, m, "expect")) != NULL && !fltsim__ld_load_step_expect(ld, n, s))
            return false;

        /* create/open bind their handle last, so that a step cannot use the
         * handle it binds. A create expected to fail needs no handle. */
        if (s->kind == SC_STEP_IO && (s->op == SC_OP_CREATE || s->op == SC_OP_OPEN)) {
            if ((n = fltsim__ld_get(ld, m, "handle")) != NULL) {
                if (!fltsim__ld_bind_handle(ld, n, s))
                    return false;
                s->binds = true;
            } else if (!s->expect.has_status || NT_SUCCESS(s->expect.status)) {
                return fltsim__ld_fail(ld, m,
                                       "a %s step that succeeds needs 'handle'; expected a name "
                                       "to bind, or expect: {status: ...} with a failure",
                                       s->label);
            }
        }
    }
    return true;
}
