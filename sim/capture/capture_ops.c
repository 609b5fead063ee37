/*
 * The ProcMon file-system operation table (TRACES.md 1.6): every name ProcMon
 * displays for a file-system event, the PML operation number (20 + the signed
 * MajorFunction), the sub-operation (minor function or information class)
 * that selects the name, and the path the operation takes through FltMgr.
 * The sub-operation names and numbers are ProcMon's display strings, checked
 * against the CSV+PML pairs in ../shared/traces/procmon-parser/.
 */
#include <string.h>

#include <fltsim/capture.h>

#define IRP FLTSIM_CAPTURE_IRP
#define FIO FLTSIM_CAPTURE_FAST_IO
#define FSF FLTSIM_CAPTURE_FS_FILTER
#define EITHER FLTSIM_CAPTURE_IRP_OR_FAST_IO

/* pml_op = 20 + (signed char)major; major as UCHAR. */
#define OP(name, pml, sub, path) {name, pml, (UCHAR)((pml) - 20), sub, path}

static const struct fltsim_capture_op ops[] = {
    OP("VolumeDismount", 0, -1, IRP),
    OP("VolumeMount", 1, -1, IRP),
    OP("FASTIO_MDL_WRITE_COMPLETE", 2, -1, FIO),
    OP("FASTIO_PREPARE_MDL_WRITE", 3, -1, FIO),
    OP("FASTIO_MDL_READ_COMPLETE", 4, -1, FIO),
    OP("FASTIO_MDL_READ", 5, -1, FIO),
    OP("QueryOpen", 6, -1, FIO),
    OP("FASTIO_CHECK_IF_POSSIBLE", 7, -1, FIO),
    OP("IRP_MJ_12", 8, -1, IRP),
    OP("IRP_MJ_11", 9, -1, IRP),
    OP("IRP_MJ_10", 10, -1, IRP),
    OP("IRP_MJ_9", 11, -1, IRP),
    OP("IRP_MJ_8", 12, -1, IRP),
    OP("FASTIO_NOTIFY_STREAM_FO_CREATION", 13, -1, FSF),
    OP("FASTIO_RELEASE_FOR_CC_FLUSH", 14, -1, FSF),
    OP("FASTIO_ACQUIRE_FOR_CC_FLUSH", 15, -1, FSF),
    OP("FASTIO_RELEASE_FOR_MOD_WRITE", 16, -1, FSF),
    OP("FASTIO_ACQUIRE_FOR_MOD_WRITE", 17, -1, FSF),
    OP("FASTIO_RELEASE_FOR_SECTION_SYNCHRONIZATION", 18, -1, FSF),
    OP("CreateFileMapping", 19, -1, FSF),
    OP("CreateFile", 20, -1, IRP),
    OP("CreatePipe", 21, -1, IRP),
    OP("IRP_MJ_CLOSE", 22, -1, IRP),
    OP("ReadFile", 23, -1, EITHER),
    OP("WriteFile", 24, -1, EITHER),
    /* IRP_MJ_QUERY_INFORMATION: FILE_INFORMATION_CLASS */
    OP("QueryBasicInformationFile", 25, 4, EITHER),
    OP("QueryStandardInformationFile", 25, 5, EITHER),
    OP("QueryFileInternalInformationFile", 25, 6, IRP),
    OP("QueryEaInformationFile", 25, 7, IRP),
    OP("QueryNameInformationFile", 25, 9, IRP),
    OP("QueryPositionInformationFile", 25, 14, IRP),
    OP("QueryAllInformationFile", 25, 18, IRP),
    OP("QueryEndOfFile", 25, 20, IRP),
    OP("QueryStreamInformationFile", 25, 22, IRP),
    OP("QueryCompressionInformationFile", 25, 28, IRP),
    OP("QueryId", 25, 29, IRP),
    OP("QueryMoveClusterInformationFile", 25, 31, IRP),
    OP("QueryNetworkOpenInformationFile", 25, 34, EITHER),
    OP("QueryAttributeTagFile", 25, 35, IRP),
    OP("QueryIdBothDirectory", 25, 37, IRP),
    OP("QueryValidDataLength", 25, 39, IRP),
    OP("QueryShortNameInformationFile", 25, 40, IRP),
    OP("QueryIoPiorityHint", 25, 43, IRP),
    OP("QueryLinks", 25, 46, IRP),
    OP("QueryNormalizedNameInformationFile", 25, 48, IRP),
    OP("QueryNetworkPhysicalNameInformationFile", 25, 49, IRP),
    OP("QueryIdGlobalTxDirectoryInformation", 25, 50, IRP),
    OP("QueryIsRemoteDeviceInformation", 25, 51, IRP),
    OP("QueryAttributeCacheInformation", 25, 52, IRP),
    OP("QueryNumaNodeInformation", 25, 53, IRP),
    OP("QueryStandardLinkInformation", 25, 54, IRP),
    OP("QueryRemoteProtocolInformation", 25, 55, IRP),
    OP("QueryRenameInformationBypassAccessCheck", 25, 56, IRP),
    OP("QueryLinkInformationBypassAccessCheck", 25, 57, IRP),
    OP("QueryVolumeNameInformation", 25, 58, IRP),
    OP("QueryIdInformation", 25, 59, IRP),
    OP("QueryIdExtdDirectoryInformation", 25, 60, IRP),
    OP("QueryHardLinkFullIdInformation", 25, 62, IRP),
    OP("QueryIdExtdBothDirectoryInformation", 25, 63, IRP),
    OP("QueryDesiredStorageClassInformation", 25, 67, IRP),
    OP("QueryStatInformation", 25, 68, IRP),
    OP("QueryMemoryPartitionInformation", 25, 69, IRP),
    /* IRP_MJ_SET_INFORMATION: FILE_INFORMATION_CLASS */
    OP("SetBasicInformationFile", 26, 4, IRP),
    OP("SetRenameInformationFile", 26, 10, IRP),
    OP("SetLinkInformationFile", 26, 11, IRP),
    OP("SetDispositionInformationFile", 26, 13, IRP),
    OP("SetPositionInformationFile", 26, 14, IRP),
    OP("SetAllocationInformationFile", 26, 19, IRP),
    OP("SetEndOfFileInformationFile", 26, 20, IRP),
    OP("SetFileStreamInformation", 26, 22, IRP),
    OP("SetPipeInformation", 26, 23, IRP),
    OP("SetValidDataLengthInformationFile", 26, 39, IRP),
    OP("SetShortNameInformation", 26, 40, IRP),
    OP("SetReplaceCompletionInformation", 26, 61, IRP),
    OP("SetDispositionInformationEx", 26, 64, IRP),
    OP("SetRenameInformationEx", 26, 65, IRP),
    OP("SetRenameInformationExBypassAccessCheck", 26, 66, IRP),
    OP("QueryEAFile", 27, -1, IRP),
    OP("SetEAFile", 28, -1, IRP),
    OP("FlushBuffersFile", 29, -1, IRP),
    /* IRP_MJ_QUERY_VOLUME_INFORMATION: FS_INFORMATION_CLASS */
    OP("QueryInformationVolume", 30, 1, IRP),
    OP("QueryLabelInformationVolume", 30, 2, IRP),
    OP("QuerySizeInformationVolume", 30, 3, IRP),
    OP("QueryDeviceInformationVolume", 30, 4, IRP),
    OP("QueryAttributeInformationVolume", 30, 5, IRP),
    OP("QueryControlInformationVolume", 30, 6, IRP),
    OP("QueryFullSizeInformationVolume", 30, 7, IRP),
    OP("QueryObjectIdInformationVolume", 30, 8, IRP),
    /* IRP_MJ_SET_VOLUME_INFORMATION (TRACES.md: class numbers unverified) */
    OP("SetControlInformationVolume", 31, 1, IRP),
    OP("SetLabelInformationVolume", 31, 2, IRP),
    OP("SetObjectIdInformationVolume", 31, 8, IRP),
    /* IRP_MJ_DIRECTORY_CONTROL: IRP_MN_* */
    OP("QueryDirectory", 32, 1, IRP),
    OP("NotifyChangeDirectory", 32, 2, IRP),
    OP("FileSystemControl", 33, -1, IRP),
    OP("DeviceIoControl", 34, -1, EITHER),
    OP("InternalDeviceIoControl", 35, -1, IRP),
    OP("Shutdown", 36, -1, IRP),
    /* IRP_MJ_LOCK_CONTROL: IRP_MN_* */
    OP("LockFile", 37, 1, EITHER),
    OP("UnlockFileSingle", 37, 2, EITHER),
    OP("UnlockFileAll", 37, 3, EITHER),
    OP("UnlockFileByKey", 37, 4, EITHER),
    OP("CloseFile", 38, -1, IRP),
    OP("CreateMailSlot", 39, -1, IRP),
    OP("QuerySecurityFile", 40, -1, IRP),
    OP("SetSecurityFile", 41, -1, IRP),
    OP("Power", 42, -1, IRP),
    OP("SystemControl", 43, -1, IRP),
    OP("DeviceChange", 44, -1, IRP),
    OP("QueryFileQuota", 45, -1, IRP),
    OP("SetFileQuota", 46, -1, IRP),
    OP("PlugAndPlay", 47, -1, IRP),
};

/* Operations whose name depends on the sub-operation. */
static bool has_subs(int pml_op)
{
    return pml_op == 25 || pml_op == 26 || pml_op == 30 || pml_op == 31 || pml_op == 32 ||
           pml_op == 37;
}

const struct fltsim_capture_op *fltsim_capture_op_by_name(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(ops[i].name, name) == 0)
            return &ops[i];
    return NULL;
}

const struct fltsim_capture_op *fltsim_capture_op_by_code(int pml_op, int sub)
{
    bool subs = has_subs(pml_op);
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (ops[i].pml_op == pml_op && (!subs || ops[i].sub == sub))
            return &ops[i];
    return NULL;
}
