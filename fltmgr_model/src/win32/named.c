/*
 * The namespace of named events and semaphores: CreateEvent and
 * CreateSemaphore with a name make the object or open the one of that name
 * (ERROR_ALREADY_EXISTS), OpenEvent and OpenSemaphore open it, and a name
 * leaves with its object's last handle. One namespace per system, shared by
 * its processes (one session): "Local\" names the same as no prefix,
 * "Global\" its own; names compare case-sensitively, as Windows' do.
 */
#include <stdlib.h>
#include <string.h>

#include "win32_internal.h"

struct w32_name {
    LIST_ENTRY link; /* fltsim_w32.names */
    struct w32_object *obj;
    size_t length; /* in WCHARs */
    WCHAR text[];
};

static size_t wide_length(LPCWSTR s)
{
    size_t n = 0;
    while (s[n] != 0)
        n++;
    return n;
}

/* The part of name that names the object in the namespace: "Local\" goes
 * (the session's namespace, where names without a prefix are too). Another
 * backslash names an object directory fltsim does not have. Sets *length;
 * false with the last error set for a name no object can have. */
static bool name_key(LPCWSTR name, LPCWSTR *key, size_t *length)
{
    static const WCHAR local[] = L"Local\\";
    static const WCHAR global[] = L"Global\\";
    size_t n = wide_length(name);
    if (n > MAX_PATH) {
        fltsim__w32_set_error(ERROR_FILENAME_EXCED_RANGE);
        return false;
    }
    size_t skip = 0, local_n = sizeof(local) / sizeof(WCHAR) - 1,
           global_n = sizeof(global) / sizeof(WCHAR) - 1;
    if (n >= local_n && memcmp(name, local, local_n * sizeof(WCHAR)) == 0)
        skip = local_n;
    size_t from = skip;
    if (skip == 0 && n >= global_n && memcmp(name, global, global_n * sizeof(WCHAR)) == 0)
        from = global_n; /* kept in the key: its own namespace */
    for (size_t i = from; i < n; i++)
        if (name[i] == L'\\') {
            fltsim__w32_set_error(ERROR_PATH_NOT_FOUND);
            return false;
        }
    *key = name + skip;
    *length = n - skip;
    return true;
}

static struct w32_name *find_locked(struct fltsim_w32 *w, LPCWSTR key, size_t length)
{
    for (PLIST_ENTRY e = w->names.Flink; e != &w->names; e = e->Flink) {
        struct w32_name *n = CONTAINING_RECORD(e, struct w32_name, link);
        if (n->length == length && memcmp(n->text, key, length * sizeof(WCHAR)) == 0)
            return n;
    }
    return NULL;
}

/* A handle of the calling thread's process to obj (a reference taken). */
static HANDLE handle_to_locked(struct w32_thread *self, struct w32_object *obj, DWORD error)
{
    fltsim__w32_ref_locked(obj);
    HANDLE h = fltsim__w32_handle_new_locked(self->proc, obj);
    fltsim__w32_set_error(h == NULL ? ERROR_NOT_ENOUGH_MEMORY : error);
    return h;
}

HANDLE fltsim__w32_create_named(struct w32_object *obj, LPCWSTR name)
{
    struct w32_thread *self = fltsim__w32_self();
    LPCWSTR key;
    size_t length;
    if (self == NULL || obj == NULL || !name_key(name, &key, &length)) {
        if (self == NULL || obj == NULL)
            fltsim__w32_set_error(self == NULL ? ERROR_INVALID_HANDLE : ERROR_NOT_ENOUGH_MEMORY);
        free(obj);
        return NULL;
    }
    fltsim_system *sys = self->proc->sys;
    uv_mutex_lock(&sys->lock);
    struct fltsim_w32 *w = fltsim__w32_locked(sys);
    struct w32_name *found = w != NULL ? find_locked(w, key, length) : NULL;
    HANDLE h = NULL;
    if (found != NULL) {
        enum w32_kind kind = obj->kind;
        free(obj); /* never seen by anyone */
        if (found->obj->kind == kind)
            h = handle_to_locked(self, found->obj, ERROR_ALREADY_EXISTS);
        else
            fltsim__w32_set_error(ERROR_INVALID_HANDLE);
        uv_mutex_unlock(&sys->lock);
        return h;
    }
    struct w32_name *n = w != NULL ? malloc(sizeof(*n) + length * sizeof(WCHAR)) : NULL;
    if (n == NULL) {
        uv_mutex_unlock(&sys->lock);
        free(obj);
        fltsim__w32_set_error(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    n->obj = obj;
    n->length = length;
    memcpy(n->text, key, length * sizeof(WCHAR));
    InsertTailList(&w->names, &n->link);
    obj->name = n;
    h = fltsim__w32_handle_new_locked(self->proc, obj); /* takes over the reference */
    uv_mutex_unlock(&sys->lock);
    fltsim__w32_set_error(h == NULL ? ERROR_NOT_ENOUGH_MEMORY : ERROR_SUCCESS);
    return h;
}

HANDLE fltsim__w32_open_named(enum w32_kind kind, LPCWSTR name)
{
    struct w32_thread *self = fltsim__w32_self();
    LPCWSTR key;
    size_t length;
    if (self == NULL || name == NULL) {
        fltsim__w32_set_error(self == NULL ? ERROR_INVALID_HANDLE : ERROR_INVALID_PARAMETER);
        return NULL;
    }
    if (!name_key(name, &key, &length))
        return NULL;
    fltsim_system *sys = self->proc->sys;
    uv_mutex_lock(&sys->lock);
    struct fltsim_w32 *w = fltsim__w32_locked(sys);
    struct w32_name *found = w != NULL ? find_locked(w, key, length) : NULL;
    HANDLE h = NULL;
    if (found == NULL)
        fltsim__w32_set_error(ERROR_FILE_NOT_FOUND);
    else if (found->obj->kind != kind)
        fltsim__w32_set_error(ERROR_INVALID_HANDLE);
    else
        h = handle_to_locked(self, found->obj, ERROR_SUCCESS);
    uv_mutex_unlock(&sys->lock);
    return h;
}

LPWSTR fltsim__w32_wide_name(LPCSTR name)
{
    int units = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, name, -1, NULL, 0);
    LPWSTR wide = units > 0 ? malloc((size_t)units * sizeof(WCHAR)) : NULL;
    if (units > 0 && wide == NULL)
        fltsim__w32_set_error(ERROR_NOT_ENOUGH_MEMORY);
    if (wide != NULL && MultiByteToWideChar(CP_UTF8, 0, name, -1, wide, units) != units) {
        free(wide);
        wide = NULL;
    }
    return wide;
}

void fltsim__w32_name_drop_locked(struct w32_object *obj)
{
    RemoveEntryList(&obj->name->link);
    free(obj->name);
    obj->name = NULL;
}
