/*
 * Scenario loading, the process steps (scenario_load_internal.h):
 * create_process, open_process, open_thread, duplicate and terminate_process,
 * their keys, the processes they name (one an earlier create_process named, a
 * program, or a number), the access names (PROCESS_* and THREAD_*, as
 * Microsoft Learn lists them) and their expect: (status, granted). An open or
 * a duplicate binds a handle name as a file open does; running them is
 * scenario_run_ps.c's.
 */
#include <string.h>

#include "scenario_load_internal.h"

static const struct name_value process_access[] = {
    {"PROCESS_TERMINATE", PROCESS_TERMINATE},
    {"PROCESS_CREATE_THREAD", PROCESS_CREATE_THREAD},
    {"PROCESS_SET_SESSIONID", PROCESS_SET_SESSIONID},
    {"PROCESS_VM_OPERATION", PROCESS_VM_OPERATION},
    {"PROCESS_VM_READ", PROCESS_VM_READ},
    {"PROCESS_VM_WRITE", PROCESS_VM_WRITE},
    {"PROCESS_DUP_HANDLE", PROCESS_DUP_HANDLE},
    {"PROCESS_CREATE_PROCESS", PROCESS_CREATE_PROCESS},
    {"PROCESS_SET_QUOTA", PROCESS_SET_QUOTA},
    {"PROCESS_SET_INFORMATION", PROCESS_SET_INFORMATION},
    {"PROCESS_QUERY_INFORMATION", PROCESS_QUERY_INFORMATION},
    {"PROCESS_SUSPEND_RESUME", PROCESS_SUSPEND_RESUME},
    {"PROCESS_QUERY_LIMITED_INFORMATION", PROCESS_QUERY_LIMITED_INFORMATION},
    {"PROCESS_SET_LIMITED_INFORMATION", PROCESS_SET_LIMITED_INFORMATION},
    {"PROCESS_ALL_ACCESS", PROCESS_ALL_ACCESS},
    {"DELETE", DELETE},
    {"READ_CONTROL", READ_CONTROL},
    {"WRITE_DAC", WRITE_DAC},
    {"WRITE_OWNER", WRITE_OWNER},
    {"SYNCHRONIZE", SYNCHRONIZE},
    {NULL, 0}};

static const struct name_value thread_access[] = {
    {"THREAD_TERMINATE", THREAD_TERMINATE},
    {"THREAD_SUSPEND_RESUME", THREAD_SUSPEND_RESUME},
    {"THREAD_ALERT", THREAD_ALERT},
    {"THREAD_GET_CONTEXT", THREAD_GET_CONTEXT},
    {"THREAD_SET_CONTEXT", THREAD_SET_CONTEXT},
    {"THREAD_SET_INFORMATION", THREAD_SET_INFORMATION},
    {"THREAD_QUERY_INFORMATION", THREAD_QUERY_INFORMATION},
    {"THREAD_SET_THREAD_TOKEN", THREAD_SET_THREAD_TOKEN},
    {"THREAD_IMPERSONATE", THREAD_IMPERSONATE},
    {"THREAD_DIRECT_IMPERSONATION", THREAD_DIRECT_IMPERSONATION},
    {"THREAD_SET_LIMITED_INFORMATION", THREAD_SET_LIMITED_INFORMATION},
    {"THREAD_QUERY_LIMITED_INFORMATION", THREAD_QUERY_LIMITED_INFORMATION},
    {"THREAD_RESUME", THREAD_RESUME},
    {"THREAD_ALL_ACCESS", THREAD_ALL_ACCESS},
    {"DELETE", DELETE},
    {"READ_CONTROL", READ_CONTROL},
    {"WRITE_DAC", WRITE_DAC},
    {"WRITE_OWNER", WRITE_OWNER},
    {"SYNCHRONIZE", SYNCHRONIZE},
    {NULL, 0}};

/* A process a step names: an earlier create_process's name, a program's, or
 * a number (a process id, a multiple of 4). */
static bool process_ref(struct ld *ld, yaml_node_t *n, const char *key, struct sc_ps_ref *out)
{
    struct fltsim_scenario *sc = ld->sc;
    *out = (struct sc_ps_ref){-1, -1, 0};
    if (!fltsim__ld_want_scalar(ld, n, key))
        return false;
    const char *text = fltsim__ld_text_of(n);
    for (size_t i = 0; i < sc->process_count; i++)
        if (strcmp(sc->processes[i], text) == 0) {
            out->created = (int)i;
            return true;
        }
    for (size_t i = 0; i < sc->program_count; i++)
        if (strcmp(sc->programs[i].name, text) == 0) {
            out->program = (int)i;
            return true;
        }
    ULONG64 v;
    if (fltsim__ld_is_plain(n) && fltsim__ld_parse_uint(text, &v) && v <= 0xFFFFFFFFull) {
        if (v == 0 || v % 4 != 0)
            return fltsim__ld_fail(ld, n, "%s %s is no process id; expected a multiple of 4", key,
                                   text);
        out->id = (ULONG)v;
        return true;
    }
    return fltsim__ld_fail(ld, n,
                           "unknown process '%s'; expected the name of an earlier "
                           "create_process, a program or a process id",
                           text);
}

static bool load_expect(struct ld *ld, yaml_node_t *node, struct sc_step *s,
                        const struct name_value *access)
{
    static const char *const keys[] = {"status", "granted", NULL};
    static const char *const create_keys[] = {"status", NULL};
    struct sc_step_expect *e = &s->expect;
    yaml_node_t *n;
    bool grants = s->ps_op == SC_PS_OPEN || s->ps_op == SC_PS_DUPLICATE;
    if (!fltsim__ld_want_mapping(ld, node, "'expect'") ||
        !fltsim__ld_check_keys(ld, node, "a process step's expect", grants ? keys : create_keys))
        return false;
    e->any = true;
    if ((n = fltsim__ld_get(ld, node, "status")) != NULL) {
        if (!fltsim__ld_get_status(ld, n, "status", &e->status))
            return false;
        e->has_status = true;
    }
    if ((n = fltsim__ld_get(ld, node, "granted")) != NULL) {
        if (!fltsim__ld_get_flags(ld, n, "granted", "access right", access, &e->granted))
            return false;
        e->has_granted = true;
    }
    return true;
}

bool fltsim__ld_load_ps_step(struct ld *ld, yaml_node_t *m, struct sc_step *s, const char *key)
{
    static const char *const create_keys[] = {"create_process", "image",  "parent",
                                              "process_id",     "id",     "thread",
                                              "nowait",         "expect", NULL};
    static const char *const open_keys[] = {"open_process", "open_thread", "process", "access",
                                            "kernel",       "handle",      "id",      "thread",
                                            "nowait",       "expect",      NULL};
    static const char *const dup_keys[] = {"duplicate", "into",   "access", "same_access", "handle",
                                           "id",        "thread", "nowait", "expect",      NULL};
    static const char *const term_keys[] = {
        "terminate_process", "exit_code", "id", "thread", "nowait", "expect", NULL};
    struct fltsim_scenario *sc = ld->sc;
    yaml_node_t *v = fltsim__ld_get(ld, m, key), *n;
    char where[64];
    snprintf(where, sizeof(where), "%s %s step", fltsim__ld_article(key), key);
    s->kind = SC_STEP_PS;
    s->label = key;
    s->handle = -1;
    s->ps_process = -1;
    s->target = s->parent = (struct sc_ps_ref){-1, -1, 0};
    const struct name_value *access = process_access;

    if (strcmp(key, "create_process") == 0) {
        s->ps_op = SC_PS_CREATE;
        if (!fltsim__ld_check_keys(ld, m, where, create_keys) ||
            !fltsim__ld_want_scalar(ld, v, key))
            return false;
        const char *name = fltsim__ld_text_of(v);
        if (name[0] == '\0')
            return fltsim__ld_fail(ld, v, "create_process has an empty name; expected a name");
        for (size_t i = 0; i < sc->process_count; i++)
            if (strcmp(sc->processes[i], name) == 0)
                return fltsim__ld_fail(
                    ld, v, "process '%s' is created twice; expected unique names", name);
        for (size_t i = 0; i < sc->program_count; i++)
            if (strcmp(sc->programs[i].name, name) == 0)
                return fltsim__ld_fail(ld, v,
                                       "process '%s' has a program's name; expected a name no "
                                       "program has",
                                       name);
        if (!fltsim__ld_require(ld, m, "image", where, &n) ||
            !fltsim__ld_get_string(ld, n, "image", &s->image))
            return false;
        if (s->image[0] == '\0')
            return fltsim__ld_fail(ld, n, "image is empty; expected a path or a file name");
        if ((n = fltsim__ld_get(ld, m, "parent")) != NULL &&
            !process_ref(ld, n, "parent", &s->parent))
            return false;
        if ((n = fltsim__ld_get(ld, m, "process_id")) != NULL) {
            if (!fltsim__ld_get_ulong(ld, n, "process_id", &s->ps_id))
                return false;
            if (s->ps_id == 0 || s->ps_id % 4 != 0)
                return fltsim__ld_fail(ld, n,
                                       "process_id %lu is no process id; expected a multiple "
                                       "of 4",
                                       (unsigned long)s->ps_id);
        }
        s->ps_process = (int)sc->process_count;
        if (!fltsim__ld_get_string(ld, v, key, &sc->processes[sc->process_count]))
            return false;
        sc->process_count++;
    } else if (strcmp(key, "open_process") == 0 || strcmp(key, "open_thread") == 0) {
        s->ps_op = SC_PS_OPEN;
        if (!fltsim__ld_check_keys(ld, m, where, open_keys))
            return false;
        if (strcmp(key, "open_thread") == 0) {
            /* open_thread: ID, with process: the process it belongs to. */
            access = thread_access;
            if (!fltsim__ld_get_ulong(ld, v, key, &s->ps_id))
                return false;
            if (s->ps_id == 0 || s->ps_id % 4 != 0)
                return fltsim__ld_fail(ld, v,
                                       "thread id %lu is no thread id; expected a multiple of 4",
                                       (unsigned long)s->ps_id);
            if ((n = fltsim__ld_get(ld, m, "process")) != NULL &&
                !process_ref(ld, n, "process", &s->target))
                return false;
        } else {
            if (fltsim__ld_get(ld, m, "process") != NULL)
                return fltsim__ld_fail(ld, fltsim__ld_get(ld, m, "process"),
                                       "'process' applies to open_thread; expected the process "
                                       "as open_process's value");
            if (!process_ref(ld, v, key, &s->target))
                return false;
        }
        if (!fltsim__ld_require(ld, m, "access", where, &n) ||
            !fltsim__ld_get_flags(ld, n, "access", "access right", access, &s->access))
            return false;
        if ((n = fltsim__ld_get(ld, m, "kernel")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "kernel", &s->kernel))
            return false;
    } else if (strcmp(key, "duplicate") == 0) {
        s->ps_op = SC_PS_DUPLICATE;
        if (!fltsim__ld_check_keys(ld, m, where, dup_keys) ||
            !fltsim__ld_handle_ref(ld, v, "duplicate", &s->root))
            return false;
        if (!ld->handle_ps[s->root])
            return fltsim__ld_fail(ld, v,
                                   "handle '%s' is no process or thread handle; expected one an "
                                   "open_process or open_thread step binds",
                                   fltsim__ld_text_of(v));
        if (!fltsim__ld_require(ld, m, "into", where, &n) ||
            !process_ref(ld, n, "into", &s->target))
            return false;
        if ((n = fltsim__ld_get(ld, m, "same_access")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "same_access", &s->same_access))
            return false;
        n = fltsim__ld_get(ld, m, "access");
        if ((n != NULL) == s->same_access)
            return fltsim__ld_fail(ld, n != NULL ? n : m,
                                   "a duplicate step needs either 'access' or "
                                   "'same_access: true'; expected one of them");
        /* The rights of the kind of object the handle names: the latest
         * step that bound it tells. */
        for (size_t i = (size_t)(s - sc->steps); i-- > 0;)
            if (sc->steps[i].handle == s->root && sc->steps[i].kind == SC_STEP_PS) {
                if (sc->steps[i].ps_op == SC_PS_OPEN && sc->steps[i].ps_id != 0)
                    access = thread_access;
                else if (sc->steps[i].ps_op == SC_PS_DUPLICATE)
                    access = sc->steps[i].ps_id != 0 ? thread_access : process_access;
                s->ps_id = sc->steps[i].ps_id; /* a thread's handle stays one */
                break;
            }
        if (n != NULL && !fltsim__ld_get_flags(ld, n, "access", "access right", access, &s->access))
            return false;
    } else {
        s->ps_op = SC_PS_TERMINATE;
        if (!fltsim__ld_check_keys(ld, m, where, term_keys) || !process_ref(ld, v, key, &s->target))
            return false;
        if (s->target.program >= 0)
            return fltsim__ld_fail(ld, v,
                                   "terminate_process %s names a program; expected a kill step "
                                   "for a program (fltsim_ps_exit ends what create_process made)",
                                   fltsim__ld_text_of(v));
        if (s->target.created < 0)
            return fltsim__ld_fail(ld, v,
                                   "terminate_process %s names no process the scenario made; "
                                   "expected a create_process name",
                                   fltsim__ld_text_of(v));
        if ((n = fltsim__ld_get(ld, m, "exit_code")) != NULL) {
            NTSTATUS code;
            if (!fltsim__ld_get_status(ld, n, "exit_code", &code))
                return false;
            if (code == STATUS_PENDING)
                return fltsim__ld_fail(ld, n,
                                       "exit_code STATUS_PENDING is what a running process "
                                       "has; expected another status");
            s->exit_code = (ULONG)code;
        }
    }
    if ((n = fltsim__ld_get(ld, m, "expect")) != NULL && !load_expect(ld, n, s, access))
        return false;
    if (s->ps_op == SC_PS_OPEN || s->ps_op == SC_PS_DUPLICATE) {
        if ((n = fltsim__ld_get(ld, m, "handle")) != NULL) {
            if (!fltsim__ld_bind_handle(ld, n, s))
                return false;
            ld->handle_ps[s->handle] = true;
        } else if (!s->expect.has_status || NT_SUCCESS(s->expect.status)) {
            return fltsim__ld_fail(ld, m,
                                   "%s %s step that succeeds needs 'handle'; expected a name "
                                   "to bind, or expect: {status: ...} with a failure",
                                   fltsim__ld_article(key), key);
        }
    }
    return true;
}
