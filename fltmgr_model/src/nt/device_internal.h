/*
 * PRIVATE to fltmgr_model/src/nt: what device.c (device objects), namespace.c
 * (the object namespace, symbolic links) and irp.c (the IRPs the I/O manager
 * sends to a driver's own devices, their completion, fast I/O) share: the
 * concrete device object and IRP behind DEVICE_OBJECT and IRP, the parse of
 * a name, and the process-wide registry that tells a pointer a driver hands
 * back from anything else.
 *
 * Locks: a system's namespace, its devices' reference counts and states and
 * its drivers' device lists are guarded by sys->lock. The registry lock
 * (fltsim__io_registry_lock) guards the registry's lists and every IRP's
 * state; it is a leaf: nothing else is taken while it is held.
 */
#ifndef FLTSIM_DEVICE_INTERNAL_H
#define FLTSIM_DEVICE_INTERNAL_H

#include "model_internal.h"

#define FLTSIM_MAGIC_DEVICE 0x49564544 /* "DEVI" */
#define FLTSIM_MAGIC_IRP 0x20505249    /* "IRP " */

/* The I/O manager's object type codes (IO_TYPE_*). */
#define FLTSIM_IO_TYPE_DEVICE 3
#define FLTSIM_IO_TYPE_IRP 6

/* A device object a driver created (IoCreateDevice). object.DeviceExtension
 * points just past this record. */
struct fltsim_device {
    ULONG magic;
    fltsim_system *sys;
    struct fltsim_driver *driver;      /* memory valid until the device is freed */
    LIST_ENTRY sys_link;               /* the namespace's devices; sys->lock */
    LIST_ENTRY registry_link;          /* the registry's live devices; registry lock */
    UNICODE_STRING name;               /* canonical (\FileSystem\Filters\X); empty: unnamed */
    char name8[FLTSIM_NAME8_MAX + 32]; /* for traces and reports */
    bool in_namespace;                 /* its name can be opened; sys->lock */
    bool delete_pending; /* IoDeleteDevice was called (DOE_DELETE_PENDING); sys->lock */
    LONG irps;           /* IRPs sent to it and not handed back yet; sys->lock */
    /* object.ReferenceCount: file objects open on it; sys->lock */
    DEVICE_OBJECT object;
};

/* What the trace says of a request (irp.c). */
struct fltsim_req_view {
    ULONG64 op_id;
    enum fltsim_op_kind kind;
    UCHAR major, minor;
    char file[FLTSIM_NAME8_MAX * 3]; /* device name and FileName, UTF-8 */
};

/* The states of a device IRP (registry lock). */
enum fltsim_irp_state {
    FLTSIM_IRP_DISPATCHING, /* its dispatch routine runs */
    FLTSIM_IRP_PENDED,      /* returned STATUS_PENDING: the completer finishes it */
    FLTSIM_IRP_ABANDONED,   /* returned another status without completing it */
    FLTSIM_IRP_FINISHING    /* completed, being handed back; not completable */
};

/* An IRP the I/O manager sent to a driver's device, with its one stack
 * location right after it, as IoAllocateIrp lays them out. */
struct fltsim_irp {
    ULONG magic;
    fltsim_system *sys;
    struct fltsim_device *dev; /* a file object on it holds the device */
    struct fltsim_request *req;
    LIST_ENTRY registry_link; /* the registry's outstanding IRPs */
    enum fltsim_irp_state state;
    bool completing;       /* IofCompleteRequest was called; registry lock */
    bool completed;        /* ... and took IoStatus; registry lock */
    bool waiter_done;      /* the synchronous caller may go on; sys->lock */
    bool copy_back;        /* a buffered read: the system buffer goes to the caller's */
    void *system_buffer;   /* the I/O manager's (buffered I/O), freed at the end */
    PMDL mdl;              /* the I/O manager's (direct I/O), released at the end */
    IO_STATUS_BLOCK final; /* IoStatus as completed */
    IO_STATUS_BLOCK user_iosb;
    struct fltsim_req_view view;
    IRP irp;
    IO_STACK_LOCATION stack[1];
};

/* ---- the object namespace of a system (namespace.c; sys->lock) ---- */

struct fltsim_namespace {
    LIST_ENTRY devices; /* every device object of the system, named or not */
    LIST_ENTRY links;   /* symbolic links drivers created */
    ULONG next_generated;
};

/* sys->lock held: the namespace, made on first use; NULL when out of memory. */
struct fltsim_namespace *fltsim__ns_get_locked(fltsim_system *sys);

/* What a full name is. */
enum fltsim_ns_entity {
    FLTSIM_NS_NONE,
    FLTSIM_NS_DIRECTORY,
    FLTSIM_NS_DEVICE,
    FLTSIM_NS_VOLUME,
    FLTSIM_NS_LINK,
    FLTSIM_NS_DRIVER
};

/* Where a name leads. */
struct fltsim_ns_walk {
    enum fltsim_ns_entity kind; /* DIRECTORY, DEVICE or VOLUME when it succeeds */
    struct fltsim_device *device;
    PFLT_VOLUME volume;
    WCHAR *path; /* the name as finally parsed (links replaced); malloc */
    size_t len;
    size_t end; /* path[0..end) names the entity; path[end..len) is the rest */
};

/* sys->lock held. Parses name[0..len) as the object manager does, following
 * symbolic links, up to the first device object or volume (whose parse
 * routine gets the rest) or to the end. On success w->path is the caller's
 * to free. STATUS_OBJECT_PATH_SYNTAX_BAD, _NAME_INVALID, _NAME_NOT_FOUND,
 * _PATH_NOT_FOUND, _TYPE_MISMATCH (a driver object on the way). */
NTSTATUS fltsim__ns_walk_locked(fltsim_system *sys, const WCHAR *name, size_t len,
                                struct fltsim_ns_walk *w);
/* sys->lock held: the canonical full name (malloc'd into *out) an object
 * about to be created as name[0..len) gets; STATUS_OBJECT_NAME_COLLISION
 * when anything has it already, the parse's statuses for its parent. */
NTSTATUS fltsim__ns_new_name_locked(fltsim_system *sys, const WCHAR *name, size_t len,
                                    UNICODE_STRING *out);
/* A counted string a driver passed: its units, or STATUS_OBJECT_NAME_INVALID
 * for a malformed or empty one. */
NTSTATUS fltsim__ns_counted_name(PCUNICODE_STRING s, const WCHAR **buf, size_t *len);
/* sys->lock held: the symbolic links drv created are nobody's now (they
 * stay); their names are appended to names (size bytes), their number
 * returned. */
int fltsim__ns_links_disown_locked(fltsim_system *sys, struct fltsim_driver *drv, char *names,
                                   size_t size);
/* Frees the links and the namespace (its devices are gone). */
void fltsim__ns_destroy(fltsim_system *sys);

/* Reports (IO) a misuse of an IRP, a device object or a link, charged to
 * the code running on this thread; without a system (sys NULL and none on
 * the thread) it sets the last error instead. */
void fltsim__io_report(fltsim_system *sys, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- the registry of live device objects and outstanding IRPs (device.c) ---- */

void fltsim__io_registry_lock(void);
void fltsim__io_registry_unlock(void);
void fltsim__io_registry_add_irp(struct fltsim_irp *irp);
void fltsim__io_registry_remove_irp(struct fltsim_irp *irp);
/* Registry lock held: the record of an IRP the I/O manager has out, or NULL. */
struct fltsim_irp *fltsim__io_registry_find_irp_locked(PIRP irp);
/* Registry lock held: the head of the outstanding IRPs. */
PLIST_ENTRY fltsim__io_registry_irps(void);

/* The record of a device object that exists (delete pending included), or
 * NULL for anything else. Any thread. */
struct fltsim_device *fltsim__device_lookup(PDEVICE_OBJECT device);

/* An IRP sent to dev has been handed back (or freed): the last thing a
 * deleted device waited for may be gone. */
void fltsim__device_irp_done(struct fltsim_device *dev);

/* Whether the driver's code may still be charged for what it does: false
 * once it has unloaded (its memory kept for its devices). sys->lock not held. */
bool fltsim__device_driver_loaded(struct fltsim_device *dev);

/* Runs fn(ctx) as the code of dev's driver (pool, reports and key handles
 * charged to it while it is loaded), in an SEH frame: true when fn returned,
 * false when it raised an exception it did not handle, which has been
 * reported (SEH) naming what; *code then holds the status the work fails
 * with (irp.c). */
bool fltsim__device_call(struct fltsim_device *dev, void (*fn)(void *ctx), void *ctx,
                         const char *what, NTSTATUS *code);

/* ObReference/DereferenceObject on a driver's device object (delta +1/-1):
 * its ReferenceCount after, or -1 when object is none (irp_build.c). */
LONG_PTR fltsim__device_ob_ref(PVOID object, int delta);

/* Cancels the IRPs of sys still outstanding at its destruction (reported),
 * completing them with STATUS_CANCELLED so the I/O manager lets go of their
 * file objects, and frees the abandoned ones (irp.c). */
void fltsim__irps_system_destroyed(fltsim_system *sys);

#endif /* FLTSIM_DEVICE_INTERNAL_H */
