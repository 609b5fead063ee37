/*
 * Opens by name through the simulated I/O manager: resolving a path to a
 * volume, the checks NtCreateFile makes before an IRP exists (parameters,
 * generic-rights mapping), the file object and IRP_MJ_CREATE with its access
 * state, and what a failed, reparsed or cancelled open leaves (no handle, no
 * close). A name no volume has is parsed through the model's object
 * namespace: a driver's device object (a control device object) is opened
 * like a file, and its requests go to that driver. Also the handle-less
 * IRP_MJ_NETWORK_QUERY_OPEN on a stack file object. Handles are made by
 * handle.c, file objects freed by iomgr.c.
 */
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"
#define IO_NAME_POOL_TAG 0x6d4e6f49u /* "IoNm": file object names */


/* ---- names ---- */

static bool is_sep(WCHAR c)
{
    return c == L'\\';
}

/* Resolves a path to a volume and the name relative to its root. A bare
 * volume name yields an empty remainder (a volume open). */
static NTSTATUS resolve_path(fltsim_system *sys, PCWSTR path, PFLT_VOLUME *volume,
                             PCWSTR *remainder)
{
    size_t len = fltsim_wcslen(path);
    const WCHAR *p = path;
    if (len >= 4 && p[0] == L'\\' && p[1] == L'?' && p[2] == L'?' && p[3] == L'\\') {
        p += 4;
        len -= 4;
    }
    if (len >= 2 && p[1] == L':' &&
        ((p[0] >= L'A' && p[0] <= L'Z') || (p[0] >= L'a' && p[0] <= L'z'))) {
        WCHAR drive[3] = {p[0], L':', 0};
        *volume = fltsim_volume_find(sys, drive);
        if (*volume == NULL)
            return STATUS_OBJECT_PATH_NOT_FOUND;
        *remainder = p + 2;
        return (len > 2 && !is_sep(p[2])) ? STATUS_OBJECT_PATH_SYNTAX_BAD : STATUS_SUCCESS;
    }
    if (len == 0 || !is_sep(p[0]))
        return STATUS_OBJECT_PATH_SYNTAX_BAD;
    /* \Device\Name\rest: the device name is the first two components. */
    size_t seps = 0, cut = len;
    for (size_t i = 0; i < len; i++) {
        if (is_sep(p[i]) && ++seps == 3) {
            cut = i;
            break;
        }
    }
    WCHAR device[256];
    if (cut >= sizeof(device) / sizeof(device[0]))
        return STATUS_OBJECT_PATH_NOT_FOUND;
    memcpy(device, p, cut * sizeof(WCHAR));
    device[cut] = 0;
    *volume = fltsim_volume_find(sys, device);
    if (*volume == NULL)
        return STATUS_OBJECT_PATH_NOT_FOUND;
    *remainder = p + cut;
    return STATUS_SUCCESS;
}

/* Where a name leads: a volume, with the name below it (in the caller's
 * path or in *owned), or a driver's device object (referenced for the file
 * object about to be opened), with the rest of the name in *owned. Volumes
 * by drive letter or device name first, as before; any other name is parsed
 * through the object namespace (devices, symbolic links, \\.\ and
 * \GLOBAL??\GLOBALROOT), whose status stands when nothing matches. *owned
 * (malloc, or NULL) is the caller's to free. */
static NTSTATUS resolve_target(fltsim_system *sys, PCWSTR path, PFLT_VOLUME *volume,
                               PDEVICE_OBJECT *device, PCWSTR *remainder, WCHAR **owned)
{
    *device = NULL;
    *owned = NULL;
    size_t len = fltsim_wcslen(path);
    bool win32_device =
        len >= 4 && path[0] == L'\\' && path[1] == L'\\' && path[2] == L'.' && path[3] == L'\\';
    NTSTATUS status = STATUS_OBJECT_PATH_NOT_FOUND;
    if (!win32_device) {
        status = resolve_path(sys, path, volume, remainder);
        /* Not an NT name at all ("a.txt", "C:a.txt"): nothing to parse. */
        if (NT_SUCCESS(status) || (status == STATUS_OBJECT_PATH_SYNTAX_BAD && path[0] != L'\\'))
            return status;
    }
    /* \\.\X is \??\X; a drive letter no volume has may be a driver's link. */
    bool dos =
        len >= 4 && path[0] == L'\\' && path[1] == L'?' && path[2] == L'?' && path[3] == L'\\';
    bool drive = (len >= 2 && path[1] == L':') || (dos && len >= 6 && path[5] == L':');
    size_t skip = win32_device ? 4 : 0;
    size_t prefix = win32_device || (drive && !dos) ? 4 : 0;
    WCHAR *name = malloc((prefix + len - skip + 1) * sizeof(WCHAR));
    WCHAR *rest = malloc((UNICODE_STRING_MAX_CHARS + 1) * sizeof(WCHAR));
    if (name == NULL || rest == NULL) {
        free(name);
        free(rest);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    memcpy(name, L"\\??\\", prefix * sizeof(WCHAR));
    memcpy(name + prefix, path + skip, (len - skip + 1) * sizeof(WCHAR));
    NTSTATUS found =
        fltsim_object_open(sys, name, volume, device, rest, UNICODE_STRING_MAX_CHARS + 1);
    free(name);
    if (!NT_SUCCESS(found)) {
        free(rest);
        /* A drive letter that names nothing keeps the volume lookup's status
         * (the path of a drive that is not there is not found). */
        return drive ? status : found;
    }
    *owned = rest;
    *remainder = rest;
    return STATUS_SUCCESS;
}

/* The I/O manager maps generic rights before the file system sees them
 * (io_internal.h). */
ACCESS_MASK fltsim__io_map_generic(ACCESS_MASK a)
{
    ACCESS_MASK m = a & ~(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL);
    if (a & GENERIC_READ)
        m |= FILE_GENERIC_READ;
    if (a & GENERIC_WRITE)
        m |= FILE_GENERIC_WRITE;
    if (a & GENERIC_EXECUTE)
        m |= FILE_GENERIC_EXECUTE;
    if (a & GENERIC_ALL)
        m |= FILE_ALL_ACCESS;
    if (a & MAXIMUM_ALLOWED)
        m = (m & ~(ACCESS_MASK)MAXIMUM_ALLOWED) | FILE_ALL_ACCESS; /* memfs has no ACLs */
    return m;
}

/* ---- create ---- */

static NTSTATUS check_create(const struct fltsim_create_params *p, ACCESS_MASK mapped)
{
    ULONG o = p->create_options;
    if (p->disposition > FILE_MAXIMUM_DISPOSITION || (o & ~(ULONG)FILE_VALID_OPTION_FLAGS) ||
        (p->share_access & ~(ULONG)FILE_SHARE_VALID_FLAGS) ||
        (p->file_attributes & ~(ULONG)FILE_ATTRIBUTE_VALID_FLAGS))
        return STATUS_INVALID_PARAMETER;
    bool alert = o & FILE_SYNCHRONOUS_IO_ALERT, nonalert = o & FILE_SYNCHRONOUS_IO_NONALERT;
    if ((alert && nonalert) || ((alert || nonalert) && !(mapped & SYNCHRONIZE)))
        return STATUS_INVALID_PARAMETER;
    if ((o & FILE_DIRECTORY_FILE) && (o & FILE_NON_DIRECTORY_FILE))
        return STATUS_INVALID_PARAMETER;
    if ((o & FILE_DIRECTORY_FILE) && p->disposition != FILE_CREATE && p->disposition != FILE_OPEN &&
        p->disposition != FILE_OPEN_IF)
        return STATUS_INVALID_PARAMETER;
    if ((o & FILE_DELETE_ON_CLOSE) && !(mapped & DELETE))
        return STATUS_INVALID_PARAMETER;
    if ((o & FILE_NO_INTERMEDIATE_BUFFERING) && (mapped & FILE_APPEND_DATA))
        return STATUS_INVALID_PARAMETER;
    return STATUS_SUCCESS;
}

/* What a STATUS_REPARSE leaves for the next create (r): the reparse data,
 * and the file object's name (from the volume root when it was opened
 * relative to another, for a relative symbolic link; as it stands for
 * IO_REPARSE, which names the whole path). */
static NTSTATUS keep_reparse(struct io_file *file, struct io_file *related,
                             const struct fltsim_request *req, struct fltsim__reparse *r)
{
    const UNICODE_STRING *n = &file->fo.FileName;
    const UNICODE_STRING *base =
        related != NULL && req->io_status.Information != IO_REPARSE ? &related->fo.FileName : NULL;
    size_t base_len = base != NULL ? base->Length / sizeof(WCHAR) : 0;
    size_t len = n->Length / sizeof(WCHAR);
    r->information = req->io_status.Information;
    r->tag_data = req->tag_data;
    r->volume = file->volume;
    r->name = malloc((base_len + 1 + len + 1) * sizeof(WCHAR));
    if (r->name == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (base_len != 0) {
        memcpy(r->name, base->Buffer, base_len * sizeof(WCHAR));
        if (r->name[base_len - 1] != L'\\')
            r->name[base_len++] = L'\\';
    }
    if (len != 0)
        memcpy(r->name + base_len, n->Buffer, len * sizeof(WCHAR));
    r->name_len = base_len + len;
    r->name[r->name_len] = 0;
    return STATUS_SUCCESS;
}

/* One IRP_MJ_CREATE; a STATUS_REPARSE fills r. */
static NTSTATUS create_once(fltsim_system *sys, const struct fltsim_create_params *p,
                            const struct fltsim_kernel_create *k, struct io_file **out,
                            IO_STATUS_BLOCK *iosb, struct fltsim__reparse *r)
{
    *out = NULL;
    struct iomgr *io = fltsim__iomgr_get(sys);
    if (io == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (p == NULL || p->path == NULL)
        return STATUS_INVALID_PARAMETER;
    ULONG io_flags = k != NULL ? k->io_flags : 0;
    ACCESS_MASK mapped = fltsim__io_map_generic(p->desired_access);
    /* IO_NO_PARAMETER_CHECKING: the caller vouches for its parameters; the
     * file system still checks what it checks. */
    NTSTATUS status =
        (io_flags & IO_NO_PARAMETER_CHECKING) ? STATUS_SUCCESS : check_create(p, mapped);
    if (!NT_SUCCESS(status))
        return status;
    bool user = !(p->flags & FLTSIM_IO_KERNEL_MODE);

    PFLT_VOLUME volume = NULL;
    PDEVICE_OBJECT device = NULL;
    PCWSTR name = NULL;
    WCHAR *owned = NULL;
    struct io_file *related = NULL;
    if (p->root_directory != NULL) {
        related = user && fltsim__is_kernel_handle(p->root_directory)
                      ? NULL
                      : fltsim__file_from_handle(io, p->root_directory, NULL);
        if (related == NULL)
            return STATUS_INVALID_HANDLE;
        if (p->path[0] == L'\\') {
            fltsim__file_unref(related);
            return STATUS_OBJECT_PATH_SYNTAX_BAD;
        }
        volume = related->volume;
        device = related->device;
        name = p->path;
        /* Relative to a device's file object: the same device's checks. */
        status = device != NULL ? fltsim_device_reference(device) : STATUS_SUCCESS;
        if (!NT_SUCCESS(status)) {
            fltsim__file_unref(related);
            return status;
        }
    } else {
        status = resolve_target(sys, p->path, &volume, &device, &name, &owned);
        if (!NT_SUCCESS(status))
            return status;
    }

    size_t nlen = fltsim_wcslen(name);
    /* A filter's open below its instance must stay on the instance's volume
     * (the instance is not in any other stack). */
    bool elsewhere = k != NULL && k->volume != NULL && (device != NULL || volume != k->volume);
    WCHAR *below = NULL;
    if (k != NULL && k->below_altitude != NULL && !elsewhere) {
        size_t blen = fltsim_wcslen(k->below_altitude);
        below = malloc((blen + 1) * sizeof(WCHAR));
        if (below != NULL)
            memcpy(below, k->below_altitude, (blen + 1) * sizeof(WCHAR));
    }
    struct io_file *file = nlen > UNICODE_STRING_MAX_CHARS || elsewhere ||
                                   (k != NULL && k->below_altitude != NULL && below == NULL)
                               ? NULL
                               : calloc(1, sizeof(*file));
    WCHAR *buffer = file == NULL
                        ? NULL
                        : fltsim_pool_allocate_system((nlen + 1) * sizeof(WCHAR), IO_NAME_POOL_TAG);
    if (buffer == NULL) {
        free(file);
        file = NULL;
    }
    if (file == NULL) {
        free(owned);
        free(below);
        if (device != NULL)
            fltsim_device_file_object_closed(device);
        if (related != NULL)
            fltsim__file_unref(related);
        if (elsewhere)
            return STATUS_INVALID_DEVICE_OBJECT_PARAMETER;
        return nlen > UNICODE_STRING_MAX_CHARS ? STATUS_OBJECT_NAME_INVALID
                                               : STATUS_INSUFFICIENT_RESOURCES;
    }
    file->below = below;
    file->ignore_sharing = (io_flags & IO_IGNORE_SHARE_ACCESS_CHECK) != 0;
    file->owner = k != NULL ? k->owner : NULL;
    file->refs = 1;
    file->volume = volume;
    file->device = device; /* its reference is the file object's now */
    memcpy(buffer, name, nlen * sizeof(WCHAR));
    free(owned);
    PFILE_OBJECT fo = &file->fo;
    fo->Type = 5; /* IO_TYPE_FILE */
    fo->Size = (CSHORT)sizeof(*fo);
    fo->FileObjectExtension = (PVOID)&fltsim__io_file_marker;
    fo->FileName.Buffer = buffer;
    fo->FileName.Length = (USHORT)(nlen * sizeof(WCHAR));
    fo->FileName.MaximumLength = (USHORT)((nlen + 1) * sizeof(WCHAR));
    fo->RelatedFileObject = related != NULL ? &related->fo : NULL;
    ULONG o = p->create_options;
    if (o & (FILE_SYNCHRONOUS_IO_ALERT | FILE_SYNCHRONOUS_IO_NONALERT))
        fo->Flags |= FO_SYNCHRONOUS_IO;
    if (o & FILE_SYNCHRONOUS_IO_ALERT)
        fo->Flags |= FO_ALERTABLE_IO;
    if (o & FILE_NO_INTERMEDIATE_BUFFERING)
        fo->Flags |= FO_NO_INTERMEDIATE_BUFFERING;
    if (o & FILE_WRITE_THROUGH)
        fo->Flags |= FO_WRITE_THROUGH;
    if (o & FILE_SEQUENTIAL_ONLY)
        fo->Flags |= FO_SEQUENTIAL_ONLY;
    if (o & FILE_RANDOM_ACCESS)
        fo->Flags |= FO_RANDOM_ACCESS;
    if (device != NULL) {
        fo->DeviceObject = device; /* no VPB: not a volume */
    } else {
        if (related == NULL && nlen == 0)
            fo->Flags |= FO_VOLUME_OPEN;
        fltsim_volume_file_object_opened(volume, fo);
    }

    file->access_state.OriginalDesiredAccess = p->desired_access;
    file->access_state.RemainingDesiredAccess = mapped;
    file->security.AccessState = &file->access_state;
    file->security.DesiredAccess = mapped;
    file->security.FullCreateOptions = o;

    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = IRP_MJ_CREATE;
    req.operation_flags = p->operation_flags;
    if (io_flags & IO_FORCE_ACCESS_CHECK)
        req.operation_flags |= SL_FORCE_ACCESS_CHECK;
    if (io_flags & IO_OPEN_TARGET_DIRECTORY)
        req.operation_flags |= SL_OPEN_TARGET_DIRECTORY;
    req.callback_flags = k != NULL ? k->callback_flags : 0;
    req.irp_flags = IRP_CREATE_OPERATION | IRP_SYNCHRONOUS_API | IRP_DEFER_IO_COMPLETION;
    req.parameters.Create.SecurityContext = &file->security;
    req.parameters.Create.Options = (p->disposition << 24) | (o & FILE_VALID_OPTION_FLAGS);
    req.parameters.Create.FileAttributes = (USHORT)p->file_attributes;
    req.parameters.Create.ShareAccess = (USHORT)p->share_access;
    req.parameters.Create.AllocationSize.QuadPart = p->allocation_size;
    PECP_LIST ecps = NULL;
    if (p->ecp_count != 0) {
        status = fltsim_ecp_list_create(p->ecps, p->ecp_count,
                                        (p->flags & FLTSIM_IO_KERNEL_MODE) ? KernelMode : UserMode,
                                        &ecps);
        if (!NT_SUCCESS(status)) {
            if (related != NULL)
                fltsim__file_unref(related);
            fltsim__file_free(file);
            return status;
        }
        req.ecp_list = ecps;
    } else if (k != NULL && k->ecp_list != NULL) {
        req.ecp_list = k->ecp_list; /* FltCreateFileEx2's: its caller frees it */
    }
    req.request_flags = FLTSIM_REQUEST_TAG_DATA;
    status = fltsim__io_dispatch(file, &req, p->flags, iosb);
    if (status == STATUS_REPARSE) {
        NTSTATUS kept = keep_reparse(file, related, &req, r);
        req.tag_data = NULL; /* r's now */
        if (!NT_SUCCESS(kept)) {
            status = kept;
            fltsim__set_iosb(iosb, status, 0);
        }
    } else if (req.tag_data != NULL) {
        ExFreePool(req.tag_data); /* a post left reparse data on another status */
    }
    /* The list goes with the create: the I/O manager's, or one a filter
     * attached (FltSetEcpListIntoCallbackData), as Windows frees the IRP's;
     * never the list FltCreateFileEx2's caller owns. */
    if (k == NULL || req.ecp_list != k->ecp_list)
        fltsim_ecp_list_free(req.ecp_list);
    if ((fo->Flags & FO_FILE_OPEN_CANCELLED) && NT_SUCCESS(status)) {
        /* The model fails a cancelled open (SPEC 4.5); never make a handle
         * for one even so. */
        status = STATUS_CANCELLED;
        fltsim__set_iosb(iosb, status, 0);
    }

    if (!NT_SUCCESS(status) || status == STATUS_REPARSE) {
        /* No IRP_MJ_CLOSE: the file system did not open it, or a filter
         * cancelled the open (FltCancelFileOpen already sent the close below
         * it), or, when a filter failed a successful create without
         * FltCancelFileOpen, the open leaks in the file system as on Windows
         * (the verifier reports it). The file object goes with its last
         * reference: a filter may still hold one (ObReferenceObject, as
         * avscan's scan context does), as on Windows. */
        if (related != NULL)
            fltsim__file_unref(related);
        fltsim__file_unref(file);
        return status;
    }
    fo->Flags |= FO_FILE_OPEN;
    if (related != NULL) {
        /* RelatedFileObject stays valid only during the create. */
        fo->RelatedFileObject = NULL;
        fltsim__file_unref(related);
    }
    *out = file;
    return status;
}

NTSTATUS fltsim__create_file_ex(fltsim_system *sys, const struct fltsim_create_params *p,
                                const struct fltsim_kernel_create *k, struct io_file **out,
                                IO_STATUS_BLOCK *iosb)
{
    struct fltsim_create_params cur;
    WCHAR *path = NULL; /* the name a reparse led to */
    NTSTATUS status;
    if (p == NULL)
        return create_once(sys, p, k, out, iosb, NULL);
    cur = *p;
    for (ULONG reparses = 0;; reparses++) {
        struct fltsim__reparse r;
        memset(&r, 0, sizeof(r));
        status = create_once(sys, &cur, k, out, iosb, &r);
        if (status != STATUS_REPARSE)
            break;
        /* Windows follows 63 reparse points in one path; the 64th is one
         * too many (a loop, or a chain too long). */
        WCHAR *next = NULL;
        status = reparses == FLTSIM__MAX_REPARSES ? STATUS_REPARSE_POINT_NOT_RESOLVED
                                                  : fltsim__reparse_next(&r, &next);
        fltsim__reparse_free(&r);
        free(path);
        path = next;
        if (!NT_SUCCESS(status)) {
            fltsim__set_iosb(iosb, status, 0);
            break;
        }
        /* Reissued from the root: the new name is complete. */
        cur.path = path;
        cur.root_directory = NULL;
    }
    free(path);
    return status;
}

NTSTATUS fltsim__create_file(fltsim_system *sys, const struct fltsim_create_params *p,
                             struct io_file **out, IO_STATUS_BLOCK *iosb)
{
    return fltsim__create_file_ex(sys, p, NULL, out, iosb);
}

NTSTATUS fltsim__create_handle(fltsim_system *sys, const struct fltsim_create_params *params,
                               const struct fltsim_kernel_create *k, bool kernel_handle,
                               HANDLE *handle, struct io_file **referenced, IO_STATUS_BLOCK *iosb)
{
    *handle = NULL;
    if (referenced != NULL)
        *referenced = NULL;
    struct io_file *file;
    NTSTATUS status = fltsim__create_file_ex(sys, params, k, &file, iosb);
    if (file == NULL) {
        if (iosb != NULL && iosb->Status != status)
            fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    ACCESS_MASK granted = fltsim__io_map_generic(params->desired_access);
    /* Counted before the handle exists, so nothing can close it first. */
    file->handles = 1;
    file->fo.Flags |= FO_HANDLE_CREATED;
    if (referenced != NULL)
        file->refs++; /* the caller's own reference */
    NTSTATUS hs =
        fltsim__handle_insert(fltsim__iomgr_get(sys), file, granted, kernel_handle, handle);
    if (!NT_SUCCESS(hs)) {
        /* The open succeeded but no handle can be made: clean up and close. */
        if (referenced != NULL)
            file->refs--;
        fltsim__file_handle_closed(file);
        fltsim__set_iosb(iosb, hs, 0);
        return hs;
    }
    if (referenced != NULL)
        *referenced = file;
    return status;
}

NTSTATUS fltsim_io_create(fltsim_system *sys, const struct fltsim_create_params *params,
                          HANDLE *handle, IO_STATUS_BLOCK *iosb)
{
    if (sys == NULL || handle == NULL)
        return STATUS_INVALID_PARAMETER;
    return fltsim__create_handle(sys, params, NULL, false, handle, NULL, iosb);
}

NTSTATUS fltsim_io_open(fltsim_system *sys, PCWSTR path, ACCESS_MASK access, HANDLE *handle)
{
    struct fltsim_create_params p;
    memset(&p, 0, sizeof(p));
    p.path = path;
    p.desired_access = access | SYNCHRONIZE;
    p.share_access = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
    p.disposition = FILE_OPEN;
    p.create_options = FILE_SYNCHRONOUS_IO_NONALERT;
    return fltsim_io_create(sys, &p, handle, NULL);
}

/* ---- query open ---- */

NTSTATUS fltsim_io_query_open(fltsim_system *sys, PCWSTR path, FILE_INFORMATION_CLASS info_class,
                              void *buffer, ULONG length, IO_STATUS_BLOCK *iosb)
{
    NTSTATUS status = STATUS_SUCCESS;
    PFLT_VOLUME volume = NULL;
    PDEVICE_OBJECT device = NULL;
    PCWSTR name = NULL;
    WCHAR *owned = NULL;
    ULONG need = info_class == FileBasicInformation ? (ULONG)sizeof(FILE_BASIC_INFORMATION)
                                                    : (ULONG)sizeof(FILE_NETWORK_OPEN_INFORMATION);
    if (sys == NULL || path == NULL ||
        (info_class != FileBasicInformation && info_class != FileNetworkOpenInformation))
        status = STATUS_INVALID_PARAMETER;
    else if (buffer == NULL || length < need)
        status = STATUS_INFO_LENGTH_MISMATCH;
    else
        status = resolve_target(sys, path, &volume, &device, &name, &owned);
    if (NT_SUCCESS(status) && fltsim_wcslen(name) > UNICODE_STRING_MAX_CHARS)
        status = STATUS_OBJECT_NAME_INVALID;
    if (!NT_SUCCESS(status)) {
        free(owned);
        if (device != NULL)
            fltsim_device_file_object_closed(device);
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }

    /* The I/O manager's stack-based file object: never opened, so no
     * cleanup or close follows, and nobody may keep a reference to it. */
    FILE_OBJECT fo;
    memset(&fo, 0, sizeof(fo));
    fo.Type = 5; /* IO_TYPE_FILE */
    fo.Size = (CSHORT)sizeof(fo);
    RtlInitUnicodeString(&fo.FileName, name);
    if (device != NULL)
        fo.DeviceObject = device; /* the driver's FastIoQueryOpen answers, or nobody */
    else
        fltsim_volume_file_object_opened(volume, &fo);

    /* The create IRP of the open the query stands for, as the I/O manager
     * hands it to the filters (simrep reads its stack location's flags and
     * create options): never sent to a file system or completed. */
    struct {
        IRP irp;
        IO_STACK_LOCATION stack[1];
    } create;
    memset(&create, 0, sizeof(create));
    IO_SECURITY_CONTEXT security;
    memset(&security, 0, sizeof(security));
    security.DesiredAccess = FILE_READ_ATTRIBUTES | SYNCHRONIZE;
    create.irp.Type = 6; /* IO_TYPE_IRP */
    create.irp.Size = IoSizeOfIrp(1);
    create.irp.StackCount = 1;
    create.irp.CurrentLocation = 1;
    create.irp.Tail.Overlay.CurrentStackLocation = &create.stack[0];
    create.irp.Tail.Overlay.Thread = fltsim_thread_current();
    create.irp.Tail.Overlay.OriginalFileObject = &fo;
    create.irp.RequestorMode = UserMode;
    create.irp.Flags = IRP_CREATE_OPERATION | IRP_SYNCHRONOUS_API;
    create.stack[0].MajorFunction = IRP_MJ_CREATE;
    create.stack[0].FileObject = &fo;
    create.stack[0].DeviceObject = fo.DeviceObject;
    create.stack[0].Parameters.Create.SecurityContext = &security;
    create.stack[0].Parameters.Create.Options = (ULONG)FILE_OPEN << 24;
    create.stack[0].Parameters.Create.ShareAccess =
        FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

    FILE_NETWORK_OPEN_INFORMATION info;
    memset(&info, 0, sizeof(info));
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_FAST_IO;
    req.major = IRP_MJ_NETWORK_QUERY_OPEN;
    req.file_object = &fo;
    req.requestor_mode = UserMode;
    req.parameters.NetworkQueryOpen.Irp = &create.irp;
    req.parameters.NetworkQueryOpen.NetworkInformation = &info;
    status = device != NULL ? fltsim_device_dispatch(device, &req)
                            : fltsim_request_dispatch(volume, &req);
    if (req.op_id != 0)
        status = req.io_status.Status;
    if (device != NULL)
        fltsim_device_file_object_closed(device);
    else
        fltsim_volume_file_object_closed(volume, &fo);
    free(owned);
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    if (info_class == FileBasicInformation) {
        FILE_BASIC_INFORMATION basic;
        memset(&basic, 0, sizeof(basic));
        basic.CreationTime = info.CreationTime;
        basic.LastAccessTime = info.LastAccessTime;
        basic.LastWriteTime = info.LastWriteTime;
        basic.ChangeTime = info.ChangeTime;
        basic.FileAttributes = info.FileAttributes;
        memcpy(buffer, &basic, sizeof(basic));
    } else {
        memcpy(buffer, &info, sizeof(info));
    }
    fltsim__set_iosb(iosb, status, need);
    return status;
}
