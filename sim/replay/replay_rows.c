/*
 * The rows the replay's first pass keeps for its second (replay_internal.h),
 * so that the capture is parsed once: each file-system row to replay as a
 * compact record (strings interned, only the parameters the row has), and
 * the rows that are not replayed as runs of one skip reason. Which rows are
 * kept and what a skip reason is are replay_scan.c's decisions; this file only
 * stores and gives back what it was handed, in order.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "replay_internal.h"

/* Record tags. A record is a tag byte and its fields, each copied in with
 * memcpy (no alignment in the stream). */
enum { TAG_ROW = 1, TAG_RUN = 2, TAG_FS_RUN = 3 };

/* Row flags. */
#define ROW_HAS_RESULT 0x01u
#define ROW_LISTS_ONE 0x02u
#define ROW_LISTS_DOT_FIRST 0x04u

/* The parameter fields each FLTSIM_CP_* bit governs, in bit order: a row
 * stores the fields of the bits it has, nothing for the others. file_name
 * is stored as an interned string (FLTSIM_CP_FILE_NAME, handled apart). */
#define FIELD(bit, member)                                                                         \
    {                                                                                              \
        bit, offsetof(struct fltsim_capture_params, member),                                       \
            sizeof(((struct fltsim_capture_params *)0)->member)                                    \
    }
static const struct {
    uint32_t bit;
    size_t offset, size;
} fields[] = {
    FIELD(FLTSIM_CP_ACCESS, desired_access),
    FIELD(FLTSIM_CP_DISPOSITION, disposition),
    FIELD(FLTSIM_CP_OPTIONS, create_options),
    FIELD(FLTSIM_CP_ATTRIBUTES, file_attributes),
    FIELD(FLTSIM_CP_SHARE, share_access),
    FIELD(FLTSIM_CP_ALLOCATION, allocation_size),
    FIELD(FLTSIM_CP_OPEN_RESULT, open_result),
    FIELD(FLTSIM_CP_OFFSET, offset),
    FIELD(FLTSIM_CP_LENGTH, length),
    FIELD(FLTSIM_CP_IO_FLAGS, io_flags),
    FIELD(FLTSIM_CP_INFO_CLASS, info_class),
    FIELD(FLTSIM_CP_CONTROL, control_code),
    FIELD(FLTSIM_CP_SYNC_TYPE, sync_type),
    FIELD(FLTSIM_CP_SYNC_TYPE, page_protection),
    FIELD(FLTSIM_CP_DELETE, delete_file),
    FIELD(FLTSIM_CP_REPLACE, replace_if_exists),
    FIELD(FLTSIM_CP_END_OF_FILE, end_of_file),
    FIELD(FLTSIM_CP_LOCK, exclusive),
    FIELD(FLTSIM_CP_LOCK, fail_immediately),
    FIELD(FLTSIM_CP_NOTIFY_FILTER, notify_filter),
    FIELD(FLTSIM_CP_SECURITY_INFO, security_information),
    FIELD(FLTSIM_CP_FILE_ATTRS_OUT, queried_attributes),
    FIELD(FLTSIM_CP_DISPOSITION_FLAGS, disposition_flags),
    FIELD(FLTSIM_CP_ENDING_OFFSET, ending_offset),
};
#undef FIELD
#define FIELD_COUNT (sizeof(fields) / sizeof(fields[0]))

/* The largest record: tag, the row's fixed fields, every parameter. */
#define ROW_MAX (1 + 8 + 8 + sizeof(void *) + 4 * 8 + 1 + sizeof(struct fltsim_capture_params))

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static bool grow(unsigned char **data, size_t *cap, size_t need)
{
    if (*cap >= need)
        return true;
    size_t c = *cap == 0 ? 65536 : *cap;
    while (c < need)
        c *= 2;
    unsigned char *p = realloc(*data, c);
    if (p == NULL)
        return false;
    *data = p;
    *cap = c;
    return true;
}

static bool slots_grow(struct rrows *rs)
{
    size_t cap = rs->slot_cap == 0 ? 1024 : rs->slot_cap * 2;
    uint32_t *slots = calloc(cap, sizeof(*slots));
    if (slots == NULL)
        return false;
    for (size_t i = 0; i < rs->slot_cap; i++) {
        uint32_t v = rs->slots[i];
        if (v == 0)
            continue;
        size_t j = hash_str((const char *)rs->strings + v - 1) & (cap - 1);
        while (slots[j] != 0)
            j = (j + 1) & (cap - 1);
        slots[j] = v;
    }
    free(rs->slots);
    rs->slots = slots;
    rs->slot_cap = cap;
    return true;
}

/* The offset of s in the string pool (added the first time); false when
 * out of memory or past the 4 GiB an offset can address. */
static bool intern(struct rrows *rs, const char *s, uint32_t *out)
{
    if ((rs->slot_count + 1) * 2 > rs->slot_cap && !slots_grow(rs))
        return false;
    size_t j = hash_str(s) & (rs->slot_cap - 1);
    for (uint32_t v; (v = rs->slots[j]) != 0; j = (j + 1) & (rs->slot_cap - 1))
        if (strcmp((const char *)rs->strings + v - 1, s) == 0) {
            *out = v - 1;
            return true;
        }
    size_t len = strlen(s) + 1;
    if (rs->strings_size + len >= UINT32_MAX ||
        !grow(&rs->strings, &rs->strings_cap, rs->strings_size + len))
        return false;
    memcpy(rs->strings + rs->strings_size, s, len);
    *out = (uint32_t)rs->strings_size;
    rs->slots[j] = (uint32_t)rs->strings_size + 1;
    rs->strings_size += len;
    rs->slot_count++;
    return true;
}

static unsigned char *put(unsigned char *p, const void *v, size_t size)
{
    memcpy(p, v, size);
    return p + size;
}

static const unsigned char *get(const unsigned char *p, void *v, size_t size)
{
    memcpy(v, p, size);
    return p + size;
}

bool fltsim__replay_rows_keep(struct rrows *rs, const struct fltsim_capture_event *ev,
                              bool lists_one, bool lists_dot_first)
{
    const struct fltsim_capture_params *params = &ev->params;
    uint32_t path, operation, file_name = 0;
    assert(!rs->sealed);
    if (!intern(rs, ev->path, &path) || !intern(rs, ev->operation, &operation))
        return false;
    if ((params->present & FLTSIM_CP_FILE_NAME) &&
        !intern(rs, params->file_name != NULL ? params->file_name : "", &file_name))
        return false;
    if (!grow(&rs->data, &rs->cap, rs->size + ROW_MAX))
        return false;
    unsigned char *p = rs->data + rs->size;
    uint8_t tag = TAG_ROW;
    uint8_t flags =
        (uint8_t)((ev->has_result ? ROW_HAS_RESULT : 0) | (lists_one ? ROW_LISTS_ONE : 0) |
                  (lists_dot_first ? ROW_LISTS_DOT_FIRST : 0));
    int32_t result = ev->result, sub = ev->sub;
    p = put(p, &tag, 1);
    p = put(p, &ev->index, 8);
    p = put(p, &ev->line, 8);
    p = put(p, &ev->op, sizeof(ev->op));
    p = put(p, &ev->pid, 4);
    p = put(p, &ev->tid, 4);
    p = put(p, &result, 4);
    p = put(p, &sub, 4);
    p = put(p, &path, 4);
    p = put(p, &operation, 4);
    p = put(p, &flags, 1);
    p = put(p, &params->present, 4);
    for (size_t i = 0; i < FIELD_COUNT; i++)
        if (params->present & fields[i].bit)
            p = put(p, (const unsigned char *)params + fields[i].offset, fields[i].size);
    if (params->present & FLTSIM_CP_FILE_NAME)
        p = put(p, &file_name, 4);
    rs->size = (size_t)(p - rs->data);
    rs->last_run = 0;
    rs->kept++;
    return true;
}

bool fltsim__replay_rows_skip(struct rrows *rs, const char *reason, bool file_system)
{
    uint8_t tag = file_system ? TAG_FS_RUN : TAG_RUN;
    assert(!rs->sealed);
    if (rs->last_run != 0) {
        /* The same reason as the run just before: one more row in it. */
        unsigned char *p = rs->data + rs->last_run - 1;
        const char *last;
        uint32_t count;
        memcpy(&last, p + 1, sizeof(last));
        memcpy(&count, p + 1 + sizeof(last), 4);
        if (p[0] == tag && last == reason && count < UINT32_MAX) {
            count++;
            memcpy(p + 1 + sizeof(last), &count, 4);
            return true;
        }
    }
    if (!grow(&rs->data, &rs->cap, rs->size + 1 + sizeof(reason) + 4))
        return false;
    unsigned char *p = rs->data + rs->size;
    uint32_t one = 1;
    rs->last_run = rs->size + 1;
    p = put(p, &tag, 1);
    p = put(p, &reason, sizeof(reason));
    p = put(p, &one, 4);
    rs->size = (size_t)(p - rs->data);
    rs->runs++;
    return true;
}

int fltsim__replay_rows_next(const struct rrows *rs, size_t *pos, struct rrow *row,
                             const char **reason, bool *file_system, uint32_t *count)
{
    if (*pos >= rs->size)
        return 0;
    const unsigned char *p = rs->data + *pos;
    uint8_t tag = *p++;
    if (tag != TAG_ROW) {
        p = get(p, reason, sizeof(*reason));
        p = get(p, count, 4);
        *file_system = tag == TAG_FS_RUN;
        *pos = (size_t)(p - rs->data);
        return 2;
    }
    struct fltsim_capture_event *ev = &row->ev;
    memset(row, 0, sizeof(*row));
    int32_t result, sub;
    uint32_t path, operation, file_name;
    uint8_t flags;
    p = get(p, &ev->index, 8);
    p = get(p, &ev->line, 8);
    p = get(p, &ev->op, sizeof(ev->op));
    p = get(p, &ev->pid, 4);
    p = get(p, &ev->tid, 4);
    p = get(p, &result, 4);
    p = get(p, &sub, 4);
    p = get(p, &path, 4);
    p = get(p, &operation, 4);
    p = get(p, &flags, 1);
    p = get(p, &ev->params.present, 4);
    for (size_t i = 0; i < FIELD_COUNT; i++)
        if (ev->params.present & fields[i].bit)
            p = get(p, (unsigned char *)&ev->params + fields[i].offset, fields[i].size);
    if (ev->params.present & FLTSIM_CP_FILE_NAME) {
        p = get(p, &file_name, 4);
        ev->params.file_name = (const char *)rs->strings + file_name;
    }
    ev->event_class = FLTSIM_CAPTURE_CLASS_FILE_SYSTEM;
    ev->result = result;
    ev->sub = sub;
    ev->path = (const char *)rs->strings + path;
    ev->operation = (const char *)rs->strings + operation;
    ev->process_name = "";
    ev->has_result = (flags & ROW_HAS_RESULT) != 0;
    row->lists_one = (flags & ROW_LISTS_ONE) != 0;
    row->lists_dot_first = (flags & ROW_LISTS_DOT_FIRST) != 0;
    *pos = (size_t)(p - rs->data);
    return 1;
}

void fltsim__replay_rows_seal(struct rrows *rs)
{
    /* Shrinking cannot fail in practice; if it does the larger block stays. */
    unsigned char *p;
    if (rs->size > 0 && rs->size < rs->cap && (p = realloc(rs->data, rs->size)) != NULL) {
        rs->data = p;
        rs->cap = rs->size;
    }
    if (rs->strings_size > 0 && rs->strings_size < rs->strings_cap &&
        (p = realloc(rs->strings, rs->strings_size)) != NULL) {
        rs->strings = p;
        rs->strings_cap = rs->strings_size;
    }
    free(rs->slots);
    rs->slots = NULL;
    rs->slot_cap = rs->slot_count = 0;
    rs->last_run = 0;
    rs->sealed = true;
}

size_t fltsim__replay_rows_bytes(const struct rrows *rs)
{
    return rs->cap + rs->strings_cap + rs->slot_cap * sizeof(rs->slots[0]);
}

void fltsim__replay_rows_free(struct rrows *rs)
{
    free(rs->data);
    free(rs->strings);
    free(rs->slots);
    memset(rs, 0, sizeof(*rs));
}
