/*
 * Which file a stream belongs to, for file contexts (SPEC 7.1): a file
 * system declares the file of a stream's control block when the stream's
 * first file object opens (Windows: the FCB header's
 * FileContextSupportPointer, shared by the streams of one file), and the
 * declaration ends at the stream's teardown. File contexts are keyed on the
 * file; a stream never declared is a file of its own.
 */
#include <stdint.h>
#include <stdlib.h>

#include "dispatch_internal.h"

struct decl {
    void *stream;
    void *file;
    struct decl *next;
};

#define DECL_BUCKETS 256

static uv_once_t decl_once = UV_ONCE_INIT;
static uv_mutex_t decl_lock;
static struct decl *decls[DECL_BUCKETS]; /* decl_lock */

static void decl_init(void)
{
    if (uv_mutex_init(&decl_lock) != 0)
        abort();
}

static struct decl **bucket(const void *stream)
{
    return &decls[((uintptr_t)stream >> 4) % DECL_BUCKETS];
}

void fltsim_stream_file(void *fs_context, void *file_key)
{
    if (fs_context == NULL || file_key == NULL)
        return;
    uv_once(&decl_once, decl_init);
    uv_mutex_lock(&decl_lock);
    for (struct decl *d = *bucket(fs_context); d != NULL; d = d->next)
        if (d->stream == fs_context) {
            d->file = file_key;
            uv_mutex_unlock(&decl_lock);
            return;
        }
    struct decl *d = malloc(sizeof(*d));
    if (d == NULL) {
        fprintf(stderr, "fltsim: out of memory declaring a stream's file\n");
        abort();
    }
    d->stream = fs_context;
    d->file = file_key;
    d->next = *bucket(fs_context);
    *bucket(fs_context) = d;
    uv_mutex_unlock(&decl_lock);
}

void *fltsim__stream_file_key(void *fs_context)
{
    void *file = fs_context;
    uv_once(&decl_once, decl_init);
    uv_mutex_lock(&decl_lock);
    for (struct decl *d = *bucket(fs_context); d != NULL; d = d->next)
        if (d->stream == fs_context) {
            file = d->file;
            break;
        }
    uv_mutex_unlock(&decl_lock);
    return file;
}

void fltsim__stream_file_forget(void *fs_context)
{
    uv_once(&decl_once, decl_init);
    uv_mutex_lock(&decl_lock);
    for (struct decl **p = bucket(fs_context); *p != NULL; p = &(*p)->next)
        if ((*p)->stream == fs_context) {
            struct decl *d = *p;
            *p = d->next;
            free(d);
            break;
        }
    uv_mutex_unlock(&decl_lock);
}
