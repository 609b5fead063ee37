/*
 * The check the I/O manager makes on a self-relative security descriptor a
 * caller hands in (RtlValidRelativeSecurityDescriptor): revision, the
 * self-relative flag, and every SID and ACL header it points at lying inside
 * the buffer. The file systems store descriptors as opaque bytes; this is the
 * one place that reads their layout.
 */
#include <string.h>

#include "sim_internal.h"

/* A SID at d[at..length): revision 1, at most 15 sub-authorities, inside. */
static bool sid_valid(const UCHAR *d, ULONG length, ULONG at)
{
    if (at > length || length - at < 8 || d[at] != SID_REVISION || d[at + 1] > 15)
        return false;
    return length - at >= 8u + 4u * d[at + 1];
}

/* An ACL header at d[at..length): revision 2 or 4, its size inside. */
static bool acl_valid(const UCHAR *d, ULONG length, ULONG at)
{
    ACL acl;
    if (at > length || length - at < sizeof(acl))
        return false;
    memcpy(&acl, d + at, sizeof(acl));
    return (acl.AclRevision == 2 || acl.AclRevision == 4) && acl.AclSize >= sizeof(acl) &&
           acl.AclSize <= length - at;
}

bool fltsim__security_descriptor_valid(const void *d, ULONG length)
{
    SECURITY_DESCRIPTOR_RELATIVE sd;
    if (d == NULL || length < sizeof(sd))
        return false;
    memcpy(&sd, d, sizeof(sd));
    if (sd.Revision != SECURITY_DESCRIPTOR_REVISION || !(sd.Control & SE_SELF_RELATIVE))
        return false;
    const UCHAR *b = d;
    if (sd.Owner != 0 && !sid_valid(b, length, sd.Owner))
        return false;
    if (sd.Group != 0 && !sid_valid(b, length, sd.Group))
        return false;
    if ((sd.Control & SE_DACL_PRESENT) && sd.Dacl != 0 && !acl_valid(b, length, sd.Dacl))
        return false;
    if ((sd.Control & SE_SACL_PRESENT) && sd.Sacl != 0 && !acl_valid(b, length, sd.Sacl))
        return false;
    return true;
}
