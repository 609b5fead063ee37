/*
 * The fltmc view (issue 19 item 4): the tables `fltmc filters`, `fltmc
 * instances` and `fltmc volumes` print on Windows, built from the system's
 * own lists. The rows are copied under sys->lock and formatted after it is
 * released, so the line callback may call back into the model. The columns
 * of filters and instances are placed where the Windows tool's output puts
 * them (a Windows 11 capture); those of volumes follow its header.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model_internal.h"

/* One row of any view; which fields are used depends on the view. */
struct fltmc_row {
    char filter[FLTSIM_NAME8_MAX];
    char instance[FLTSIM_NAME8_MAX];
    char volume[FLTSIM_NAME8_MAX]; /* device name */
    WCHAR drive_letter;            /* 0 for none */
    struct fltsim_altitude altitude;
    bool has_altitude;
    ULONG instances;
    FLT_FILESYSTEM_TYPE fs_type;
    size_t order; /* position in the list walked, for a stable sort */
};

struct fltmc_rows {
    struct fltmc_row *items;
    size_t count, capacity;
};

static struct fltmc_row *rows_add(struct fltmc_rows *r)
{
    if (r->count == r->capacity) {
        size_t cap = r->capacity == 0 ? 8 : r->capacity * 2;
        struct fltmc_row *items = realloc(r->items, cap * sizeof(*items));
        if (items == NULL)
            return NULL;
        r->items = items;
        r->capacity = cap;
    }
    struct fltmc_row *row = &r->items[r->count];
    memset(row, 0, sizeof(*row));
    row->order = r->count++;
    return row;
}

bool fltsim_fltmc_view_parse(const char *name, enum fltsim_fltmc_view *out)
{
    static const char *const names[] = {"filters", "instances", "volumes"};
    for (size_t i = 0; name != NULL && i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(name, names[i]) == 0) {
            if (out != NULL)
                *out = (enum fltsim_fltmc_view)i;
            return true;
        }
    }
    return false;
}

/* The altitude fltmc shows for a filter: its default instance's, else the
 * first one in its registry table. */
static bool filter_altitude(const struct _FLT_FILTER *f, struct fltsim_altitude *out)
{
    const struct fltsim_driver *drv = f->driver;
    if (drv == NULL || drv->instance_count == 0)
        return false;
    LONG k = drv->default_instance >= 0 ? drv->default_instance : 0;
    *out = drv->instances[k].altitude;
    return true;
}

static ULONG attached_instances_locked(const struct _FLT_FILTER *f)
{
    ULONG n = 0;
    for (PLIST_ENTRY e = f->instances.Flink; e != &f->instances; e = e->Flink) {
        const struct _FLT_INSTANCE *i = CONTAINING_RECORD(e, struct _FLT_INSTANCE, filter_link);
        if (__atomic_load_n(&i->state, __ATOMIC_ACQUIRE) == FLTSIM_INSTANCE_ATTACHED)
            n++;
    }
    return n;
}

static bool collect_filters_locked(fltsim_system *sys, struct fltmc_rows *r)
{
    for (PLIST_ENTRY e = sys->filters.Flink; e != &sys->filters; e = e->Flink) {
        struct _FLT_FILTER *f = CONTAINING_RECORD(e, struct _FLT_FILTER, link);
        LONG state = __atomic_load_n(&f->state, __ATOMIC_ACQUIRE);
        if (state != FLTSIM_FILTER_REGISTERED && state != FLTSIM_FILTER_STARTED)
            continue;
        struct fltmc_row *row = rows_add(r);
        if (row == NULL)
            return false;
        memcpy(row->filter, f->name8, sizeof(row->filter));
        row->has_altitude = filter_altitude(f, &row->altitude);
        row->instances = attached_instances_locked(f);
    }
    return true;
}

static bool collect_instances_locked(fltsim_system *sys, struct fltmc_rows *r)
{
    for (PLIST_ENTRY ve = sys->volumes.Flink; ve != &sys->volumes; ve = ve->Flink) {
        struct _FLT_VOLUME *v = CONTAINING_RECORD(ve, struct _FLT_VOLUME, link);
        for (PLIST_ENTRY e = v->instances.Flink; e != &v->instances; e = e->Flink) {
            struct _FLT_INSTANCE *i = CONTAINING_RECORD(e, struct _FLT_INSTANCE, volume_link);
            if (__atomic_load_n(&i->state, __ATOMIC_ACQUIRE) != FLTSIM_INSTANCE_ATTACHED)
                continue;
            struct fltmc_row *row = rows_add(r);
            if (row == NULL)
                return false;
            memcpy(row->filter, i->filter->name8, sizeof(row->filter));
            memcpy(row->instance, i->name8, sizeof(row->instance));
            memcpy(row->volume, v->name8, sizeof(row->volume));
            row->drive_letter = v->drive_letter;
            row->altitude = i->altitude;
            row->has_altitude = true;
        }
    }
    return true;
}

static bool collect_volumes_locked(fltsim_system *sys, struct fltmc_rows *r)
{
    for (PLIST_ENTRY e = sys->volumes.Flink; e != &sys->volumes; e = e->Flink) {
        struct _FLT_VOLUME *v = CONTAINING_RECORD(e, struct _FLT_VOLUME, link);
        if (v->dismounting)
            continue;
        struct fltmc_row *row = rows_add(r);
        if (row == NULL)
            return false;
        memcpy(row->volume, v->name8, sizeof(row->volume));
        row->drive_letter = v->drive_letter;
        row->fs_type = v->fs_type;
    }
    return true;
}

/* filters: highest altitude first (the frame's order), those without one last. */
static int filters_order(const void *pa, const void *pb)
{
    const struct fltmc_row *a = pa, *b = pb;
    if (a->has_altitude != b->has_altitude)
        return a->has_altitude ? -1 : 1;
    int c = a->has_altitude ? fltsim__altitude_compare(&b->altitude, &a->altitude) : 0;
    if (c != 0)
        return c;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* instances: by filter name (ordinal, as fltmc sorts), then as walked. */
static int instances_order(const void *pa, const void *pb)
{
    const struct fltmc_row *a = pa, *b = pb;
    int c = strcmp(a->filter, b->filter);
    if (c != 0)
        return c;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* The file system column of `fltmc volumes`. */
static const char *fs_column(FLT_FILESYSTEM_TYPE type)
{
    switch (type) {
    case FLT_FSTYPE_RAW:
        return "RAW";
    case FLT_FSTYPE_NTFS:
        return "NTFS";
    case FLT_FSTYPE_FAT:
        return "FAT";
    case FLT_FSTYPE_EXFAT:
        return "exFAT";
    case FLT_FSTYPE_REFS:
        return "ReFS";
    case FLT_FSTYPE_CDFS:
        return "CDFS";
    case FLT_FSTYPE_UDFS:
        return "UDFS";
    case FLT_FSTYPE_CSVFS:
        return "CSVFS";
    case FLT_FSTYPE_NPFS:
        return "NamedPipe";
    case FLT_FSTYPE_MSFS:
        return "Mailslot";
    case FLT_FSTYPE_LANMAN:
    case FLT_FSTYPE_MUP:
    case FLT_FSTYPE_WEBDAV:
    case FLT_FSTYPE_RDPDR:
    case FLT_FSTYPE_NFS:
        return "Remote";
    default:
        return "<Unknown>";
    }
}

/* fltmc prints an altitude right-aligned in six columns, then pads it to eight. */
static void altitude_column(const struct fltmc_row *row, char *out, size_t size)
{
    char six[FLTSIM_ALTITUDE_MAX + 8];
    snprintf(six, sizeof(six), "%6s", row->has_altitude ? row->altitude.text : "");
    snprintf(out, size, "%-8s", six);
}

static void volume_column(const struct fltmc_row *row, char *out, size_t size)
{
    if (row->drive_letter != 0)
        snprintf(out, size, "%c:", (char)row->drive_letter);
    else
        snprintf(out, size, "%s", row->volume);
}

/* Cuts the trailing blanks a row with empty last columns would leave. */
static void emit(fltsim_fltmc_line_cb cb, void *ctx, char *line)
{
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == ' ')
        line[--n] = '\0';
    cb(ctx, line);
}

static void write_view(enum fltsim_fltmc_view view, const struct fltmc_rows *r,
                       fltsim_fltmc_line_cb cb, void *ctx)
{
    char line[1024], alt[FLTSIM_ALTITUDE_MAX + 16], vol[FLTSIM_NAME8_MAX];
    cb(ctx, "");
    switch (view) {
    case FLTSIM_FLTMC_FILTERS:
        cb(ctx, "Filter Name                     Num Instances    Altitude    Frame");
        cb(ctx, "------------------------------  -------------  ------------  -----");
        for (size_t k = 0; k < r->count; k++) {
            const struct fltmc_row *row = &r->items[k];
            altitude_column(row, alt, sizeof(alt));
            snprintf(line, sizeof(line), "%-30s  %9lu       %s%8d", row->filter,
                     (unsigned long)row->instances, alt, 0);
            emit(cb, ctx, line);
        }
        break;
    case FLTSIM_FLTMC_INSTANCES:
        cb(ctx, "Filter                Volume Name                              Altitude        "
                "Instance Name       Frame");
        cb(ctx, "--------------------  -------------------------------------  ------------  "
                "----------------------  -----");
        for (size_t k = 0; k < r->count; k++) {
            const struct fltmc_row *row = &r->items[k];
            altitude_column(row, alt, sizeof(alt));
            volume_column(row, vol, sizeof(vol));
            snprintf(line, sizeof(line), "%-20s  %-37s     %s   %-22s%5d", row->filter, vol, alt,
                     row->instance, 0);
            emit(cb, ctx, line);
        }
        break;
    case FLTSIM_FLTMC_VOLUMES:
        cb(ctx, "Dos Name                        Volume Name                              "
                "FileSystem   Status");
        cb(ctx, "------------------------------  ---------------------------------------  "
                "----------  --------");
        for (size_t k = 0; k < r->count; k++) {
            const struct fltmc_row *row = &r->items[k];
            char dos[4] = "";
            if (row->drive_letter != 0)
                snprintf(dos, sizeof(dos), "%c:", (char)row->drive_letter);
            snprintf(line, sizeof(line), "%-30s  %-39s  %s", dos, row->volume,
                     fs_column(row->fs_type));
            emit(cb, ctx, line);
        }
        break;
    }
}

NTSTATUS fltsim_fltmc(fltsim_system *sys, enum fltsim_fltmc_view view, fltsim_fltmc_line_cb cb,
                      void *ctx)
{
    if (sys == NULL || cb == NULL ||
        (view != FLTSIM_FLTMC_FILTERS && view != FLTSIM_FLTMC_INSTANCES &&
         view != FLTSIM_FLTMC_VOLUMES))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_fltmc: sys and cb are required, and view must be "
                            "FLTSIM_FLTMC_FILTERS, _INSTANCES or _VOLUMES (it is %d)",
                            (int)view);
    struct fltmc_rows r = {0};
    uv_mutex_lock(&sys->lock);
    bool ok = view == FLTSIM_FLTMC_FILTERS     ? collect_filters_locked(sys, &r)
              : view == FLTSIM_FLTMC_INSTANCES ? collect_instances_locked(sys, &r)
                                               : collect_volumes_locked(sys, &r);
    uv_mutex_unlock(&sys->lock);
    if (!ok) {
        free(r.items);
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES,
                            "fltsim_fltmc: no memory for a copy of the lists");
    }
    if (view == FLTSIM_FLTMC_FILTERS && r.count > 1)
        qsort(r.items, r.count, sizeof(*r.items), filters_order);
    if (view == FLTSIM_FLTMC_INSTANCES && r.count > 1)
        qsort(r.items, r.count, sizeof(*r.items), instances_order);
    write_view(view, &r, cb, ctx);
    free(r.items);
    return STATUS_SUCCESS;
}

struct file_sink {
    FILE *out;
    bool failed;
};

static void file_line(void *ctx, const char *line)
{
    struct file_sink *s = ctx;
    if (!s->failed && (fputs(line, s->out) == EOF || fputc('\n', s->out) == EOF))
        s->failed = true;
}

NTSTATUS fltsim_fltmc_write(fltsim_system *sys, enum fltsim_fltmc_view view, FILE *out)
{
    if (out == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "fltsim_fltmc_write: out is required");
    struct file_sink s = {.out = out};
    NTSTATUS status = fltsim_fltmc(sys, view, file_line, &s);
    if (NT_SUCCESS(status) && (s.failed || fflush(out) == EOF))
        return fltsim__fail(STATUS_UNSUCCESSFUL, "fltsim_fltmc_write: writing the view failed");
    return status;
}
