/*
 * Scenario loading, the volumes (scenario_load_internal.h): `volumes:`, each
 * a drive with its device, memfs (with its files, fast I/O and capacity) or
 * hostfs (over a host directory that must exist), and how it completes
 * requests. Drive letters are read here wherever a scenario writes one; what
 * the files hold at the end is scenario_load_expect.c's.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "scenario_load_internal.h"

/* The longest path Windows accepts (32,767 UTF-16 units, drive included) and
 * the longest name NTFS stores (255 units). */
#define SC_PATH_MAX 32767u
#define SC_NAME_MAX 255u

/* A file entry's path against what the volume can hold, before anything
 * runs: the components memfs accepts (not empty, not . or .., at most 255
 * units, no control character or < > : " / | ? *) and the length Windows
 * allows. A directory may end in a backslash. */
static bool check_path(struct ld *ld, yaml_node_t *node, PCWSTR path, bool directory)
{
    const char *text = fltsim__ld_text_of(node);
    size_t n = fltsim_wcslen(path);
    if (n + 2 > SC_PATH_MAX)
        return fltsim__ld_fail(ld, node,
                               "path is %zu characters long with its drive; expected at most "
                               "%u (the longest path Windows accepts)",
                               n + 2, SC_PATH_MAX);
    if (directory && n > 1 && path[n - 1] == L'\\')
        n--;
    for (size_t start = 1; start < n || (start == 1 && n == 1 && !directory);) {
        size_t end = start;
        while (end < n && path[end] != L'\\')
            end++;
        size_t len = end - start;
        const WCHAR *c = path + start;
        if (len == 0)
            return fltsim__ld_fail(ld, node,
                                   "path '%s' has an empty name (two backslashes in a row or a "
                                   "trailing one); expected names between single backslashes",
                                   text);
        if ((len == 1 && c[0] == L'.') || (len == 2 && c[0] == L'.' && c[1] == L'.'))
            return fltsim__ld_fail(ld, node,
                                   "path '%s' has a '%s' component; expected a path from the "
                                   "volume root without . or ..",
                                   text, len == 1 ? "." : "..");
        if (len > SC_NAME_MAX)
            return fltsim__ld_fail(ld, node,
                                   "path '%s' has a name of %zu characters; expected at most %u "
                                   "(the longest name NTFS stores)",
                                   len > 60 ? "..." : text, len, SC_NAME_MAX);
        for (size_t i = 0; i < len; i++)
            if (c[i] < 0x20 || (c[i] < 0x80 && strchr("<>:\"/|?*", (char)c[i]) != NULL))
                return fltsim__ld_fail(ld, node,
                                       "path '%s' has a character a file name cannot hold "
                                       "(U+%04X); expected none of < > : \" / | ? * or control "
                                       "characters",
                                       text, (unsigned)c[i]);
        start = end + 1;
    }
    return true;
}

/* The target of a junction or symbolic link (key): an absolute name
 * (C:\x or \??\C:\x), made \??\ form, or for a symbolic link a relative
 * one (no backslash or drive at its start). */
static bool load_target(struct ld *ld, yaml_node_t *f, const char *key, PCWSTR *out)
{
    yaml_node_t *n = fltsim__ld_get(ld, f, key);
    *out = NULL;
    if (n == NULL)
        return true;
    if (!fltsim__ld_want_scalar(ld, n, key))
        return false;
    const char *t = fltsim__ld_text_of(n);
    bool dos = strncmp(t, "\\??\\", 4) == 0;
    const char *d = dos ? t + 4 : t;
    bool drive = ((d[0] >= 'A' && d[0] <= 'Z') || (d[0] >= 'a' && d[0] <= 'z')) && d[1] == ':' &&
                 d[2] == '\\';
    bool relative = !dos && t[0] != '\\' && t[0] != '\0' && strchr(t, ':') == NULL;
    if (!drive && !(relative && strcmp(key, "symlink") == 0))
        return fltsim__ld_fail(ld, n,
                               "%s '%s' is not a target fltsim can follow; expected an absolute "
                               "name such as C:\\docs%s",
                               key, t,
                               strcmp(key, "symlink") == 0
                                   ? " or a name relative to the link's directory such as "
                                     "..\\docs\\a.txt"
                                   : "");
    char full[1024];
    snprintf(full, sizeof(full), "%s%s", drive && !dos ? "\\??\\" : "", t);
    size_t units = strlen(full) + 1;
    WCHAR *w = fltsim__ld_alloc(ld, units * sizeof(WCHAR));
    if (w == NULL)
        return fltsim__ld_oom(ld, n);
    if (fltsim_utf8_to_utf16(full, w, units) == (size_t)-1)
        return fltsim__ld_fail(ld, n, "'%s' is not valid UTF-8 text", key);
    *out = w;
    return true;
}

/* junction: (a directory entry only) or symlink: on a file entry. */
static bool load_link(struct ld *ld, yaml_node_t *f, struct sc_file *file)
{
    yaml_node_t *j = fltsim__ld_get(ld, f, "junction"), *l = fltsim__ld_get(ld, f, "symlink");
    if (j != NULL && l != NULL)
        return fltsim__ld_fail(ld, l,
                               "a file entry is a junction or a symbolic link, not both; "
                               "expected junction or symlink");
    if (j != NULL && !file->directory)
        return fltsim__ld_fail(ld, j,
                               "a junction is a directory; expected 'dir: \\name' with "
                               "junction");
    return load_target(ld, f, "junction", &file->junction) &&
           load_target(ld, f, "symlink", &file->symlink);
}

static bool load_files(struct ld *ld, struct sc_volume *vol, yaml_node_t *list)
{
    static const char *const file_keys[] = {"path", "data",     "hex",     "zeros",
                                            "dir",  "junction", "symlink", NULL};
    if (!fltsim__ld_want_list(ld, list, "files"))
        return false;
    ULONG64 used = 0; /* bytes of data in the files so far */
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
        if (!fltsim__ld_get_wstring(ld, p, "path", &file->path) ||
            !check_path(ld, p, file->path, dir != NULL))
            return false;
        file->line = f->start_mark.line + 1;
        file->column = f->start_mark.column + 1;
        file->directory = dir != NULL;
        if (!fltsim__ld_get_bytes(ld, f, "a file entry", &file->data))
            return false;
        if (file->directory && file->data.set)
            return fltsim__ld_fail(ld,
                                   fltsim__ld_get(ld, f, "data") ? fltsim__ld_get(ld, f, "data")
                                                                 : fltsim__ld_get(ld, f, "hex"),
                                   "a directory has no data; expected data or hex only with path");
        if (!load_link(ld, f, file))
            return false;
        /* memfs counts the bytes of file data against the capacity */
        if (vol->capacity != 0 && file->data.size > vol->capacity - used)
            return fltsim__ld_fail(ld, p,
                                   "%s holds %zu bytes, more than the %llu bytes left of the "
                                   "volume's capacity (%llu); expected a larger capacity or "
                                   "smaller files",
                                   fltsim__ld_text_of(p), file->data.size,
                                   (unsigned long long)(vol->capacity - used),
                                   (unsigned long long)vol->capacity);
        used += file->data.size;
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
        vol->line = v->start_mark.line + 1;
        vol->column = v->start_mark.column + 1;
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
