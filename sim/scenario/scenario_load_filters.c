/*
 * Scenario loading, the filters (scenario_load_internal.h): `filters:` with
 * their builtin or shared object, altitude or instances and default instance,
 * and `registry:`, where a filter's parameters are set before it loads. It
 * checks what can be checked before a run: builtin names against the catalog,
 * a shared object by loading it once, one filter per program image, altitudes
 * as SPEC 2.1 writes them (for attach steps too). The steps that load, attach
 * and complete are scenario_load_steps.c's.
 */
#include <stdio.h>
#include <string.h>

#include "scenario_load_internal.h"
#include "common/filter_object.h"

#define REGISTRY_BASE "\\Registry\\Machine\\System\\CurrentControlSet\\"
#define ALTITUDE_MAX 127

static const struct name_value suppress_names[] = {
    {"automatic", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC},
    {"manual", FLTSIM_INSTANCE_SUPPRESS_MANUAL},
    {NULL, 0}};

bool fltsim__ld_load_registry(struct ld *ld, yaml_node_t *list)
{
    static const char *const entry_keys[] = {"key", "values", NULL};
    struct fltsim_scenario *sc = ld->sc;
    if (!fltsim__ld_want_list(ld, list, "registry"))
        return false;
    size_t total = 0;
    for (size_t i = 0; i < fltsim__ld_list_count(list); i++) {
        yaml_node_t *e = fltsim__ld_list_item(ld, list, i), *values;
        if (!fltsim__ld_want_mapping(ld, e, "a registry entry") ||
            !fltsim__ld_check_keys(ld, e, "a registry entry", entry_keys) ||
            !fltsim__ld_require(ld, e, "values", "a registry entry", &values) ||
            !fltsim__ld_want_mapping(ld, values, "'values'"))
            return false;
        total += (size_t)(values->data.mapping.pairs.top - values->data.mapping.pairs.start);
    }
    sc->registry = fltsim__ld_alloc(ld, (total ? total : 1) * sizeof(*sc->registry));
    if (sc->registry == NULL)
        return fltsim__ld_oom(ld, list);
    for (size_t i = 0; i < fltsim__ld_list_count(list); i++) {
        yaml_node_t *e = fltsim__ld_list_item(ld, list, i), *keyn;
        if (!fltsim__ld_require(ld, e, "key", "a registry entry", &keyn) ||
            !fltsim__ld_want_scalar(ld, keyn, "key"))
            return false;
        const char *key = fltsim__ld_text_of(keyn);
        if (key[0] == '\0')
            return fltsim__ld_fail(ld, keyn,
                                   "registry key is empty; expected a path such as "
                                   "Services\\MyFilter\\Parameters");
        char full[1024];
        if (strncasecmp(key, "\\Registry\\", 10) == 0)
            snprintf(full, sizeof(full), "%s", key);
        else
            snprintf(full, sizeof(full), "%s%s", REGISTRY_BASE, key[0] == '\\' ? key + 1 : key);
        size_t fn = strlen(full) + 1;
        WCHAR *wkey = fltsim__ld_alloc(ld, fn * sizeof(WCHAR));
        if (wkey == NULL)
            return fltsim__ld_oom(ld, keyn);
        if (fltsim_utf8_to_utf16(full, wkey, fn) == (size_t)-1)
            return fltsim__ld_fail(ld, keyn, "registry key is not valid UTF-8");
        yaml_node_t *values = fltsim__ld_get(ld, e, "values");
        for (yaml_node_pair_t *p = values->data.mapping.pairs.start;
             p < values->data.mapping.pairs.top; p++) {
            yaml_node_t *k = fltsim__ld_node_at(ld, p->key), *v = fltsim__ld_node_at(ld, p->value);
            struct sc_registry_value *rv = &sc->registry[sc->registry_count++];
            rv->key = wkey;
            if (!fltsim__ld_get_wstring(ld, k, "value name", &rv->name))
                return false;
            if (!fltsim__ld_want_scalar(ld, v, fltsim__ld_text_of(k)))
                return false;
            ULONG64 n;
            if (fltsim__ld_is_plain(v) && fltsim__ld_parse_uint(fltsim__ld_text_of(v), &n)) {
                if (n > 0xFFFFFFFFull)
                    return fltsim__ld_fail(ld, v,
                                           "registry value %s does not fit a REG_DWORD; expected "
                                           "at most 4294967295 (quote it for REG_SZ)",
                                           fltsim__ld_text_of(v));
                rv->type = REG_DWORD;
                rv->dword = (ULONG)n;
            } else {
                rv->type = REG_SZ;
                if (!fltsim__ld_get_wstring(ld, v, fltsim__ld_text_of(k), &rv->text))
                    return false;
            }
        }
    }
    return true;
}

/* SPEC 2.1: decimal digits with at most one dot, not empty, no sign, at most
 * ALTITUDE_MAX characters. */
bool fltsim__ld_check_altitude(struct ld *ld, yaml_node_t *node, PCWSTR *out)
{
    if (!fltsim__ld_want_scalar(ld, node, "altitude"))
        return false;
    const char *s = fltsim__ld_text_of(node);
    size_t digits = 0, dots = 0, n = strlen(s);
    for (const char *p = s; *p != '\0'; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (*p == '.')
            dots++;
        else
            return fltsim__ld_fail(
                ld, node,
                "altitude '%s' is not a decimal number (SPEC 2.1); expected digits "
                "with at most one dot",
                s);
    }
    if (digits == 0 || dots > 1)
        return fltsim__ld_fail(
            ld, node,
            "altitude '%s' is not a decimal number (SPEC 2.1); expected digits with "
            "at most one dot",
            s);
    if (n > ALTITUDE_MAX)
        return fltsim__ld_fail(ld, node,
                               "altitude of %zu characters is too long (SPEC 2.1); expected at "
                               "most 127",
                               n);
    return fltsim__ld_get_wstring(ld, node, "altitude", out);
}

static bool load_instances(struct ld *ld, struct sc_filter *f, yaml_node_t *list)
{
    static const char *const instance_keys[] = {"name", "altitude", "suppress", NULL};
    if (!fltsim__ld_want_list(ld, list, "instances"))
        return false;
    if (fltsim__ld_list_count(list) == 0)
        return fltsim__ld_fail(ld, list, "'instances' is empty; expected at least one instance");
    f->instance_count = fltsim__ld_list_count(list);
    f->instances = fltsim__ld_alloc(ld, f->instance_count * sizeof(*f->instances));
    if (f->instances == NULL)
        return fltsim__ld_oom(ld, list);
    for (size_t i = 0; i < f->instance_count; i++) {
        yaml_node_t *in = fltsim__ld_list_item(ld, list, i), *n;
        struct sc_instance *inst = &f->instances[i];
        if (!fltsim__ld_want_mapping(ld, in, "an instance") ||
            !fltsim__ld_check_keys(ld, in, "an instance", instance_keys) ||
            !fltsim__ld_require(ld, in, "name", "an instance", &n) ||
            !fltsim__ld_want_scalar(ld, n, "name") ||
            !fltsim__ld_get_wstring(ld, n, "name", &inst->name))
            return false;
        for (size_t j = 0; j < i; j++) {
            yaml_node_t *prev = fltsim__ld_get(ld, fltsim__ld_list_item(ld, list, j), "name");
            if (strcasecmp(fltsim__ld_text_of(prev), fltsim__ld_text_of(n)) == 0)
                return fltsim__ld_fail(ld, n,
                                       "instance '%s' is declared twice in filter '%s'; expected "
                                       "unique instance names",
                                       fltsim__ld_text_of(n), f->name);
        }
        if (!fltsim__ld_require(ld, in, "altitude", "an instance", &n) ||
            !fltsim__ld_check_altitude(ld, n, &inst->altitude))
            return false;
        if ((n = fltsim__ld_get(ld, in, "suppress")) != NULL &&
            !fltsim__ld_get_flags(ld, n, "suppress", "suppress flag", suppress_names, &inst->flags))
            return false;
    }
    return true;
}

bool fltsim__ld_load_filters(struct ld *ld, yaml_node_t *list)
{
    static const char *const filter_keys[] = {"name",     "builtin",         "object",
                                              "altitude", "instances",       "default_instance",
                                              "load",     "integrity_check", NULL};
    struct fltsim_scenario *sc = ld->sc;
    if (!fltsim__ld_want_list(ld, list, "filters"))
        return false;
    sc->filter_count = fltsim__ld_list_count(list);
    sc->filters = fltsim__ld_alloc(ld, (sc->filter_count + 1) * sizeof(*sc->filters));
    if (sc->filters == NULL)
        return fltsim__ld_oom(ld, list);
    for (size_t i = 0; i < sc->filter_count; i++) {
        yaml_node_t *fn = fltsim__ld_list_item(ld, list, i), *n;
        struct sc_filter *f = &sc->filters[i];
        if (!fltsim__ld_want_mapping(ld, fn, "a filter") ||
            !fltsim__ld_check_keys(ld, fn, "a filter", filter_keys) ||
            !fltsim__ld_require(ld, fn, "name", "a filter", &n) ||
            !fltsim__ld_get_string(ld, n, "name", &f->name) ||
            !fltsim__ld_get_wstring(ld, n, "name", &f->wname))
            return false;
        if (f->name[0] == '\0')
            return fltsim__ld_fail(ld, n, "filter name is empty; expected a service name");
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(sc->filters[j].name, f->name) == 0)
                return fltsim__ld_fail(
                    ld, n, "filter '%s' is declared twice; expected unique names", f->name);
        yaml_node_t *builtin = fltsim__ld_get(ld, fn, "builtin"),
                    *object = fltsim__ld_get(ld, fn, "object");
        if ((builtin == NULL) == (object == NULL))
            return fltsim__ld_fail(ld, builtin ? object : fn,
                                   "filter '%s' needs exactly one of builtin and object", f->name);
        if (builtin != NULL) {
            if (!fltsim__ld_want_scalar(ld, builtin, "builtin"))
                return false;
            f->builtin = fltsim_catalog_filter_find(fltsim__ld_text_of(builtin));
            if (f->builtin == NULL) {
                const struct fltsim_catalog *catalog = fltsim_catalog_get();
                if (catalog->filter_count == 0)
                    return fltsim__ld_fail(ld, builtin,
                                           "unknown builtin filter '%s'; this program has no "
                                           "built-in filters (fltsim_catalog_set)",
                                           fltsim__ld_text_of(builtin));
                char names[512] = "";
                size_t used = 0;
                for (size_t k = 0; k < catalog->filter_count && used < sizeof(names); k++)
                    used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
                                             k ? ", " : "", catalog->filters[k].name);
                return fltsim__ld_fail(ld, builtin,
                                       "unknown builtin filter '%s'; expected one of %s",
                                       fltsim__ld_text_of(builtin), names);
            }
        } else {
            char *path = fltsim__ld_object_path(ld, object);
            if (path == NULL)
                return false;
            /* Load it once to check it: a scenario should fail here, not
             * halfway through a run. An object that exists but will not
             * load is not the scenario's fault: the status says so (the
             * CLI's exit status 4), with everything it lacks. */
            struct fltsim__filter_object fo;
            char why[8192];
            NTSTATUS status =
                fltsim__filter_object_open(path, fltsim__ld_text_of(object), &fo, why, sizeof(why));
            if (!NT_SUCCESS(status)) {
                ld->status = status;
                return fltsim__ld_fail(ld, object, "%s", why);
            }
            fltsim__filter_object_close(&fo);
            f->object = path;
        }
        /* A minifilter keeps its state in globals: one program image can be
         * one loaded filter only (a second would overwrite the first's). */
        for (size_t j = 0; j < i; j++) {
            const struct sc_filter *o = &sc->filters[j];
            if ((f->builtin != NULL && o->builtin == f->builtin) ||
                (f->object != NULL && o->object != NULL && strcmp(o->object, f->object) == 0))
                return fltsim__ld_fail(ld, builtin ? builtin : object,
                                       "filter '%s' uses the same %s as filter '%s'; expected each "
                                       "minifilter once (its globals are shared)",
                                       f->name, builtin ? "builtin" : "shared object", o->name);
        }
        yaml_node_t *alt = fltsim__ld_get(ld, fn, "altitude"),
                    *insts = fltsim__ld_get(ld, fn, "instances");
        if (alt != NULL && insts != NULL)
            return fltsim__ld_fail(
                ld, insts, "filter '%s' has both altitude and instances; expected one", f->name);
        if (insts != NULL) {
            if (!load_instances(ld, f, insts))
                return false;
        } else {
            PCWSTR altitude;
            if (alt != NULL) {
                if (!fltsim__ld_check_altitude(ld, alt, &altitude))
                    return false;
            } else if (f->builtin != NULL) {
                altitude = f->builtin->altitude;
            } else {
                return fltsim__ld_fail(
                    ld, fn,
                    "filter '%s' has no altitude; expected altitude or instances "
                    "(a shared object has no suggested altitude)",
                    f->name);
            }
            char name[300];
            snprintf(name, sizeof(name), "%s Instance", f->name);
            WCHAR *w = fltsim__ld_alloc(ld, sizeof(name) * sizeof(WCHAR));
            f->instances = fltsim__ld_alloc(ld, sizeof(*f->instances));
            if (w == NULL || f->instances == NULL)
                return fltsim__ld_oom(ld, fn);
            fltsim_utf8_to_utf16(name, w, sizeof(name));
            f->instances[0].name = w;
            f->instances[0].altitude = altitude;
            f->instance_count = 1;
        }
        /* Without default_instance, the first instance is the default. */
        f->default_instance = f->instances[0].name;
        if ((n = fltsim__ld_get(ld, fn, "default_instance")) != NULL) {
            if (!fltsim__ld_want_scalar(ld, n, "default_instance"))
                return false;
            bool found = false;
            for (size_t k = 0; k < f->instance_count; k++) {
                char u[300];
                fltsim_utf16_to_utf8(f->instances[k].name, fltsim_wcslen(f->instances[k].name), u,
                                     sizeof(u));
                if (strcasecmp(u, fltsim__ld_text_of(n)) == 0)
                    found = true;
            }
            if (!found)
                return fltsim__ld_fail(
                    ld, n,
                    "default_instance '%s' is not an instance of filter '%s'; expected "
                    "one of its instance names",
                    fltsim__ld_text_of(n), f->name);
            if (!fltsim__ld_get_wstring(ld, n, "default_instance", &f->default_instance))
                return false;
        }
        f->load = true;
        if ((n = fltsim__ld_get(ld, fn, "load")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "load", &f->load))
            return false;
        f->integrity_check = true;
        if ((n = fltsim__ld_get(ld, fn, "integrity_check")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "integrity_check", &f->integrity_check))
            return false;
    }
    return true;
}
