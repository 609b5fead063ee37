/*
 * Scenario loading (DESIGN decision 8): parses a scenario file with libyaml's
 * document API (a node tree whose nodes carry their start marks) and validates
 * it into struct fltsim_scenario (scenario_internal.h). Every problem stops
 * the load with one line "FILE:LINE:COLUMN: what is wrong; what was expected"
 * at the start of the offending node. References are checked here too: steps
 * against the filters, volumes, threads and handles declared before them,
 * builtin names against the catalog, shared objects by loading them once.
 * Running is scenario_run.c's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include <fltsim/io.h>

#include "scenario_load_internal.h"
#include "common/sim_internal.h"

#define REGISTRY_BASE "\\Registry\\Machine\\System\\CurrentControlSet\\"
#define ALTITUDE_MAX 127

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

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* data: (UTF-8 text) or hex: (bytes) from map; neither leaves out->set false. */
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
            int d = hex_digit(*s);
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

/* ------------------------------------------------------------------------- */
/* Name tables                                                               */
/* ------------------------------------------------------------------------- */

static const struct name_value access_names[] = {{"GENERIC_READ", GENERIC_READ},
                                                 {"GENERIC_WRITE", GENERIC_WRITE},
                                                 {"GENERIC_EXECUTE", GENERIC_EXECUTE},
                                                 {"GENERIC_ALL", GENERIC_ALL},
                                                 {"FILE_READ_DATA", FILE_READ_DATA},
                                                 {"FILE_LIST_DIRECTORY", FILE_LIST_DIRECTORY},
                                                 {"FILE_WRITE_DATA", FILE_WRITE_DATA},
                                                 {"FILE_ADD_FILE", FILE_ADD_FILE},
                                                 {"FILE_APPEND_DATA", FILE_APPEND_DATA},
                                                 {"FILE_ADD_SUBDIRECTORY", FILE_ADD_SUBDIRECTORY},
                                                 {"FILE_READ_EA", FILE_READ_EA},
                                                 {"FILE_WRITE_EA", FILE_WRITE_EA},
                                                 {"FILE_EXECUTE", FILE_EXECUTE},
                                                 {"FILE_TRAVERSE", FILE_TRAVERSE},
                                                 {"FILE_DELETE_CHILD", FILE_DELETE_CHILD},
                                                 {"FILE_READ_ATTRIBUTES", FILE_READ_ATTRIBUTES},
                                                 {"FILE_WRITE_ATTRIBUTES", FILE_WRITE_ATTRIBUTES},
                                                 {"FILE_ALL_ACCESS", FILE_ALL_ACCESS},
                                                 {"FILE_GENERIC_READ", FILE_GENERIC_READ},
                                                 {"FILE_GENERIC_WRITE", FILE_GENERIC_WRITE},
                                                 {"FILE_GENERIC_EXECUTE", FILE_GENERIC_EXECUTE},
                                                 {"DELETE", DELETE},
                                                 {"READ_CONTROL", READ_CONTROL},
                                                 {"WRITE_DAC", WRITE_DAC},
                                                 {"WRITE_OWNER", WRITE_OWNER},
                                                 {"SYNCHRONIZE", SYNCHRONIZE},
                                                 {"MAXIMUM_ALLOWED", MAXIMUM_ALLOWED},
                                                 {"read", GENERIC_READ},
                                                 {"write", GENERIC_WRITE},
                                                 {"delete", DELETE},
                                                 {"all", GENERIC_ALL},
                                                 {NULL, 0}};

static const struct name_value share_names[] = {{"FILE_SHARE_READ", FILE_SHARE_READ},
                                                {"FILE_SHARE_WRITE", FILE_SHARE_WRITE},
                                                {"FILE_SHARE_DELETE", FILE_SHARE_DELETE},
                                                {"read", FILE_SHARE_READ},
                                                {"write", FILE_SHARE_WRITE},
                                                {"delete", FILE_SHARE_DELETE},
                                                {NULL, 0}};

static const struct name_value disposition_names[] = {{"FILE_SUPERSEDE", FILE_SUPERSEDE},
                                                      {"FILE_OPEN", FILE_OPEN},
                                                      {"FILE_CREATE", FILE_CREATE},
                                                      {"FILE_OPEN_IF", FILE_OPEN_IF},
                                                      {"FILE_OVERWRITE", FILE_OVERWRITE},
                                                      {"FILE_OVERWRITE_IF", FILE_OVERWRITE_IF},
                                                      {"supersede", FILE_SUPERSEDE},
                                                      {"open", FILE_OPEN},
                                                      {"create", FILE_CREATE},
                                                      {"open_if", FILE_OPEN_IF},
                                                      {"overwrite", FILE_OVERWRITE},
                                                      {"overwrite_if", FILE_OVERWRITE_IF},
                                                      {NULL, 0}};

static const struct name_value option_names[] = {
    {"FILE_DIRECTORY_FILE", FILE_DIRECTORY_FILE},
    {"FILE_WRITE_THROUGH", FILE_WRITE_THROUGH},
    {"FILE_SEQUENTIAL_ONLY", FILE_SEQUENTIAL_ONLY},
    {"FILE_NO_INTERMEDIATE_BUFFERING", FILE_NO_INTERMEDIATE_BUFFERING},
    {"FILE_SYNCHRONOUS_IO_ALERT", FILE_SYNCHRONOUS_IO_ALERT},
    {"FILE_SYNCHRONOUS_IO_NONALERT", FILE_SYNCHRONOUS_IO_NONALERT},
    {"FILE_NON_DIRECTORY_FILE", FILE_NON_DIRECTORY_FILE},
    {"FILE_RANDOM_ACCESS", FILE_RANDOM_ACCESS},
    {"FILE_DELETE_ON_CLOSE", FILE_DELETE_ON_CLOSE},
    {"FILE_OPEN_BY_FILE_ID", FILE_OPEN_BY_FILE_ID},
    {"FILE_OPEN_FOR_BACKUP_INTENT", FILE_OPEN_FOR_BACKUP_INTENT},
    {"FILE_OPEN_REPARSE_POINT", FILE_OPEN_REPARSE_POINT},
    {NULL, 0}};

static const struct name_value attribute_names[] = {
    {"FILE_ATTRIBUTE_READONLY", FILE_ATTRIBUTE_READONLY},
    {"FILE_ATTRIBUTE_HIDDEN", FILE_ATTRIBUTE_HIDDEN},
    {"FILE_ATTRIBUTE_SYSTEM", FILE_ATTRIBUTE_SYSTEM},
    {"FILE_ATTRIBUTE_DIRECTORY", FILE_ATTRIBUTE_DIRECTORY},
    {"FILE_ATTRIBUTE_ARCHIVE", FILE_ATTRIBUTE_ARCHIVE},
    {"FILE_ATTRIBUTE_NORMAL", FILE_ATTRIBUTE_NORMAL},
    {"FILE_ATTRIBUTE_TEMPORARY", FILE_ATTRIBUTE_TEMPORARY},
    {"FILE_ATTRIBUTE_OFFLINE", FILE_ATTRIBUTE_OFFLINE},
    {"FILE_ATTRIBUTE_NOT_CONTENT_INDEXED", FILE_ATTRIBUTE_NOT_CONTENT_INDEXED},
    {"readonly", FILE_ATTRIBUTE_READONLY},
    {"hidden", FILE_ATTRIBUTE_HIDDEN},
    {"system", FILE_ATTRIBUTE_SYSTEM},
    {"archive", FILE_ATTRIBUTE_ARCHIVE},
    {"normal", FILE_ATTRIBUTE_NORMAL},
    {NULL, 0}};

static const struct name_value io_flag_names[] = {
    {"noncached", FLTSIM_IO_NONCACHED},       {"paging", FLTSIM_IO_PAGING},
    {"sync_paging", FLTSIM_IO_SYNC_PAGING},   {"fast", FLTSIM_IO_FAST},
    {"fast_only", FLTSIM_IO_FAST_ONLY},       {"kernel_mode", FLTSIM_IO_KERNEL_MODE},
    {"top_level_irp", SC_FLAG_TOP_LEVEL_IRP}, {NULL, 0}};

static const struct name_value kernel_flag_names[] = {{"kernel_mode", FLTSIM_IO_KERNEL_MODE},
                                                      {"fast", FLTSIM_IO_FAST},
                                                      {"fast_only", FLTSIM_IO_FAST_ONLY},
                                                      {NULL, 0}};

static const struct name_value query_open_class_names[] = {
    {"FileBasicInformation", FileBasicInformation},
    {"FileNetworkOpenInformation", FileNetworkOpenInformation},
    {NULL, 0}};

static const struct name_value volume_class_names[] = {
    {"FileFsVolumeInformation", FileFsVolumeInformation},
    {"FileFsSizeInformation", FileFsSizeInformation},
    {"FileFsDeviceInformation", FileFsDeviceInformation},
    {"FileFsAttributeInformation", FileFsAttributeInformation},
    {"FileFsFullSizeInformation", FileFsFullSizeInformation},
    {NULL, 0}};

static const struct name_value unlock_minor_names[] = {{"single", IRP_MN_UNLOCK_SINGLE},
                                                       {"all", IRP_MN_UNLOCK_ALL},
                                                       {"by_key", IRP_MN_UNLOCK_ALL_BY_KEY},
                                                       {NULL, 0}};

/* Control codes by name; any other code is given as a number. */
static const struct name_value control_code_names[] = {
    {"FSCTL_REQUEST_OPLOCK_LEVEL_1", FSCTL_REQUEST_OPLOCK_LEVEL_1},
    {"FSCTL_REQUEST_OPLOCK_LEVEL_2", FSCTL_REQUEST_OPLOCK_LEVEL_2},
    {"FSCTL_REQUEST_BATCH_OPLOCK", FSCTL_REQUEST_BATCH_OPLOCK},
    {"FSCTL_REQUEST_FILTER_OPLOCK", FSCTL_REQUEST_FILTER_OPLOCK},
    {"FSCTL_IS_VOLUME_MOUNTED", FSCTL_IS_VOLUME_MOUNTED},
    {"FSCTL_GET_REPARSE_POINT", FSCTL_GET_REPARSE_POINT},
    /* CTL_CODE(MOUNTDEVCONTROLTYPE 'M', 2, METHOD_BUFFERED, FILE_ANY_ACCESS) */
    {"IOCTL_MOUNTDEV_QUERY_DEVICE_NAME", 0x004D0008},
    {NULL, 0}};

static const struct name_value security_names[] = {
    {"OWNER", OWNER_SECURITY_INFORMATION},
    {"GROUP", GROUP_SECURITY_INFORMATION},
    {"DACL", DACL_SECURITY_INFORMATION},
    {"SACL", SACL_SECURITY_INFORMATION},
    {"LABEL", LABEL_SECURITY_INFORMATION},
    {"ATTRIBUTE", ATTRIBUTE_SECURITY_INFORMATION},
    {"SCOPE", SCOPE_SECURITY_INFORMATION},
    {"PROCESS_TRUST_LABEL", PROCESS_TRUST_LABEL_SECURITY_INFORMATION},
    {"BACKUP", BACKUP_SECURITY_INFORMATION},
    {NULL, 0}};

/* Query classes with their default length (0: variable, 4096). */
static const struct name_value query_class_names[] = {
    {"FileBasicInformation", FileBasicInformation},
    {"FileStandardInformation", FileStandardInformation},
    {"FileInternalInformation", FileInternalInformation},
    {"FileEaInformation", FileEaInformation},
    {"FileAccessInformation", FileAccessInformation},
    {"FileNameInformation", FileNameInformation},
    {"FilePositionInformation", FilePositionInformation},
    {"FileModeInformation", FileModeInformation},
    {"FileAlignmentInformation", FileAlignmentInformation},
    {"FileAllInformation", FileAllInformation},
    {"FileNetworkOpenInformation", FileNetworkOpenInformation},
    {"FileAttributeTagInformation", FileAttributeTagInformation},
    {NULL, 0}};

/* The default length of a query's buffer: the record of a fixed-size class,
 * 4096 for one that carries a name (variable length). */
static ULONG query_class_size(FILE_INFORMATION_CLASS c)
{
    return fltsim__file_info_named(c) ? 4096 : fltsim__file_info_size(c);
}

/* set_information: the class and the key naming its one field. */
static const struct {
    const char *key;
    FILE_INFORMATION_CLASS info_class;
} set_fields[] = {{"end_of_file", FileEndOfFileInformation},
                  {"allocation_size", FileAllocationInformation},
                  {"position", FilePositionInformation},
                  {"delete", FileDispositionInformation},
                  {"attributes", FileBasicInformation}};

static const struct name_value set_class_names[] = {
    {"FileEndOfFileInformation", FileEndOfFileInformation},
    {"FileAllocationInformation", FileAllocationInformation},
    {"FilePositionInformation", FilePositionInformation},
    {"FileDispositionInformation", FileDispositionInformation},
    {"FileBasicInformation", FileBasicInformation},
    {NULL, 0}};

static const struct name_value directory_class_names[] = {
    {"FileDirectoryInformation", FileDirectoryInformation},
    {"FileFullDirectoryInformation", FileFullDirectoryInformation},
    {"FileBothDirectoryInformation", FileBothDirectoryInformation},
    {"FileNamesInformation", FileNamesInformation},
    {"FileIdBothDirectoryInformation", FileIdBothDirectoryInformation},
    {"FileIdFullDirectoryInformation", FileIdFullDirectoryInformation},
    {NULL, 0}};

static const struct name_value sync_type_names[] = {
    {"SyncTypeOther", SyncTypeOther}, {"SyncTypeCreateSection", SyncTypeCreateSection}, {NULL, 0}};

static const struct name_value protection_names[] = {{"PAGE_READONLY", PAGE_READONLY},
                                                     {"PAGE_READWRITE", PAGE_READWRITE},
                                                     {"PAGE_EXECUTE_READ", PAGE_EXECUTE_READ},
                                                     {NULL, 0}};

static const struct name_value information_names[] = {{"FILE_SUPERSEDED", FILE_SUPERSEDED},
                                                      {"FILE_OPENED", FILE_OPENED},
                                                      {"FILE_CREATED", FILE_CREATED},
                                                      {"FILE_OVERWRITTEN", FILE_OVERWRITTEN},
                                                      {"FILE_EXISTS", FILE_EXISTS},
                                                      {"FILE_DOES_NOT_EXIST", FILE_DOES_NOT_EXIST},
                                                      {NULL, 0}};

static const struct name_value suppress_names[] = {
    {"automatic", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC},
    {"manual", FLTSIM_INSTANCE_SUPPRESS_MANUAL},
    {NULL, 0}};

/* Operations: the keys each accepts besides the common step keys. */
#define COMMON_KEYS "op", "id", "thread", "nowait", "expect"
static const char *const create_keys[] = {
    COMMON_KEYS,   "handle",        "path",       "access",          "share",
    "disposition", "options",       "attributes", "allocation_size", "open_target_directory",
    "kernel_mode", "top_level_irp", NULL};
static const char *const open_keys[] = {COMMON_KEYS, "handle", "path", "access", NULL};
static const char *const read_keys[] = {COMMON_KEYS, "handle", "offset", "length",
                                        "flags",     "async",  NULL};
static const char *const write_keys[] = {COMMON_KEYS, "handle", "offset", "data", "hex",
                                         "zeros",     "flags",  "async",  NULL};
static const char *const query_info_keys[] = {COMMON_KEYS, "handle", "class",
                                              "length",    "flags",  NULL};
static const char *const set_info_keys[] = {COMMON_KEYS,   "handle",          "class",
                                            "end_of_file", "allocation_size", "position",
                                            "delete",      "attributes",      NULL};
static const char *const rename_keys[] = {COMMON_KEYS, "handle", "new_name", "replace", NULL};
static const char *const delete_keys[] = {COMMON_KEYS, "handle", "delete", NULL};
static const char *const query_dir_keys[] = {COMMON_KEYS, "handle", "class",  "pattern",
                                             "restart",   "single", "length", NULL};
static const char *const handle_keys[] = {COMMON_KEYS, "handle", NULL};
static const char *const acquire_keys[] = {COMMON_KEYS, "handle", "sync_type", "protection", NULL};
static const char *const map_keys[] = {COMMON_KEYS, "handle", "protection", NULL};
static const char *const query_open_keys[] = {COMMON_KEYS, "path", "class", NULL};
static const char *const query_volume_keys[] = {COMMON_KEYS, "handle", "class", "length", NULL};
static const char *const lock_keys[] = {COMMON_KEYS,        "handle",    "offset", "length", "key",
                                        "fail_immediately", "exclusive", "flags",  NULL};
static const char *const unlock_keys[] = {COMMON_KEYS, "handle", "minor", "offset",
                                          "length",    "key",    "flags", NULL};
static const char *const fs_control_keys[] = {COMMON_KEYS, "handle",     "code",
                                              "in_length", "out_length", NULL};
static const char *const device_control_keys[] = {COMMON_KEYS,  "handle", "code", "in_length",
                                                  "out_length", "flags",  NULL};
static const char *const query_ea_keys[] = {COMMON_KEYS, "handle", "length", "restart", NULL};
static const char *const query_security_keys[] = {COMMON_KEYS, "handle", "information", "length",
                                                  NULL};
static const char *const set_security_keys[] = {COMMON_KEYS, "handle", "information", NULL};
static const char *const mod_write_keys[] = {COMMON_KEYS, "handle", "ending_offset", NULL};

static const struct {
    const char *name;
    enum sc_op op;
    const char *const *keys;
} ops[] = {{"create", SC_OP_CREATE, create_keys},
           {"open", SC_OP_OPEN, open_keys},
           {"read", SC_OP_READ, read_keys},
           {"write", SC_OP_WRITE, write_keys},
           {"query_information", SC_OP_QUERY_INFORMATION, query_info_keys},
           {"set_information", SC_OP_SET_INFORMATION, set_info_keys},
           {"rename", SC_OP_RENAME, rename_keys},
           {"delete", SC_OP_DELETE, delete_keys},
           {"query_directory", SC_OP_QUERY_DIRECTORY, query_dir_keys},
           {"flush", SC_OP_FLUSH, handle_keys},
           {"acquire_for_section_sync", SC_OP_ACQUIRE_FOR_SECTION_SYNC, acquire_keys},
           {"release_for_section_sync", SC_OP_RELEASE_FOR_SECTION_SYNC, handle_keys},
           {"map_section", SC_OP_MAP_SECTION, map_keys},
           {"close", SC_OP_CLOSE, handle_keys},
           {"query_open", SC_OP_QUERY_OPEN, query_open_keys},
           {"query_volume_information", SC_OP_QUERY_VOLUME_INFORMATION, query_volume_keys},
           {"lock", SC_OP_LOCK, lock_keys},
           {"unlock", SC_OP_UNLOCK, unlock_keys},
           {"fs_control", SC_OP_FS_CONTROL, fs_control_keys},
           {"device_control", SC_OP_DEVICE_CONTROL, device_control_keys},
           {"query_ea", SC_OP_QUERY_EA, query_ea_keys},
           {"query_security", SC_OP_QUERY_SECURITY, query_security_keys},
           {"set_security", SC_OP_SET_SECURITY, set_security_keys},
           {"acquire_for_mod_write", SC_OP_ACQUIRE_FOR_MOD_WRITE, mod_write_keys},
           {"release_for_mod_write", SC_OP_RELEASE_FOR_MOD_WRITE, handle_keys},
           {"acquire_for_cc_flush", SC_OP_ACQUIRE_FOR_CC_FLUSH, handle_keys},
           {"release_for_cc_flush", SC_OP_RELEASE_FOR_CC_FLUSH, handle_keys}};

/* ------------------------------------------------------------------------- */
/* Sections                                                                  */
/* ------------------------------------------------------------------------- */

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

static bool load_files(struct ld *ld, struct sc_volume *vol, yaml_node_t *list)
{
    static const char *const file_keys[] = {"path", "data", "hex", "zeros", "dir", NULL};
    if (!fltsim__ld_want_list(ld, list, "files"))
        return false;
    vol->file_count = fltsim__ld_list_count(list);
    vol->files = fltsim__ld_alloc(ld, (vol->file_count + 1) * sizeof(*vol->files));
    if (vol->files == NULL)
        return fltsim__ld_oom(ld, list);
    for (size_t i = 0; i < vol->file_count; i++) {
        yaml_node_t *f = fltsim__ld_list_item(ld, list, i);
        struct sc_file *file = &vol->files[i];
        if (!fltsim__ld_want_mapping(ld, f, "a file entry") ||
            !fltsim__ld_check_keys(ld, f, "a file entry", file_keys))
            return false;
        yaml_node_t *path = fltsim__ld_get(ld, f, "path"), *dir = fltsim__ld_get(ld, f, "dir");
        if ((path == NULL) == (dir == NULL))
            return fltsim__ld_fail(ld, path ? dir : f,
                                   "a file entry needs exactly one of path and dir; expected "
                                   "'path: \\\\name' or 'dir: \\\\name'");
        yaml_node_t *p = path ? path : dir;
        if (!fltsim__ld_want_scalar(ld, p, path ? "path" : "dir"))
            return false;
        if (fltsim__ld_text_of(p)[0] != '\\')
            return fltsim__ld_fail(ld, p,
                                   "path '%s' does not start with a backslash; expected a path "
                                   "from the volume root such as \\docs\\a.txt",
                                   fltsim__ld_text_of(p));
        if (!fltsim__ld_get_wstring(ld, p, "path", &file->path))
            return false;
        file->directory = dir != NULL;
        if (!fltsim__ld_get_bytes(ld, f, "a file entry", &file->data))
            return false;
        if (file->directory && file->data.set)
            return fltsim__ld_fail(ld,
                                   fltsim__ld_get(ld, f, "data") ? fltsim__ld_get(ld, f, "data")
                                                                 : fltsim__ld_get(ld, f, "hex"),
                                   "a directory has no data; expected data or hex only with path");
    }
    return true;
}

bool fltsim__ld_parse_drive(struct ld *ld, yaml_node_t *node, WCHAR *out)
{
    if (!fltsim__ld_want_scalar(ld, node, "drive"))
        return false;
    const char *s = fltsim__ld_text_of(node);
    char c = s[0];
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    if (c < 'A' || c > 'Z' || (s[1] != '\0' && (s[1] != ':' || s[2] != '\0')))
        return fltsim__ld_fail(ld, node,
                               "drive '%s' is not a drive letter; expected one letter A-Z such as "
                               "C or C:",
                               s);
    *out = (WCHAR)c;
    return true;
}

bool fltsim__ld_load_volumes(struct ld *ld, yaml_node_t *list)
{
    static const char *const volume_keys[] = {"drive",     "device",     "fs",      "root",
                                              "read_only", "completion", "fast_io", "capacity",
                                              "files",     NULL};
    static const struct name_value fs_names[] = {
        {"memfs", SC_FS_MEMFS}, {"hostfs", SC_FS_HOSTFS}, {NULL, 0}};
    static const struct name_value completion_names[] = {
        {"inline", FLTSIM_COMPLETE_INLINE}, {"async", FLTSIM_COMPLETE_ASYNC}, {NULL, 0}};
    struct fltsim_scenario *sc = ld->sc;
    if (!fltsim__ld_want_list(ld, list, "volumes"))
        return false;
    if (fltsim__ld_list_count(list) == 0)
        return fltsim__ld_fail(ld, list, "'volumes' is empty; expected at least one volume");
    sc->volume_count = fltsim__ld_list_count(list);
    sc->volumes = fltsim__ld_alloc(ld, sc->volume_count * sizeof(*sc->volumes));
    if (sc->volumes == NULL)
        return fltsim__ld_oom(ld, list);
    for (size_t i = 0; i < sc->volume_count; i++) {
        yaml_node_t *v = fltsim__ld_list_item(ld, list, i), *n;
        struct sc_volume *vol = &sc->volumes[i];
        if (!fltsim__ld_want_mapping(ld, v, "a volume") ||
            !fltsim__ld_check_keys(ld, v, "a volume", volume_keys) ||
            !fltsim__ld_require(ld, v, "drive", "a volume", &n) ||
            !fltsim__ld_parse_drive(ld, n, &vol->drive))
            return false;
        for (size_t j = 0; j < i; j++)
            if (sc->volumes[j].drive == vol->drive)
                return fltsim__ld_fail(ld, n,
                                       "drive %c: is declared twice; expected each drive once",
                                       (char)vol->drive);
        if ((n = fltsim__ld_get(ld, v, "device")) != NULL) {
            if (!fltsim__ld_get_wstring(ld, n, "device", &vol->device))
                return false;
        } else {
            char dev[64];
            snprintf(dev, sizeof(dev), "\\Device\\HarddiskVolume%zu", i + 1);
            WCHAR *w = fltsim__ld_alloc(ld, sizeof(dev) * sizeof(WCHAR));
            if (w == NULL)
                return fltsim__ld_oom(ld, v);
            fltsim_utf8_to_utf16(dev, w, sizeof(dev));
            vol->device = w;
        }
        ULONG64 e = SC_FS_MEMFS;
        if ((n = fltsim__ld_get(ld, v, "fs")) != NULL &&
            !fltsim__ld_get_enum(ld, n, "fs", "file system", fs_names, &e))
            return false;
        vol->fs = (enum sc_fs)e;
        e = FLTSIM_COMPLETE_INLINE;
        if ((n = fltsim__ld_get(ld, v, "completion")) != NULL &&
            !fltsim__ld_get_enum(ld, n, "completion", "completion mode", completion_names, &e))
            return false;
        vol->completion = (ULONG)e;
        vol->fast_io = true;
        static const char *const memfs_only[] = {"fast_io", "capacity", "files"};
        static const char *const hostfs_only[] = {"root", "read_only"};
        for (size_t k = 0; k < ARRAY_COUNT(memfs_only); k++)
            if (vol->fs != SC_FS_MEMFS && (n = fltsim__ld_get(ld, v, memfs_only[k])) != NULL)
                return fltsim__ld_fail(ld, n,
                                       "'%s' applies to memfs volumes; expected fs: memfs with it",
                                       memfs_only[k]);
        for (size_t k = 0; k < ARRAY_COUNT(hostfs_only); k++)
            if (vol->fs != SC_FS_HOSTFS && (n = fltsim__ld_get(ld, v, hostfs_only[k])) != NULL)
                return fltsim__ld_fail(
                    ld, n, "'%s' applies to hostfs volumes; expected fs: hostfs with it",
                    hostfs_only[k]);
        if ((n = fltsim__ld_get(ld, v, "fast_io")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "fast_io", &vol->fast_io))
            return false;
        if ((n = fltsim__ld_get(ld, v, "capacity")) != NULL &&
            !fltsim__ld_get_uint(ld, n, "capacity", UINT64_MAX, &vol->capacity))
            return false;
        if ((n = fltsim__ld_get(ld, v, "read_only")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "read_only", &vol->read_only))
            return false;
        if ((n = fltsim__ld_get(ld, v, "files")) != NULL && !load_files(ld, vol, n))
            return false;
        if (vol->fs == SC_FS_HOSTFS) {
            if (!fltsim__ld_require(ld, v, "root", "a hostfs volume", &n) ||
                !fltsim__ld_want_scalar(ld, n, "root"))
                return false;
            char *root = fltsim__ld_resolve(ld, fltsim__ld_text_of(n));
            if (root == NULL)
                return fltsim__ld_oom(ld, n);
            struct stat st;
            if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode))
                return fltsim__ld_fail(ld, n,
                                       "hostfs root '%s' is not a directory (resolved to %s); "
                                       "expected an existing host directory",
                                       fltsim__ld_text_of(n), root);
            vol->root = root;
        }
    }
    return true;
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
    static const char *const filter_keys[] = {"name",      "builtin",          "object", "altitude",
                                              "instances", "default_instance", "load",   NULL};
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
            f->builtin = fltsim_example_filter_find(fltsim__ld_text_of(builtin));
            if (f->builtin == NULL) {
                char names[512] = "";
                size_t used = 0;
                for (size_t k = 0; k < fltsim_example_filter_count && used < sizeof(names); k++)
                    used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
                                             k ? ", " : "", fltsim_example_filters[k].name);
                return fltsim__ld_fail(ld, builtin,
                                       "unknown builtin filter '%s'; expected one of %s",
                                       fltsim__ld_text_of(builtin), names);
            }
        } else {
            if (!fltsim__ld_want_scalar(ld, object, "object"))
                return false;
            char *path = fltsim__ld_resolve(ld, fltsim__ld_text_of(object));
            if (path == NULL)
                return fltsim__ld_oom(ld, object);
            struct stat st;
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
                return fltsim__ld_fail(ld, object, "shared object '%s' not found (resolved to %s)",
                                       fltsim__ld_text_of(object), path);
            /* Load it once to check it: a scenario should fail here, not
             * halfway through a run. */
            void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
            if (h == NULL)
                return fltsim__ld_fail(ld, object, "shared object '%s' cannot be loaded: %s",
                                       fltsim__ld_text_of(object), dlerror());
            bool has_entry = dlsym(h, "DriverEntry") != NULL;
            dlclose(h);
            if (!has_entry)
                return fltsim__ld_fail(ld, object,
                                       "shared object '%s' does not export DriverEntry; expected a "
                                       "minifilter built as a shared object",
                                       fltsim__ld_text_of(object));
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
    }
    return true;
}

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
    if (!fltsim__ld_require(ld, step, "handle", where, &n) ||
        !fltsim__ld_want_scalar(ld, n, "handle"))
        return false;
    for (size_t i = 0; i < ld->sc->handle_count; i++)
        if (strcmp(ld->sc->handles[i], fltsim__ld_text_of(n)) == 0 && ld->handle_open[i]) {
            s->handle = (int)i;
            return true;
        }
    return fltsim__ld_fail(ld, n,
                           "handle '%s' is not opened by an earlier step; expected a handle bound "
                           "by create or open",
                           fltsim__ld_text_of(n));
}

static bool bind_handle(struct ld *ld, yaml_node_t *node, struct sc_step *s)
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
            return true;
        }
    s->handle = (int)sc->handle_count;
    if (!fltsim__ld_get_string(ld, node, "handle", &sc->handles[sc->handle_count]))
        return false;
    ld->handle_open[sc->handle_count++] = true;
    return true;
}

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

/* An unsigned number that fits a LONGLONG. */
static bool get_longlong(struct ld *ld, yaml_node_t *n, const char *key, LONGLONG *out)
{
    ULONG64 v;
    if (!fltsim__ld_get_uint(ld, n, key, INT64_MAX, &v))
        return false;
    *out = (LONGLONG)v;
    return true;
}

/* The operations added for capture replay (io.h): query_open, volume
 * information, locks, controls, EAs, security, mod-write. */
static bool load_more_io(struct ld *ld, yaml_node_t *m, struct sc_step *s, const char *where)
{
    yaml_node_t *n;
    ULONG64 v;
    if (s->op != SC_OP_QUERY_OPEN && !fltsim__ld_use_handle(ld, m, s))
        return false;
    switch (s->op) {
    case SC_OP_QUERY_OPEN:
        if (!fltsim__ld_require(ld, m, "path", where, &n) ||
            !fltsim__ld_get_wstring(ld, n, "path", &s->path))
            return false;
        v = FileNetworkOpenInformation;
        if ((n = fltsim__ld_get(ld, m, "class")) != NULL &&
            !fltsim__ld_get_enum(ld, n, "class", "query_open class", query_open_class_names, &v))
            return false;
        s->info_class = (FILE_INFORMATION_CLASS)v;
        s->length = v == FileBasicInformation ? sizeof(FILE_BASIC_INFORMATION)
                                              : sizeof(FILE_NETWORK_OPEN_INFORMATION);
        return true;
    case SC_OP_QUERY_VOLUME_INFORMATION:
        if (!fltsim__ld_require(ld, m, "class", where, &n) ||
            !fltsim__ld_get_enum(ld, n, "class", "volume information class", volume_class_names,
                                 &v))
            return false;
        s->info_class = (FILE_INFORMATION_CLASS)v;
        s->length = 512;
        return (n = fltsim__ld_get(ld, m, "length")) == NULL ||
               fltsim__ld_get_ulong(ld, n, "length", &s->length);
    case SC_OP_LOCK:
    case SC_OP_UNLOCK:
        s->fail_immediately = s->exclusive = true;
        s->minor = s->op == SC_OP_LOCK ? IRP_MN_LOCK : IRP_MN_UNLOCK_SINGLE;
        if ((n = fltsim__ld_get(ld, m, "minor")) != NULL) {
            if (!fltsim__ld_get_enum(ld, n, "minor", "unlock minor", unlock_minor_names, &v))
                return false;
            s->minor = (UCHAR)v;
        }
        if (s->minor == IRP_MN_LOCK || s->minor == IRP_MN_UNLOCK_SINGLE) {
            if (!fltsim__ld_require(ld, m, "offset", where, &n) ||
                !get_longlong(ld, n, "offset", &s->offset) ||
                !fltsim__ld_require(ld, m, "length", where, &n) ||
                !get_longlong(ld, n, "length", &s->range_length))
                return false;
        } else {
            static const char *const ranged[] = {"offset", "length"};
            for (size_t i = 0; i < 2; i++)
                if ((n = fltsim__ld_get(ld, m, ranged[i])) != NULL)
                    return fltsim__ld_fail(
                        ld, n,
                        "'%s' does not apply to an unlock of every lock; expected it "
                        "only with minor: single",
                        ranged[i]);
        }
        if ((n = fltsim__ld_get(ld, m, "key")) != NULL &&
            !fltsim__ld_get_ulong(ld, n, "key", &s->key))
            return false;
        if ((n = fltsim__ld_get(ld, m, "fail_immediately")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "fail_immediately", &s->fail_immediately))
            return false;
        if ((n = fltsim__ld_get(ld, m, "exclusive")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "exclusive", &s->exclusive))
            return false;
        return (n = fltsim__ld_get(ld, m, "flags")) == NULL ||
               fltsim__ld_get_flags(ld, n, "flags", "I/O flag", kernel_flag_names, &s->flags);
    case SC_OP_FS_CONTROL:
    case SC_OP_DEVICE_CONTROL:
        if (!fltsim__ld_require(ld, m, "code", where, &n) || !fltsim__ld_want_scalar(ld, n, "code"))
            return false;
        if (fltsim__ld_is_plain(n) && fltsim__ld_parse_uint(fltsim__ld_text_of(n), &v)) {
            if (v > 0xFFFFFFFFull)
                return fltsim__ld_fail(ld, n,
                                       "code %s is too large; expected a 32-bit control code",
                                       fltsim__ld_text_of(n));
        } else if (!fltsim__ld_get_enum(ld, n, "code", "control code", control_code_names, &v)) {
            return false;
        }
        s->code = (ULONG)v;
        if ((n = fltsim__ld_get(ld, m, "in_length")) != NULL &&
            !fltsim__ld_get_ulong(ld, n, "in_length", &s->in_length))
            return false;
        if ((n = fltsim__ld_get(ld, m, "out_length")) != NULL &&
            !fltsim__ld_get_ulong(ld, n, "out_length", &s->length))
            return false;
        if (s->in_length > (1u << 20) || s->length > (1u << 20))
            return fltsim__ld_fail(ld, m,
                                   "control buffers are limited to 1048576 bytes; expected less");
        return (n = fltsim__ld_get(ld, m, "flags")) == NULL ||
               fltsim__ld_get_flags(ld, n, "flags", "I/O flag", kernel_flag_names, &s->flags);
    case SC_OP_QUERY_EA:
        s->length = 4096;
        if ((n = fltsim__ld_get(ld, m, "length")) != NULL &&
            !fltsim__ld_get_ulong(ld, n, "length", &s->length))
            return false;
        return (n = fltsim__ld_get(ld, m, "restart")) == NULL ||
               fltsim__ld_get_bool(ld, n, "restart", &s->restart);
    case SC_OP_QUERY_SECURITY:
    case SC_OP_SET_SECURITY:
        if (!fltsim__ld_require(ld, m, "information", where, &n) ||
            !fltsim__ld_get_flags(ld, n, "information", "security information", security_names,
                                  &s->security_information))
            return false;
        s->length = 4096;
        return (n = fltsim__ld_get(ld, m, "length")) == NULL ||
               fltsim__ld_get_ulong(ld, n, "length", &s->length);
    default: /* SC_OP_ACQUIRE_FOR_MOD_WRITE */
        return (n = fltsim__ld_get(ld, m, "ending_offset")) == NULL ||
               get_longlong(ld, n, "ending_offset", &s->offset);
    }
}

bool fltsim__ld_load_io_step(struct ld *ld, yaml_node_t *m, struct sc_step *s, yaml_node_t *opn)
{
    yaml_node_t *n;
    size_t which = ARRAY_COUNT(ops);
    if (!fltsim__ld_want_scalar(ld, opn, "op"))
        return false;
    for (size_t i = 0; i < ARRAY_COUNT(ops); i++)
        if (strcmp(ops[i].name, fltsim__ld_text_of(opn)) == 0)
            which = i;
    if (which == ARRAY_COUNT(ops)) {
        char names[1024] = "";
        size_t used = 0;
        for (size_t i = 0; i < ARRAY_COUNT(ops) && used < sizeof(names); i++)
            used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
                                     ops[i].name);
        return fltsim__ld_fail(ld, opn, "unknown operation '%s'; expected one of %s",
                               fltsim__ld_text_of(opn), names);
    }
    char where[64];
    snprintf(where, sizeof(where), "%s %s step", fltsim__ld_article(ops[which].name),
             ops[which].name);
    if (!fltsim__ld_check_keys(ld, m, where, ops[which].keys))
        return false;
    s->kind = SC_STEP_IO;
    s->op = ops[which].op;
    s->label = ops[which].name;
    s->handle = -1;
    if ((n = fltsim__ld_get(ld, m, "async")) != NULL &&
        !fltsim__ld_get_bool(ld, n, "async", &s->async))
        return false;

    switch (s->op) {
    case SC_OP_CREATE: {
        struct fltsim_create_params *c = &s->create;
        c->desired_access = GENERIC_READ;
        c->share_access = FILE_SHARE_READ | FILE_SHARE_WRITE;
        c->disposition = FILE_OPEN;
        c->create_options = FILE_SYNCHRONOUS_IO_NONALERT;
        if (!fltsim__ld_require(ld, m, "path", where, &n) ||
            !fltsim__ld_get_wstring(ld, n, "path", &s->path))
            return false;
        if ((n = fltsim__ld_get(ld, m, "access")) != NULL &&
            !fltsim__ld_get_flags(ld, n, "access", "access right", access_names,
                                  &c->desired_access))
            return false;
        if ((n = fltsim__ld_get(ld, m, "share")) != NULL &&
            !fltsim__ld_get_flags(ld, n, "share", "share mode", share_names, &c->share_access))
            return false;
        ULONG64 d;
        if ((n = fltsim__ld_get(ld, m, "disposition")) != NULL) {
            if (!fltsim__ld_get_enum(ld, n, "disposition", "disposition", disposition_names, &d))
                return false;
            c->disposition = (ULONG)d;
        }
        if ((n = fltsim__ld_get(ld, m, "options")) != NULL &&
            !fltsim__ld_get_flags(ld, n, "options", "create option", option_names,
                                  &c->create_options))
            return false;
        if ((n = fltsim__ld_get(ld, m, "attributes")) != NULL &&
            !fltsim__ld_get_flags(ld, n, "attributes", "attribute", attribute_names,
                                  &c->file_attributes))
            return false;
        if ((n = fltsim__ld_get(ld, m, "allocation_size")) != NULL) {
            if (!fltsim__ld_get_uint(ld, n, "allocation_size", INT64_MAX, &d))
                return false;
            c->allocation_size = (LONGLONG)d;
        }
        bool b = false;
        if ((n = fltsim__ld_get(ld, m, "open_target_directory")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "open_target_directory", &b))
            return false;
        if (b)
            c->operation_flags |= SL_OPEN_TARGET_DIRECTORY;
        b = false;
        if ((n = fltsim__ld_get(ld, m, "kernel_mode")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "kernel_mode", &b))
            return false;
        if (b)
            c->flags |= FLTSIM_IO_KERNEL_MODE;
        b = false;
        if ((n = fltsim__ld_get(ld, m, "top_level_irp")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "top_level_irp", &b))
            return false;
        if (b)
            s->flags |= SC_FLAG_TOP_LEVEL_IRP;
        break;
    }
    case SC_OP_OPEN:
        s->create.desired_access = GENERIC_READ;
        if (!fltsim__ld_require(ld, m, "path", where, &n) ||
            !fltsim__ld_get_wstring(ld, n, "path", &s->path))
            return false;
        if ((n = fltsim__ld_get(ld, m, "access")) != NULL &&
            !fltsim__ld_get_flags(ld, n, "access", "access right", access_names,
                                  &s->create.desired_access))
            return false;
        break;
    case SC_OP_READ:
    case SC_OP_WRITE:
        if (!fltsim__ld_use_handle(ld, m, s))
            return false;
        if ((n = fltsim__ld_get(ld, m, "offset")) != NULL) {
            ULONG64 off;
            s->has_offset = true;
            if (s->op == SC_OP_WRITE && fltsim__ld_is_plain(n) &&
                strcmp(fltsim__ld_text_of(n), "end") == 0) {
                /* FILE_WRITE_TO_END_OF_FILE in LowPart, -1 in HighPart. */
                s->offset = -1;
            } else {
                if (!fltsim__ld_get_uint(ld, n, "offset", INT64_MAX, &off))
                    return false;
                s->offset = (LONGLONG)off;
            }
        } else if (s->async) {
            return fltsim__ld_fail(ld, m, "an async %s needs an offset; expected 'offset:'",
                                   s->label);
        }
        if ((n = fltsim__ld_get(ld, m, "flags")) != NULL &&
            !fltsim__ld_get_flags(ld, n, "flags", "I/O flag", io_flag_names, &s->flags))
            return false;
        if (s->op == SC_OP_READ) {
            if (!fltsim__ld_require(ld, m, "length", where, &n) ||
                !fltsim__ld_get_ulong(ld, n, "length", &s->length))
                return false;
        } else {
            if (!fltsim__ld_get_bytes(ld, m, where, &s->data))
                return false;
            if (!s->data.set)
                return fltsim__ld_fail(ld, m,
                                       "a write step has nothing to write; expected data or hex");
            if (s->data.size > 0xFFFFFFFFu)
                return fltsim__ld_fail(ld, m, "write data is too long");
            s->length = (ULONG)s->data.size;
        }
        break;
    case SC_OP_QUERY_INFORMATION: {
        ULONG64 c;
        if (!fltsim__ld_use_handle(ld, m, s) || !fltsim__ld_require(ld, m, "class", where, &n) ||
            !fltsim__ld_get_enum(ld, n, "class", "information class", query_class_names, &c))
            return false;
        s->info_class = (FILE_INFORMATION_CLASS)c;
        s->length = query_class_size(s->info_class);
        if ((n = fltsim__ld_get(ld, m, "length")) != NULL &&
            !fltsim__ld_get_ulong(ld, n, "length", &s->length))
            return false;
        if ((n = fltsim__ld_get(ld, m, "flags")) != NULL &&
            !fltsim__ld_get_flags(ld, n, "flags", "I/O flag", kernel_flag_names, &s->flags))
            return false;
        break;
    }
    case SC_OP_SET_INFORMATION: {
        ULONG64 c;
        if (!fltsim__ld_use_handle(ld, m, s) || !fltsim__ld_require(ld, m, "class", where, &n) ||
            !fltsim__ld_get_enum(ld, n, "class", "information class", set_class_names, &c))
            return false;
        s->info_class = (FILE_INFORMATION_CLASS)c;
        for (size_t i = 0; i < ARRAY_COUNT(set_fields); i++) {
            yaml_node_t *f = fltsim__ld_get(ld, m, set_fields[i].key);
            if (f != NULL && set_fields[i].info_class != s->info_class)
                return fltsim__ld_fail(
                    ld, f, "'%s' does not belong to class %s; expected that class's field",
                    set_fields[i].key, fltsim__ld_text_of(n));
            if (set_fields[i].info_class != s->info_class)
                continue;
            if (f == NULL)
                return fltsim__ld_fail(
                    ld, m, "a set_information step of class %s has no '%s'; expected it",
                    fltsim__ld_text_of(n), set_fields[i].key);
            bool b;
            ULONG a;
            switch (s->info_class) {
            case FileDispositionInformation:
                if (!fltsim__ld_get_bool(ld, f, "delete", &b))
                    return false;
                s->value = b;
                break;
            case FileBasicInformation:
                if (!fltsim__ld_get_flags(ld, f, "attributes", "attribute", attribute_names, &a))
                    return false;
                s->value = a;
                break;
            default:
                if (!fltsim__ld_get_uint(ld, f, set_fields[i].key, INT64_MAX, &s->value))
                    return false;
            }
        }
        break;
    }
    case SC_OP_RENAME:
        if (!fltsim__ld_use_handle(ld, m, s) || !fltsim__ld_require(ld, m, "new_name", where, &n) ||
            !fltsim__ld_get_wstring(ld, n, "new_name", &s->text))
            return false;
        if ((n = fltsim__ld_get(ld, m, "replace")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "replace", &s->replace))
            return false;
        break;
    case SC_OP_DELETE: {
        bool b = true;
        if (!fltsim__ld_use_handle(ld, m, s))
            return false;
        if ((n = fltsim__ld_get(ld, m, "delete")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "delete", &b))
            return false;
        s->value = b;
        break;
    }
    case SC_OP_QUERY_DIRECTORY: {
        ULONG64 c = FileDirectoryInformation;
        if (!fltsim__ld_use_handle(ld, m, s))
            return false;
        if ((n = fltsim__ld_get(ld, m, "class")) != NULL &&
            !fltsim__ld_get_enum(ld, n, "class", "directory information class",
                                 directory_class_names, &c))
            return false;
        s->info_class = (FILE_INFORMATION_CLASS)c;
        s->length = 4096;
        if ((n = fltsim__ld_get(ld, m, "length")) != NULL &&
            !fltsim__ld_get_ulong(ld, n, "length", &s->length))
            return false;
        if ((n = fltsim__ld_get(ld, m, "pattern")) != NULL &&
            !fltsim__ld_get_wstring(ld, n, "pattern", &s->text))
            return false;
        if ((n = fltsim__ld_get(ld, m, "restart")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "restart", &s->restart))
            return false;
        if ((n = fltsim__ld_get(ld, m, "single")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "single", &s->single))
            return false;
        break;
    }
    case SC_OP_ACQUIRE_FOR_SECTION_SYNC: {
        ULONG64 v = SyncTypeCreateSection;
        if (!fltsim__ld_use_handle(ld, m, s))
            return false;
        if ((n = fltsim__ld_get(ld, m, "sync_type")) != NULL &&
            !fltsim__ld_get_enum(ld, n, "sync_type", "sync type", sync_type_names, &v))
            return false;
        s->value = v;
        v = PAGE_READONLY;
        if ((n = fltsim__ld_get(ld, m, "protection")) != NULL &&
            !fltsim__ld_get_enum(ld, n, "protection", "page protection", protection_names, &v))
            return false;
        s->protection = (ULONG)v;
        break;
    }
    case SC_OP_MAP_SECTION: {
        ULONG64 v = PAGE_READONLY;
        if (!fltsim__ld_use_handle(ld, m, s))
            return false;
        if ((n = fltsim__ld_get(ld, m, "protection")) != NULL &&
            !fltsim__ld_get_enum(ld, n, "protection", "page protection", protection_names, &v))
            return false;
        s->protection = (ULONG)v;
        break;
    }
    case SC_OP_FLUSH:
    case SC_OP_RELEASE_FOR_SECTION_SYNC:
    case SC_OP_RELEASE_FOR_MOD_WRITE:
    case SC_OP_ACQUIRE_FOR_CC_FLUSH:
    case SC_OP_RELEASE_FOR_CC_FLUSH:
        if (!fltsim__ld_use_handle(ld, m, s))
            return false;
        break;
    case SC_OP_QUERY_OPEN:
    case SC_OP_QUERY_VOLUME_INFORMATION:
    case SC_OP_LOCK:
    case SC_OP_UNLOCK:
    case SC_OP_FS_CONTROL:
    case SC_OP_DEVICE_CONTROL:
    case SC_OP_QUERY_EA:
    case SC_OP_QUERY_SECURITY:
    case SC_OP_SET_SECURITY:
    case SC_OP_ACQUIRE_FOR_MOD_WRITE:
        if (!load_more_io(ld, m, s, where))
            return false;
        break;
    case SC_OP_CLOSE:
        if (!fltsim__ld_use_handle(ld, m, s))
            return false;
        ld->handle_open[s->handle] = false;
        break;
    }
    if (s->async && s->op != SC_OP_READ && s->op != SC_OP_WRITE)
        return fltsim__ld_fail(ld, fltsim__ld_get(ld, m, "async"),
                               "'async' applies to read and write steps; expected it only there");
    return true;
}

/* The names of the control keys, in the order they are looked for. */
static const char *const control_keys[] = {"wait",   "load", "unload",          "attach",
                                           "detach", "note", "complete_pended", NULL};

static bool load_control_step(struct ld *ld, yaml_node_t *m, struct sc_step *s, size_t index,
                              const char *key)
{
    static const char *const wait_keys[] = {"wait", "id", NULL};
    static const char *const note_keys[] = {"note", "id", NULL};
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
            void *h = dlopen(f->object, RTLD_NOW | RTLD_LOCAL);
            has_hook = h != NULL && dlsym(h, "FltSimCompletePended") != NULL;
            if (h != NULL)
                dlclose(h);
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
    if (sc->steps == NULL || sc->handles == NULL || ld->handle_open == NULL)
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
            if (control != NULL || opn != NULL)
                return fltsim__ld_fail(
                    ld, fltsim__ld_get(ld, m, control_keys[k]),
                    "a step has both '%s' and '%s'; expected one of op, wait, load, "
                    "unload, attach, detach, complete_pended, note",
                    opn ? "op" : control, control_keys[k]);
            control = control_keys[k];
        }
        if (opn == NULL && control == NULL)
            return fltsim__ld_fail(
                ld, m,
                "a step has no operation; expected one of op, wait, load, unload, "
                "attach, detach, complete_pended, note");

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
        } else if (!load_control_step(ld, m, s, i, control)) {
            return false;
        }
        if ((n = fltsim__ld_get(ld, m, "expect")) != NULL && !fltsim__ld_load_step_expect(ld, n, s))
            return false;

        /* create/open bind their handle last, so that a step cannot use the
         * handle it binds. A create expected to fail needs no handle. */
        if (s->kind == SC_STEP_IO && (s->op == SC_OP_CREATE || s->op == SC_OP_OPEN)) {
            if ((n = fltsim__ld_get(ld, m, "handle")) != NULL) {
                if (!bind_handle(ld, n, s))
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

bool fltsim__ld_load_end_expect(struct ld *ld, yaml_node_t *node)
{
    static const char *const keys[] = {"files", "reports", "handles", NULL};
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
    return true;
}

/* ------------------------------------------------------------------------- */
/* Faults                                                                    */
/* ------------------------------------------------------------------------- */

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

static bool load_top(struct ld *ld, yaml_node_t *root)
{
    static const char *const top_keys[] = {"scenario", "description",      "executor", "seed",
                                           "verifier", "verifier_disable", "golden",   "registry",
                                           "volumes",  "filters",          "threads",  "steps",
                                           "expect",   "faults",           NULL};
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
                return fltsim__ld_fail(
                    ld, item,
                    "verifier_disable: '%s' is not a verifier rule (V1 ... V30, ASSERT, "
                    "KE or SIM)",
                    sc->verifier_disable[i]);
        }
    }
    if ((n = fltsim__ld_get(ld, root, "golden")) != NULL) {
        if (!fltsim__ld_want_scalar(ld, n, "golden"))
            return false;
        if ((sc->golden = fltsim__ld_resolve(ld, fltsim__ld_text_of(n))) == NULL)
            return fltsim__ld_oom(ld, n);
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

    if (!yaml_parser_initialize(&parser)) {
        set_error(error, error_size, "%s: out of memory", path);
        status = STATUS_INSUFFICIENT_RESOURCES;
        goto out;
    }
    parser_ready = true;
    yaml_parser_set_input_file(&parser, file);
    if (!yaml_parser_load(&parser, &doc)) {
        set_error(error, error_size, "%s:%zu:%zu: YAML syntax error: %s%s%s", path,
                  parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                  parser.problem ? parser.problem : "unknown problem", parser.context ? " " : "",
                  parser.context ? parser.context : "");
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
        set_error(error, error_size, "%s:%zu:%zu: YAML syntax error: %s%s%s", path,
                  parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                  parser.problem ? parser.problem : "unknown problem", parser.context ? " " : "",
                  parser.context ? parser.context : "");
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
