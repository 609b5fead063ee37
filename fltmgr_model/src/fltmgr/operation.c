/*
 * Operation memory and lifetime: each OS thread's cache of freed operations
 * (DESIGN decision 10: no allocation on the fast path), the references that
 * keep an operation alive, and the DONE state of its nodes that teardown
 * waits for. What an operation does with its memory is the rest of the
 * engine's (dispatch.c and the files of dispatch_internal.h).
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define FLTSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FLTSIM_ASAN 1
#endif
#endif
#ifdef FLTSIM_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* ---- operation memory ---- */

/* DESIGN decision 10: no allocation on the fast path. Each OS thread keeps
 * a few freed operations (with their lock still initialized) and reuses
 * them; whichever thread drops the last reference caches the memory, so an
 * operation issued on one thread and freed on another simply moves. Nothing
 * is shared between threads and nothing is locked. A thread's cache is freed
 * when the thread exits (a pthread key destructor; the main thread's stays
 * reachable until the process ends). Under AddressSanitizer cached
 * operations are poisoned, so a use after the last reference is still
 * reported. */
#define OP_CACHE_SLOTS 4

struct op_cache {
    struct fltsim_op *ops[OP_CACHE_SLOTS];
    ULONG count;
    bool registered; /* the key's destructor will run for this thread */
};

static _Thread_local struct op_cache op_cache;
static uv_once_t op_cache_once = UV_ONCE_INIT;
static pthread_key_t op_cache_key;
static bool op_cache_key_ok;

static size_t op_size(ULONG nodes)
{
    return sizeof(struct fltsim_op) + (size_t)nodes * sizeof(((struct fltsim_op *)0)->nodes[0]);
}

/* Frees operation memory for good (poisoned or not). */
static void op_release(struct fltsim_op *op)
{
    UNPOISON(&op->node_capacity, sizeof(op->node_capacity));
    UNPOISON(op, op_size(op->node_capacity));
    uv_mutex_destroy(&op->lock);
    free(op);
}

static void op_cache_destroy(void *arg)
{
    struct op_cache *c = arg;
    while (c->count > 0)
        op_release(c->ops[--c->count]);
}

static void op_cache_key_create(void)
{
    op_cache_key_ok = pthread_key_create(&op_cache_key, op_cache_destroy) == 0;
}

/* Zeroes bytes [from, to) of op in pieces of at most 64 bytes, which
 * compilers store inline; a single memset of a few hundred bytes becomes
 * `rep stos`, slow to start and to drain before the locked instruction that
 * follows. */
static inline void zero_range(struct fltsim_op *op, size_t from, size_t to)
{
    char *p = (char *)op;
    while (to - from >= 64) {
        memset(p + from, 0, 64);
        from += 64;
    }
    memset(p + from, 0, to - from);
}

struct fltsim_op *fltsim__op_alloc(ULONG nodes)
{
    struct op_cache *c = &op_cache;
    struct fltsim_op *op = NULL;
    /* The smallest that fits: a pended operation holds its memory as long
     * as it stays pended. */
    ULONG best = OP_CACHE_SLOTS, best_capacity = 0;
    for (ULONG k = 0; k < c->count; k++) {
        ULONG capacity;
        /* node_capacity is read while the rest stays poisoned. */
        UNPOISON(&c->ops[k]->node_capacity, sizeof(capacity));
        capacity = c->ops[k]->node_capacity;
        POISON(&c->ops[k]->node_capacity, sizeof(capacity));
        if (capacity >= nodes && (best == OP_CACHE_SLOTS || capacity < best_capacity)) {
            best = k;
            best_capacity = capacity;
        }
    }
    ULONG capacity;
    if (best != OP_CACHE_SLOTS) {
        op = c->ops[best];
        c->ops[best] = c->ops[--c->count];
        capacity = best_capacity;
        UNPOISON(op, op_size(capacity));
    } else {
        capacity = nodes;
        op = malloc(op_size(capacity));
        if (op == NULL)
            return NULL;
        if (uv_mutex_init(&op->lock) != 0) {
            free(op);
            return NULL;
        }
    }
    zero_range(op, 0, offsetof(struct fltsim_op, lock));
    zero_range(op, offsetof(struct fltsim_op, lock) + sizeof(op->lock),
               offsetof(struct fltsim_op, nodes));
    op->node_capacity = capacity;
    return op;
}

void fltsim__op_free(struct fltsim_op *op)
{
    op->magic = FLTSIM_MAGIC_DEAD;
    /* Reparse data nobody took (the issuer did not ask for it). */
    if (op->data.TagData != NULL) {
        ExFreePool(op->data.TagData);
        op->data.TagData = NULL;
    }
    struct op_cache *c = &op_cache;
    if (!c->registered) {
        uv_once(&op_cache_once, op_cache_key_create);
        if (op_cache_key_ok && pthread_setspecific(op_cache_key, c) == 0)
            c->registered = true;
    }
    if (!c->registered || c->count == OP_CACHE_SLOTS) {
        op_release(op);
        return;
    }
    POISON(op, op_size(op->node_capacity));
    c->ops[c->count++] = op;
}

/* ---- lifetime ---- */

void fltsim__op_ref(struct fltsim_op *op)
{
    __atomic_add_fetch(&op->refs, 1, __ATOMIC_SEQ_CST);
}

void fltsim__op_unref(struct fltsim_op *op)
{
    fltsim__op_unref_n(op, 1);
}

static inline void mark_done(struct fltsim_op *op, struct fltsim_node *node)
{
    /* Teardown waits until no node of its instance in flight is left
     * (fltsim__instance_has_ops, SPEC 2.6 step 4), looking again at each
     * broadcast. It sets the state before it looks; both sides are
     * sequentially consistent, so either it sees DONE or this sees its
     * state and wakes it. */
    __atomic_store_n(&node->state, FLTSIM_NODE_DONE, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&node->instance->state, __ATOMIC_SEQ_CST) != FLTSIM_INSTANCE_ATTACHED)
        fltsim__broadcast(op->sys);
}

/* A node whose pre swapped the buffer is done when its post is over: FltMgr
 * frees the MDL it swapped in then (SPEC 6.3), before teardown, which waits
 * for the node, can let its driver go. Out of line, so that the usual node
 * costs one test. */
__attribute__((noinline)) static void swapped_done(struct fltsim_op *op, struct fltsim_node *node)
{
    fltsim__swap_post_end(op, (ULONG)(node - op->nodes));
    mark_done(op, node);
}

void fltsim__node_done(struct fltsim_op *op, struct fltsim_node *node)
{
    /* Only DONE follows DONE: a done node needs no store (complete_op in
     * post.c passes every node here). Storing it twice (a drain and the
     * completion) is harmless. */
    if (__atomic_load_n(&node->state, __ATOMIC_ACQUIRE) == FLTSIM_NODE_DONE)
        return;
    if (__builtin_expect(node->swapped, 0)) {
        swapped_done(op, node);
        return;
    }
    mark_done(op, node);
}
