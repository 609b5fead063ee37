/*
 * The answers memfs and hostfs share for the requests that touch no data
 * (fs_shared.h): the FS-filter callbacks (acquire/release pairing, section
 * synchronization), IRP_MJ_FILE_SYSTEM_CONTROL, IRP_MJ_QUERY_EA and the fixed
 * security descriptor of IRP_MJ_QUERY_SECURITY / IRP_MJ_SET_SECURITY. Nothing
 * here is stored: neither file system keeps EAs, ACLs or object IDs (so
 * FSCTL_GET_OBJECT_ID answers as NTFS does for a file without one); reparse
 * points are fs_reparse.c's.
 */
#include <string.h>

#include "fs_core.h"

/* ------------------------------------------------------------------------- */
/* FS-filter callbacks                                                       */
/* ------------------------------------------------------------------------- */

/* One acquire/release pair's count: a release with no acquire is a broken
 * pairing, reported as STATUS_INVALID_DEVICE_STATE. */
static NTSTATUS pair(bool acquire, ULONG *count)
{
    if (acquire) {
        (*count)++;
        return STATUS_SUCCESS;
    }
    if (*count == 0)
        return STATUS_INVALID_DEVICE_STATE;
    (*count)--;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__fs_filter_callback(PFLT_CALLBACK_DATA data, struct fltsim__fs_acquires *c,
                                    const struct fltsim__fs_share *share)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    switch (iopb->MajorFunction) {
    case IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION: {
        NTSTATUS status = pair(true, &c->section);
        if (iopb->Parameters.AcquireForSectionSynchronization.SyncType != SyncTypeCreateSection)
            return status;
        /* NTFS tells the memory manager whether writers exist, so that it
         * can decide about image sections (SPEC 3.1). */
        return share->writers != 0 ? STATUS_FILE_LOCKED_WITH_WRITERS
                                   : STATUS_FILE_LOCKED_WITH_ONLY_READERS;
    }
    case IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION:
        return pair(false, &c->section);
    case IRP_MJ_ACQUIRE_FOR_MOD_WRITE:
        /* No ERESOURCE backs the file: nothing for the writer to release. */
        if (iopb->Parameters.AcquireForModifiedPageWriter.ResourceToRelease != NULL)
            *iopb->Parameters.AcquireForModifiedPageWriter.ResourceToRelease = NULL;
        return pair(true, &c->mod_write);
    case IRP_MJ_RELEASE_FOR_MOD_WRITE:
        return pair(false, &c->mod_write);
    case IRP_MJ_ACQUIRE_FOR_CC_FLUSH:
        return pair(true, &c->cc_flush);
    case IRP_MJ_RELEASE_FOR_CC_FLUSH:
        return pair(false, &c->cc_flush);
    default:
        return STATUS_SUCCESS;
    }
}

/* ------------------------------------------------------------------------- */
/* Controls, extended attributes, security                                   */
/* ------------------------------------------------------------------------- */

/* FSCTL_GET_OBJECT_ID: no file has an object ID (STATUS_OBJECTID_NOT_FOUND,
 * NTFS's answer then); a file deleted for good has none to give
 * (STATUS_FILE_DELETED), while an open of a deleted named stream whose file
 * remains gets the file's answer (the delete sample tells a stream's
 * deletion from its file's so). */
static NTSTATUS get_object_id(const struct fltsim__fs_file *file)
{
    if (file->kind == FLTSIM__FS_VOLUME)
        return STATUS_INVALID_PARAMETER;
    bool file_gone =
        file->unlinked && (!file->named_stream || file->perfile == NULL || file->perfile->deleted);
    return file_gone ? STATUS_FILE_DELETED : STATUS_OBJECTID_NOT_FOUND;
}

NTSTATUS fltsim__fs_fs_control(struct fltsim__fs *fs, struct fltsim__fs_open *o,
                               PFLT_CALLBACK_DATA data, ULONG_PTR *information)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    *information = 0;
    if (iopb->MinorFunction != IRP_MN_USER_FS_REQUEST && iopb->MinorFunction != IRP_MN_KERNEL_CALL)
        return STATUS_INVALID_DEVICE_REQUEST;
    switch (iopb->Parameters.FileSystemControl.Common.FsControlCode) {
    case FSCTL_SET_REPARSE_POINT:
    case FSCTL_GET_REPARSE_POINT:
    case FSCTL_DELETE_REPARSE_POINT:
        return fltsim__fs_reparse_control(fs, o, data, information);
    case FSCTL_IS_VOLUME_MOUNTED:
        return STATUS_SUCCESS;
    case FSCTL_GET_OBJECT_ID:
        return get_object_id(o->file);
    default:
        return STATUS_INVALID_DEVICE_REQUEST;
    }
}

NTSTATUS fltsim__fs_query_ea(PFLT_CALLBACK_DATA data, ULONG_PTR *information)
{
    (void)data;
    *information = 0;
    return STATUS_NO_EAS_ON_FILE;
}

/* The fixed descriptor's SIDs: S-1-5-32-544 (BUILTIN\Administrators) and
 * S-1-5-18 (SYSTEM), as SID bytes: revision, count, authority (6 bytes, big
 * endian), sub-authorities (little endian). */
static const UCHAR owner_sid[] = {1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0};
static const UCHAR group_sid[] = {1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0};

NTSTATUS fltsim__fs_query_security(PFLT_CALLBACK_DATA data, ULONG_PTR *information)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    SECURITY_INFORMATION what = iopb->Parameters.QuerySecurity.SecurityInformation;
    ULONG length = iopb->Parameters.QuerySecurity.Length;
    UCHAR *buf = iopb->Parameters.QuerySecurity.SecurityBuffer;
    *information = 0;

    SECURITY_DESCRIPTOR_RELATIVE sd;
    memset(&sd, 0, sizeof(sd));
    sd.Revision = SECURITY_DESCRIPTOR_REVISION;
    sd.Control = SE_SELF_RELATIVE;
    ULONG size = sizeof(sd);
    if (what & OWNER_SECURITY_INFORMATION) {
        sd.Owner = size;
        size += sizeof(owner_sid);
    }
    if (what & GROUP_SECURITY_INFORMATION) {
        sd.Group = size;
        size += sizeof(group_sid);
    }
    /* DACL and SACL asked for: none present (no SE_DACL_PRESENT: no DACL,
     * which grants everyone all access, as the file systems do). */
    if (length < size) {
        *information = size;
        return STATUS_BUFFER_OVERFLOW;
    }
    if (buf == NULL)
        return STATUS_INVALID_USER_BUFFER;
    memcpy(buf, &sd, sizeof(sd));
    if (sd.Owner != 0)
        memcpy(buf + sd.Owner, owner_sid, sizeof(owner_sid));
    if (sd.Group != 0)
        memcpy(buf + sd.Group, group_sid, sizeof(group_sid));
    *information = size;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__fs_set_security(PFLT_CALLBACK_DATA data)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    const SECURITY_DESCRIPTOR_RELATIVE *sd = iopb->Parameters.SetSecurity.SecurityDescriptor;
    SECURITY_INFORMATION what = iopb->Parameters.SetSecurity.SecurityInformation;
    const SECURITY_INFORMATION parts =
        OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION |
        SACL_SECURITY_INFORMATION | LABEL_SECURITY_INFORMATION | ATTRIBUTE_SECURITY_INFORMATION |
        SCOPE_SECURITY_INFORMATION | PROCESS_TRUST_LABEL_SECURITY_INFORMATION;
    if (sd == NULL || sd->Revision != SECURITY_DESCRIPTOR_REVISION ||
        !(sd->Control & SE_SELF_RELATIVE) || (what & parts) == 0)
        return STATUS_INVALID_SECURITY_DESCR;
    return STATUS_SUCCESS;
}
