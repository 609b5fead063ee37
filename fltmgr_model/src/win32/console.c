/*
 * A simulated process's console and heap (windows.h redirects a program's
 * printf family and malloc family here). Console text is formatted by
 * fltsim's Windows-style printf walker (nt/format.h: %ws, %S, %Id, %I64x,
 * 'l' is 32 bits) and kept as UTF-8 in the process, handed to its output
 * callback, and read by fltsim_process_output; from a thread of no process
 * it goes to the real stream. The heap remembers the blocks each process
 * holds (a pointer set), so that they are freed when the process ends.
 */
#include <stdlib.h>
#include <string.h>

#include "nt/format.h"
#include "win32_internal.h"

/* ---- the console ---- */

void fltsim__w32_console_write(struct fltsim_process *proc, const char *text, size_t length)
{
    if (length == 0)
        return;
    if (proc == NULL) {
        fwrite(text, 1, length, stdout);
        return;
    }
    uv_mutex_lock(&proc->out_lock);
    if (proc->out_len + length + 1 > proc->out_cap) {
        size_t cap = proc->out_cap == 0 ? 1024 : proc->out_cap;
        while (cap < proc->out_len + length + 1)
            cap *= 2;
        char *grown = realloc(proc->out, cap);
        if (grown == NULL) {
            uv_mutex_unlock(&proc->out_lock);
            return; /* out of memory: the text is lost, as on a full pipe */
        }
        proc->out = grown;
        proc->out_cap = cap;
    }
    memcpy(proc->out + proc->out_len, text, length);
    proc->out_len += length;
    proc->out[proc->out_len] = '\0';
    uv_mutex_unlock(&proc->out_lock);
    if (proc->output != NULL)
        proc->output(proc->output_ctx, proc, text, length);
    fltsim__broadcast(proc->sys); /* someone may wait for this text */
}

/* The text of one call, built up as UTF-8 in a growing buffer. */
struct text_out {
    struct fltsim_fmt_out base;
    char *buf;
    size_t len, cap;
    char small[512];
};

static void text_add(struct text_out *o, const char *s, size_t n)
{
    if (o->base.full)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap * 2;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *grown = o->buf == o->small ? malloc(cap) : realloc(o->buf, cap);
        if (grown == NULL) {
            o->base.full = true;
            return;
        }
        if (o->buf == o->small)
            memcpy(grown, o->small, o->len);
        o->buf = grown;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void text_narrow(struct fltsim_fmt_out *base, const char *s, size_t n)
{
    text_add((struct text_out *)(void *)base, s, n);
}

static void text_wide(struct fltsim_fmt_out *base, const WCHAR *s, size_t n)
{
    char chunk[256];
    while (n > 0) {
        size_t take = n > 60 ? 60 : n; /* 4 bytes a unit at most */
        if (take < n && s[take - 1] >= 0xd800 && s[take - 1] < 0xdc00)
            take--; /* keep a surrogate pair together */
        size_t len = fltsim_utf16_to_utf8(s, take, chunk, sizeof(chunk));
        text_add((struct text_out *)(void *)base, chunk, len);
        s += take;
        n -= take;
    }
}

static void text_init(struct text_out *o)
{
    o->base = (struct fltsim_fmt_out){text_narrow, text_wide, false};
    o->buf = o->small;
    o->len = 0;
    o->cap = sizeof(o->small);
}

static void text_done(struct text_out *o)
{
    if (o->buf != o->small)
        free(o->buf);
}

static struct fltsim_process *current_process(void)
{
    struct w32_thread *self = fltsim__w32_self();
    return self != NULL ? self->proc : NULL;
}

/* Formats and writes to stream (stdout or stderr: the process's console);
 * returns the count of bytes, or -1 for an invalid format. */
static int emit(FILE *stream, enum fltsim_fmt_dialect dialect, const void *format, va_list *ap)
{
    if (format == NULL)
        return -1;
    fltsim__w32_checkpoint(); /* an ending process's thread leaves before printing */
    struct text_out o;
    text_init(&o);
    const char *invalid = fltsim__format(&o.base, dialect, format, ap);
    int result = invalid != NULL ? -1 : (int)o.len;
    struct fltsim_process *proc = current_process();
    if (proc != NULL && (stream == stdout || stream == stderr))
        fltsim__w32_console_write(proc, o.buf, o.len);
    else
        fwrite(o.buf, 1, o.len, stream);
    text_done(&o);
    fltsim__w32_checkpoint();
    return result;
}

int fltsim_user_vfprintf(FILE *stream, const char *format, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = emit(stream, FLTSIM_FMT_CRT_NARROW, format, &copy);
    va_end(copy);
    return n;
}

int fltsim_user_vprintf(const char *format, va_list ap)
{
    return fltsim_user_vfprintf(stdout, format, ap);
}

int fltsim_user_printf(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = emit(stdout, FLTSIM_FMT_CRT_NARROW, format, &ap);
    va_end(ap);
    return n;
}

int fltsim_user_fprintf(FILE *stream, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = emit(stream, FLTSIM_FMT_CRT_NARROW, format, &ap);
    va_end(ap);
    return n;
}

int fltsim_user_wprintf(const WCHAR *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = emit(stdout, FLTSIM_FMT_CRT_WIDE, format, &ap);
    va_end(ap);
    return n;
}

int fltsim_user_fwprintf(FILE *stream, const WCHAR *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = emit(stream, FLTSIM_FMT_CRT_WIDE, format, &ap);
    va_end(ap);
    return n;
}

int fltsim_user_fputs(const char *s, FILE *stream)
{
    struct fltsim_process *proc = current_process();
    fltsim__w32_checkpoint();
    if (proc != NULL && (stream == stdout || stream == stderr)) {
        fltsim__w32_console_write(proc, s, strlen(s));
        fltsim__w32_checkpoint();
        return 0;
    }
    return fputs(s, stream);
}

int fltsim_user_puts(const char *s)
{
    struct fltsim_process *proc = current_process();
    if (proc == NULL)
        return puts(s);
    fltsim__w32_checkpoint();
    fltsim__w32_console_write(proc, s, strlen(s));
    fltsim__w32_console_write(proc, "\n", 1);
    fltsim__w32_checkpoint();
    return 0;
}

int fltsim_user_putchar(int c)
{
    struct fltsim_process *proc = current_process();
    if (proc == NULL)
        return putchar(c);
    fltsim__w32_checkpoint();
    char ch = (char)c;
    fltsim__w32_console_write(proc, &ch, 1);
    return (unsigned char)c;
}

/* ---- console input ---- */

NTSTATUS fltsim_process_input(fltsim_process *process, const char *text, size_t length)
{
    if (process == NULL || (text == NULL && length > 0))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_process_input: a process, and text for a length, are required");
    fltsim_system *sys = process->sys;
    uv_mutex_lock(&sys->lock);
    NTSTATUS status = STATUS_SUCCESS;
    if (process->ending || process->in_ended) {
        status = STATUS_PROCESS_IS_TERMINATING;
    } else if (process->in_len + length > process->in_cap) {
        size_t cap = process->in_cap == 0 ? 256 : process->in_cap;
        while (cap < process->in_len + length)
            cap *= 2;
        char *grown = realloc(process->in, cap);
        if (grown == NULL)
            status = STATUS_INSUFFICIENT_RESOURCES;
        else {
            process->in = grown;
            process->in_cap = cap;
        }
    }
    if (NT_SUCCESS(status) && length > 0) {
        memcpy(process->in + process->in_len, text, length);
        process->in_len += length;
        fltsim__broadcast_locked(sys);
    }
    uv_mutex_unlock(&sys->lock);
    return status;
}

void fltsim_process_input_end(fltsim_process *process)
{
    if (process == NULL)
        return;
    uv_mutex_lock(&process->sys->lock);
    process->in_ended = true;
    fltsim__broadcast_locked(process->sys);
    uv_mutex_unlock(&process->sys->lock);
}

static bool input_ready(void *ctx)
{
    struct fltsim_process *p = ctx;
    return p->in_pos < p->in_len || p->in_ended;
}

/* The next byte typed at the process's console, or EOF (waits for one). */
static int input_byte(struct fltsim_process *proc)
{
    fltsim_system *sys = proc->sys;
    uv_mutex_lock(&sys->lock);
    enum w32_wait_result r =
        fltsim__w32_wait_locked(sys, "getchar (console input)", input_ready, proc, 0);
    int c = EOF;
    if (r == W32_READY && proc->in_pos < proc->in_len)
        c = (unsigned char)proc->in[proc->in_pos++];
    uv_mutex_unlock(&sys->lock);
    if (r == W32_ENDING)
        fltsim__w32_checkpoint();
    return c;
}

int fltsim_user_getchar(void)
{
    struct fltsim_process *proc = current_process();
    return proc != NULL ? input_byte(proc) : getchar();
}

char *fltsim_user_fgets(char *s, int size, FILE *stream)
{
    struct fltsim_process *proc = current_process();
    if (proc == NULL || stream != stdin)
        return fgets(s, size, stream);
    if (size <= 0)
        return NULL;
    int n = 0;
    while (n < size - 1) {
        int c = input_byte(proc);
        if (c == EOF)
            break;
        s[n++] = (char)c;
        if (c == '\n')
            break;
    }
    if (n == 0)
        return NULL;
    s[n] = '\0';
    return s;
}

/* ---- the heap ---- */

/* An open-addressing set of the blocks and their sizes (heap_lock); NULL
 * slots are free, TOMBSTONE ones were. */
static char tombstone_mark;
#define TOMBSTONE ((void *)&tombstone_mark)

static size_t slot_of(const void *p, size_t cap)
{
    ULONG64 h = (ULONG64)(ULONG_PTR)p;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)(h & (cap - 1));
}

static bool set_insert(struct fltsim_process *proc, void *p, size_t size)
{
    if ((proc->block_count + proc->block_tombs + 1) * 2 > proc->block_cap) {
        size_t cap = 64;
        while (cap < (proc->block_count + 1) * 4)
            cap *= 2;
        struct w32_block *fresh = calloc(cap, sizeof(*fresh));
        if (fresh == NULL)
            return false;
        for (size_t i = 0; i < proc->block_cap; i++) {
            struct w32_block b = proc->blocks[i];
            if (b.p == NULL || b.p == TOMBSTONE)
                continue;
            size_t k = slot_of(b.p, cap);
            while (fresh[k].p != NULL)
                k = (k + 1) & (cap - 1);
            fresh[k] = b;
        }
        free(proc->blocks);
        proc->blocks = fresh;
        proc->block_cap = cap;
        proc->block_tombs = 0;
    }
    size_t k = slot_of(p, proc->block_cap);
    while (proc->blocks[k].p != NULL && proc->blocks[k].p != TOMBSTONE)
        k = (k + 1) & (proc->block_cap - 1);
    if (proc->blocks[k].p == TOMBSTONE)
        proc->block_tombs--;
    proc->blocks[k] = (struct w32_block){p, size};
    proc->block_count++;
    return true;
}

/* The slot of p, or NULL. */
static struct w32_block *set_find(struct fltsim_process *proc, const void *p)
{
    if (proc->block_cap == 0)
        return NULL;
    size_t k = slot_of(p, proc->block_cap);
    for (size_t n = 0; n < proc->block_cap && proc->blocks[k].p != NULL; n++) {
        if (proc->blocks[k].p == p)
            return &proc->blocks[k];
        k = (k + 1) & (proc->block_cap - 1);
    }
    return NULL;
}

static bool set_remove(struct fltsim_process *proc, void *p, size_t *size)
{
    struct w32_block *b = set_find(proc, p);
    if (b == NULL)
        return false;
    *size = b->size;
    b->p = TOMBSTONE;
    proc->block_count--;
    proc->block_tombs++;
    return true;
}

/* Remembers a block the calling process got (freed at once when it cannot
 * be remembered: the allocation then fails). */
static void *track(void *p, size_t size)
{
    struct fltsim_process *proc = current_process();
    if (p == NULL || proc == NULL)
        return p;
    uv_mutex_lock(&proc->heap_lock);
    bool ok = set_insert(proc, p, size);
    uv_mutex_unlock(&proc->heap_lock);
    if (!ok) {
        free(p);
        return NULL;
    }
    return p;
}

static bool set_take(struct fltsim_process *proc, void *p, size_t *size)
{
    uv_mutex_lock(&proc->heap_lock);
    bool held = set_remove(proc, p, size);
    uv_mutex_unlock(&proc->heap_lock);
    return held;
}

/* Every process with a heap, of every system (heaps_lock, taken before a
 * heap_lock): a block is freed by whoever holds the pointer, a thread of
 * another process or of none (a test, a scenario) included. */
static uv_once_t heaps_once = UV_ONCE_INIT;
static uv_mutex_t heaps_lock;
static LIST_ENTRY heaps;

static void heaps_init(void)
{
    if (uv_mutex_init(&heaps_lock) != 0)
        abort();
    InitializeListHead(&heaps);
}

void fltsim__w32_heap_register(struct fltsim_process *proc)
{
    uv_once(&heaps_once, heaps_init);
    uv_mutex_lock(&heaps_lock);
    InsertTailList(&heaps, &proc->heap_link);
    uv_mutex_unlock(&heaps_lock);
}

void fltsim__w32_heap_unregister(struct fltsim_process *proc)
{
    uv_once(&heaps_once, heaps_init);
    uv_mutex_lock(&heaps_lock);
    RemoveEntryList(&proc->heap_link);
    InitializeListHead(&proc->heap_link);
    uv_mutex_unlock(&heaps_lock);
}

/* Forgets a block; its size when the calling process held it. A block
 * another process holds is forgotten there, so that its end does not free
 * it again. Not there at all: the C library's, or a block of before. */
static bool untrack(void *p, size_t *size)
{
    struct fltsim_process *proc = current_process();
    if (p == NULL)
        return false;
    if (proc != NULL && set_take(proc, p, size))
        return true;
    size_t other;
    bool found = false;
    uv_once(&heaps_once, heaps_init);
    uv_mutex_lock(&heaps_lock);
    for (PLIST_ENTRY e = heaps.Flink; e != &heaps && !found; e = e->Flink) {
        struct fltsim_process *q = CONTAINING_RECORD(e, struct fltsim_process, heap_link);
        if (q != proc)
            found = set_take(q, p, &other);
    }
    uv_mutex_unlock(&heaps_lock);
    return false; /* not the caller's: no size for it */
}

void *fltsim_user_malloc(size_t size)
{
    return track(malloc(size), size);
}

void *fltsim_user_calloc(size_t count, size_t size)
{
    void *p = calloc(count, size);
    return track(p, p != NULL ? count * size : 0); /* calloc checked the product */
}

/* realloc; *old gets the size the block had when the process held it
 * (held then true). */
static void *heap_realloc(void *block, size_t size, size_t *old, bool *held)
{
    *held = false;
    if (block == NULL)
        return fltsim_user_malloc(size);
    *held = untrack(block, old);
    void *p = realloc(block, size);
    if (p == NULL) {
        if (*held)
            track(block, *old); /* still the caller's */
        return NULL;
    }
    return track(p, size);
}

void *fltsim_user_realloc(void *block, size_t size)
{
    size_t old;
    bool held;
    return heap_realloc(block, size, &old, &held);
}

void fltsim_user_free(void *block)
{
    size_t size;
    untrack(block, &size);
    free(block);
}

char *fltsim_user_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = fltsim_user_malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

WCHAR *fltsim_user_wcsdup(const WCHAR *s)
{
    size_t n = (fltsim_wcslen(s) + 1) * sizeof(WCHAR);
    WCHAR *p = fltsim_user_malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

HANDLE GetProcessHeap(void)
{
    struct fltsim_process *proc = current_process();
    return proc != NULL ? (HANDLE)proc : NULL;
}

LPVOID HeapAlloc(HANDLE hHeap, DWORD dwFlags, SIZE_T dwBytes)
{
    (void)hHeap;
    return (dwFlags & HEAP_ZERO_MEMORY) != 0 ? fltsim_user_calloc(1, dwBytes)
                                             : fltsim_user_malloc(dwBytes);
}

LPVOID HeapReAlloc(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem, SIZE_T dwBytes)
{
    (void)hHeap;
    size_t old = 0;
    bool held;
    BYTE *p = heap_realloc(lpMem, dwBytes, &old, &held);
    /* HEAP_ZERO_MEMORY: what it grew by reads zero (a block of the process's;
     * one it did not get from this heap has no size known). */
    if (p != NULL && (dwFlags & HEAP_ZERO_MEMORY) != 0 && held && dwBytes > old)
        memset(p + old, 0, dwBytes - old);
    return p;
}

BOOL HeapFree(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem)
{
    (void)hHeap;
    (void)dwFlags;
    fltsim_user_free(lpMem);
    return TRUE;
}

void fltsim__w32_heap_release(struct fltsim_process *proc)
{
    uv_mutex_lock(&proc->heap_lock);
    for (size_t i = 0; i < proc->block_cap; i++) {
        void *b = proc->blocks[i].p;
        if (b != NULL && b != TOMBSTONE)
            free(b);
        proc->blocks[i] = (struct w32_block){NULL, 0};
    }
    proc->block_count = 0;
    proc->block_tombs = 0;
    uv_mutex_unlock(&proc->heap_lock);
}
