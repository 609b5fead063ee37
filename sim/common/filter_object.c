/*
 * Minifilters built as shared objects, opened all or nothing (DESIGN decision
 * 7). Before dlopen runs any of an object, its ELF dynamic symbol table is
 * read from the file: every undefined symbol is looked up in this process
 * (dlsym RTLD_DEFAULT: the model the program exports, libc ...) and in the
 * libraries the object names, libc's wide-character routines and the C++
 * runtime's symbols are refused whoever provides them, and the whole list of
 * what is missing is reported at once, where dlopen alone stops at the first.
 * Elsewhere than ELF (macOS's Mach-O), dlopen's own check is all there is: it
 * names the first missing routine only.
 */
#define _GNU_SOURCE /* dlvsym, RTLD_DEFAULT */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dlfcn.h>

#include "filter_object.h"

#if defined(__ELF__)
#include <link.h> /* ElfW() and <elf.h> */
#define FILTER_OBJECT_ELF 1
#endif
#if defined(__GLIBC__)
#include <gnu/lib-names.h> /* LIBC_SO */
#endif

/* ------------------------------------------------------------------------- */
/* Messages                                                                  */
/* ------------------------------------------------------------------------- */

struct msg {
    char *buf; /* NULL: no message wanted */
    size_t size;
    size_t used;
};

static void msg_vadd(struct msg *m, const char *fmt, va_list ap)
{
    if (m->buf == NULL || m->used + 1 >= m->size)
        return;
    int n = vsnprintf(m->buf + m->used, m->size - m->used, fmt, ap);
    if (n > 0)
        m->used = m->used + (size_t)n < m->size ? m->used + (size_t)n : m->size - 1;
}

static void msg_add(struct msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msg_add(struct msg *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    msg_vadd(m, fmt, ap);
    va_end(ap);
}

/* Writes "shared object 'DISPLAY' " and the rest; returns status. */
static NTSTATUS refuse(struct msg *m, const char *display, NTSTATUS status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static NTSTATUS refuse(struct msg *m, const char *display, NTSTATUS status, const char *fmt, ...)
{
    m->used = 0;
    if (m->buf != NULL && m->size > 0)
        m->buf[0] = '\0';
    msg_add(m, "shared object '%s' ", display);
    va_list ap;
    va_start(ap, fmt);
    msg_vadd(m, fmt, ap);
    va_end(ap);
    return status;
}

/* dlopen's path for path: one with a slash, so that dlopen opens the file
 * that was checked instead of searching the library path. */
static char *dlopen_path(const char *path)
{
    size_t n = strlen(path);
    char *p = malloc(n + 3);
    if (p != NULL)
        snprintf(p, n + 3, "%s%s", strchr(path, '/') != NULL ? "" : "./", path);
    return p;
}

/* "does not export DriverEntry" / "main or wmain"; or "both". */
static NTSTATUS refuse_entries(struct msg *m, const char *display,
                               const struct fltsim__object_kind *kind, size_t found)
{
    if (found > 1)
        return refuse(m, display, STATUS_INVALID_IMAGE_FORMAT,
                      "exports both %s and %s; expected exactly one (%s)", kind->entries[0],
                      kind->entries[1], kind->expected);
    if (kind->entry_count == 1)
        return refuse(m, display, STATUS_PROCEDURE_NOT_FOUND, "does not export %s; expected %s",
                      kind->entries[0], kind->expected);
    return refuse(m, display, STATUS_PROCEDURE_NOT_FOUND, "does not export %s or %s; expected %s",
                  kind->entries[0], kind->entries[1], kind->expected);
}

/* The last step, checked or not: dlopen and the entry point. */
static NTSTATUS open_checked(const char *path, const char *display,
                             const struct fltsim__object_kind *kind, struct fltsim__object *out,
                             struct msg *m)
{
    char *p = dlopen_path(path);
    if (p == NULL)
        return refuse(m, display, STATUS_INSUFFICIENT_RESOURCES, "cannot be loaded: out of memory");
    void *h = dlopen(p, RTLD_NOW | RTLD_LOCAL);
    free(p);
    if (h == NULL) {
        const char *why = dlerror();
        return refuse(m, display, STATUS_INVALID_IMAGE_FORMAT, "cannot be loaded: %s",
                      why != NULL ? why : "dlopen failed");
    }
    size_t found = 0;
    void *sym = NULL;
    for (size_t i = 0; i < kind->entry_count; i++) {
        void *s = dlsym(h, kind->entries[i]);
        if (s != NULL) {
            found++;
            sym = s;
            out->entry_index = i;
        }
    }
    if (found != 1) {
        dlclose(h);
        return refuse_entries(m, display, kind, found);
    }
    out->handle = h;
    out->entry = sym;
    return STATUS_SUCCESS;
}

void fltsim__object_close(struct fltsim__object *object)
{
    if (object->handle != NULL)
        dlclose(object->handle);
    memset(object, 0, sizeof(*object));
}

NTSTATUS fltsim__filter_object_open(const char *path, const char *display,
                                    struct fltsim__filter_object *out, char *error,
                                    size_t error_size)
{
    static const char *const entries[] = {"DriverEntry"};
    static const struct fltsim__object_kind kind = {
        entries, 1, "a minifilter built as a shared object", "a filter"};
    struct fltsim__object o;
    NTSTATUS status = fltsim__object_open(path, display, &kind, &o, error, error_size);
    out->handle = o.handle;
    memcpy(&out->entry, &o.entry, sizeof(out->entry)); /* object to function pointer, POSIX style */
    return status;
}

void fltsim__filter_object_close(struct fltsim__filter_object *object)
{
    if (object->handle != NULL)
        dlclose(object->handle);
    memset(object, 0, sizeof(*object));
}

#if !defined(FILTER_OBJECT_ELF)

/* Mach-O and the rest: dlopen(RTLD_NOW) refuses an object with an unresolved
 * routine, naming the first one. */
NTSTATUS fltsim__object_open(const char *path, const char *display,
                             const struct fltsim__object_kind *kind, struct fltsim__object *out,
                             char *error, size_t error_size)
{
    struct msg m = {error_size ? error : NULL, error_size, 0};
    memset(out, 0, sizeof(*out));
    if (m.buf != NULL)
        m.buf[0] = '\0';
    return open_checked(path, display, kind, out, &m);
}

bool fltsim__filter_object_exports(const char *path, const char *name)
{
    char *p = dlopen_path(path);
    void *h = p != NULL ? dlopen(p, RTLD_NOW | RTLD_LOCAL) : NULL;
    free(p);
    bool found = h != NULL && dlsym(h, name) != NULL;
    if (h != NULL)
        dlclose(h);
    return found;
}

#else /* ELF */

/* ------------------------------------------------------------------------- */
/* Reading the object                                                        */
/* ------------------------------------------------------------------------- */

#if UINTPTR_MAX > 0xFFFFFFFFu
#define HOST_CLASS ELFCLASS64
#else
#define HOST_CLASS ELFCLASS32
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_DATA ELFDATA2LSB
#else
#define HOST_DATA ELFDATA2MSB
#endif
#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#elif defined(__i386__)
#define HOST_MACHINE EM_386
#elif defined(__arm__)
#define HOST_MACHINE EM_ARM
#elif defined(__riscv)
#define HOST_MACHINE EM_RISCV
#endif

/* This machine's class of each record. */
typedef ElfW(Ehdr) elf_ehdr;
typedef ElfW(Phdr) elf_phdr;
typedef ElfW(Shdr) elf_shdr;
typedef ElfW(Sym) elf_sym;
typedef ElfW(Dyn) elf_dyn;
typedef ElfW(Versym) elf_versym;
typedef ElfW(Verneed) elf_verneed;
typedef ElfW(Vernaux) elf_vernaux;

/* The same in both classes. */
#define SYM_BIND(info) ELF64_ST_BIND(info)
#define SYM_VISIBILITY(other) ELF64_ST_VISIBILITY(other)

/* A larger file is not read (a minifilter with debug information is a few
 * megabytes). */
#define MAX_OBJECT_SIZE (1024u * 1024u * 1024u)

/* The parts of the file that say what the object needs. Every offset was
 * checked against the file's size; records are copied out with memcpy, so a
 * misaligned or corrupt file cannot fault. */
struct elf_view {
    unsigned char *data;
    size_t size;
    size_t syms, sym_count;      /* .dynsym */
    size_t strs, strs_size;      /* its string table */
    size_t versym, versym_count; /* .gnu.version: one half-word per symbol */
    bool has_verneed;
    size_t verneed, verneed_size, verneed_count; /* .gnu.version_r */
    size_t verneed_strs, verneed_strs_size;
    size_t dyn, dyn_count; /* .dynamic */
    size_t dyn_strs, dyn_strs_size;
};

static bool in_file(size_t size, uint64_t offset, uint64_t length)
{
    return offset <= size && length <= size - offset;
}

/* The NUL-terminated string at table[offset], or NULL when it does not end
 * inside the table. */
static const char *str_at(const struct elf_view *v, size_t table, size_t table_size,
                          uint64_t offset)
{
    if (offset >= table_size)
        return NULL;
    const char *s = (const char *)v->data + table + offset;
    return memchr(s, '\0', table_size - (size_t)offset) != NULL ? s : NULL;
}

static elf_sym sym_at(const struct elf_view *v, size_t i)
{
    elf_sym s;
    memcpy(&s, v->data + v->syms + i * sizeof(s), sizeof(s));
    return s;
}

/* Reads the whole file into *v. */
static NTSTATUS read_object(const char *path, const char *display, struct elf_view *v,
                            struct msg *m)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return refuse(m, display,
                      e == ENOENT || e == ENOTDIR ? STATUS_OBJECT_NAME_NOT_FOUND
                      : e == EACCES               ? STATUS_ACCESS_DENIED
                                                  : STATUS_INVALID_IMAGE_FORMAT,
                      "cannot be read: %s", strerror(e));
    }
    NTSTATUS status = STATUS_SUCCESS;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        status = refuse(m, display, STATUS_INVALID_IMAGE_FORMAT,
                        "cannot be loaded: it is not a regular file");
        goto out;
    }
    if ((uint64_t)st.st_size > MAX_OBJECT_SIZE) {
        status = refuse(m, display, STATUS_INVALID_IMAGE_FORMAT,
                        "cannot be loaded: it is larger than %u MiB", MAX_OBJECT_SIZE >> 20);
        goto out;
    }
    v->size = (size_t)st.st_size;
    v->data = malloc(v->size ? v->size : 1);
    if (v->data == NULL) {
        status = refuse(m, display, STATUS_INSUFFICIENT_RESOURCES, "cannot be read: out of memory");
        goto out;
    }
    size_t got = 0;
    while (got < v->size) {
        ssize_t n = read(fd, v->data + got, v->size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            status = refuse(m, display, STATUS_INVALID_IMAGE_FORMAT, "cannot be read: %s",
                            n < 0 ? strerror(errno) : "it shrank while being read");
            goto out;
        }
        got += (size_t)n;
    }
out:
    close(fd);
    return status;
}

/* A section header, checked to lie in the file with records of entsize. */
static bool section(const struct elf_view *v, const elf_ehdr *eh, size_t count, size_t index,
                    elf_shdr *out)
{
    if (index >= count)
        return false;
    memcpy(out, v->data + eh->e_shoff + index * sizeof(*out), sizeof(*out));
    return out->sh_type == SHT_NOBITS || in_file(v->size, out->sh_offset, out->sh_size);
}

/* Finds what the object needs. Returns STATUS_SUCCESS, STATUS_NOT_FOUND when
 * the file has no section headers to find its symbol table by (the caller
 * falls back on dlopen's own check), or the refusal. */
static NTSTATUS parse_object(struct elf_view *v, const char *display, struct msg *m)
{
    elf_ehdr eh;
    if (v->size < sizeof(eh) || memcmp(v->data, ELFMAG, SELFMAG) != 0)
        return refuse(m, display, STATUS_INVALID_IMAGE_FORMAT,
                      "cannot be loaded: it is not an ELF file");
    memcpy(&eh, v->data, sizeof(eh));
    if (eh.e_ident[EI_CLASS] != HOST_CLASS)
        return refuse(m, display, STATUS_INVALID_IMAGE_FORMAT,
                      "cannot be loaded: it is %s ELF object and this fltsim is %s",
                      eh.e_ident[EI_CLASS] == ELFCLASS32   ? "a 32-bit"
                      : eh.e_ident[EI_CLASS] == ELFCLASS64 ? "a 64-bit"
                                                           : "an unknown class of",
                      HOST_CLASS == ELFCLASS32 ? "32-bit" : "64-bit");
    if (eh.e_ident[EI_DATA] != HOST_DATA)
        return refuse(m, display, STATUS_INVALID_IMAGE_FORMAT,
                      "cannot be loaded: its byte order is not this machine's");
#if defined(HOST_MACHINE)
    if (eh.e_machine != HOST_MACHINE)
        return refuse(m, display, STATUS_INVALID_IMAGE_FORMAT,
                      "cannot be loaded: it is built for another machine (ELF machine %u; this "
                      "fltsim runs on %u)",
                      (unsigned)eh.e_machine, (unsigned)HOST_MACHINE);
#endif
    if (eh.e_type != ET_DYN)
        return refuse(m, display, STATUS_INVALID_IMAGE_FORMAT,
                      "cannot be loaded: it is not a shared object (ELF type %u); build it with "
                      "fltsim_add_minifilter(NAME MODULE ...) or cc -shared -fPIC",
                      (unsigned)eh.e_type);

    /* dlopen maps every loadable segment: one that ends past the end of a
     * truncated file would fault when touched. */
    if (eh.e_phnum != 0 && (eh.e_phentsize != sizeof(elf_phdr) ||
                            !in_file(v->size, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(elf_phdr))))
        return refuse(m, display, STATUS_INVALID_IMAGE_FORMAT,
                      "cannot be loaded: its program headers are truncated or corrupt");
    for (size_t i = 0; i < eh.e_phnum; i++) {
        elf_phdr ph;
        memcpy(&ph, v->data + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if ((ph.p_type == PT_LOAD || ph.p_type == PT_DYNAMIC) &&
            !in_file(v->size, ph.p_offset, ph.p_filesz))
            return refuse(m, display, STATUS_INVALID_IMAGE_FORMAT,
                          "cannot be loaded: it is truncated (segment %zu ends past the end of "
                          "the file)",
                          i);
    }

    if (eh.e_shoff == 0)
        return STATUS_NOT_FOUND;
    if (eh.e_shentsize != sizeof(elf_shdr) || !in_file(v->size, eh.e_shoff, sizeof(elf_shdr)))
        return refuse(m, display, STATUS_INVALID_IMAGE_FORMAT,
                      "cannot be loaded: its section headers are truncated or corrupt");
    uint64_t count = eh.e_shnum;
    if (count == 0) { /* more than SHN_LORESERVE sections: the count is in section 0 */
        elf_shdr first;
        memcpy(&first, v->data + eh.e_shoff, sizeof(first));
        count = first.sh_size;
    }
    if (count > v->size / sizeof(elf_shdr) ||
        !in_file(v->size, eh.e_shoff, count * sizeof(elf_shdr)))
        return refuse(m, display, STATUS_INVALID_IMAGE_FORMAT,
                      "cannot be loaded: its section headers are truncated or corrupt");

    bool found = false;
    elf_shdr sh, link;
    for (size_t i = 0; i < count; i++) {
        if (!section(v, &eh, count, i, &sh))
            return refuse(m, display, STATUS_INVALID_IMAGE_FORMAT,
                          "cannot be loaded: it is truncated (section %zu ends past the end of "
                          "the file)",
                          i);
        if (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_GNU_versym &&
            sh.sh_type != SHT_GNU_verneed && sh.sh_type != SHT_DYNAMIC)
            continue;
        bool link_ok = sh.sh_type == SHT_GNU_versym ||
                       (section(v, &eh, count, sh.sh_link, &link) && link.sh_type == SHT_STRTAB);
        if (sh.sh_type == SHT_DYNSYM && !found) {
            if (sh.sh_entsize != sizeof(elf_sym) || !link_ok)
                return refuse(m, display, STATUS_INVALID_IMAGE_FORMAT,
                              "cannot be loaded: its dynamic symbol table is corrupt");
            found = true;
            v->syms = sh.sh_offset;
            v->sym_count = sh.sh_size / sizeof(elf_sym);
            v->strs = link.sh_offset;
            v->strs_size = link.sh_size;
        } else if (sh.sh_type == SHT_GNU_versym) {
            /* Symbols past its end are taken as unversioned. */
            v->versym = sh.sh_offset;
            v->versym_count = sh.sh_size / sizeof(elf_versym);
        } else if (sh.sh_type == SHT_GNU_verneed && link_ok) {
            v->has_verneed = true;
            v->verneed = sh.sh_offset;
            v->verneed_size = sh.sh_size;
            v->verneed_count = sh.sh_info;
            v->verneed_strs = link.sh_offset;
            v->verneed_strs_size = link.sh_size;
        } else if (sh.sh_type == SHT_DYNAMIC && link_ok && sh.sh_entsize == sizeof(elf_dyn)) {
            v->dyn = sh.sh_offset;
            v->dyn_count = sh.sh_size / sizeof(elf_dyn);
            v->dyn_strs = link.sh_offset;
            v->dyn_strs_size = link.sh_size;
        }
    }
    return found ? STATUS_SUCCESS : STATUS_NOT_FOUND;
}

/* The library and version the object expects symbol i from (its
 * .gnu.version_r entry), or NULLs when it does not say. */
static void version_of(const struct elf_view *v, size_t i, const char **file, const char **version)
{
    *file = *version = NULL;
    if (i >= v->versym_count || !v->has_verneed)
        return;
    elf_versym index;
    memcpy(&index, v->data + v->versym + i * sizeof(index), sizeof(index));
    index &= 0x7fff; /* the hidden bit */
    if (index < 2)   /* local or global: unversioned */
        return;
    uint64_t at = 0;
    for (size_t n = 0; n < v->verneed_count; n++) {
        elf_verneed need;
        if (!in_file(v->verneed_size, at, sizeof(need)))
            return;
        memcpy(&need, v->data + v->verneed + at, sizeof(need));
        uint64_t aux = at + need.vn_aux;
        for (size_t k = 0; k < need.vn_cnt; k++) {
            elf_vernaux a;
            if (!in_file(v->verneed_size, aux, sizeof(a)))
                return;
            memcpy(&a, v->data + v->verneed + aux, sizeof(a));
            if (a.vna_other == index) {
                *file = str_at(v, v->verneed_strs, v->verneed_strs_size, need.vn_file);
                *version = str_at(v, v->verneed_strs, v->verneed_strs_size, a.vna_name);
                return;
            }
            if (a.vna_next == 0)
                break;
            aux += a.vna_next;
        }
        if (need.vn_next == 0)
            return;
        at += need.vn_next;
    }
}

/* ------------------------------------------------------------------------- */
/* What the process provides                                                 */
/* ------------------------------------------------------------------------- */

/* TRUE for the name of a C library wide-character routine (wchar_t based):
 * wcs*, wmem*, wc*, tow*, isw*, *wprintf*, *wscanf*, mbstowcs, mbtowc,
 * wcstombs ..., and their fortified and ISO C99 aliases (__wcscpy_chk,
 * __isoc99_swscanf). Whether libc has one is asked separately. */
static bool wide_char_name(const char *name)
{
    static const char *const prefixes[] = {
        "wc",    "wmem",    "tow",   "isw",   "fgetw",   "fputw",          "getwc",
        "putwc", "ungetwc", "fwide", "btowc", "mbrtowc", "open_wmemstream"};
    static const char *const parts[] = {"wprintf", "wscanf", "wcs", "towc"};
    while (*name == '_')
        name++;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        if (strstr(name, parts[i]) != NULL)
            return true;
    return false;
}

/* What a symbol of the C++ runtime (libstdc++, libsupc++, the unwinder) is
 * for, or NULL for any other name: the global operator new and delete
 * (Itanium mangling _Znw, _Zna, _Zdl, _Zda), the ABI's support routines
 * (__cxa_*, __gxx_personality_*, _Unwind_*) and the standard library's
 * own symbols (std::, the ABI's type_info classes). The kernel has no C++
 * runtime: a filter defines what it needs (operator new over pool) or does
 * without (exceptions, RTTI, thread-safe statics, global destructors), so
 * these are refused whoever provides them; a process with libstdc++ or a
 * sanitizer's operator new in it would otherwise hide the missing one. */
static const char *cxx_runtime_use(const char *name)
{
    static const struct {
        const char *prefix, *use;
    } uses[] = {
        {"_Znw", "operator new"},
        {"_Zna", "operator new[]"},
        {"_Zdl", "operator delete"},
        {"_Zda", "operator delete[]"},
        {"__cxa_pure_virtual", "called for a pure virtual function"},
        {"__cxa_deleted_virtual", "called for a deleted virtual function"},
        {"__cxa_guard_", "guards a static local's initialization (-fno-threadsafe-statics)"},
        {"__cxa_atexit", "registers a static object's destructor"},
        {"__cxa_thread_atexit", "registers a thread_local object's destructor"},
        {"__cxa_", "exception handling"},
        {"__gxx_personality_", "exception handling"},
        {"_Unwind_", "exception handling"},
        {"_ZTVN10__cxxabiv1", "run-time type information"},
        {"_ZTI", "run-time type information"},
        {"_ZTS", "run-time type information"},
        {"_ZSt", "the C++ standard library"},
        {"_ZNSt", "the C++ standard library"},
        {"_ZNKSt", "the C++ standard library"},
    };
    if (strcmp(name, "__cxa_finalize") == 0) /* the C library's, for every object */
        return NULL;
    for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++)
        if (strncmp(name, uses[i].prefix, strlen(uses[i].prefix)) == 0)
            return uses[i].use;
    return NULL;
}

/* One thing the object needs that it cannot have. */
enum lack {
    LACK_LIBRARY,     /* a DT_NEEDED library that cannot be opened */
    LACK_ROUTINE,     /* no one provides the symbol */
    LACK_VERSION,     /* provided, not in the version the object was built against */
    LACK_WIDE_CHAR,   /* libc's wide-character routine */
    LACK_CXX_RUNTIME, /* the C++ runtime's (cxx_runtime_use) */
};

struct problem {
    enum lack lack;
    const char *name;    /* symbol or library, in the file's buffer */
    const char *file;    /* the library the object expects it from, or NULL */
    const char *version; /* and its version, or NULL */
    char *detail;        /* dlerror for a library (malloc'd), else NULL */
};

/* A library the object names (DT_NEEDED), opened to look symbols up in. */
struct needed {
    const char *name;
    void *handle; /* NULL when it cannot be opened */
};

struct check {
    const struct fltsim__object_kind *kind;
    struct elf_view *view;
    char *dir; /* the object's directory, for $ORIGIN */
    struct needed *needed;
    size_t needed_count;
    struct problem *problems;
    size_t problem_count;
    void *libc; /* libc's handle, NULL when it cannot be named */
};

/* Opens a library the object needs, searching its DT_RUNPATH or DT_RPATH
 * ($ORIGIN is the object's directory) before the ordinary search, as the
 * dynamic linker would. Already loaded libraries are only referenced again;
 * a library that is not runs its constructors here, as it would when the
 * object is opened. *error (malloc'd) says why when NULL is returned. */
static void *open_needed(const struct check *c, const char *name, const char *runpath, char **error)
{
    *error = NULL;
    if (runpath != NULL && strchr(name, '/') == NULL) {
        const char *p = runpath;
        while (*p != '\0') {
            size_t n = strcspn(p, ":");
            char dir[1024], full[1280];
            if (n < sizeof(dir)) {
                memcpy(dir, p, n);
                dir[n] = '\0';
                const char *rest = NULL;
                if (strncmp(dir, "$ORIGIN", 7) == 0)
                    rest = dir + 7;
                else if (strncmp(dir, "${ORIGIN}", 9) == 0)
                    rest = dir + 9;
                if (rest != NULL)
                    snprintf(full, sizeof(full), "%s%s/%s", c->dir, rest, name);
                else
                    snprintf(full, sizeof(full), "%s/%s", dir, name);
                void *h = dlopen(full, RTLD_LAZY | RTLD_LOCAL);
                if (h != NULL)
                    return h;
            }
            p += n;
            if (*p == ':')
                p++;
        }
    }
    void *h = dlopen(name, RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
    if (h == NULL)
        h = dlopen(name, RTLD_LAZY | RTLD_LOCAL);
    if (h == NULL) {
        const char *why = dlerror();
        *error = strdup(why != NULL ? why : "cannot be opened");
    }
    return h;
}

static void add_problem(struct check *c, enum lack lack, const char *name, const char *file,
                        const char *version, char *detail)
{
    c->problems[c->problem_count++] = (struct problem){lack, name, file, version, detail};
}

/* The libraries the object names, opened; those that cannot be are
 * problems. FALSE when out of memory. */
static bool open_libraries(struct check *c)
{
    const struct elf_view *v = c->view;
    const char *runpath = NULL, *rpath = NULL;
    size_t count = 0;
    for (size_t i = 0; i < v->dyn_count; i++) {
        elf_dyn d;
        memcpy(&d, v->data + v->dyn + i * sizeof(d), sizeof(d));
        if (d.d_tag == DT_NULL)
            break;
        if (d.d_tag == DT_NEEDED)
            count++;
        else if (d.d_tag == DT_RUNPATH)
            runpath = str_at(v, v->dyn_strs, v->dyn_strs_size, d.d_un.d_val);
        else if (d.d_tag == DT_RPATH)
            rpath = str_at(v, v->dyn_strs, v->dyn_strs_size, d.d_un.d_val);
    }
    /* DT_RPATH counts only without DT_RUNPATH. */
    const char *search = runpath != NULL ? runpath : rpath;
    c->needed = calloc(count + 1, sizeof(*c->needed));
    if (c->needed == NULL)
        return false;
    for (size_t i = 0; i < v->dyn_count && c->needed_count < count; i++) {
        elf_dyn d;
        memcpy(&d, v->data + v->dyn + i * sizeof(d), sizeof(d));
        if (d.d_tag != DT_NEEDED)
            continue;
        const char *name = str_at(v, v->dyn_strs, v->dyn_strs_size, d.d_un.d_val);
        if (name == NULL)
            continue; /* a corrupt entry: dlopen says so later */
        char *error;
        void *h = open_needed(c, name, search, &error);
        if (h == NULL && error == NULL)
            return false;
        c->needed[c->needed_count++] = (struct needed){name, h};
        if (h == NULL)
            add_problem(c, LACK_LIBRARY, name, NULL, NULL, error);
    }
    return true;
}

/* TRUE when h defines name (a symbol may be NULL: dlerror tells). */
static bool has_symbol(void *h, const char *name)
{
    dlerror();
    return dlsym(h, name) != NULL || dlerror() == NULL;
}

/* TRUE when h defines name, in version when one is given (glibc's symbol
 * versioning; elsewhere the name alone). *by_name says whether h has the
 * name at all. */
static bool defines(void *h, const char *name, const char *version, bool *by_name)
{
    *by_name = has_symbol(h, name);
    if (!*by_name || version == NULL)
        return *by_name;
#if defined(__GLIBC__)
    dlerror();
    return dlvsym(h, name, version) != NULL || dlerror() == NULL;
#else
    return true;
#endif
}

/* Whether the process or the object's libraries define name (in version
 * when given); *other_version says some define it in another version only. */
static bool provided(const struct check *c, const char *name, const char *version,
                     bool *other_version)
{
    bool by_name;
    if (defines(RTLD_DEFAULT, name, version, &by_name))
        return true;
    *other_version = by_name;
    for (size_t i = 0; i < c->needed_count; i++) {
        if (c->needed[i].handle == NULL)
            continue;
        if (defines(c->needed[i].handle, name, version, &by_name))
            return true;
        *other_version = *other_version || by_name;
    }
    return false;
}

static int problem_order(const void *a, const void *b)
{
    const struct problem *x = a, *y = b;
    if (x->lack == LACK_LIBRARY || y->lack == LACK_LIBRARY)
        if (x->lack != y->lack)
            return x->lack == LACK_LIBRARY ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Every undefined symbol the object binds (weak ones may stay NULL), looked
 * up. */
static void check_symbols(struct check *c)
{
    const struct elf_view *v = c->view;
    for (size_t i = 1; i < v->sym_count; i++) {
        elf_sym s = sym_at(v, i);
        if (s.st_shndx != SHN_UNDEF || SYM_BIND(s.st_info) == STB_WEAK ||
            SYM_BIND(s.st_info) == STB_LOCAL)
            continue;
        const char *name = str_at(v, v->strs, v->strs_size, s.st_name);
        if (name == NULL || name[0] == '\0')
            continue;
        const char *file, *version;
        version_of(v, i, &file, &version);
        bool other_version;
        if (wide_char_name(name) && (c->libc == NULL || has_symbol(c->libc, name)))
            add_problem(c, LACK_WIDE_CHAR, name, file, version, NULL);
        else if (cxx_runtime_use(name) != NULL)
            add_problem(c, LACK_CXX_RUNTIME, name, file, version, NULL);
        else if (!provided(c, name, version, &other_version))
            add_problem(c, other_version ? LACK_VERSION : LACK_ROUTINE, name, file, version, NULL);
    }
}

/* The refusal: a first line, then one line per problem. */
static NTSTATUS refuse_problems(struct check *c, const char *display, struct msg *m)
{
    size_t libraries = 0, routines = 0;
    for (size_t i = 0; i < c->problem_count; i++)
        if (c->problems[i].lack == LACK_LIBRARY)
            libraries++;
        else
            routines++;
    qsort(c->problems, c->problem_count, sizeof(*c->problems), problem_order);
    refuse(m, display, STATUS_DRIVER_ENTRYPOINT_NOT_FOUND, "cannot be loaded: it needs ");
    if (libraries != 0)
        msg_add(m, "%zu librar%s that cannot be opened%s", libraries, libraries == 1 ? "y" : "ies",
                routines != 0 ? " and " : "");
    if (routines != 0)
        msg_add(m, "%zu routine%s that fltsim does not provide", routines,
                routines == 1 ? "" : "s");
    msg_add(m, ":");
    for (size_t i = 0; i < c->problem_count; i++) {
        const struct problem *p = &c->problems[i];
        char from[256] = "", line[1024];
        if (p->file != NULL || p->version != NULL)
            snprintf(from, sizeof(from), " (%s%s%s)", p->file ? p->file : "",
                     p->file && p->version ? " " : "", p->version ? p->version : "");
        switch (p->lack) {
        case LACK_LIBRARY: {
            /* dlerror names the library first: once is enough. */
            const char *why = p->detail;
            size_t n = strlen(p->name);
            if (strncmp(why, p->name, n) == 0 && strncmp(why + n, ": ", 2) == 0)
                why += n + 2;
            snprintf(line, sizeof(line), "\n  %s (a library it needs): %s", p->name, why);
            break;
        }
        case LACK_ROUTINE:
            snprintf(line, sizeof(line), "\n  %s%s", p->name, from);
            break;
        case LACK_VERSION:
            snprintf(line, sizeof(line),
                     "\n  %s%s: this process has it in another version only (built against a "
                     "newer library?)",
                     p->name, from);
            break;
        case LACK_CXX_RUNTIME:
            snprintf(line, sizeof(line),
                     "\n  %s%s (%s): the C++ runtime's, which a kernel does not have; a filter "
                     "defines its own (operator new and delete over ExAllocatePoolWithTag and "
                     "ExFreePoolWithTag) or does without",
                     p->name, from, cxx_runtime_use(p->name));
            break;
        case LACK_WIDE_CHAR:
            snprintf(line, sizeof(line),
                     "\n  %s%s: the C library's wide-character routine, for a 4-byte wchar_t; "
                     "%s's WCHAR is 2 bytes: compile it with fltsim's headers, which "
                     "give it fltsim's own",
                     p->name, from, c->kind->who);
            break;
        }
        /* What does not fit is counted, so a short buffer still says how
         * many there are. */
        if (m->buf != NULL && m->used + strlen(line) + 32 >= m->size) {
            msg_add(m, "\n  ... and %zu more", c->problem_count - i);
            break;
        }
        msg_add(m, "%s", line);
    }
    return STATUS_DRIVER_ENTRYPOINT_NOT_FOUND;
}

static bool exports(const struct elf_view *v, const char *name)
{
    for (size_t i = 1; i < v->sym_count; i++) {
        elf_sym s = sym_at(v, i);
        if (s.st_shndx == SHN_UNDEF || SYM_BIND(s.st_info) == STB_LOCAL ||
            SYM_VISIBILITY(s.st_other) == STV_HIDDEN || SYM_VISIBILITY(s.st_other) == STV_INTERNAL)
            continue;
        const char *n = str_at(v, v->strs, v->strs_size, s.st_name);
        if (n != NULL && strcmp(n, name) == 0)
            return true;
    }
    return false;
}

/* The object's directory, for $ORIGIN (malloc'd). */
static char *directory_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    size_t n = (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

NTSTATUS fltsim__object_open(const char *path, const char *display,
                             const struct fltsim__object_kind *kind, struct fltsim__object *out,
                             char *error, size_t error_size)
{
    struct msg m = {error_size ? error : NULL, error_size, 0};
    struct elf_view v = {0};
    struct check c = {.view = &v, .kind = kind};
    memset(out, 0, sizeof(*out));
    if (m.buf != NULL)
        m.buf[0] = '\0';

    NTSTATUS status = read_object(path, display, &v, &m);
    if (NT_SUCCESS(status))
        status = parse_object(&v, display, &m);
    if (status == STATUS_NOT_FOUND) {
        /* No section headers (sstrip): dlopen's check, first routine only. */
        status = open_checked(path, display, kind, out, &m);
        goto out;
    }
    if (!NT_SUCCESS(status))
        goto out;
    size_t found = 0;
    for (size_t i = 0; i < kind->entry_count; i++)
        found += exports(&v, kind->entries[i]);
    if (found != 1) {
        status = refuse_entries(&m, display, kind, found);
        goto out;
    }

    c.dir = directory_of(path);
    c.problems = calloc(v.sym_count + v.dyn_count + 1, sizeof(*c.problems));
#if defined(LIBC_SO)
    c.libc = dlopen(LIBC_SO, RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
#endif
    if (c.dir == NULL || c.problems == NULL || !open_libraries(&c)) {
        status =
            refuse(&m, display, STATUS_INSUFFICIENT_RESOURCES, "cannot be loaded: out of memory");
        goto out;
    }
    check_symbols(&c);
    if (c.problem_count != 0)
        status = refuse_problems(&c, display, &m);
    else
        status = open_checked(path, display, kind, out, &m);

out:
    /* The object holds its own references to its libraries now. */
    for (size_t i = 0; i < c.needed_count; i++)
        if (c.needed[i].handle != NULL)
            dlclose(c.needed[i].handle);
    for (size_t i = 0; i < c.problem_count; i++)
        free(c.problems[i].detail);
    if (c.libc != NULL)
        dlclose(c.libc);
    free(c.needed);
    free(c.problems);
    free(c.dir);
    free(v.data);
    return status;
}

bool fltsim__filter_object_exports(const char *path, const char *name)
{
    struct msg m = {NULL, 0, 0};
    struct elf_view v = {0};
    NTSTATUS status = read_object(path, path, &v, &m);
    if (NT_SUCCESS(status))
        status = parse_object(&v, path, &m);
    bool found = false;
    if (status == STATUS_NOT_FOUND) {
        /* No section headers: only dlopen can tell. */
        char *p = dlopen_path(path);
        void *h = p != NULL ? dlopen(p, RTLD_NOW | RTLD_LOCAL) : NULL;
        free(p);
        found = h != NULL && dlsym(h, name) != NULL;
        if (h != NULL)
            dlclose(h);
    } else if (NT_SUCCESS(status)) {
        found = exports(&v, name);
    }
    free(v.data);
    return found;
}

#endif /* ELF */
