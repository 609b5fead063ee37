/*
 * Scenario loading (DESIGN decision 8): parses a scenario file with libyaml's
 * document API (a node tree whose nodes carry their start marks) and validates
 * it into struct fltsim_scenario (scenario_internal.h). Every problem stops
 * the load with one line "FILE:LINE:COLUMN: what is wrong; what was expected"
 * at the start of the offending node. This file owns the load itself (the
 * file, the document, the top-level mapping, the arena) and the node readers
 * every part uses; each section of the schema is read by its own part
 * (scenario_load_internal.h names them). Running is scenario_run.c's.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scenario_load_internal.h"
#include "common/output.h"

/* ------------------------------------------------------------------------- */
/* Arena                                                                     */
/* ------------------------------------------------------------------------- */

struct sc_arena_block {
    struct sc_arena_block *next;
    max_align_t data[];
};

void *fltsim__scenario_alloc(struct fltsim_scenario *sc, size_t size)
{
    struct sc_arena_block *b = calloc(1, sizeof(*b) + (size ? size : 1));
    if (b == NULL)
        return NULL;
    b->next = sc->arena;
    sc->arena = b;
    return b->data;
}

void fltsim_scenario_free(struct fltsim_scenario *scenario)
{
    if (scenario == NULL)
        return;
    struct sc_arena_block *b = scenario->arena;
    while (b != NULL) {
        struct sc_arena_block *next = b->next;
        free(b);
        b = next;
    }
    free(scenario);
}

const char *fltsim_scenario_title(const struct fltsim_scenario *scenario)
{
    return scenario != NULL ? scenario->title : NULL;
}

const char *fltsim_scenario_golden(const struct fltsim_scenario *scenario)
{
    return scenario != NULL ? scenario->golden : NULL;
}

/* ------------------------------------------------------------------------- */
/* Errors and node helpers                                                   */
/* ------------------------------------------------------------------------- */

bool fltsim__ld_fail(struct ld *ld, yaml_node_t *node, const char *fmt, ...)
{
    yaml_mark_t mark = node->start_mark;
    if (ld->status == STATUS_SUCCESS)
        ld->status = STATUS_INVALID_PARAMETER;
    if (ld->error_size == 0)
        return false;
    int n = snprintf(ld->error, ld->error_size, "%s:%zu:%zu: ", ld->sc->path, mark.line + 1,
                     mark.column + 1);
    if (n < 0 || (size_t)n >= ld->error_size)
        return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ld->error + n, ld->error_size - (size_t)n, fmt, ap);
    va_end(ap);
    return false;
}

bool fltsim__ld_oom(struct ld *ld, yaml_node_t *node)
{
    ld->status = STATUS_INSUFFICIENT_RESOURCES;
    return fltsim__ld_fail(ld, node, "out of memory");
}

void *fltsim__ld_alloc(struct ld *ld, size_t size)
{
    void *p = fltsim__scenario_alloc(ld->sc, size);
    if (p == NULL)
        ld->status = STATUS_INSUFFICIENT_RESOURCES;
    return p;
}

static char *dup_str(struct ld *ld, const char *s)
{
    size_t n = strlen(s);
    char *p = fltsim__ld_alloc(ld, n + 1);
    if (p != NULL)
        memcpy(p, s, n + 1);
    return p;
}

yaml_node_t *fltsim__ld_node_at(struct ld *ld, int index)
{
    return yaml_document_get_node(ld->doc, index);
}

static const char *kind_name(yaml_node_t *node)
{
    switch (node->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    default:
        return "a scalar";
    }
}

const char *fltsim__ld_text_of(yaml_node_t *node)
{
    return (const char *)node->data.scalar.value;
}

bool fltsim__ld_is_plain(yaml_node_t *node)
{
    return node->type == YAML_SCALAR_NODE && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* "a" or "an" before word. */
const char *fltsim__ld_article(const char *word)
{
    return word[0] != '\0' && strchr("aeiou", word[0]) != NULL ? "an" : "a";
}

bool fltsim__ld_want_scalar(struct ld *ld, yaml_node_t *node, const char *key)
{
    if (node->type == YAML_SCALAR_NODE)
        return true;
    return fltsim__ld_fail(ld, node, "'%s' is %s; expected a scalar", key, kind_name(node));
}

bool fltsim__ld_want_mapping(struct ld *ld, yaml_node_t *node, const char *what)
{
    if (node->type == YAML_MAPPING_NODE)
        return true;
    return fltsim__ld_fail(ld, node, "%s is %s; expected a mapping", what, kind_name(node));
}

bool fltsim__ld_want_list(struct ld *ld, yaml_node_t *node, const char *what)
{
    if (node->type == YAML_SEQUENCE_NODE)
        return true;
    return fltsim__ld_fail(ld, node, "'%s' is %s; expected a list", what, kind_name(node));
}

size_t fltsim__ld_list_count(yaml_node_t *node)
{
    return (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
}

yaml_node_t *fltsim__ld_list_item(struct ld *ld, yaml_node_t *node, size_t i)
{
    return fltsim__ld_node_at(ld, node->data.sequence.items.start[i]);
}

/* Checks that every key of map is a scalar, appears once and is one of
 * accepted (NULL-terminated); where names the mapping in messages. */
bool fltsim__ld_check_keys(struct ld *ld, yaml_node_t *map, const char *where,
                           const char *const *accepted)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *key = fltsim__ld_node_at(ld, p->key);
        if (key->type != YAML_SCALAR_NODE)
            return fltsim__ld_fail(ld, key, "a key in %s is %s; expected a name", where,
                                   kind_name(key));
        bool known = false;
        for (size_t i = 0; accepted[i] != NULL; i++)
            if (strcmp(accepted[i], fltsim__ld_text_of(key)) == 0)
                known = true;
        if (!known) {
            char list[512] = "";
            size_t used = 0;
            for (size_t i = 0; accepted[i] != NULL && used < sizeof(list); i++)
                used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
                                         accepted[i]);
            return fltsim__ld_fail(ld, key, "unknown key '%s' in %s; expected one of: %s",
                                   fltsim__ld_text_of(key), where, list);
        }
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *prev = fltsim__ld_node_at(ld, q->key);
            if (prev->type == YAML_SCALAR_NODE &&
                strcmp(fltsim__ld_text_of(prev), fltsim__ld_text_of(key)) == 0)
                return fltsim__ld_fail(ld, key, "duplicate key '%s' in %s; expected each key once",
                                       fltsim__ld_text_of(key), where);
        }
    }
    return true;
}

/* The value of key in map, or NULL. */
yaml_node_t *fltsim__ld_get(struct ld *ld, yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = fltsim__ld_node_at(ld, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp(fltsim__ld_text_of(k), key) == 0)
            return fltsim__ld_node_at(ld, p->value);
    }
    return NULL;
}

bool fltsim__ld_require(struct ld *ld, yaml_node_t *map, const char *key, const char *where,
                        yaml_node_t **out)
{
    *out = fltsim__ld_get(ld, map, key);
    if (*out != NULL)
        return true;
    return fltsim__ld_fail(ld, map, "missing key '%s' in %s; expected '%s:' there", key, where,
                           key);
}

bool fltsim__ld_get_string(struct ld *ld, yaml_node_t *node, const char *key, const char **out)
{
    if (!fltsim__ld_want_scalar(ld, node, key))
        return false;
    *out = dup_str(ld, fltsim__ld_text_of(node));
    return *out != NULL || fltsim__ld_oom(ld, node);
}

bool fltsim__ld_get_wstring(struct ld *ld, yaml_node_t *node, const char *key, PCWSTR *out)
{
    if (!fltsim__ld_want_scalar(ld, node, key))
        return false;
    size_t n = node->data.scalar.length + 1;
    WCHAR *w = fltsim__ld_alloc(ld, n * sizeof(WCHAR));
    if (w == NULL)
        return fltsim__ld_oom(ld, node);
    if (fltsim_utf8_to_utf16(fltsim__ld_text_of(node), w, n) == (size_t)-1)
        return fltsim__ld_fail(ld, node, "'%s' is not valid UTF-8 text", key);
    *out = w;
    return true;
}

bool fltsim__ld_parse_uint(const char *s, ULONG64 *out)
{
    ULONG64 v = 0;
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s[2] != '\0') {
        base = 16;
        s += 2;
    }
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        int d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = *s - 'a' + 10;
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = *s - 'A' + 10;
        else
            return false;
        if (v > (UINT64_MAX - (ULONG64)d) / (ULONG64)base)
            return false;
        v = v * (ULONG64)base + (ULONG64)d;
    }
    *out = v;
    return true;
}

bool fltsim__ld_get_uint(struct ld *ld, yaml_node_t *node, const char *key, ULONG64 max,
                         ULONG64 *out)
{
    if (!fltsim__ld_want_scalar(ld, node, key))
        return false;
    ULONG64 v;
    if (!fltsim__ld_is_plain(node) || !fltsim__ld_parse_uint(fltsim__ld_text_of(node), &v))
        return fltsim__ld_fail(ld, node,
                               "%s '%s' is not an unsigned integer; expected digits (or 0x hex)",
                               key, fltsim__ld_text_of(node));
    if (v > max)
        return fltsim__ld_fail(ld, node, "%s %s is too large; expected at most %llu", key,
                               fltsim__ld_text_of(node), (unsigned long long)max);
    *out = v;
    return true;
}

bool fltsim__ld_get_ulong(struct ld *ld, yaml_node_t *node, const char *key, ULONG *out)
{
    ULONG64 v;
    if (!fltsim__ld_get_uint(ld, node, key, 0xFFFFFFFFull, &v))
        return false;
    *out = (ULONG)v;
    return true;
}

bool fltsim__ld_get_longlong(struct ld *ld, yaml_node_t *n, const char *key, LONGLONG *out)
{
    ULONG64 v;
    if (!fltsim__ld_get_uint(ld, n, key, INT64_MAX, &v))
        return false;
    *out = (LONGLONG)v;
    return true;
}

bool fltsim__ld_get_bool(struct ld *ld, yaml_node_t *node, const char *key, bool *out)
{
    if (!fltsim__ld_want_scalar(ld, node, key))
        return false;
    if (fltsim__ld_is_plain(node) && strcmp(fltsim__ld_text_of(node), "true") == 0)
        *out = true;
    else if (fltsim__ld_is_plain(node) && strcmp(fltsim__ld_text_of(node), "false") == 0)
        *out = false;
    else
        return fltsim__ld_fail(ld, node, "%s '%s' is not a boolean; expected true or false", key,
                               fltsim__ld_text_of(node));
    return true;
}

static void list_names(const struct name_value *table, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; table[i].name != NULL && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", table[i].name);
}

bool fltsim__ld_get_enum(struct ld *ld, yaml_node_t *node, const char *key, const char *what,
                         const struct name_value *table, ULONG64 *out)
{
    if (!fltsim__ld_want_scalar(ld, node, key))
        return false;
    for (size_t i = 0; table[i].name != NULL; i++)
        if (strcmp(table[i].name, fltsim__ld_text_of(node)) == 0) {
            *out = table[i].value;
            return true;
        }
    /* A number is the value itself (what fltsim import writes). */
    if (fltsim__ld_is_plain(node) && fltsim__ld_parse_uint(fltsim__ld_text_of(node), out) &&
        *out <= 0xFFFFFFFFull)
        return true;
    char names[2048];
    list_names(table, names, sizeof(names));
    return fltsim__ld_fail(ld, node, "unknown %s '%s'; expected one of %s", what,
                           fltsim__ld_text_of(node), names);
}

/* A list of names (or one name) ORed together. */
bool fltsim__ld_get_flags(struct ld *ld, yaml_node_t *node, const char *key, const char *what,
                          const struct name_value *table, ULONG *out)
{
    ULONG64 v, acc = 0;
    if (node->type == YAML_SCALAR_NODE) {
        if (!fltsim__ld_get_enum(ld, node, key, what, table, &v))
            return false;
        *out = (ULONG)v;
        return true;
    }
    if (!fltsim__ld_want_list(ld, node, key))
        return false;
    for (size_t i = 0; i < fltsim__ld_list_count(node); i++) {
        if (!fltsim__ld_get_enum(ld, fltsim__ld_list_item(ld, node, i), key, what, table, &v))
            return false;
        acc |= v;
    }
    *out = (ULONG)acc;
    return true;
}

bool fltsim__ld_get_status(struct ld *ld, yaml_node_t *node, const char *key, NTSTATUS *out)
{
    if (!fltsim__ld_want_scalar(ld, node, key))
        return false;
    if (fltsim_ntstatus_parse(fltsim__ld_text_of(node), out))
        return true;
    return fltsim__ld_fail(
        ld, node,
        "unknown status '%s'; expected an NTSTATUS name such as STATUS_SUCCESS or a "
        "hex value such as 0xC0000022",
        fltsim__ld_text_of(node));
}

int fltsim__ld_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* data: (UTF-8 text), hex: (bytes) or zeros: (a count) from map; none of
 * them leaves out->set false. */
bool fltsim__ld_get_bytes(struct ld *ld, yaml_node_t *map, const char *where, struct sc_bytes *out)
{
    yaml_node_t *data = fltsim__ld_get(ld, map, "data"), *hex = fltsim__ld_get(ld, map, "hex");
    yaml_node_t *zeros = fltsim__ld_get(ld, map, "zeros");
    memset(out, 0, sizeof(*out));
    if ((data != NULL) + (hex != NULL) + (zeros != NULL) > 1)
        return fltsim__ld_fail(
            ld, zeros != NULL ? zeros : hex, "both %s and %s in %s; expected one of them",
            data != NULL ? "data" : "hex", zeros != NULL ? "zeros" : "hex", where);
    if (zeros != NULL) {
        ULONG64 n;
        if (!fltsim__ld_get_uint(ld, zeros, "zeros", 64ull * 1024 * 1024, &n))
            return false;
        out->size = (size_t)n;
        out->data = fltsim__ld_alloc(ld, out->size + 1);
        if (out->data == NULL)
            return fltsim__ld_oom(ld, zeros);
        memset(out->data, 0, out->size + 1);
        out->set = true;
    } else if (data != NULL) {
        if (!fltsim__ld_want_scalar(ld, data, "data"))
            return false;
        out->size = data->data.scalar.length;
        out->data = fltsim__ld_alloc(ld, out->size + 1);
        if (out->data == NULL)
            return fltsim__ld_oom(ld, data);
        memcpy(out->data, data->data.scalar.value, out->size);
        out->set = true;
    } else if (hex != NULL) {
        if (!fltsim__ld_want_scalar(ld, hex, "hex"))
            return false;
        const char *s = fltsim__ld_text_of(hex);
        out->data = fltsim__ld_alloc(ld, strlen(s) / 2 + 1);
        if (out->data == NULL)
            return fltsim__ld_oom(ld, hex);
        int high = -1;
        for (; *s != '\0'; s++) {
            if (*s == ' ' || *s == '\t' || *s == '\n')
                continue;
            int d = fltsim__ld_hex_digit(*s);
            if (d < 0)
                return fltsim__ld_fail(ld, hex,
                                       "hex '%s' has the character '%c'; expected hex digits",
                                       fltsim__ld_text_of(hex), *s);
            if (high < 0) {
                high = d;
            } else {
                out->data[out->size++] = (unsigned char)(high << 4 | d);
                high = -1;
            }
        }
        if (high >= 0)
            return fltsim__ld_fail(ld, hex,
                                   "hex '%s' has an odd number of digits; expected whole bytes",
                                   fltsim__ld_text_of(hex));
        out->set = true;
    }
    return true;
}

/* path relative to the scenario file's directory, or absolute. */
char *fltsim__ld_resolve(struct ld *ld, const char *rel)
{
    if (rel[0] == '/')
        return dup_str(ld, rel);
    size_t n = strlen(ld->dir) + 1 + strlen(rel) + 1;
    char *p = fltsim__ld_alloc(ld, n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", ld->dir, rel);
    return p;
}

/* An `object:` value: the shared object's path, resolved, when it names a
 * regular file; NULL with the error at the node otherwise. */
char *fltsim__ld_object_path(struct ld *ld, yaml_node_t *object)
{
    if (!fltsim__ld_want_scalar(ld, object, "object"))
        return NULL;
    char *path = fltsim__ld_resolve(ld, fltsim__ld_text_of(object));
    if (path == NULL) {
        fltsim__ld_oom(ld, object);
        return NULL;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        fltsim__ld_fail(ld, object, "shared object '%s' not found (resolved to %s)",
                        fltsim__ld_text_of(object), path);
        return NULL;
    }
    return path;
}

/* ------------------------------------------------------------------------- */
/* The simulated Windows version                                             */
/* ------------------------------------------------------------------------- */

/* windows: {version: MAJOR.MINOR.BUILD, service_pack: N, product: ...}
 * (fltsim_system_options.windows). */
static bool load_windows(struct ld *ld, yaml_node_t *map)
{
    static const char *const keys[] = {"version", "service_pack", "product", NULL};
    static const struct name_value products[] = {{"workstation", VER_NT_WORKSTATION},
                                                 {"domain_controller", VER_NT_DOMAIN_CONTROLLER},
                                                 {"server", VER_NT_SERVER},
                                                 {NULL, 0}};
    struct fltsim_windows_version *w = &ld->sc->windows;
    yaml_node_t *n;
    if (!fltsim__ld_want_mapping(ld, map, "windows") ||
        !fltsim__ld_check_keys(ld, map, "windows", keys) ||
        !fltsim__ld_require(ld, map, "version", "windows", &n) ||
        !fltsim__ld_want_scalar(ld, n, "version"))
        return false;
    const char *text = fltsim__ld_text_of(n);
    unsigned long major, minor, build;
    int end = 0;
    if (sscanf(text, "%lu.%lu.%lu%n", &major, &minor, &build, &end) != 3 || text[end] != '\0' ||
        text[0] < '0' || text[0] > '9' || major > 0xFFFFFFFFul || minor > 0xFFFFFFFFul ||
        build > 0xFFFFFFFFul)
        return fltsim__ld_fail(ld, n, "version: '%s'; expected MAJOR.MINOR.BUILD, e.g. 10.0.19045",
                               text);
    w->major = (ULONG)major;
    w->minor = (ULONG)minor;
    w->build = (ULONG)build;
    ULONG64 v = 0;
    if ((n = fltsim__ld_get(ld, map, "service_pack")) != NULL &&
        !fltsim__ld_get_uint(ld, n, "service_pack", 0xFF, &v))
        return false;
    w->service_pack_major = (USHORT)v;
    v = VER_NT_WORKSTATION;
    if ((n = fltsim__ld_get(ld, map, "product")) != NULL &&
        !fltsim__ld_get_enum(ld, n, "product", "product type", products, &v))
        return false;
    w->product_type = (UCHAR)v;
    if (!NT_SUCCESS(fltsim_windows_version_check(w)))
        return fltsim__ld_fail(ld, map, "windows: %s", fltsim_last_error());
    return true;
}

/* ------------------------------------------------------------------------- */
/* The top-level mapping                                                     */
/* ------------------------------------------------------------------------- */

/* A golden trace that exists must be a regular file of at most
 * SC_GOLDEN_MAX_BYTES (reading /dev/zero would never end); one that does not
 * exist yet is --update-golden's to write, or the run's to report. */
static bool check_golden(struct ld *ld, yaml_node_t *n)
{
    struct stat st;
    const char *text = fltsim__ld_text_of(n);
    if (stat(ld->sc->golden, &st) != 0)
        return true;
    if (!S_ISREG(st.st_mode))
        return fltsim__ld_fail(ld, n,
                               "golden trace '%s' is %s, not a regular file; expected a file that "
                               "--update-golden writes",
                               text,
                               S_ISDIR(st.st_mode)                          ? "a directory"
                               : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                               : S_ISFIFO(st.st_mode)                       ? "a pipe"
                                                                            : "a special file");
    if ((unsigned long long)st.st_size > SC_GOLDEN_MAX_BYTES)
        return fltsim__ld_fail(ld, n,
                               "golden trace '%s' is %llu bytes; expected at most %u MiB (a "
                               "scenario's golden trace takes a few KiB)",
                               text, (unsigned long long)st.st_size, SC_GOLDEN_MAX_BYTES >> 20);
    return true;
}

static bool load_top(struct ld *ld, yaml_node_t *root)
{
    static const char *const top_keys[] = {
        "scenario", "description", "executor", "seed",     "verifier", "verifier_disable",
        "golden",   "registry",    "volumes",  "filters",  "threads",  "steps",
        "expect",   "faults",      "windows",  "programs", NULL};
    static const struct name_value executor_names[] = {
        {"deterministic", FLTSIM_EXECUTOR_DETERMINISTIC},
        {"concurrent", FLTSIM_EXECUTOR_CONCURRENT},
        {NULL, 0}};
    static const struct name_value verifier_names[] = {
        {"strict", FLTSIM_VERIFIER_STRICT}, {"report", FLTSIM_VERIFIER_REPORT}, {NULL, 0}};
    struct fltsim_scenario *sc = ld->sc;
    yaml_node_t *n;
    if (!fltsim__ld_want_mapping(ld, root, "the document") ||
        !fltsim__ld_check_keys(ld, root, "the top-level mapping", top_keys) ||
        !fltsim__ld_require(ld, root, "scenario", "the top-level mapping", &n) ||
        !fltsim__ld_get_string(ld, n, "scenario", &sc->title))
        return false;
    if ((n = fltsim__ld_get(ld, root, "description")) != NULL &&
        !fltsim__ld_get_string(ld, n, "description", &sc->description))
        return false;
    ULONG64 v = FLTSIM_EXECUTOR_DETERMINISTIC;
    if ((n = fltsim__ld_get(ld, root, "executor")) != NULL &&
        !fltsim__ld_get_enum(ld, n, "executor", "executor", executor_names, &v))
        return false;
    sc->executor = (enum fltsim_executor_kind)v;
    sc->seed = 1;
    if ((n = fltsim__ld_get(ld, root, "seed")) != NULL &&
        !fltsim__ld_get_uint(ld, n, "seed", UINT64_MAX, &sc->seed))
        return false;
    v = FLTSIM_VERIFIER_STRICT;
    if ((n = fltsim__ld_get(ld, root, "verifier")) != NULL &&
        !fltsim__ld_get_enum(ld, n, "verifier", "verifier mode", verifier_names, &v))
        return false;
    sc->verifier = (enum fltsim_verifier_mode)v;
    if ((n = fltsim__ld_get(ld, root, "verifier_disable")) != NULL) {
        if (!fltsim__ld_want_list(ld, n, "verifier_disable"))
            return false;
        sc->verifier_disable_count = fltsim__ld_list_count(n);
        sc->verifier_disable =
            fltsim__ld_alloc(ld, (sc->verifier_disable_count + 1) * sizeof(char *));
        if (sc->verifier_disable == NULL)
            return fltsim__ld_oom(ld, n);
        for (size_t i = 0; i < sc->verifier_disable_count; i++) {
            yaml_node_t *item = fltsim__ld_list_item(ld, n, i);
            if (!fltsim__ld_get_string(ld, item, "verifier_disable", &sc->verifier_disable[i]))
                return false;
            if (!fltsim_verifier_rule_valid(sc->verifier_disable[i]))
                return fltsim__ld_fail(ld, item,
                                       "verifier_disable: '%s' is not a verifier rule (V1 ... V36, "
                                       "ASSERT, IO, KE, MM, RTL, SEH or SIM)",
                                       sc->verifier_disable[i]);
        }
    }
    if ((n = fltsim__ld_get(ld, root, "windows")) != NULL && !load_windows(ld, n))
        return false;
    if ((n = fltsim__ld_get(ld, root, "golden")) != NULL) {
        if (!fltsim__ld_want_scalar(ld, n, "golden"))
            return false;
        if ((sc->golden = fltsim__ld_resolve(ld, fltsim__ld_text_of(n))) == NULL)
            return fltsim__ld_oom(ld, n);
        /* Device and inode: a link to the scenario is the scenario too. */
        if (fltsim__output_same_file(sc->golden, sc->path))
            return fltsim__ld_fail(ld, n,
                                   "golden '%s' is the scenario file itself; expected a file of "
                                   "its own for the trace (--update-golden would overwrite the "
                                   "scenario)",
                                   fltsim__ld_text_of(n));
        if (!check_golden(ld, n))
            return false;
    }
    if ((n = fltsim__ld_get(ld, root, "registry")) != NULL && !fltsim__ld_load_registry(ld, n))
        return false;
    if (!fltsim__ld_require(ld, root, "volumes", "the top-level mapping", &n) ||
        !fltsim__ld_load_volumes(ld, n))
        return false;
    if ((n = fltsim__ld_get(ld, root, "filters")) != NULL && !fltsim__ld_load_filters(ld, n))
        return false;
    if ((n = fltsim__ld_get(ld, root, "faults")) != NULL && !fltsim__ld_load_faults(ld, n))
        return false;
    if ((n = fltsim__ld_get(ld, root, "programs")) != NULL && !fltsim__ld_load_programs(ld, n))
        return false;
    if (!fltsim__ld_load_threads(ld, fltsim__ld_get(ld, root, "threads")))
        return false;
    if (!fltsim__ld_require(ld, root, "steps", "the top-level mapping", &n) ||
        !fltsim__ld_load_steps(ld, n))
        return false;
    if ((n = fltsim__ld_get(ld, root, "expect")) != NULL && !fltsim__ld_load_end_expect(ld, n))
        return false;
    return true;
}

/* ------------------------------------------------------------------------- */
/* Entry point                                                               */
/* ------------------------------------------------------------------------- */

static void set_error(char *error, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error(char *error, size_t size, const char *fmt, ...)
{
    if (error == NULL || size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error, size, fmt, ap);
    va_end(ap);
}

/* The line and column of byte offset of file (columns count characters):
 * libyaml places a reader error (a byte that is not UTF-8, a control
 * character) by its offset only. */
static void offset_place(FILE *file, size_t offset, size_t *line, size_t *column)
{
    *line = 1;
    *column = 1;
    rewind(file);
    for (size_t i = 0; i < offset; i++) {
        int c = getc(file);
        if (c == EOF)
            break;
        if (c == '\n') {
            (*line)++;
            *column = 1;
        } else if ((c & 0xC0) != 0x80) {
            (*column)++;
        }
    }
}

static void syntax_error(yaml_parser_t *parser, FILE *file, const char *path, char *error,
                         size_t error_size)
{
    size_t line = parser->problem_mark.line + 1, column = parser->problem_mark.column + 1;
    char byte[32] = "";
    if (parser->error == YAML_READER_ERROR) {
        offset_place(file, parser->problem_offset, &line, &column);
        if (parser->problem_value >= 0 && parser->problem_value <= 0xff)
            snprintf(byte, sizeof(byte), " (byte 0x%02x)", (unsigned)parser->problem_value);
    }
    set_error(error, error_size, "%s:%zu:%zu: YAML syntax error: %s%s%s%s", path, line, column,
              parser->problem ? parser->problem : "unknown problem", byte,
              parser->context ? " " : "", parser->context ? parser->context : "");
}

/* libyaml has no nesting limit, and its scanner is quadratic in the depth of
 * flow collections (100,000 levels take a minute): a first pass over the
 * parser's events refuses a file nested deeper than this before a document
 * is built, at the collection that goes too deep. A scenario needs about 6. */
#define SC_MAX_DEPTH 64

/* False after reporting a collection nested deeper than SC_MAX_DEPTH. A
 * syntax error ends the pass quietly: the load reports it. Leaves the file
 * rewound. */
static bool check_depth(FILE *file, const char *path, char *error, size_t error_size)
{
    yaml_parser_t parser;
    bool ok = true;
    if (yaml_parser_initialize(&parser)) {
        yaml_parser_set_input_file(&parser, file);
        for (int depth = 0, done = 0; ok && !done;) {
            yaml_event_t ev;
            if (!yaml_parser_parse(&parser, &ev))
                break;
            if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
                if (++depth > SC_MAX_DEPTH) {
                    set_error(error, error_size,
                              "%s:%zu:%zu: a %s nested %d levels deep; expected at most %d "
                              "levels (a scenario needs a few)",
                              path, ev.start_mark.line + 1, ev.start_mark.column + 1,
                              ev.type == YAML_SEQUENCE_START_EVENT ? "list" : "mapping", depth,
                              SC_MAX_DEPTH);
                    ok = false;
                }
            } else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
                depth--;
            } else if (ev.type == YAML_STREAM_END_EVENT) {
                done = 1;
            }
            yaml_event_delete(&ev);
        }
        yaml_parser_delete(&parser);
    }
    rewind(file);
    return ok;
}

NTSTATUS fltsim_scenario_load(const char *path, struct fltsim_scenario **out, char *error,
                              size_t error_size)
{
    NTSTATUS status = STATUS_SUCCESS;
    FILE *file = NULL;
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    bool parser_ready = false, doc_ready = false, extra_ready = false;
    struct fltsim_scenario *sc = NULL;
    char dirbuf[PATH_MAX];

    if (error != NULL && error_size > 0)
        error[0] = '\0';
    if (out == NULL || path == NULL) {
        set_error(error, error_size, "fltsim_scenario_load: NULL path or out");
        return STATUS_INVALID_PARAMETER;
    }
    *out = NULL;

    sc = calloc(1, sizeof(*sc));
    if (sc == NULL) {
        set_error(error, error_size, "%s: out of memory", path);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    struct ld ld = {.sc = sc, .doc = &doc, .error = error, .error_size = error ? error_size : 0};
    sc->path = dup_str(&ld, path);
    if (sc->path == NULL) {
        set_error(error, error_size, "%s: out of memory", path);
        status = STATUS_INSUFFICIENT_RESOURCES;
        goto out;
    }

    file = fopen(path, "rb");
    if (file == NULL) {
        set_error(error, error_size, "%s:1:1: cannot open the file: %s", path, strerror(errno));
        status = STATUS_OBJECT_NAME_NOT_FOUND;
        goto out;
    }
    struct stat file_stat;
    if (fstat(fileno(file), &file_stat) == 0 && S_ISDIR(file_stat.st_mode)) {
        set_error(error, error_size, "%s: is a directory; expected a scenario file (YAML)", path);
        status = STATUS_FILE_IS_A_DIRECTORY;
        goto out;
    }
    /* The directory relative paths in the file start from, made absolute so
     * that messages and dlopen see one unambiguous path. */
    {
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof(tmp), "%s", path);
        char *slash = strrchr(tmp, '/');
        if (slash == tmp)
            tmp[1] = '\0';
        else if (slash != NULL)
            *slash = '\0';
        else
            snprintf(tmp, sizeof(tmp), ".");
        if (realpath(tmp, dirbuf) == NULL)
            snprintf(dirbuf, sizeof(dirbuf), "%s", tmp);
        ld.dir = dirbuf;
    }

    if (!check_depth(file, path, error, error_size)) {
        status = STATUS_INVALID_PARAMETER;
        goto out;
    }
    if (!yaml_parser_initialize(&parser)) {
        set_error(error, error_size, "%s: out of memory", path);
        status = STATUS_INSUFFICIENT_RESOURCES;
        goto out;
    }
    parser_ready = true;
    yaml_parser_set_input_file(&parser, file);
    if (!yaml_parser_load(&parser, &doc)) {
        syntax_error(&parser, file, path, error, error_size);
        status = parser.error == YAML_MEMORY_ERROR ? STATUS_INSUFFICIENT_RESOURCES
                                                   : STATUS_INVALID_PARAMETER;
        goto out;
    }
    doc_ready = true;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root == NULL) {
        set_error(error, error_size,
                  "%s:1:1: the file holds no document; expected a mapping with scenario, "
                  "volumes and steps",
                  path);
        status = STATUS_INVALID_PARAMETER;
        goto out;
    }
    if (!yaml_parser_load(&parser, &extra)) {
        syntax_error(&parser, file, path, error, error_size);
        status = STATUS_INVALID_PARAMETER;
        goto out;
    }
    extra_ready = true;
    if (yaml_document_get_root_node(&extra) != NULL) {
        set_error(error, error_size,
                  "%s:%zu:%zu: a second document; expected one scenario per file", path,
                  extra.start_mark.line + 1, extra.start_mark.column + 1);
        status = STATUS_INVALID_PARAMETER;
        goto out;
    }

    if (!load_top(&ld, root)) {
        status = ld.status != STATUS_SUCCESS ? ld.status : STATUS_INVALID_PARAMETER;
        goto out;
    }
    if (ld.status != STATUS_SUCCESS) { /* an allocation failed without a message */
        set_error(error, error_size, "%s: out of memory", path);
        status = ld.status;
        goto out;
    }
    *out = sc;
    sc = NULL;

out:
    if (extra_ready)
        yaml_document_delete(&extra);
    if (doc_ready)
        yaml_document_delete(&doc);
    if (parser_ready)
        yaml_parser_delete(&parser);
    if (file != NULL)
        fclose(file);
    fltsim_scenario_free(sc);
    return status;
}
