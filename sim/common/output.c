/*
 * Output files written whole or not at all (output.h): a temporary file beside
 * the target, synced and renamed onto it at commit, removed at abort or on any
 * failure; and the same-file check that keeps an output from overwriting an
 * input. It owns no state beyond a counter that makes temporary names unique;
 * what an output holds and what a failure means is the caller's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* fopencookie: the errno of a failed write, not only that one failed */
#endif
#include "common/output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static atomic_uint temp_counter;

/* The temporary files open now, for fltsim__output_remove_temps (a fatal
 * signal's handler): slots taken at open, cleared before the name is freed. */
#define OPEN_TEMPS 32
static _Atomic(const char *) open_temps[OPEN_TEMPS];

static void temp_register(const char *temp)
{
    for (int i = 0; i < OPEN_TEMPS; i++) {
        const char *none = NULL;
        if (atomic_compare_exchange_strong(&open_temps[i], &none, temp))
            return;
    }
    /* More outputs open at once than slots: that one is only not removed
     * after a crash. */
}

static void temp_unregister(const char *temp)
{
    for (int i = 0; temp != NULL && i < OPEN_TEMPS; i++) {
        const char *expected = temp;
        if (atomic_compare_exchange_strong(&open_temps[i], &expected, NULL))
            return;
    }
}

void fltsim__output_remove_temps(void)
{
    for (int i = 0; i < OPEN_TEMPS; i++) {
        const char *temp = atomic_exchange(&open_temps[i], NULL);
        if (temp != NULL)
            unlink(temp);
    }
}

/* The descriptor under an output's stream and the first error writing it:
 * stdio keeps only that a write failed, and a message should say why. */
struct fltsim__output_sink {
    int fd;
    int err;
};

#ifdef __GLIBC__
static ssize_t sink_write(void *cookie, const char *buf, size_t size)
{
    struct fltsim__output_sink *k = cookie;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(k->fd, buf + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (k->err == 0)
                k->err = n < 0 ? errno : EIO;
            return done > 0 ? (ssize_t)done : -1;
        }
        done += (size_t)n;
    }
    return (ssize_t)done;
}

static int sink_close(void *cookie)
{
    struct fltsim__output_sink *k = cookie;
    int rc = close(k->fd);
    if (rc != 0 && k->err == 0)
        k->err = errno;
    return rc;
}
#endif

/* A stream over fd (which it then owns) recording the first write error in
 * *k. NULL (errno) with fd still the caller's when out of memory. */
static FILE *stream_over(int fd, struct fltsim__output_sink *k)
{
    k->fd = fd;
    k->err = 0;
#ifdef __GLIBC__
    cookie_io_functions_t io = {.write = sink_write, .close = sink_close};
    return fopencookie(k, "w", io);
#else
    return fdopen(fd, "w");
#endif
}

#ifdef __GLIBC__
static struct fltsim__output_sink stdout_sink = {STDOUT_FILENO, 0};
#endif

void fltsim__output_wrap_stdout(void)
{
#ifdef __GLIBC__
    /* glibc lets a program set stdout (its manual, "Standard Streams"). No
     * close function: descriptor 1 stays open for whoever else uses it. */
    cookie_io_functions_t io = {.write = sink_write};
    FILE *f = fopencookie(&stdout_sink, "w", io);
    if (f == NULL)
        return;
    if (isatty(STDOUT_FILENO))
        setvbuf(f, NULL, _IOLBF, BUFSIZ);
    fflush(stdout);
    stdout = f;
#endif
}

int fltsim__output_stdout_error(void)
{
#ifdef __GLIBC__
    return stdout_sink.err;
#else
    return 0;
#endif
}

/* Splits path into its directory part (with its trailing '/'; "" for a bare
 * name) and returns its last name. */
static const char *split(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        dir[0] = '\0';
        return path;
    }
    snprintf(dir, size, "%.*s", (int)(slash - path + 1), path);
    return slash + 1;
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 1;
    char *s = malloc(n);
    if (s != NULL)
        snprintf(s, n, "%s%s", dir, name);
    return s;
}

/* The file path names, following symbolic links: its real path when it
 * exists, else the end of a chain of dangling links (a few hops), else path
 * itself. NULL when out of memory. */
static char *resolve(const char *path, bool exists)
{
    if (exists) {
        char *real = realpath(path, NULL);
        if (real != NULL)
            return real;
    }
    char *current = strdup(path);
    for (int hop = 0; current != NULL && hop < 8; hop++) {
        char link[PATH_MAX];
        ssize_t n = readlink(current, link, sizeof(link) - 1);
        if (n < 0)
            break;
        link[n] = '\0';
        char dir[PATH_MAX];
        split(current, dir, sizeof(dir));
        char *next = link[0] == '/' ? strdup(link) : join(dir, link);
        free(current);
        current = next;
    }
    return current;
}

/* Creates a new file beside final, with a name no one else uses; 0666 less
 * the umask, as a new file would be. Returns the descriptor or -1 (errno). */
static int create_temp(const char *final, char **temp)
{
    char dir[PATH_MAX];
    const char *base = split(final, dir, sizeof(dir));
    for (int attempt = 0; attempt < 100; attempt++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        char name[96];
        snprintf(name, sizeof(name), ".%.40s.%ld-%u-%lx.tmp", base, (long)getpid(),
                 atomic_fetch_add(&temp_counter, 1), (unsigned long)ts.tv_nsec);
        *temp = join(dir, name);
        if (*temp == NULL) {
            errno = ENOMEM;
            return -1;
        }
        int fd = open(*temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0)
            return fd;
        int e = errno;
        free(*temp);
        *temp = NULL;
        errno = e;
        if (e != EEXIST)
            return -1;
    }
    return -1;
}

/* Gives *out a stream over fd; on failure closes fd, removes temp and frees
 * final and temp. Returns 0 or an errno value. */
static int attach(struct fltsim__output *out, const char *path, int fd, char *final, char *temp)
{
    struct fltsim__output_sink *k = malloc(sizeof(*k));
    FILE *f = k != NULL ? stream_over(fd, k) : NULL;
    if (f == NULL) {
        int e = k == NULL ? ENOMEM : errno;
        close(fd);
        if (temp != NULL)
            unlink(temp);
        free(k);
        free(temp);
        free(final);
        return e;
    }
    out->stream = f;
    out->target = path;
    out->final = final;
    out->temp = temp;
    out->sink = k;
    if (temp != NULL)
        temp_register(temp);
    return 0;
}

int fltsim__output_open(struct fltsim__output *out, const char *path)
{
    memset(out, 0, sizeof(*out));
    if (path == NULL) {
        out->stream = stdout;
        return 0;
    }
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if (!exists && errno != ENOENT)
        return errno;
    if (exists && S_ISDIR(st.st_mode))
        return EISDIR;
    if (exists && !S_ISREG(st.st_mode)) {
        /* A device or a FIFO: nothing there to lose, nothing to rename. */
        int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd < 0)
            return errno;
        return attach(out, path, fd, NULL, NULL);
    }
    char *final = resolve(path, exists);
    if (final == NULL)
        return ENOMEM;
    char *temp = NULL;
    int fd = create_temp(final, &temp);
    if (fd < 0) {
        int e = errno;
        free(final);
        return e;
    }
    if (exists) {
        /* The replacement keeps the file's mode and, when we may, its owner. */
        if (fchmod(fd, st.st_mode & 07777) != 0) {
            /* best effort: the data matter more than the mode */
        }
        if (geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) != 0) {
            /* best effort as well */
        }
    }
    return attach(out, path, fd, final, temp);
}

/* Makes the rename itself durable; a directory that cannot be synced (some
 * file systems refuse) leaves the data synced all the same. */
static void sync_directory(const char *final)
{
    char dir[PATH_MAX];
    split(final, dir, sizeof(dir));
    int fd = open(dir[0] != '\0' ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static void clear(struct fltsim__output *out)
{
    temp_unregister(out->temp);
    free(out->sink);
    free(out->final);
    free(out->temp);
    memset(out, 0, sizeof(*out));
}

int fltsim__output_commit(struct fltsim__output *out)
{
    if (out->stream == NULL)
        return 0;
    int err = 0;
    errno = 0;
    bool failed = fflush(out->stream) != 0 || ferror(out->stream);
    if (out->stream == stdout) {
        clear(out);
        return failed ? (errno != 0 ? errno : EIO) : 0;
    }
    struct fltsim__output_sink *k = out->sink;
    if (failed)
        err = k->err != 0 ? k->err : errno != 0 ? errno : EIO;
    if (err == 0 && out->temp != NULL && fsync(k->fd) != 0)
        err = errno;
    errno = 0;
    if (fclose(out->stream) != 0 && err == 0)
        err = k->err != 0 ? k->err : errno != 0 ? errno : EIO;
    out->stream = NULL;
    if (out->temp != NULL) {
        if (err == 0 && rename(out->temp, out->final) != 0)
            err = errno;
        if (err != 0)
            unlink(out->temp);
        else
            sync_directory(out->final);
    }
    clear(out);
    return err;
}

void fltsim__output_abort(struct fltsim__output *out)
{
    if (out->stream == NULL)
        return;
    if (out->stream == stdout) {
        fflush(stdout);
    } else {
        fclose(out->stream);
        if (out->temp != NULL)
            unlink(out->temp);
    }
    clear(out);
}

/* realpath of path's directory, then its last name: where a file that does
 * not exist yet would be. NULL when out of memory. */
static char *where(const char *path)
{
    char dir[PATH_MAX], real[PATH_MAX + 1];
    const char *base = split(path, dir, sizeof(dir));
    if (realpath(dir[0] != '\0' ? dir : ".", real) == NULL)
        snprintf(real, sizeof(real), "%s", dir);
    else if (strcmp(real, "/") != 0)
        strcat(real, "/");
    return join(real, base);
}

bool fltsim__output_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    bool ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
    if (ea || eb)
        return ea && eb && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    char *wa = where(a), *wb = where(b);
    bool same = wa != NULL && wb != NULL && strcmp(wa, wb) == 0;
    free(wa);
    free(wb);
    return same;
}
