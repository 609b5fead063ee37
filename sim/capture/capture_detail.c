/*
 * The Detail decoder for CSV and XML captures (TRACES.md 1.5). A Detail is
 * "Key: Value" pairs joined with ", "; values hold ", " too (flag lists), so
 * the text is split only where ", " is followed by a key known for the
 * operation and ": ". Each operation family has a table of the keys it
 * prints; keys we do not decode are listed as ignored so their values stay
 * out of their neighbours', and keys in no table are skipped. Numbers are
 * read with the shared parsers of capture_number.c.
 */
#include <stdio.h>
#include <string.h>

#include "capture_internal.h"
/* ---- Detail keys -------------------------------------------------------- */

enum key_kind {
    K_IGNORE,
    K_ACCESS,
    K_DISPOSITION,
    K_OPTIONS,
    K_ATTRIBUTES,    /* letters into file_attributes */
    K_QUERIED_ATTRS, /* letters into queried_attributes */
    K_SHARE,
    K_ALLOCATION,
    K_OPEN_RESULT,
    K_OFFSET,
    K_LENGTH,
    K_IO_FLAGS,
    K_INFO_CLASS,
    K_DIR_FILTER, /* the QueryDirectory search filter: file_name */
    K_CONTROL,
    K_SYNC_TYPE,
    K_PAGE_PROTECTION,
    K_DELETE,
    K_DISPOSITION_FLAGS,
    K_REPLACE,
    K_FILE_NAME,
    K_SECURITY_INFO,
    K_NOTIFY_FILTER,
    K_END_OF_FILE,
    K_EXCLUSIVE,
    K_FAIL_IMMEDIATELY,
    K_ENDING_OFFSET
};

struct detail_key {
    const char *name;
    enum key_kind kind;
};

#define KEYS(name, ...) static const struct detail_key name[] = {__VA_ARGS__, {NULL, K_IGNORE}}

KEYS(create_keys, {"Desired Access", K_ACCESS}, {"Disposition", K_DISPOSITION},
     {"Options", K_OPTIONS}, {"Attributes", K_ATTRIBUTES}, {"ShareMode", K_SHARE},
     {"AllocationSize", K_ALLOCATION}, {"Impersonating", K_IGNORE}, {"OpenResult", K_OPEN_RESULT});
KEYS(rw_keys, {"Offset", K_OFFSET}, {"Length", K_LENGTH}, {"I/O Flags", K_IO_FLAGS},
     {"Priority", K_IGNORE});
/* Basic, NetworkOpen (whose AllocationSize and EndOfFile ProcMon prints as
 * dates, so they are not decoded), All (Basic + Standard + more). */
KEYS(query_basic_keys, {"CreationTime", K_IGNORE}, {"LastAccessTime", K_IGNORE},
     {"LastWriteTime", K_IGNORE}, {"ChangeTime", K_IGNORE}, {"AllocationSize", K_IGNORE},
     {"EndOfFile", K_IGNORE}, {"FileAttributes", K_QUERIED_ATTRS});
KEYS(query_standard_keys, {"AllocationSize", K_IGNORE}, {"EndOfFile", K_END_OF_FILE},
     {"NumberOfLinks", K_IGNORE}, {"DeletePending", K_IGNORE}, {"Directory", K_IGNORE});
KEYS(query_all_keys, {"CreationTime", K_IGNORE}, {"LastAccessTime", K_IGNORE},
     {"LastWriteTime", K_IGNORE}, {"ChangeTime", K_IGNORE}, {"FileAttributes", K_QUERIED_ATTRS},
     {"AllocationSize", K_IGNORE}, {"EndOfFile", K_END_OF_FILE}, {"NumberOfLinks", K_IGNORE},
     {"DeletePending", K_IGNORE}, {"Directory", K_IGNORE}, {"IndexNumber", K_IGNORE},
     {"EaSize", K_IGNORE}, {"Access", K_IGNORE}, {"Position", K_IGNORE}, {"Mode", K_IGNORE},
     {"AlignmentRequirement", K_IGNORE}, {"Name", K_IGNORE});
KEYS(query_tag_keys, {"Attributes", K_QUERIED_ATTRS}, {"ReparseTag", K_IGNORE});
KEYS(set_basic_keys, {"CreationTime", K_IGNORE}, {"LastAccessTime", K_IGNORE},
     {"LastWriteTime", K_IGNORE}, {"ChangeTime", K_IGNORE}, {"FileAttributes", K_ATTRIBUTES});
KEYS(rename_keys, {"ReplaceIfExists", K_REPLACE}, {"FileName", K_FILE_NAME});
KEYS(disposition_keys, {"Delete", K_DELETE});
KEYS(disposition_ex_keys, {"Flags", K_DISPOSITION_FLAGS});
KEYS(set_allocation_keys, {"AllocationSize", K_END_OF_FILE});
KEYS(set_eof_keys, {"EndOfFile", K_END_OF_FILE});
KEYS(set_vdl_keys, {"ValidDataLength", K_END_OF_FILE});
KEYS(query_dir_keys, {"Filter", K_DIR_FILTER}, {"FileInformationClass", K_INFO_CLASS});
KEYS(notify_keys, {"Filter", K_NOTIFY_FILTER});
KEYS(control_keys, {"Control", K_CONTROL}, {"Offset", K_OFFSET}, {"Length", K_LENGTH});
KEYS(mapping_keys, {"SyncType", K_SYNC_TYPE}, {"PageProtection", K_PAGE_PROTECTION});
KEYS(lock_keys, {"Exclusive", K_EXCLUSIVE}, {"Offset", K_OFFSET}, {"Length", K_LENGTH},
     {"Fail Immediately", K_FAIL_IMMEDIATELY}, {"Key", K_IGNORE});
KEYS(security_keys, {"Information", K_SECURITY_INFO});
KEYS(mod_write_keys, {"EndingOffset", K_ENDING_OFFSET});
KEYS(no_keys, {"", K_IGNORE});

static const struct detail_key *keys_for(const struct fltsim_capture_op *op)
{
    switch (op->pml_op) {
    case 20: /* CreateFile */
    case 21: /* CreatePipe */
    case 39: /* CreateMailSlot */
        return create_keys;
    case 23: /* ReadFile */
    case 24: /* WriteFile */
        return rw_keys;
    case 25: /* IRP_MJ_QUERY_INFORMATION */
        switch (op->sub) {
        case 4:  /* Basic */
        case 34: /* NetworkOpen */
            return query_basic_keys;
        case 5:
            return query_standard_keys;
        case 18:
            return query_all_keys;
        case 35:
            return query_tag_keys;
        default:
            return no_keys;
        }
    case 26: /* IRP_MJ_SET_INFORMATION */
        switch (op->sub) {
        case 4:
            return set_basic_keys;
        case 10: /* Rename */
        case 11: /* Link */
        case 65: /* RenameEx */
        case 66: /* RenameExBypassAccessCheck */
            return rename_keys;
        case 13:
            return disposition_keys;
        case 64:
            return disposition_ex_keys;
        case 19:
            return set_allocation_keys;
        case 20:
            return set_eof_keys;
        case 39:
            return set_vdl_keys;
        default:
            return no_keys;
        }
    case 32: /* IRP_MJ_DIRECTORY_CONTROL */
        return op->sub == 1 ? query_dir_keys : op->sub == 2 ? notify_keys : no_keys;
    case 33: /* FileSystemControl */
    case 34: /* DeviceIoControl */
    case 35: /* InternalDeviceIoControl */
        return control_keys;
    case 19: /* CreateFileMapping */
        return mapping_keys;
    case 37: /* IRP_MJ_LOCK_CONTROL */
        return lock_keys;
    case 40: /* QuerySecurityFile */
    case 41: /* SetSecurityFile */
        return security_keys;
    case 17: /* FASTIO_ACQUIRE_FOR_MOD_WRITE */
        return mod_write_keys;
    default:
        return no_keys;
    }
}

/* The key of keys that text at p starts with, followed by ": "; for
 * QueryDirectory also the numbered entries ("12: name"), as K_IGNORE. */
static const struct detail_key *key_at(const struct detail_key *keys, const char *p,
                                       const char *end)
{
    static const struct detail_key entry = {"", K_IGNORE};
    for (const struct detail_key *k = keys; k->name != NULL; k++) {
        size_t len = strlen(k->name);
        if (len > 0 && (size_t)(end - p) >= len + 2 && memcmp(p, k->name, len) == 0 &&
            p[len] == ':' && p[len + 1] == ' ')
            return k;
    }
    if (keys == query_dir_keys && p < end && fltsim__capture_is_digit(*p)) {
        const char *q = p;
        while (q < end && fltsim__capture_is_digit(*q))
            q++;
        if (end - q >= 2 && q[0] == ':' && q[1] == ' ')
            return &entry;
    }
    return NULL;
}

/* Length of a key found by key_at (the numbered entries have no name). */
static size_t key_length(const struct detail_key *k, const char *p)
{
    if (k->name[0] != '\0')
        return strlen(k->name);
    size_t n = 0;
    while (fltsim__capture_is_digit(p[n]))
        n++;
    return n;
}

/* ---- value tables ------------------------------------------------------- */

struct name_value {
    const char *name;
    uint32_t value;
};

#define END_TABLE                                                                                  \
    {                                                                                              \
        NULL, 0                                                                                    \
    }

/* Combined names first: the mask was expanded with the file generic mapping. */
static const struct name_value access_names[] = {
    {"All Access", 0x1F01FF},
    {"Generic Read/Write/Execute", 0x1201BF},
    {"Generic Read/Write", 0x12019F},
    {"Generic Read/Execute", 0x1200A9},
    {"Generic Write/Execute", 0x1201B6},
    {"Generic Read", 0x120089},
    {"Generic Write", 0x120116},
    {"Generic Execute", 0x1200A0},
    {"Read Data/List Directory", 0x1},
    {"Write Data/Add File", 0x2},
    {"Append Data/Add Subdirectory/Create Pipe Instance", 0x4},
    {"Read EA", 0x8},
    {"Write EA", 0x10},
    {"Execute/Traverse", 0x20},
    {"Delete Child", 0x40},
    {"Read Attributes", 0x80},
    {"Write Attributes", 0x100},
    {"Delete", 0x10000},
    {"Read Control", 0x20000},
    {"Write DAC", 0x40000},
    {"Write Owner", 0x80000},
    {"Synchronize", 0x100000},
    {"Access System Security", 0x1000000},
    {"Maximum Allowed", 0x2000000},
    {"None", 0},
    END_TABLE,
};

static const struct name_value disposition_names[] = {
    {"Supersede", 0}, {"Open", 1},        {"Create", 2}, {"OpenIf", 3},
    {"Overwrite", 4}, {"OverwriteIf", 5}, END_TABLE,
};

static const struct name_value option_names[] = {
    {"Directory", 0x1},
    {"Write Through", 0x2},
    {"Sequential Access", 0x4},
    {"No Buffering", 0x8},
    {"Synchronous IO Alert", 0x10},
    {"Synchronous IO Non-Alert", 0x20},
    {"Non-Directory File", 0x40},
    {"Create Tree Connection", 0x80},
    {"Complete If Oplocked", 0x100},
    {"No EA Knowledge", 0x200},
    {"Open for Recovery", 0x400},
    {"Random Access", 0x800},
    {"Delete On Close", 0x1000},
    {"Open By ID", 0x2000},
    {"Open For Backup", 0x4000},
    {"No Compression", 0x8000},
    {"Open Requiring Oplock", 0x10000},
    {"Disallow Exclusive", 0x20000},
    {"Session Aware", 0x40000},
    {"Reserve OpFilter", 0x100000},
    {"Open Reparse Point", 0x200000},
    {"Open No Recall", 0x400000},
    {"Open For Free Space Query", 0x800000},
    END_TABLE,
};

static const struct name_value share_names[] = {
    {"Read", 1}, {"Write", 2}, {"Delete", 4}, {"None", 0}, END_TABLE,
};

static const struct name_value open_result_names[] = {
    {"Superseded", 0}, {"Opened", 1},       {"Created", 2}, {"Overwritten", 3},
    {"Exists", 4},     {"DoesNotExist", 5}, END_TABLE,
};

static const struct name_value io_flag_names[] = {
    {"Non-cached", 0x1},
    {"Paging I/O", 0x2},
    {"Synchronous", 0x4},
    {"Buffered", 0x10},
    {"Synchronous Paging I/O", 0x40},
    {"Write Through", FLTSIM_CAPTURE_IO_WRITE_THROUGH},
    END_TABLE,
};

static const struct name_value info_class_names[] = {
    {"FileDirectoryInformation", 1},
    {"FileFullDirectoryInformation", 2},
    {"FileBothDirectoryInformation", 3},
    {"FileNamesInformation", 12},
    {"FileObjectIdInformation", 29},
    {"FileQuotaInformation", 32},
    {"FileReparsePointInformation", 33},
    {"FileIdBothDirectoryInformation", 37},
    {"FileIdFullDirectoryInformation", 38},
    {"FileIdGlobalTxDirectoryInformation", 50},
    {"FileIdExtdDirectoryInformation", 60},
    {"FileIdExtdBothDirectoryInformation", 63},
    {"FileId64ExtdDirectoryInformation", 78},
    {"FileId64ExtdBothDirectoryInformation", 79},
    {"FileIdAllExtdDirectoryInformation", 80},
    {"FileIdAllExtdBothDirectoryInformation", 81},
    END_TABLE,
};

/* FSCTL and IOCTL codes by name: those in the real captures and the common
 * file-system ones (winioctl.h values). Other codes ProcMon prints as
 * "0x902eb (Device:0x9 Function:186 Method: 3)". */
static const struct name_value control_names[] = {
    {"FSCTL_REQUEST_OPLOCK_LEVEL_1", 0x90000},
    {"FSCTL_REQUEST_OPLOCK_LEVEL_2", 0x90004},
    {"FSCTL_REQUEST_BATCH_OPLOCK", 0x90008},
    {"FSCTL_OPLOCK_BREAK_ACKNOWLEDGE", 0x9000C},
    {"FSCTL_OPBATCH_ACK_CLOSE_PENDING", 0x90010},
    {"FSCTL_OPLOCK_BREAK_NOTIFY", 0x90014},
    {"FSCTL_LOCK_VOLUME", 0x90018},
    {"FSCTL_UNLOCK_VOLUME", 0x9001C},
    {"FSCTL_DISMOUNT_VOLUME", 0x90020},
    {"FSCTL_IS_VOLUME_MOUNTED", 0x90028},
    {"FSCTL_IS_PATHNAME_VALID", 0x9002C},
    {"FSCTL_MARK_VOLUME_DIRTY", 0x90030},
    {"FSCTL_GET_COMPRESSION", 0x9003C},
    {"FSCTL_OPLOCK_BREAK_ACK_NO_2", 0x90050},
    {"FSCTL_REQUEST_FILTER_OPLOCK", 0x9005C},
    {"FSCTL_FILESYSTEM_GET_STATISTICS", 0x90060},
    {"FSCTL_GET_NTFS_VOLUME_DATA", 0x90064},
    {"FSCTL_GET_NTFS_FILE_RECORD", 0x90068},
    {"FSCTL_GET_VOLUME_BITMAP", 0x9006F},
    {"FSCTL_GET_RETRIEVAL_POINTERS", 0x90073},
    {"FSCTL_MOVE_FILE", 0x90074},
    {"FSCTL_IS_VOLUME_DIRTY", 0x90078},
    {"FSCTL_ALLOW_EXTENDED_DASD_IO", 0x90083},
    {"FSCTL_SET_OBJECT_ID", 0x90098},
    {"FSCTL_GET_OBJECT_ID", 0x9009C},
    {"FSCTL_DELETE_OBJECT_ID", 0x900A0},
    {"FSCTL_SET_REPARSE_POINT", 0x900A4},
    {"FSCTL_GET_REPARSE_POINT", 0x900A8},
    {"FSCTL_DELETE_REPARSE_POINT", 0x900AC},
    {"FSCTL_ENUM_USN_DATA", 0x900B3},
    {"FSCTL_READ_USN_JOURNAL", 0x900BB},
    {"FSCTL_SET_OBJECT_ID_EXTENDED", 0x900BC},
    {"FSCTL_CREATE_OR_GET_OBJECT_ID", 0x900C0},
    {"FSCTL_SET_SPARSE", 0x900C4},
    {"FSCTL_CREATE_USN_JOURNAL", 0x900E7},
    {"FSCTL_READ_FILE_USN_DATA", 0x900EB},
    {"FSCTL_WRITE_USN_CLOSE_RECORD", 0x900EF},
    {"FSCTL_EXTEND_VOLUME", 0x900F0},
    {"FSCTL_QUERY_USN_JOURNAL", 0x900F4},
    {"FSCTL_DELETE_USN_JOURNAL", 0x900F8},
    {"FSCTL_MARK_HANDLE", 0x900FC},
    {"FSCTL_FILE_PREFETCH", 0x90120},
    {"CSC_FSCTL_OPERATION_QUERY_HANDLE", 0x901AF},
    {"FSCTL_QUERY_DEPENDENT_VOLUME", 0x901F0},
    {"FSCTL_GET_BOOT_AREA_INFO", 0x90230},
    {"FSCTL_REQUEST_OPLOCK", 0x90240},
    {"FSCTL_QUERY_FILE_SYSTEM_RECOGNITION", 0x9024C},
    {"FSCTL_GET_INTEGRITY_INFORMATION", 0x9027C},
    {"FSCTL_QUERY_FILE_REGIONS", 0x90284},
    {"FSCTL_SET_EXTERNAL_BACKING", 0x9030C},
    {"FSCTL_GET_EXTERNAL_BACKING", 0x90310},
    {"FSCTL_DELETE_EXTERNAL_BACKING", 0x90314},
    {"FSCTL_QUERY_ALLOCATED_RANGES", 0x940CF},
    {"FSCTL_OFFLOAD_READ", 0x94264},
    {"FSCTL_SET_ZERO_DATA", 0x980C8},
    {"FSCTL_OFFLOAD_WRITE", 0x98268},
    {"FSCTL_DUPLICATE_EXTENTS_TO_FILE", 0x98344},
    {"FSCTL_SET_COMPRESSION", 0x9C040},
    {"FSCTL_PIPE_ASSIGN_EVENT", 0x110000},
    {"FSCTL_PIPE_DISCONNECT", 0x110004},
    {"FSCTL_PIPE_LISTEN", 0x110008},
    {"FSCTL_PIPE_QUERY_EVENT", 0x110010},
    {"FSCTL_PIPE_WAIT", 0x110018},
    {"FSCTL_PIPE_IMPERSONATE", 0x11001C},
    {"FSCTL_PIPE_SET_CLIENT_PROCESS", 0x110020},
    {"FSCTL_PIPE_QUERY_CLIENT_PROCESS", 0x110024},
    {"FSCTL_PIPE_PEEK", 0x11400C},
    {"FSCTL_PIPE_TRANSCEIVE", 0x11C017},
    {"FSCTL_LMR_QUERY_DEBUG_INFO", 0x1401EC},
    {"IOCTL_DISK_GET_DRIVE_GEOMETRY", 0x70000},
    {"IOCTL_DISK_GET_PARTITION_INFO_EX", 0x70048},
    {"IOCTL_DISK_GET_DRIVE_GEOMETRY_EX", 0x700A0},
    {"IOCTL_DISK_GET_LENGTH_INFO", 0x7405C},
    {"IOCTL_STORAGE_QUERY_PROPERTY", 0x2D1400},
    {"IOCTL_STORAGE_GET_DEVICE_NUMBER", 0x2D1080},
    {"IOCTL_STORAGE_CHECK_VERIFY", 0x2D4800},
    {"IOCTL_STORAGE_CHECK_VERIFY2", 0x2D0800},
    {"IOCTL_MOUNTDEV_QUERY_UNIQUE_ID", 0x4D0000},
    {"IOCTL_MOUNTDEV_QUERY_DEVICE_NAME", 0x4D0008},
    {"IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS", 0x560000},
    END_TABLE,
};

static const struct name_value sync_type_names[] = {
    {"SyncTypeOther", 0},
    {"SyncTypeCreateSection", 1},
    END_TABLE,
};

static const struct name_value page_protection_names[] = {
    {"PAGE_NOACCESS", 0x01},          {"PAGE_READONLY", 0x02},          {"PAGE_READWRITE", 0x04},
    {"PAGE_WRITECOPY", 0x08},         {"PAGE_EXECUTE", 0x10},           {"PAGE_EXECUTE_READ", 0x20},
    {"PAGE_EXECUTE_READWRITE", 0x40}, {"PAGE_EXECUTE_WRITECOPY", 0x80}, {"PAGE_GUARD", 0x100},
    {"PAGE_NOCACHE", 0x200},          {"PAGE_WRITECOMBINE", 0x400},     END_TABLE,
};

static const struct name_value disposition_flag_names[] = {
    {"FILE_DISPOSITION_DO_NOT_DELETE", 0x0},
    {"FILE_DISPOSITION_DELETE", 0x1},
    {"FILE_DISPOSITION_POSIX_SEMANTICS", 0x2},
    {"FILE_DISPOSITION_FORCE_IMAGE_SECTION_CHECK", 0x4},
    {"FILE_DISPOSITION_ON_CLOSE", 0x8},
    {"FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE", 0x10},
    END_TABLE,
};

static const struct name_value security_names[] = {
    {"Owner", 0x1},
    {"Group", 0x2},
    {"DACL", 0x4},
    {"SACL", 0x8},
    {"Label", 0x10},
    {"Attribute", 0x20},
    {"Scope", 0x40},
    {"Process Trust Label", 0x80},
    {"Backup", 0x10000},
    {"DACL Protected", 0x80000000},
    {"SACL Protected", 0x40000000},
    {"DACL Unprotected", 0x20000000},
    {"SACL Unprotected", 0x10000000},
    END_TABLE,
};

static const struct name_value notify_names[] = {
    {"FILE_NOTIFY_CHANGE_FILE_NAME", 0x1},
    {"FILE_NOTIFY_CHANGE_DIR_NAME", 0x2},
    {"FILE_NOTIFY_CHANGE_NAME", 0x3},
    {"FILE_NOTIFY_CHANGE_ATTRIBUTES", 0x4},
    {"FILE_NOTIFY_CHANGE_SIZE", 0x8},
    {"FILE_NOTIFY_CHANGE_LAST_WRITE", 0x10},
    {"FILE_NOTIFY_CHANGE_LAST_ACCESS", 0x20},
    {"FILE_NOTIFY_CHANGE_CREATION", 0x40},
    {"FILE_NOTIFY_CHANGE_EA", 0x80},
    {"FILE_NOTIFY_CHANGE_SECURITY", 0x100},
    {"FILE_NOTIFY_CHANGE_STREAM_NAME", 0x200},
    {"FILE_NOTIFY_CHANGE_STREAM_SIZE", 0x400},
    {"FILE_NOTIFY_CHANGE_STREAM_WRITE", 0x800},
    END_TABLE,
};

/* Attribute letters, the multi-letter ones first (greedy match). */
static const struct name_value attribute_letters[] = {
    {"NCI", 0x2000}, {"SF", 0x200}, {"RP", 0x400}, {"R", 0x1},     {"H", 0x2},
    {"S", 0x4},      {"D", 0x10},   {"A", 0x20},   {"N", 0x80},    {"T", 0x100},
    {"C", 0x800},    {"O", 0x1000}, {"E", 0x4000}, {"V", 0x10000}, END_TABLE,
};

static bool lookup(const struct name_value *table, const char *s, size_t n, uint32_t *value)
{
    for (; table->name != NULL; table++)
        if (strlen(table->name) == n && memcmp(table->name, s, n) == 0) {
            *value = table->value;
            return true;
        }
    return false;
}

static bool is_na(const char *s, size_t n)
{
    return n == 3 && memcmp(s, "n/a", 3) == 0;
}

/* A list of names joined by sep ("" is 0); a "0x..." item adds raw bits
 * (ProcMon prints bits it has no name for that way). */
static bool parse_flags(const struct name_value *table, const char *sep, const char *s, size_t n,
                        uint32_t *value)
{
    const char *end = s + n;
    size_t seplen = strlen(sep);
    uint32_t v = 0;
    while (s < end) {
        const char *item_end = s;
        while (item_end < end &&
               !((size_t)(end - item_end) >= seplen && memcmp(item_end, sep, seplen) == 0))
            item_end++;
        size_t len = (size_t)(item_end - s);
        uint32_t bits;
        uint64_t raw;
        if (lookup(table, s, len, &bits))
            v |= bits;
        else if (fltsim__capture_parse_hex(s, len, &raw) && raw <= 0xFFFFFFFFu)
            v |= (uint32_t)raw;
        else if (len != 0) /* empty items occur: "|PAGE_NOCACHE" */
            return false;
        s = item_end < end ? item_end + seplen : end;
    }
    *value = v;
    return true;
}

static bool parse_access(const char *s, size_t n, uint32_t *value)
{
    /* "None 0x0": an empty mask with its raw value */
    if (n > 5 && memcmp(s, "None ", 5) == 0) {
        uint64_t raw;
        if (!fltsim__capture_parse_hex(s + 5, n - 5, &raw) || raw > 0xFFFFFFFFu)
            return false;
        *value = (uint32_t)raw;
        return true;
    }
    return n > 0 && parse_flags(access_names, ", ", s, n, value);
}

static bool parse_attribute_letters(const char *s, size_t n, uint32_t *value)
{
    uint64_t raw;
    if (is_na(s, n)) {
        *value = 0;
        return true;
    }
    if (fltsim__capture_parse_hex(s, n, &raw) && raw <= 0xFFFFFFFFu) {
        *value = (uint32_t)raw;
        return true;
    }
    if (n == 0)
        return false;
    uint32_t v = 0;
    const char *end = s + n;
    while (s < end) {
        const struct name_value *l = attribute_letters;
        for (; l->name != NULL; l++) {
            size_t len = strlen(l->name);
            if ((size_t)(end - s) >= len && memcmp(s, l->name, len) == 0)
                break;
        }
        if (l->name == NULL)
            return false;
        v |= l->value;
        s += strlen(l->name);
    }
    *value = v;
    return true;
}

static bool parse_bool(const char *s, size_t n, bool *value)
{
    if (n == 4 && memcmp(s, "True", 4) == 0)
        *value = true;
    else if (n == 5 && memcmp(s, "False", 5) == 0)
        *value = false;
    else
        return false;
    return true;
}

/* "n/a" leaves a number absent. */
static bool parse_number(const char *s, size_t n, int64_t *value, bool *present)
{
    if (is_na(s, n)) {
        *present = false;
        return true;
    }
    *present = true;
    return fltsim__capture_parse_int(s, n, value);
}

static bool parse_control(const char *s, size_t n, uint32_t *value)
{
    uint64_t raw;
    const char *space = memchr(s, ' ', n);
    /* "0x902eb (Device:0x9 Function:186 Method: 3)" */
    if (space != NULL && fltsim__capture_parse_hex(s, (size_t)(space - s), &raw) &&
        raw <= 0xFFFFFFFFu && space[1] == '(' && s[n - 1] == ')') {
        *value = (uint32_t)raw;
        return true;
    }
    if (fltsim__capture_parse_hex(s, n, &raw) && raw <= 0xFFFFFFFFu) {
        *value = (uint32_t)raw;
        return true;
    }
    return lookup(control_names, s, n, value);
}

/* Copies a value into the caller's string space; false when it does not fit. */
static const char *copy_string(const char *s, size_t n, char *strings, size_t strings_size,
                               size_t *used)
{
    if (strings == NULL || strings_size - *used < n + 1)
        return NULL;
    char *dst = strings + *used;
    memcpy(dst, s, n);
    dst[n] = '\0';
    *used += n + 1;
    return dst;
}

/* Where a scalar value ends when an unknown key follows it: at the first ", "
 * whose next item holds ": " (an unknown "Key: value"). */
static size_t trim_unknown_tail(const char *s, size_t n)
{
    const char *end = s + n;
    for (const char *p = s; p + 1 < end; p++) {
        if (p[0] != ',' || p[1] != ' ')
            continue;
        const char *item = p + 2, *q = item;
        while (q + 1 < end && !(q[0] == ',' && q[1] == ' ')) {
            if (q[0] == ':' && q[1] == ' ')
                return (size_t)(p - s);
            q++;
        }
    }
    return n;
}

static bool decode_value(const struct detail_key *k, const char *s, size_t n,
                         struct fltsim_capture_params *cp, char *strings, size_t strings_size,
                         size_t *used)
{
    int64_t number;
    bool present;
    uint32_t v;
    if (k->kind != K_DIR_FILTER && k->kind != K_FILE_NAME)
        n = trim_unknown_tail(s, n);
    switch (k->kind) {
    case K_IGNORE:
        return true;
    case K_ACCESS:
        if (!parse_access(s, n, &v))
            return false;
        cp->desired_access = v;
        cp->present |= FLTSIM_CP_ACCESS;
        return true;
    case K_DISPOSITION:
        if (!lookup(disposition_names, s, n, &v))
            return false;
        cp->disposition = v;
        cp->present |= FLTSIM_CP_DISPOSITION;
        return true;
    case K_OPTIONS:
        if (!parse_flags(option_names, ", ", s, n, &v))
            return false;
        cp->create_options = v;
        cp->present |= FLTSIM_CP_OPTIONS;
        return true;
    case K_ATTRIBUTES:
        if (!parse_attribute_letters(s, n, &v))
            return false;
        cp->file_attributes = v;
        cp->present |= FLTSIM_CP_ATTRIBUTES;
        return true;
    case K_QUERIED_ATTRS:
        if (!parse_attribute_letters(s, n, &v))
            return false;
        cp->queried_attributes = v;
        cp->present |= FLTSIM_CP_FILE_ATTRS_OUT;
        return true;
    case K_SHARE:
        if (n == 0 || !parse_flags(share_names, ", ", s, n, &v))
            return false;
        cp->share_access = v;
        cp->present |= FLTSIM_CP_SHARE;
        return true;
    case K_ALLOCATION:
        if (!parse_number(s, n, &number, &present))
            return false;
        if (present) {
            cp->allocation_size = number;
            cp->present |= FLTSIM_CP_ALLOCATION;
        }
        return true;
    case K_OPEN_RESULT:
        if (n == 9 && memcmp(s, "<unknown>", 9) == 0)
            return true; /* with REPARSE: no OpenResult to report */
        if (!lookup(open_result_names, s, n, &v)) {
            if (!fltsim__capture_parse_int(s, n, &number) || number < 0 || number > 0xFFFFFFFF)
                return false;
            v = (uint32_t)number;
        }
        cp->open_result = v;
        cp->present |= FLTSIM_CP_OPEN_RESULT;
        return true;
    case K_OFFSET:
        if (!parse_number(s, n, &number, &present))
            return false;
        if (present) {
            cp->offset = number;
            cp->present |= FLTSIM_CP_OFFSET;
        }
        return true;
    case K_LENGTH:
        if (!parse_number(s, n, &number, &present) ||
            (present && (number < 0 || number > 0xFFFFFFFF)))
            return false;
        if (present) {
            cp->length = (ULONG)number;
            cp->present |= FLTSIM_CP_LENGTH;
        }
        return true;
    case K_IO_FLAGS:
        if (!parse_flags(io_flag_names, ", ", s, n, &v))
            return false;
        cp->io_flags = v;
        cp->present |= FLTSIM_CP_IO_FLAGS;
        return true;
    case K_INFO_CLASS:
        if (!lookup(info_class_names, s, n, &v)) {
            if (!fltsim__capture_parse_int(s, n, &number) || number < 0 || number > 0xFFFF)
                return false;
            v = (uint32_t)number;
        }
        cp->info_class = v;
        cp->present |= FLTSIM_CP_INFO_CLASS;
        return true;
    case K_DIR_FILTER:
    case K_FILE_NAME:
        cp->file_name = copy_string(s, n, strings, strings_size, used);
        if (cp->file_name == NULL)
            return false;
        cp->present |= FLTSIM_CP_FILE_NAME;
        return true;
    case K_CONTROL:
        /* ProcMon names only the codes it knows, and fltsim's table holds the
         * common ones: a name outside it leaves the code unknown (a replay
         * skips the row for it) rather than making the capture unreadable. */
        if (parse_control(s, n, &v)) {
            cp->control_code = v;
            cp->present |= FLTSIM_CP_CONTROL;
            return true;
        }
        return !(n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')); /* bad hex: an error */
    case K_SYNC_TYPE:
        if (!lookup(sync_type_names, s, n, &v))
            return false;
        cp->sync_type = v;
        cp->present |= FLTSIM_CP_SYNC_TYPE;
        return true;
    case K_PAGE_PROTECTION:
        if (!parse_flags(page_protection_names, "|", s, n, &v))
            return false;
        cp->page_protection = v;
        cp->present |= FLTSIM_CP_SYNC_TYPE;
        return true;
    case K_DELETE:
        if (!parse_bool(s, n, &cp->delete_file))
            return false;
        cp->present |= FLTSIM_CP_DELETE;
        return true;
    case K_DISPOSITION_FLAGS:
        if (!parse_flags(disposition_flag_names, ", ", s, n, &v))
            return false;
        cp->disposition_flags = v;
        cp->present |= FLTSIM_CP_DISPOSITION_FLAGS;
        return true;
    case K_REPLACE:
        if (!parse_bool(s, n, &cp->replace_if_exists))
            return false;
        cp->present |= FLTSIM_CP_REPLACE;
        return true;
    case K_SECURITY_INFO:
        if (!parse_flags(security_names, ", ", s, n, &v))
            return false;
        cp->security_information = v;
        cp->present |= FLTSIM_CP_SECURITY_INFO;
        return true;
    case K_NOTIFY_FILTER:
        if (!parse_flags(notify_names, ", ", s, n, &v))
            return false;
        cp->notify_filter = v;
        cp->present |= FLTSIM_CP_NOTIFY_FILTER;
        return true;
    case K_END_OF_FILE:
        if (!parse_number(s, n, &number, &present))
            return false;
        if (present) {
            cp->end_of_file = number;
            cp->present |= FLTSIM_CP_END_OF_FILE;
        }
        return true;
    case K_EXCLUSIVE:
        if (!parse_bool(s, n, &cp->exclusive))
            return false;
        cp->present |= FLTSIM_CP_LOCK;
        return true;
    case K_FAIL_IMMEDIATELY:
        if (!parse_bool(s, n, &cp->fail_immediately))
            return false;
        cp->present |= FLTSIM_CP_LOCK;
        return true;
    case K_ENDING_OFFSET:
        if (!parse_number(s, n, &number, &present))
            return false;
        if (present) {
            cp->ending_offset = number;
            cp->present |= FLTSIM_CP_ENDING_OFFSET;
        }
        return true;
    }
    return false;
}

bool fltsim_capture_detail_parse(const struct fltsim_capture_op *op, const char *detail,
                                 struct fltsim_capture_params *params, char *strings,
                                 size_t strings_size, char *error, size_t error_size)
{
    memset(params, 0, sizeof(*params));
    if (op == NULL || detail == NULL)
        return true; /* no operation, no known keys */
    const struct detail_key *keys = keys_for(op);
    const char *p = detail, *end = detail + strlen(detail);
    size_t used = 0;
    while (p < end) {
        /* p is at a key: a known one, or text up to ": " that we skip */
        const struct detail_key *k = key_at(keys, p, end);
        const char *value;
        if (k != NULL) {
            value = p + key_length(k, p) + 2;
        } else {
            const char *colon = p;
            while (colon + 1 < end && !(colon[0] == ':' && colon[1] == ' '))
                colon++;
            value = colon + 1 < end ? colon + 2 : end;
        }
        /* the value runs to ", " + a known key + ": " */
        const char *next = value;
        while (next + 1 < end &&
               !(next[0] == ',' && next[1] == ' ' && key_at(keys, next + 2, end) != NULL))
            next++;
        if (next + 1 >= end)
            next = end;
        if (k != NULL &&
            !decode_value(k, value, (size_t)(next - value), params, strings, strings_size, &used)) {
            int vlen = (int)(next - value > 60 ? 60 : next - value);
            snprintf(error, error_size, "%s Detail key \"%.*s\": cannot decode \"%.*s\"%s",
                     op->name, (int)key_length(k, p), p, vlen, value,
                     next - value > 60 ? "..." : "");
            return false;
        }
        p = next < end ? next + 2 : end;
    }
    return true;
}
