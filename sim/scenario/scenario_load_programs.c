/*
 * Scenario loading, user programs (scenario_load_internal.h): the top-level
 * `programs:` list (a builtin program or a shared object, opened once here
 * to check it as filters' objects are), the steps that act on one (start,
 * input, wait_program, stop, kill) with a wait_program's expect:, and the
 * end expect's `programs:`. A step must name a declared program that an
 * earlier step started, and a program starts once. Running them is
 * scenario_run_program.c's.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <fltsim/program.h>

#include "scenario_load_internal.h"
#include "common/program_object.h"

/* The longest text a wait_program step's `text:` or an expected output may
 * be (the runner compares it with the process's output). */
#define SC_PROGRAM_TEXT_MAX 4096

/* A list of strings (or one string) into *out / *count. */
static bool get_strings(struct ld *ld, yaml_node_t *n, const char *key, const char ***out,
                        size_t *count)
{
    if (n->type == YAML_SCALAR_NODE) {
        *out = fltsim__ld_alloc(ld, 2 * sizeof(**out));
        if (*out == NULL)
            return fltsim__ld_oom(ld, n);
        *count = 1;
        return fltsim__ld_get_string(ld, n, key, &(*out)[0]);
    }
    if (!fltsim__ld_want_list(ld, n, key))
        return false;
    *count = fltsim__ld_list_count(n);
    *out = fltsim__ld_alloc(ld, (*count + 1) * sizeof(**out));
    if (*out == NULL)
        return fltsim__ld_oom(ld, n);
    for (size_t i = 0; i < *count; i++) {
        yaml_node_t *item = fltsim__ld_list_item(ld, n, i);
        if (!fltsim__ld_want_scalar(ld, item, key) ||
            !fltsim__ld_get_string(ld, item, key, &(*out)[i]))
            return false;
    }
    return true;
}

/* "NAME.exe" from an object's path ("dir/NAME.so"), in the arena. */
static const char *image_of(struct ld *ld, const char *path)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t n = strlen(base);
    if (n > 3 && strcmp(base + n - 3, ".so") == 0)
        n -= 3;
    char *image = fltsim__ld_alloc(ld, n + 5);
    if (image != NULL)
        snprintf(image, n + 5, "%.*s.exe", (int)n, base);
    return image;
}

static bool load_program_source(struct ld *ld, yaml_node_t *pn, struct sc_program *p)
{
    yaml_node_t *builtin = fltsim__ld_get(ld, pn, "builtin"),
                *object = fltsim__ld_get(ld, pn, "object");
    if ((builtin == NULL) == (object == NULL))
        return fltsim__ld_fail(ld, builtin ? object : pn,
                               "program '%s' needs exactly one of builtin and object", p->name);
    if (builtin != NULL) {
        if (!fltsim__ld_want_scalar(ld, builtin, "builtin"))
            return false;
        p->builtin = fltsim_catalog_program_find(fltsim__ld_text_of(builtin));
        if (p->builtin == NULL) {
            const struct fltsim_catalog *catalog = fltsim_catalog_get();
            if (catalog->program_count == 0)
                return fltsim__ld_fail(ld, builtin,
                                       "unknown builtin program '%s'; this program has no "
                                       "built-in programs (fltsim_catalog_set)",
                                       fltsim__ld_text_of(builtin));
            char names[512] = "";
            size_t used = 0;
            for (size_t k = 0; k < catalog->program_count && used < sizeof(names); k++)
                used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", k ? ", " : "",
                                         catalog->programs[k].name);
            return fltsim__ld_fail(ld, builtin, "unknown builtin program '%s'; expected one of %s",
                                   fltsim__ld_text_of(builtin), names);
        }
        p->image = p->builtin->image;
        return true;
    }
    char *path = fltsim__ld_object_path(ld, object);
    if (path == NULL)
        return false;
    /* Opened once to check it, as a filter's object is: refused here, not
     * halfway through a run, with the status of the refusal (the CLI's exit
     * status 4). */
    struct fltsim__program_object po;
    char why[8192];
    NTSTATUS status =
        fltsim__program_object_open(path, fltsim__ld_text_of(object), &po, why, sizeof(why));
    if (!NT_SUCCESS(status)) {
        ld->status = status;
        return fltsim__ld_fail(ld, object, "%s", why);
    }
    fltsim__program_object_close(&po);
    p->object = path;
    if ((p->image = image_of(ld, path)) == NULL)
        return fltsim__ld_oom(ld, object);
    return true;
}

bool fltsim__ld_load_programs(struct ld *ld, yaml_node_t *list)
{
    static const char *const keys[] = {"name", "builtin", "object", "process_id", "args", NULL};
    struct fltsim_scenario *sc = ld->sc;
    if (!fltsim__ld_want_list(ld, list, "programs"))
        return false;
    sc->program_count = fltsim__ld_list_count(list);
    sc->programs = fltsim__ld_alloc(ld, (sc->program_count + 1) * sizeof(*sc->programs));
    ld->program_started = fltsim__ld_alloc(ld, sc->program_count + 1);
    if (sc->programs == NULL || ld->program_started == NULL)
        return fltsim__ld_oom(ld, list);
    for (size_t i = 0; i < sc->program_count; i++) {
        yaml_node_t *pn = fltsim__ld_list_item(ld, list, i), *n;
        struct sc_program *p = &sc->programs[i];
        if (!fltsim__ld_want_mapping(ld, pn, "a program") ||
            !fltsim__ld_check_keys(ld, pn, "a program", keys) ||
            !fltsim__ld_require(ld, pn, "name", "a program", &n) ||
            !fltsim__ld_get_string(ld, n, "name", &p->name))
            return false;
        p->line = (int)pn->start_mark.line + 1;
        p->column = (int)pn->start_mark.column + 1;
        if (p->name[0] == '\0')
            return fltsim__ld_fail(ld, n, "program name is empty; expected a name such as service");
        for (size_t j = 0; j < i; j++)
            if (strcmp(sc->programs[j].name, p->name) == 0)
                return fltsim__ld_fail(
                    ld, n, "program '%s' is declared twice; expected unique names", p->name);
        if (!load_program_source(ld, pn, p))
            return false;
        if ((n = fltsim__ld_get(ld, pn, "process_id")) != NULL) {
            if (!fltsim__ld_get_ulong(ld, n, "process_id", &p->process_id))
                return false;
            /* Windows' process ids are multiples of 4; 0 is the idle
             * process, 4 System (the runner), 1000 the scenario's threads. */
            if (p->process_id == 0 || p->process_id % 4 != 0 || p->process_id == 4 ||
                p->process_id == 1000)
                return fltsim__ld_fail(ld, n,
                                       "process_id %lu is not one a program can have; expected a "
                                       "multiple of 4 other than 0, 4 and 1000",
                                       (unsigned long)p->process_id);
            for (size_t j = 0; j < i; j++)
                if (sc->programs[j].process_id == p->process_id)
                    return fltsim__ld_fail(ld, n,
                                           "process_id %lu is program '%s''s too; expected a "
                                           "unique id",
                                           (unsigned long)p->process_id, sc->programs[j].name);
        }
        if ((n = fltsim__ld_get(ld, pn, "args")) != NULL &&
            !get_strings(ld, n, "args", &p->args, &p->arg_count))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------------- */
/* Steps                                                                     */
/* ------------------------------------------------------------------------- */

static bool find_program(struct ld *ld, yaml_node_t *node, const char *key, size_t *out)
{
    if (!fltsim__ld_want_scalar(ld, node, key))
        return false;
    for (size_t i = 0; i < ld->sc->program_count; i++)
        if (strcmp(ld->sc->programs[i].name, fltsim__ld_text_of(node)) == 0) {
            *out = i;
            return true;
        }
    return fltsim__ld_fail(ld, node, "unknown program '%s'; expected a name from 'programs'",
                           fltsim__ld_text_of(node));
}

/* A text a program is waited for or expected to print. */
static bool get_text(struct ld *ld, yaml_node_t *n, const char *key, const char **out)
{
    if (!fltsim__ld_want_scalar(ld, n, key) || !fltsim__ld_get_string(ld, n, key, out))
        return false;
    if ((*out)[0] == '\0' || strlen(*out) > SC_PROGRAM_TEXT_MAX)
        return fltsim__ld_fail(ld, n, "%s is %s; expected 1 to %u bytes", key,
                               (*out)[0] == '\0' ? "empty" : "too long", SC_PROGRAM_TEXT_MAX);
    return true;
}

/* {exit_code, output} of a wait_program step or of the end expect. */
static bool load_program_expect(struct ld *ld, yaml_node_t *node, const char *where,
                                struct sc_program_expect *e)
{
    static const char *const keys[] = {"exit_code", "output", NULL};
    yaml_node_t *n;
    if (!fltsim__ld_want_mapping(ld, node, where) || !fltsim__ld_check_keys(ld, node, where, keys))
        return false;
    if ((n = fltsim__ld_get(ld, node, "exit_code")) != NULL) {
        if (!fltsim__ld_get_ulong(ld, n, "exit_code", &e->exit_code))
            return false;
        e->has_exit_code = true;
    }
    if ((n = fltsim__ld_get(ld, node, "output")) != NULL) {
        if (!get_strings(ld, n, "output", &e->outputs, &e->output_count))
            return false;
        for (size_t i = 0; i < e->output_count; i++)
            if (e->outputs[i][0] == '\0' || strlen(e->outputs[i]) > SC_PROGRAM_TEXT_MAX)
                return fltsim__ld_fail(ld, n, "an expected output is %s; expected 1 to %u bytes",
                                       e->outputs[i][0] == '\0' ? "empty" : "too long",
                                       SC_PROGRAM_TEXT_MAX);
    }
    return true;
}

bool fltsim__ld_load_program_step(struct ld *ld, yaml_node_t *m, struct sc_step *s, const char *key)
{
    static const struct name_value until_names[] = {{"exit", FLTSIM_PROCESS_EXIT},
                                                    {"idle", FLTSIM_PROCESS_IDLE},
                                                    {"output", FLTSIM_PROCESS_OUTPUT},
                                                    {NULL, 0}};
    static const char *const start_keys[] = {"start", "id", "args", "input", NULL};
    static const char *const input_keys[] = {"input", "id", "text", NULL};
    static const char *const wait_keys[] = {"wait_program", "id",     "until", "text",
                                            "timeout_ms",   "expect", NULL};
    static const char *const stop_keys[] = {"stop", "id", NULL};
    static const char *const kill_keys[] = {"kill", "id", "exit_code", NULL};
    struct fltsim_scenario *sc = ld->sc;
    yaml_node_t *v = fltsim__ld_get(ld, m, key), *n;
    const char *const *keys;
    s->label = key;
    s->handle = -1;
    if (strcmp(key, "start") == 0) {
        s->kind = SC_STEP_START;
        keys = start_keys;
    } else if (strcmp(key, "input") == 0) {
        s->kind = SC_STEP_INPUT;
        keys = input_keys;
    } else if (strcmp(key, "wait_program") == 0) {
        s->kind = SC_STEP_WAIT_PROGRAM;
        keys = wait_keys;
    } else if (strcmp(key, "stop") == 0) {
        s->kind = SC_STEP_STOP;
        keys = stop_keys;
    } else {
        s->kind = SC_STEP_KILL;
        keys = kill_keys;
    }
    char where[64];
    snprintf(where, sizeof(where), "%s %s step", fltsim__ld_article(key), key);
    if (!fltsim__ld_check_keys(ld, m, where, keys) || !find_program(ld, v, key, &s->program))
        return false;
    const char *name = sc->programs[s->program].name;
    if (s->kind == SC_STEP_START) {
        if (ld->program_started[s->program])
            return fltsim__ld_fail(ld, v,
                                   "program '%s' is started twice; expected one start per "
                                   "program (declare another program to run it again)",
                                   name);
        ld->program_started[s->program] = true;
        if ((n = fltsim__ld_get(ld, m, "args")) != NULL &&
            !get_strings(ld, n, "args", &s->args, &s->arg_count))
            return false;
        if ((n = fltsim__ld_get(ld, m, "input")) != NULL &&
            !fltsim__ld_get_string(ld, n, "input", &s->program_text))
            return false;
        return true;
    }
    if (!ld->program_started[s->program])
        return fltsim__ld_fail(ld, v,
                               "program '%s' is not started by an earlier step; expected a "
                               "'start: %s' step above this one",
                               name, name);
    switch (s->kind) {
    case SC_STEP_INPUT:
        return fltsim__ld_require(ld, m, "text", where, &n) &&
               fltsim__ld_get_string(ld, n, "text", &s->program_text);
    case SC_STEP_KILL:
        s->exit_code = 1;
        return (n = fltsim__ld_get(ld, m, "exit_code")) == NULL ||
               fltsim__ld_get_ulong(ld, n, "exit_code", &s->exit_code);
    case SC_STEP_WAIT_PROGRAM: {
        ULONG64 until;
        if (!fltsim__ld_require(ld, m, "until", where, &n) ||
            !fltsim__ld_get_enum(ld, n, "until", "program state", until_names, &until))
            return false;
        s->until = (ULONG)until;
        yaml_node_t *t = fltsim__ld_get(ld, m, "text");
        if (until == FLTSIM_PROCESS_OUTPUT) {
            if (t == NULL)
                return fltsim__ld_fail(ld, n,
                                       "until: output needs 'text'; expected the text to "
                                       "wait for");
            if (!get_text(ld, t, "text", &s->program_text))
                return false;
        } else if (t != NULL) {
            return fltsim__ld_fail(ld, t, "'text' applies to until: output; expected none here");
        }
        s->timeout_ms = 10000;
        if ((n = fltsim__ld_get(ld, m, "timeout_ms")) != NULL) {
            if (!fltsim__ld_get_ulong(ld, n, "timeout_ms", &s->timeout_ms))
                return false;
            if (s->timeout_ms == 0 || s->timeout_ms > 3600000)
                return fltsim__ld_fail(ld, n,
                                       "timeout_ms %lu is out of range; expected 1 to 3600000",
                                       (unsigned long)s->timeout_ms);
        }
        if ((n = fltsim__ld_get(ld, m, "expect")) != NULL) {
            if (!load_program_expect(ld, n, "a wait_program step's expect", &s->program_expect))
                return false;
            if (s->program_expect.has_exit_code && until != FLTSIM_PROCESS_EXIT)
                return fltsim__ld_fail(ld, n,
                                       "exit_code is known once the program exits; expected "
                                       "until: exit with it");
        }
        return true;
    }
    default:
        return true;
    }
}

bool fltsim__ld_load_end_programs(struct ld *ld, yaml_node_t *node)
{
    struct fltsim_scenario *sc = ld->sc;
    struct sc_end_expect *e = &sc->expect;
    if (!fltsim__ld_want_mapping(ld, node, "'programs'"))
        return false;
    e->programs = fltsim__ld_alloc(ld, (sc->program_count + 1) * sizeof(*e->programs));
    e->program_lines = fltsim__ld_alloc(ld, (sc->program_count + 1) * sizeof(*e->program_lines));
    if (e->programs == NULL || e->program_lines == NULL)
        return fltsim__ld_oom(ld, node);
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = fltsim__ld_node_at(ld, pair->key),
                    *v = fltsim__ld_node_at(ld, pair->value);
        size_t i;
        if (!find_program(ld, k, "programs", &i))
            return false;
        if (e->program_lines[i] != 0)
            return fltsim__ld_fail(ld, k, "program '%s' is expected twice; expected it once",
                                   sc->programs[i].name);
        if (!ld->program_started[i])
            return fltsim__ld_fail(ld, k,
                                   "program '%s' is never started; expected a 'start: %s' step",
                                   sc->programs[i].name, sc->programs[i].name);
        e->program_lines[i] = (int)k->start_mark.line + 1;
        if (!load_program_expect(ld, v, "an expected program", &e->programs[i]))
            return false;
    }
    return true;
}
