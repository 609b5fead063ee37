/*
 * The fake registry (DESIGN decision 7): per system, a tree of keys with
 * typed values that the test or scenario fills through fltsim_registry_*, and
 * that filter code reads with ZwOpenKey / ZwQueryValueKey / ZwClose exactly as
 * on Windows (statuses, ResultLength, the KEY_VALUE_*_INFORMATION layouts),
 * opening its own keys with IoOpenDriverRegistryKey.
 * Key handles live in one process-wide table; each is a pool block (tag
 * "CmKy") that records its system, key, granted access and owning driver, so
 * a handle left open shows in the pool counts and in a V23 report at unload.
 * This file does not model ZwCreateKey, ZwSetValueKey or enumeration.
 *
 * Lock order: reg_lock is a leaf. It guards every system's tree and the
 * handle table; nothing is allocated from pool, reported or traced under it.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"
#include "nt_internal.h"
#include "ps_internal.h"

#define KEY_HANDLE_TAG 'yKmC' /* "CmKy" */
#define KEY_HANDLE_MAGIC 0x594b4d43u
#define KEY_NAME_MAX_CHARS 255
#define VALUE_NAME_MAX_CHARS 16383
#define VALUE_DATA_MAX (64u << 20)
#define HANDLE_SLOTS_MAX (1u << 20)
/* Kernel handles have the sign bit set (0xFFFFFFFF8000xxxx on 64-bit). */
#define KERNEL_HANDLE_BASE (~(ULONG_PTR)0x7fffffff)
/* OBJ_VALID_ATTRIBUTES of current kernels. */
#define OBJ_VALID_ATTRIBUTES_ 0x00001ff2L

struct regvalue {
    LIST_ENTRY link; /* key->values */
    UNICODE_STRING name;
    ULONG type;
    ULONG size;
    UCHAR *data; /* malloc, NULL when size is 0 */
};

struct fltsim_regkey {
    struct fltsim_regkey *parent; /* NULL for the root and for deleted keys */
    LIST_ENTRY link;              /* parent->children */
    LIST_ENTRY children;
    LIST_ENTRY values;
    UNICODE_STRING name; /* "" for the root */
    ULONG handles;       /* open handles on it */
    bool deleted;        /* freed when the last handle closes */
};

struct key_handle {
    ULONG magic;
    ULONG slot;
    fltsim_system *sys;
    struct fltsim_regkey *key;
    ACCESS_MASK access;          /* granted, generic rights mapped */
    struct fltsim_driver *owner; /* driver whose code opened it, or NULL */
};

static uv_once_t reg_once = UV_ONCE_INIT;
static uv_mutex_t reg_lock;
static struct key_handle **slots; /* reg_lock; NULL = free */
static ULONG slot_count, slot_capacity;

static void reg_init(void)
{
    if (uv_mutex_init(&reg_lock) != 0)
        abort();
}

static void free_slot_table(void)
{
    free(slots);
    slots = NULL;
    slot_count = slot_capacity = 0;
}

static void reg_lock_take(void)
{
    uv_once(&reg_once, reg_init);
    uv_mutex_lock(&reg_lock);
}

/* ---- keys and values (reg_lock held) ---- */

static struct fltsim_regkey *key_new(struct fltsim_regkey *parent, const WCHAR *name, size_t count)
{
    struct fltsim_regkey *k = calloc(1, sizeof(*k));
    if (k == NULL)
        return NULL;
    if (!fltsim__ustr_dup(&k->name, name, count)) {
        free(k);
        return NULL;
    }
    InitializeListHead(&k->children);
    InitializeListHead(&k->values);
    k->parent = parent;
    if (parent != NULL)
        InsertTailList(&parent->children, &k->link);
    else
        InitializeListHead(&k->link);
    return k;
}

static void value_free(struct regvalue *v)
{
    fltsim__ustr_free(&v->name);
    free(v->data);
    free(v);
}

static void key_free_values(struct fltsim_regkey *k)
{
    while (!IsListEmpty(&k->values))
        value_free(CONTAINING_RECORD(RemoveHeadList(&k->values), struct regvalue, link));
}

/* Marks k and its subtree deleted and unlinks them; each key is freed now, or
 * by ZwClose of its last handle. */
static void key_delete_tree(struct fltsim_regkey *k)
{
    while (!IsListEmpty(&k->children))
        key_delete_tree(CONTAINING_RECORD(k->children.Flink, struct fltsim_regkey, link));
    key_free_values(k);
    if (k->parent != NULL)
        RemoveEntryList(&k->link);
    InitializeListHead(&k->link);
    k->parent = NULL;
    k->deleted = true;
    if (k->handles == 0) {
        fltsim__ustr_free(&k->name);
        free(k);
    }
}

static struct fltsim_regkey *key_child(struct fltsim_regkey *k, PCUNICODE_STRING name)
{
    for (PLIST_ENTRY e = k->children.Flink; e != &k->children; e = e->Flink) {
        struct fltsim_regkey *c = CONTAINING_RECORD(e, struct fltsim_regkey, link);
        if (fltsim__ustr_equal_ci(&c->name, name))
            return c;
    }
    return NULL;
}

static struct regvalue *key_value(struct fltsim_regkey *k, PCUNICODE_STRING name)
{
    for (PLIST_ENTRY e = k->values.Flink; e != &k->values; e = e->Flink) {
        struct regvalue *v = CONTAINING_RECORD(e, struct regvalue, link);
        if (fltsim__ustr_equal_ci(&v->name, name))
            return v;
    }
    return NULL;
}

/* One component of a path: [*pos, end) up to the next backslash. */
static bool next_component(const WCHAR *path, size_t len, size_t *pos, UNICODE_STRING *out)
{
    size_t start = *pos, i = start;
    while (i < len && path[i] != L'\\')
        i++;
    out->Buffer = (PWCH)(path + start);
    out->Length = out->MaximumLength = (USHORT)((i - start) * sizeof(WCHAR));
    *pos = i < len ? i + 1 : i;
    return i > start;
}

enum walk_mode { WALK_FIND, WALK_CREATE };

/* Walks the relative path [0, len) from k. A trailing backslash is allowed,
 * an empty component elsewhere is STATUS_OBJECT_NAME_INVALID; a missing key
 * is STATUS_OBJECT_NAME_NOT_FOUND (WALK_FIND) or created (WALK_CREATE). */
static NTSTATUS walk(struct fltsim_regkey *k, const WCHAR *path, size_t len, enum walk_mode mode,
                     struct fltsim_regkey **out)
{
    size_t pos = 0;
    *out = NULL;
    while (pos < len) {
        UNICODE_STRING name;
        if (!next_component(path, len, &pos, &name))
            return STATUS_OBJECT_NAME_INVALID;
        if (name.Length / sizeof(WCHAR) > KEY_NAME_MAX_CHARS)
            return STATUS_OBJECT_NAME_INVALID;
        struct fltsim_regkey *c = key_child(k, &name);
        if (c == NULL) {
            if (mode == WALK_FIND)
                return STATUS_OBJECT_NAME_NOT_FOUND;
            c = key_new(k, name.Buffer, name.Length / sizeof(WCHAR));
            if (c == NULL)
                return STATUS_INSUFFICIENT_RESOURCES;
        }
        k = c;
    }
    *out = k;
    return STATUS_SUCCESS;
}

static struct fltsim_regkey *root_of(fltsim_system *sys, bool create)
{
    if (sys->registry == NULL && create)
        sys->registry = key_new(NULL, L"", 0);
    return sys->registry;
}

/* ---- the fltsim API ---- */

/* Checks a full path for the fltsim API: "\Registry" or below it, no empty
 * component, none too long. */
static NTSTATUS check_path(const char *api, PCWSTR key_path, size_t *len)
{
    static const WCHAR prefix[] = L"\\Registry";
    const size_t plen = sizeof(prefix) / sizeof(WCHAR) - 1;
    if (key_path == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: key_path is NULL", api);
    size_t n = fltsim_wcslen(key_path);
    char path8[256];
    fltsim_utf16_to_utf8(key_path, n, path8, sizeof(path8));
    UNICODE_STRING head = {(USHORT)(plen * sizeof(WCHAR)), (USHORT)(plen * sizeof(WCHAR)),
                           (PWCH)key_path};
    UNICODE_STRING want = {(USHORT)(plen * sizeof(WCHAR)), (USHORT)(plen * sizeof(WCHAR)),
                           (PWCH)prefix};
    if (n < plen || !fltsim__ustr_equal_ci(&head, &want) || (n > plen && key_path[plen] != L'\\'))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: key path '%s' does not start with \\Registry\\", api, path8);
    if (n > 0x7fff)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: key path '%.64s...' is too long", api,
                            path8);
    size_t pos = 1;
    while (pos < n) {
        UNICODE_STRING c;
        if (!next_component(key_path, n, &pos, &c))
            return fltsim__fail(STATUS_INVALID_PARAMETER,
                                "%s: key path '%s' has an empty component", api, path8);
        if (c.Length / sizeof(WCHAR) > KEY_NAME_MAX_CHARS)
            return fltsim__fail(STATUS_INVALID_PARAMETER,
                                "%s: key path '%s' has a component over %d characters", api, path8,
                                KEY_NAME_MAX_CHARS);
    }
    *len = n;
    return STATUS_SUCCESS;
}

static NTSTATUS check_system(const char *api, fltsim_system *sys)
{
    if (sys == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: sys is NULL", api);
    if (sys->destroying)
        return fltsim__fail(STATUS_FLT_DELETING_OBJECT, "%s: the system is being destroyed", api);
    return STATUS_SUCCESS;
}

/* Finds or creates the key of a checked full path; reg_lock held. */
static NTSTATUS key_at(fltsim_system *sys, PCWSTR key_path, size_t len, enum walk_mode mode,
                       struct fltsim_regkey **out)
{
    struct fltsim_regkey *root = root_of(sys, mode == WALK_CREATE);
    if (root == NULL) {
        *out = NULL;
        return mode == WALK_CREATE ? STATUS_INSUFFICIENT_RESOURCES : STATUS_OBJECT_NAME_NOT_FOUND;
    }
    return walk(root, key_path + 1, len - 1, mode, out);
}

NTSTATUS fltsim_registry_set_value(fltsim_system *sys, PCWSTR key_path, PCWSTR value_name,
                                   ULONG type, const void *data, ULONG size)
{
    static const char api[] = "fltsim_registry_set_value";
    size_t len;
    NTSTATUS status = check_system(api, sys);
    if (!NT_SUCCESS(status))
        return status;
    status = check_path(api, key_path, &len);
    if (!NT_SUCCESS(status))
        return status;
    size_t nlen = fltsim_wcslen(value_name);
    if (nlen > VALUE_NAME_MAX_CHARS)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: value name longer than %d characters",
                            api, VALUE_NAME_MAX_CHARS);
    if (size > VALUE_DATA_MAX)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: %u bytes of data; at most %u", api,
                            (unsigned)size, VALUE_DATA_MAX);
    if (data == NULL && size != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: data is NULL but size is %u", api,
                            (unsigned)size);

    /* Prepare outside the lock what cannot fail under it. */
    UCHAR *copy = NULL;
    if (size != 0) {
        copy = malloc(size);
        if (copy == NULL)
            return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory", api);
        memcpy(copy, data, size);
    }
    struct regvalue *fresh = calloc(1, sizeof(*fresh));
    if (fresh == NULL ||
        !fltsim__ustr_dup(&fresh->name, value_name != NULL ? value_name : L"", nlen)) {
        free(fresh);
        free(copy);
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory", api);
    }

    reg_lock_take();
    struct fltsim_regkey *key;
    status = key_at(sys, key_path, len, WALK_CREATE, &key);
    if (NT_SUCCESS(status)) {
        struct regvalue *v = key_value(key, &fresh->name);
        if (v == NULL) {
            v = fresh;
            fresh = NULL;
            InsertTailList(&key->values, &v->link);
        } else {
            free(v->data);
        }
        v->type = type;
        v->size = size;
        v->data = copy;
        copy = NULL;
    }
    uv_mutex_unlock(&reg_lock);
    if (fresh != NULL)
        value_free(fresh);
    free(copy);
    if (status == STATUS_INSUFFICIENT_RESOURCES)
        return fltsim__fail(status, "%s: out of memory", api);
    return status;
}

NTSTATUS fltsim_registry_set_dword(fltsim_system *sys, PCWSTR key_path, PCWSTR value_name,
                                   ULONG value)
{
    return fltsim_registry_set_value(sys, key_path, value_name, REG_DWORD, &value, sizeof(value));
}

NTSTATUS fltsim_registry_set_string(fltsim_system *sys, PCWSTR key_path, PCWSTR value_name,
                                    PCWSTR value)
{
    if (value == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "fltsim_registry_set_string: value is NULL");
    size_t n = fltsim_wcslen(value);
    if (n >= VALUE_DATA_MAX / sizeof(WCHAR))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_registry_set_string: the string is too long");
    return fltsim_registry_set_value(sys, key_path, value_name, REG_SZ, value,
                                     (ULONG)((n + 1) * sizeof(WCHAR)));
}

NTSTATUS fltsim_registry_create_key(fltsim_system *sys, PCWSTR key_path)
{
    static const char api[] = "fltsim_registry_create_key";
    size_t len;
    NTSTATUS status = check_system(api, sys);
    if (NT_SUCCESS(status))
        status = check_path(api, key_path, &len);
    if (!NT_SUCCESS(status))
        return status;
    reg_lock_take();
    struct fltsim_regkey *key;
    status = key_at(sys, key_path, len, WALK_CREATE, &key);
    uv_mutex_unlock(&reg_lock);
    if (!NT_SUCCESS(status))
        return fltsim__fail(status, "%s: out of memory", api);
    return STATUS_SUCCESS;
}

NTSTATUS fltsim_registry_delete_value(fltsim_system *sys, PCWSTR key_path, PCWSTR value_name)
{
    static const char api[] = "fltsim_registry_delete_value";
    size_t len;
    NTSTATUS status = check_system(api, sys);
    if (NT_SUCCESS(status))
        status = check_path(api, key_path, &len);
    if (!NT_SUCCESS(status))
        return status;
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, value_name != NULL ? value_name : L"");
    struct regvalue *gone = NULL;
    reg_lock_take();
    struct fltsim_regkey *key;
    status = key_at(sys, key_path, len, WALK_FIND, &key);
    bool key_found = NT_SUCCESS(status);
    if (key_found) {
        gone = key_value(key, &name);
        if (gone != NULL)
            RemoveEntryList(&gone->link);
        else
            status = STATUS_OBJECT_NAME_NOT_FOUND;
    }
    uv_mutex_unlock(&reg_lock);
    if (gone != NULL)
        value_free(gone);
    if (!NT_SUCCESS(status))
        return fltsim__fail(status, "%s: no such %s", api, key_found ? "value" : "key");
    return STATUS_SUCCESS;
}

NTSTATUS fltsim_registry_delete_key(fltsim_system *sys, PCWSTR key_path)
{
    static const char api[] = "fltsim_registry_delete_key";
    size_t len;
    NTSTATUS status = check_system(api, sys);
    if (NT_SUCCESS(status))
        status = check_path(api, key_path, &len);
    if (!NT_SUCCESS(status))
        return status;
    reg_lock_take();
    struct fltsim_regkey *key;
    status = key_at(sys, key_path, len, WALK_FIND, &key);
    if (NT_SUCCESS(status) && key->parent == sys->registry)
        status = STATUS_CANNOT_DELETE; /* \Registry itself */
    if (NT_SUCCESS(status))
        key_delete_tree(key);
    uv_mutex_unlock(&reg_lock);
    if (status == STATUS_CANNOT_DELETE)
        return fltsim__fail(status, "%s: \\Registry cannot be deleted", api);
    if (!NT_SUCCESS(status))
        return fltsim__fail(status, "%s: no such key", api);
    return STATUS_SUCCESS;
}

ULONG fltsim_registry_open_handles(fltsim_system *sys)
{
    ULONG n = 0;
    reg_lock_take();
    for (ULONG i = 0; i < slot_count; i++)
        if (slots[i] != NULL && slots[i]->sys == sys)
            n++;
    uv_mutex_unlock(&reg_lock);
    return n;
}

/* ---- the model's side ---- */

NTSTATUS fltsim__registry_add_service(struct fltsim_driver *drv)
{
    fltsim_system *sys = drv->sys;
    const UNICODE_STRING *path = &drv->registry_path;
    size_t base = path->Length / sizeof(WCHAR);
    /* path + "\Instances\" + instance name + NUL */
    size_t cap = base + 12 + INSTANCE_NAME_MAX_CHARS;
    WCHAR *buf = malloc(cap * sizeof(WCHAR));
    if (buf == NULL)
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "fltsim_driver_load: out of memory");
    memcpy(buf, path->Buffer, base * sizeof(WCHAR));
    static const WCHAR instances[] = L"\\Instances";
    size_t ilen = sizeof(instances) / sizeof(WCHAR) - 1;
    memcpy(buf + base, instances, sizeof(instances));

    NTSTATUS status = fltsim_registry_create_key(sys, buf);
    if (NT_SUCCESS(status) && drv->default_instance >= 0) {
        const UNICODE_STRING *n = &drv->instances[drv->default_instance].name;
        status = fltsim_registry_set_value(sys, buf, L"DefaultInstance", REG_SZ, n->Buffer,
                                           n->Length + sizeof(WCHAR));
    }
    for (ULONG i = 0; NT_SUCCESS(status) && i < drv->instance_count; i++) {
        const struct fltsim_instance_entry *e = &drv->instances[i];
        size_t n = e->name.Length / sizeof(WCHAR);
        buf[base + ilen] = L'\\';
        memcpy(buf + base + ilen + 1, e->name.Buffer, n * sizeof(WCHAR));
        buf[base + ilen + 1 + n] = 0;
        WCHAR altitude[FLTSIM_ALTITUDE_MAX];
        size_t alen = fltsim_utf8_to_utf16(e->altitude.text, altitude, FLTSIM_ALTITUDE_MAX);
        if (alen == (size_t)-1)
            alen = 0;
        status = fltsim_registry_set_value(sys, buf, L"Altitude", REG_SZ, altitude,
                                           (ULONG)((alen + 1) * sizeof(WCHAR)));
        if (NT_SUCCESS(status))
            status = fltsim_registry_set_dword(sys, buf, L"Flags", e->flags);
    }
    free(buf);
    return status;
}

ULONG fltsim__registry_disown(struct fltsim_driver *drv)
{
    ULONG n = 0;
    reg_lock_take();
    for (ULONG i = 0; i < slot_count; i++)
        if (slots[i] != NULL && slots[i]->owner == drv) {
            slots[i]->owner = NULL;
            n++;
        }
    uv_mutex_unlock(&reg_lock);
    return n;
}

/* Drops a handle from the table and its key; reg_lock held. The caller frees
 * the handle's pool block after unlocking. */
static void handle_remove_locked(struct key_handle *h)
{
    slots[h->slot] = NULL;
    while (slot_count > 0 && slots[slot_count - 1] == NULL)
        slot_count--;
    struct fltsim_regkey *k = h->key;
    k->handles--;
    if (k->deleted && k->handles == 0) {
        fltsim__ustr_free(&k->name);
        free(k);
    }
    h->magic = FLTSIM_MAGIC_DEAD;
}

static void key_free_tree(struct fltsim_regkey *k)
{
    while (!IsListEmpty(&k->children))
        key_free_tree(CONTAINING_RECORD(RemoveHeadList(&k->children), struct fltsim_regkey, link));
    key_free_values(k);
    fltsim__ustr_free(&k->name);
    free(k);
}

void fltsim__registry_destroy(fltsim_system *sys)
{
    for (;;) {
        struct key_handle *h = NULL;
        reg_lock_take();
        for (ULONG i = 0; i < slot_count && h == NULL; i++)
            if (slots[i] != NULL && slots[i]->sys == sys)
                h = slots[i];
        if (h != NULL)
            handle_remove_locked(h);
        uv_mutex_unlock(&reg_lock);
        if (h == NULL)
            break;
        ExFreePoolWithTag(h, KEY_HANDLE_TAG);
    }
    reg_lock_take();
    struct fltsim_regkey *root = sys->registry;
    sys->registry = NULL;
    if (root != NULL)
        key_free_tree(root);
    uv_mutex_unlock(&reg_lock);
}

/* ---- handles (reg_lock held) ---- */

static HANDLE handle_value(ULONG slot)
{
    return (HANDLE)(KERNEL_HANDLE_BASE | ((ULONG_PTR)(slot + 1) << 2));
}

static struct key_handle *handle_lookup_locked(HANDLE handle)
{
    ULONG_PTR v = (ULONG_PTR)handle;
    if ((v & KERNEL_HANDLE_BASE) != KERNEL_HANDLE_BASE || (v & 3) != 0)
        return NULL;
    ULONG_PTR index = ((v & ~KERNEL_HANDLE_BASE) >> 2);
    if (index == 0 || index > slot_count)
        return NULL;
    struct key_handle *h = slots[index - 1];
    return h != NULL && h->magic == KEY_HANDLE_MAGIC ? h : NULL;
}

/* Puts h in the lowest free slot (Windows reuses handle values too). */
static bool handle_insert_locked(struct key_handle *h)
{
    ULONG i = 0;
    while (i < slot_count && slots[i] != NULL)
        i++;
    if (i == slot_capacity) {
        if (slot_capacity >= HANDLE_SLOTS_MAX)
            return false;
        ULONG cap = slot_capacity ? slot_capacity * 2 : 64;
        struct key_handle **grown = realloc(slots, cap * sizeof(*grown));
        if (grown == NULL)
            return false;
        if (slots == NULL)
            atexit(free_slot_table);
        slots = grown;
        slot_capacity = cap;
    }
    if (i == slot_count)
        slots[slot_count++] = NULL;
    slots[i] = h;
    h->slot = i;
    h->key->handles++;
    return true;
}

/* ---- WDK routines ---- */

/* Generic rights mapped to key rights (the key object type's mapping). */
static ACCESS_MASK map_access(ACCESS_MASK a)
{
    if (a & MAXIMUM_ALLOWED)
        a |= KEY_ALL_ACCESS;
    if (a & GENERIC_READ)
        a |= KEY_READ;
    if (a & GENERIC_WRITE)
        a |= KEY_WRITE;
    if (a & GENERIC_EXECUTE)
        a |= KEY_EXECUTE;
    if (a & GENERIC_ALL)
        a |= KEY_ALL_ACCESS;
    return a & ~(ACCESS_MASK)(MAXIMUM_ALLOWED | GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE |
                              GENERIC_ALL);
}

static struct fltsim_driver *current_driver(void)
{
    struct fltsim_tls *t = fltsim__tls();
    if (t->filter != NULL)
        return t->filter->driver;
    return t->loading;
}

NTSTATUS ZwOpenKey(PHANDLE KeyHandle, ACCESS_MASK DesiredAccess,
                   POBJECT_ATTRIBUTES ObjectAttributes)
{
    struct fltsim_tls *t = fltsim__tls();
    fltsim__check_irql(t->sys, PASSIVE_LEVEL, "ZwOpenKey");
    if (KeyHandle == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "ZwOpenKey: KeyHandle is NULL");
    *KeyHandle = NULL;
    POBJECT_ATTRIBUTES oa = ObjectAttributes;
    if (oa == NULL || oa->Length != sizeof(OBJECT_ATTRIBUTES))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "ZwOpenKey: ObjectAttributes is NULL or its Length is not "
                            "sizeof(OBJECT_ATTRIBUTES) (use InitializeObjectAttributes)");
    if ((oa->Attributes & ~OBJ_VALID_ATTRIBUTES_) != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "ZwOpenKey: unknown Attributes 0x%x",
                            (unsigned)oa->Attributes);
    PUNICODE_STRING name = oa->ObjectName;
    if (name == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "ZwOpenKey: ObjectName is NULL");
    if ((name->Length & 1) != 0 || name->Length > name->MaximumLength ||
        (name->Buffer == NULL && name->Length != 0))
        return fltsim__fail(STATUS_OBJECT_NAME_INVALID,
                            "ZwOpenKey: ObjectName is not a valid UNICODE_STRING");
    const WCHAR *path = name->Buffer;
    size_t len = name->Length / sizeof(WCHAR);
    bool absolute = len > 0 && path[0] == L'\\';

    struct key_handle *h =
        fltsim__pool_allocate_internal(PagedPool, sizeof(*h), KEY_HANDLE_TAG, true);
    if (h == NULL)
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "ZwOpenKey: out of memory");

    NTSTATUS status = STATUS_SUCCESS;
    reg_lock_take();
    struct fltsim_regkey *start = NULL;
    fltsim_system *sys = t->sys;
    if (oa->RootDirectory != NULL) {
        struct key_handle *root = handle_lookup_locked(oa->RootDirectory);
        if (root == NULL)
            status = STATUS_INVALID_HANDLE;
        else if (absolute)
            status = STATUS_OBJECT_PATH_SYNTAX_BAD;
        else if (root->key->deleted)
            status = STATUS_KEY_DELETED;
        else {
            sys = root->sys;
            start = root->key;
        }
    } else if (!absolute) {
        status = STATUS_OBJECT_PATH_SYNTAX_BAD;
    } else if (sys == NULL) {
        status = STATUS_INVALID_DEVICE_STATE;
    } else {
        start = root_of(sys, false);
        path++;
        len--;
        if (start == NULL)
            status = STATUS_OBJECT_NAME_NOT_FOUND;
    }
    struct fltsim_regkey *key = NULL;
    if (NT_SUCCESS(status))
        status = walk(start, path, len, WALK_FIND, &key);
    if (NT_SUCCESS(status)) {
        h->magic = KEY_HANDLE_MAGIC;
        h->sys = sys;
        h->key = key;
        h->access = map_access(DesiredAccess);
        h->owner = current_driver();
        if (!handle_insert_locked(h))
            status = STATUS_INSUFFICIENT_RESOURCES;
        else
            *KeyHandle = handle_value(h->slot);
    }
    uv_mutex_unlock(&reg_lock);
    if (NT_SUCCESS(status))
        return status;
    ExFreePoolWithTag(h, KEY_HANDLE_TAG);
    if (status == STATUS_INVALID_DEVICE_STATE)
        return fltsim__fail(status, "ZwOpenKey: no filter code of a system runs on this thread, "
                                    "so there is no registry to open");
    char name8[256];
    fltsim_utf16_to_utf8(name->Buffer, name->Length / sizeof(WCHAR), name8, sizeof(name8));
    char st[64];
    return fltsim__fail(status, "ZwOpenKey('%s'): %s", name8,
                        fltsim_ntstatus_format(status, st, sizeof(st)));
}

NTSTATUS ZwClose(HANDLE Handle)
{
    struct fltsim_tls *t = fltsim__tls();
    fltsim__check_irql(t->sys, PASSIVE_LEVEL, "ZwClose");
    reg_lock_take();
    struct key_handle *h = handle_lookup_locked(Handle);
    if (h != NULL)
        handle_remove_locked(h);
    uv_mutex_unlock(&reg_lock);
    if (h != NULL) {
        ExFreePoolWithTag(h, KEY_HANDLE_TAG);
        return STATUS_SUCCESS;
    }
    if (fltsim__ps_handle_close(Handle) || fltsim__zw_file_close(Handle) ||
        fltsim__section_close_handle(Handle))
        return STATUS_SUCCESS;
    /* On Windows closing a bad kernel handle is bugcheck 0x93. */
    if (t->sys != NULL)
        fltsim__report(t->sys, t->filter, NULL, t->op, "V23", "10",
                       "ZwClose(%p): not an open handle (closed twice?)", Handle);
    return fltsim__fail(STATUS_INVALID_HANDLE, "ZwClose(%p): not an open handle", Handle);
}

/* Where IoOpenDriverRegistryKey finds each DRIVER_REGKEY_TYPE, under the
 * driver's service key: the INF's Parameters, and the State and SharedState
 * keys Windows keeps a service's persistent state in. */
static const WCHAR *const driver_subkeys[] = {L"Parameters", L"State", L"SharedState"};
#define SHARED_STATE_FIRST_BUILD 20348 /* Windows Server 2022 */

NTSTATUS IoOpenDriverRegistryKey(PDRIVER_OBJECT DriverObject, DRIVER_REGKEY_TYPE RegKeyType,
                                 ACCESS_MASK DesiredAccess, ULONG Flags, PHANDLE DriverRegKey)
{
    static const char api[] = "IoOpenDriverRegistryKey";
    struct fltsim_tls *t = fltsim__tls();
    fltsim__check_irql(t->sys, PASSIVE_LEVEL, api);
    if (DriverRegKey == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: DriverRegKey is NULL", api);
    *DriverRegKey = NULL;
    struct fltsim_driver *drv = fltsim__driver_from_object(DriverObject);
    if (drv == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: DriverObject %p is not the object of a loaded driver", api,
                            (void *)DriverObject);
    if (Flags != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Flags is 0x%x; it must be 0", api,
                            (unsigned)Flags);
    const struct fltsim_windows_version *win = &drv->sys->windows;
    bool shared_known =
        win->major > 10 || (win->major == 10 && win->build >= SHARED_STATE_FIRST_BUILD);
    if ((ULONG)RegKeyType > (ULONG)DriverRegKeySharedPersistentState ||
        (RegKeyType == DriverRegKeySharedPersistentState && !shared_known))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: RegKeyType %d is not a DRIVER_REGKEY_TYPE of Windows %u.%u.%u",
                            api, (int)RegKeyType, (unsigned)win->major, (unsigned)win->minor,
                            (unsigned)win->build);
    struct fltsim_driver *caller = current_driver();
    if (caller != NULL && caller != drv && t->sys != NULL)
        fltsim__report(t->sys, t->filter, NULL, t->op, "KE", "-",
                       "%s with the driver object of %s; it must be the calling driver's own", api,
                       drv->name8);

    /* The service key's path, a backslash and the subkey. */
    const WCHAR *sub = driver_subkeys[RegKeyType];
    size_t base = drv->registry_path.Length / sizeof(WCHAR), slen = fltsim_wcslen(sub);
    WCHAR *path = malloc((base + 1 + slen + 1) * sizeof(WCHAR));
    struct key_handle *h =
        fltsim__pool_allocate_internal(PagedPool, sizeof(*h), KEY_HANDLE_TAG, true);
    if (path == NULL || h == NULL) {
        free(path);
        if (h != NULL)
            ExFreePoolWithTag(h, KEY_HANDLE_TAG);
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory", api);
    }
    memcpy(path, drv->registry_path.Buffer, base * sizeof(WCHAR));
    path[base] = L'\\';
    memcpy(path + base + 1, sub, (slen + 1) * sizeof(WCHAR));

    /* The keys are non-volatile and made when missing, as ZwCreateKey would. */
    reg_lock_take();
    struct fltsim_regkey *key;
    NTSTATUS status = key_at(drv->sys, path, base + 1 + slen, WALK_CREATE, &key);
    if (NT_SUCCESS(status)) {
        h->magic = KEY_HANDLE_MAGIC;
        h->sys = drv->sys;
        h->key = key;
        h->access = map_access(DesiredAccess);
        h->owner = caller;
        if (!handle_insert_locked(h))
            status = STATUS_INSUFFICIENT_RESOURCES;
        else
            *DriverRegKey = handle_value(h->slot);
    }
    uv_mutex_unlock(&reg_lock);
    free(path);
    if (NT_SUCCESS(status))
        return status;
    ExFreePoolWithTag(h, KEY_HANDLE_TAG);
    return fltsim__fail(status, "%s: out of memory", api);
}

static void put(void *buffer, ULONG length, ULONG offset, const void *src, ULONG size)
{
    if (offset < length)
        memcpy((UCHAR *)buffer + offset, src, size < length - offset ? size : length - offset);
}

/* Fills the buffer for one class the way Cm does: the fixed part only when it
 * fits whole, then as much of the name and data as fits. */
static NTSTATUS fill_value(const struct regvalue *v, KEY_VALUE_INFORMATION_CLASS cls, PVOID buffer,
                           ULONG length, PULONG result)
{
    ULONG name_len = v->name.Length, fixed, needed, data_offset = 0;
    switch (cls) {
    case KeyValueBasicInformation:
        fixed = (ULONG)FIELD_OFFSET(KEY_VALUE_BASIC_INFORMATION, Name);
        needed = fixed + name_len;
        break;
    case KeyValueFullInformation:
    case KeyValueFullInformationAlign64: {
        fixed = (ULONG)FIELD_OFFSET(KEY_VALUE_FULL_INFORMATION, Name);
        /* Data are aligned to 8 bytes on 64-bit Windows, else to 4 unless
         * the Align64 class is asked for. */
        ULONG align = sizeof(void *) == 8 || cls == KeyValueFullInformationAlign64 ? 8 : 4;
        needed = fixed + name_len;
        if (v->size > 0) {
            data_offset = (needed + align - 1) & ~(align - 1);
            needed = data_offset + v->size;
        }
        break;
    }
    case KeyValuePartialInformation:
        fixed = (ULONG)FIELD_OFFSET(KEY_VALUE_PARTIAL_INFORMATION, Data);
        needed = fixed + v->size;
        break;
    default: /* KeyValuePartialInformationAlign64 */
        fixed = (ULONG)FIELD_OFFSET(KEY_VALUE_PARTIAL_INFORMATION_ALIGN64, Data);
        needed = fixed + v->size;
        break;
    }
    *result = needed;
    if (length < fixed)
        return STATUS_BUFFER_TOO_SMALL;

    switch (cls) {
    case KeyValueBasicInformation: {
        KEY_VALUE_BASIC_INFORMATION head = {0, v->type, name_len, {0}};
        memcpy(buffer, &head, fixed);
        put(buffer, length, fixed, v->name.Buffer, name_len);
        break;
    }
    case KeyValueFullInformation:
    case KeyValueFullInformationAlign64: {
        KEY_VALUE_FULL_INFORMATION head = {0,       v->type,  v->size > 0 ? data_offset : (ULONG)-1,
                                           v->size, name_len, {0}};
        memcpy(buffer, &head, fixed);
        put(buffer, length, fixed, v->name.Buffer, name_len);
        if (v->size > 0)
            put(buffer, length, data_offset, v->data, v->size);
        break;
    }
    case KeyValuePartialInformation: {
        KEY_VALUE_PARTIAL_INFORMATION head = {0, v->type, v->size, {0}};
        memcpy(buffer, &head, fixed);
        put(buffer, length, fixed, v->data, v->size);
        break;
    }
    default: {
        KEY_VALUE_PARTIAL_INFORMATION_ALIGN64 head = {v->type, v->size, {0}};
        memcpy(buffer, &head, fixed);
        put(buffer, length, fixed, v->data, v->size);
        break;
    }
    }
    return length < needed ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

NTSTATUS ZwQueryValueKey(HANDLE KeyHandle, PUNICODE_STRING ValueName,
                         KEY_VALUE_INFORMATION_CLASS KeyValueInformationClass,
                         PVOID KeyValueInformation, ULONG Length, PULONG ResultLength)
{
    struct fltsim_tls *t = fltsim__tls();
    fltsim__check_irql(t->sys, PASSIVE_LEVEL, "ZwQueryValueKey");
    if (ResultLength == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "ZwQueryValueKey: ResultLength is NULL");
    *ResultLength = 0;
    switch (KeyValueInformationClass) {
    case KeyValueBasicInformation:
    case KeyValueFullInformation:
    case KeyValuePartialInformation:
    case KeyValueFullInformationAlign64:
    case KeyValuePartialInformationAlign64:
        break;
    case KeyValueLayerInformation:
        return fltsim__fail(STATUS_NOT_IMPLEMENTED,
                            "ZwQueryValueKey: KeyValueLayerInformation is not modeled");
    default:
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "ZwQueryValueKey: KeyValueInformationClass %d is not a "
                            "KEY_VALUE_INFORMATION_CLASS",
                            (int)KeyValueInformationClass);
    }
    if (ValueName == NULL || (ValueName->Buffer == NULL && ValueName->Length != 0))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "ZwQueryValueKey: ValueName is not valid");
    if (KeyValueInformation == NULL && Length != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "ZwQueryValueKey: KeyValueInformation is NULL but Length is %u",
                            (unsigned)Length);
    /* Cm ignores an odd byte and NULs at the end of the name. */
    UNICODE_STRING name = *ValueName;
    name.Length &= (USHORT)~1u;
    while (name.Length > 0 && name.Buffer[name.Length / sizeof(WCHAR) - 1] == 0)
        name.Length -= sizeof(WCHAR);

    NTSTATUS status;
    reg_lock_take();
    struct key_handle *h = handle_lookup_locked(KeyHandle);
    if (h == NULL)
        status = STATUS_INVALID_HANDLE;
    else if ((h->access & KEY_QUERY_VALUE) == 0)
        status = STATUS_ACCESS_DENIED;
    else if (h->key->deleted)
        status = STATUS_KEY_DELETED;
    else {
        const struct regvalue *v = key_value(h->key, &name);
        status = v == NULL ? STATUS_OBJECT_NAME_NOT_FOUND
                           : fill_value(v, KeyValueInformationClass, KeyValueInformation, Length,
                                        ResultLength);
    }
    uv_mutex_unlock(&reg_lock);
    if (status == STATUS_INVALID_HANDLE)
        return fltsim__fail(status, "ZwQueryValueKey(%p): not an open key handle", KeyHandle);
    if (status == STATUS_ACCESS_DENIED)
        return fltsim__fail(status, "ZwQueryValueKey: the handle was opened without "
                                    "KEY_QUERY_VALUE");
    return status;
}
