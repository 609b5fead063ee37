/*
 * PRIVATE to the scenario loader (scenario_load*.c): the loader's state and
 * the helpers its parts share. scenario_load.c owns the load, the top-level
 * mapping and the node readers below; each other part reads one section of
 * the schema into struct fltsim_scenario (scenario_internal.h). Every reader
 * returns false after writing one "FILE:LINE:COLUMN: ..." message through
 * fltsim__ld_fail (or fltsim__ld_oom), and the load stops there.
 */
#ifndef FLTSIM_SCENARIO_LOAD_INTERNAL_H
#define FLTSIM_SCENARIO_LOAD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#include "scenario_internal.h"

#define ARRAY_COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct ld {
    struct fltsim_scenario *sc;
    yaml_document_t *doc;
    const char *dir; /* absolute directory of the scenario file */
    char *error;
    size_t error_size;
    NTSTATUS status;
    bool *handle_open; /* while checking steps */
    bool *handle_ps;   /* the handle was bound by a process step */
    bool *program_started; /* per program, while checking steps */
};

/* A name a scenario may write and the value it stands for; tables end with
 * {NULL, 0}. */
struct name_value {
    const char *name;
    ULONG64 value;
};

/* --- scenario_load.c: errors, the arena and node readers ----------------- */

/* Writes "FILE:LINE:COLUMN: " (node's start) and the message into ld->error,
 * sets ld->status to STATUS_INVALID_PARAMETER unless a status is set; returns
 * false. fltsim__ld_oom does the same with STATUS_INSUFFICIENT_RESOURCES. */
bool fltsim__ld_fail(struct ld *ld, yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool fltsim__ld_oom(struct ld *ld, yaml_node_t *node);
/* Zeroed memory in the scenario's arena; NULL (and ld->status set) when out
 * of memory, with no message: the caller reports it at a node. */
void *fltsim__ld_alloc(struct ld *ld, size_t size);
/* path relative to the scenario file's directory, or absolute; in the arena,
 * NULL when out of memory. */
char *fltsim__ld_resolve(struct ld *ld, const char *rel);
/* An `object:` value resolved to a regular file's path; NULL with the error
 * at the node (not a scalar, out of memory, no such file). */
char *fltsim__ld_object_path(struct ld *ld, yaml_node_t *object);

yaml_node_t *fltsim__ld_node_at(struct ld *ld, int index);
const char *fltsim__ld_text_of(yaml_node_t *node);
bool fltsim__ld_is_plain(yaml_node_t *node);
/* "a" or "an" before word. */
const char *fltsim__ld_article(const char *word);
size_t fltsim__ld_list_count(yaml_node_t *node);
yaml_node_t *fltsim__ld_list_item(struct ld *ld, yaml_node_t *node, size_t i);

/* The shape of a node; false with a message when it has another. */
bool fltsim__ld_want_scalar(struct ld *ld, yaml_node_t *node, const char *key);
bool fltsim__ld_want_mapping(struct ld *ld, yaml_node_t *node, const char *what);
bool fltsim__ld_want_list(struct ld *ld, yaml_node_t *node, const char *what);
/* Every key of map is a scalar, appears once and is one of accepted
 * (NULL-terminated); where names the mapping in messages. */
bool fltsim__ld_check_keys(struct ld *ld, yaml_node_t *map, const char *where,
                           const char *const *accepted);
/* The value of key in map, or NULL; fltsim__ld_require fails when there is
 * none. */
yaml_node_t *fltsim__ld_get(struct ld *ld, yaml_node_t *map, const char *key);
bool fltsim__ld_require(struct ld *ld, yaml_node_t *map, const char *key, const char *where,
                        yaml_node_t **out);

/* Scalar values; key names the value in messages. Strings go to the arena. */
bool fltsim__ld_get_string(struct ld *ld, yaml_node_t *node, const char *key, const char **out);
bool fltsim__ld_get_wstring(struct ld *ld, yaml_node_t *node, const char *key, PCWSTR *out);
/* The value of a hex digit, or -1. */
int fltsim__ld_hex_digit(char c);
/* Decimal or 0x hex digits; false (no message) when s is not that or overflows. */
bool fltsim__ld_parse_uint(const char *s, ULONG64 *out);
bool fltsim__ld_get_uint(struct ld *ld, yaml_node_t *node, const char *key, ULONG64 max,
                         ULONG64 *out);
bool fltsim__ld_get_ulong(struct ld *ld, yaml_node_t *node, const char *key, ULONG *out);
/* An unsigned number that fits a LONGLONG. */
bool fltsim__ld_get_longlong(struct ld *ld, yaml_node_t *n, const char *key, LONGLONG *out);
bool fltsim__ld_get_bool(struct ld *ld, yaml_node_t *node, const char *key, bool *out);
/* A name of table (what names its kind in messages), or a number. */
bool fltsim__ld_get_enum(struct ld *ld, yaml_node_t *node, const char *key, const char *what,
                         const struct name_value *table, ULONG64 *out);
/* A list of names of table (or one name) ORed together. */
bool fltsim__ld_get_flags(struct ld *ld, yaml_node_t *node, const char *key, const char *what,
                          const struct name_value *table, ULONG *out);
bool fltsim__ld_get_status(struct ld *ld, yaml_node_t *node, const char *key, NTSTATUS *out);
/* data: (UTF-8 text), hex: (bytes) or zeros: (a count) from map; none of
 * them leaves out->set false. */
bool fltsim__ld_get_bytes(struct ld *ld, yaml_node_t *map, const char *where, struct sc_bytes *out);

/* --- The sections, each in its part --------------------------------------- */

/* scenario_load_filters.c: `registry:`, `filters:`, and altitudes (SPEC 2.1)
 * wherever they are written. */
bool fltsim__ld_load_registry(struct ld *ld, yaml_node_t *list);
bool fltsim__ld_load_filters(struct ld *ld, yaml_node_t *list);
bool fltsim__ld_check_altitude(struct ld *ld, yaml_node_t *node, PCWSTR *out);

/* scenario_load_volumes.c: `volumes:` and their files, and drive letters
 * wherever they are written (C or C:). */
bool fltsim__ld_load_volumes(struct ld *ld, yaml_node_t *list);
bool fltsim__ld_parse_drive(struct ld *ld, yaml_node_t *node, WCHAR *out);

/* scenario_load_steps.c: `threads:` and `steps:`; fltsim__ld_use_handle
 * checks that an I/O step's handle was bound by an earlier create or open. */
bool fltsim__ld_load_threads(struct ld *ld, yaml_node_t *list);
bool fltsim__ld_load_steps(struct ld *ld, yaml_node_t *list);
bool fltsim__ld_use_handle(struct ld *ld, yaml_node_t *step, struct sc_step *s);
/* The index of the handle n names (key: the step key, for the message), which
 * an earlier create or open must have bound and no close ended. */
bool fltsim__ld_handle_ref(struct ld *ld, yaml_node_t *n, const char *key, int *index);
/* Binds the handle name node gives to step s (an open one is an error). */
bool fltsim__ld_bind_handle(struct ld *ld, yaml_node_t *node, struct sc_step *s);

/* scenario_load_io.c: the keys of an I/O step (op: ...), the operation and
 * its parameters, opn being the op: node. */
bool fltsim__ld_load_io_step(struct ld *ld, yaml_node_t *m, struct sc_step *s, yaml_node_t *opn);

/* scenario_load_expect.c: a step's `expect:` and the top-level `expect:`. */
bool fltsim__ld_load_step_expect(struct ld *ld, yaml_node_t *node, struct sc_step *s);
bool fltsim__ld_load_end_expect(struct ld *ld, yaml_node_t *node);

/* scenario_load_programs.c: `programs:`, the steps on a program (key: start,
 * input, wait_program, stop or kill) and the end expect's `programs:`. */
bool fltsim__ld_load_programs(struct ld *ld, yaml_node_t *list);
bool fltsim__ld_load_program_step(struct ld *ld, yaml_node_t *m, struct sc_step *s,
                                  const char *key);
bool fltsim__ld_load_end_programs(struct ld *ld, yaml_node_t *node);

/* scenario_load_ps.c: create_process, open_process, open_thread,
 * duplicate, terminate_process (keys and expect: included; binds the handle). */
bool fltsim__ld_load_ps_step(struct ld *ld, yaml_node_t *m, struct sc_step *s, const char *key);

/* scenario_load_faults.c: `faults:`. */
bool fltsim__ld_load_faults(struct ld *ld, yaml_node_t *list);

#endif /* FLTSIM_SCENARIO_LOAD_INTERNAL_H */
