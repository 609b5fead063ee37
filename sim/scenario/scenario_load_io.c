/*
 * Scenario loading, the I/O steps (scenario_load_internal.h): the operations
 * a step's op: names, the keys each accepts, and their parameters, with the
 * names a scenario may write for access rights, share modes, dispositions,
 * options, attributes, classes, flags and control codes (or the number
 * itself, as fltsim import writes them). Which handle a step uses and the
 * step's common keys are scenario_load_steps.c's.
 */
#include <stdio.h>
#include <string.h>

#include <fltsim/io.h>

#include "scenario_load_internal.h"
#include "common/sim_internal.h"

/* ------------------------------------------------------------------------- */
/* Name tables                                                               */
/* ------------------------------------------------------------------------- */

static const struct name_value access_names[] = {{"GENERIC_READ", GENERIC_READ},
                                                 {"GENERIC_WRITE", GENERIC_WRITE},
                                                 {"GENERIC_EXECUTE", GENERIC_EXECUTE},
                                                 {"GENERIC_ALL", GENERIC_ALL},
                                                 {"FILE_READ_DATA", FILE_READ_DATA},
                                                 {"FILE_LIST_DIRECTORY", FILE_LIST_DIRECTORY},
                                                 {"FILE_WRITE_DATA", FILE_WRITE_DATA},
                                                 {"FILE_ADD_FILE", FILE_ADD_FILE},
                                                 {"FILE_APPEND_DATA", FILE_APPEND_DATA},
                                                 {"FILE_ADD_SUBDIRECTORY", FILE_ADD_SUBDIRECTORY},
                                                 {"FILE_READ_EA", FILE_READ_EA},
                                                 {"FILE_WRITE_EA", FILE_WRITE_EA},
                                                 {"FILE_EXECUTE", FILE_EXECUTE},
                                                 {"FILE_TRAVERSE", FILE_TRAVERSE},
                                                 {"FILE_DELETE_CHILD", FILE_DELETE_CHILD},
                                                 {"FILE_READ_ATTRIBUTES", FILE_READ_ATTRIBUTES},
                                                 {"FILE_WRITE_ATTRIBUTES", FILE_WRITE_ATTRIBUTES},
                                                 {"FILE_ALL_ACCESS", FILE_ALL_ACCESS},
                                                 {"FILE_GENERIC_READ", FILE_GENERIC_READ},
                                                 {"FILE_GENERIC_WRITE", FILE_GENERIC_WRITE},
                                                 {"FILE_GENERIC_EXECUTE", FILE_GENERIC_EXECUTE},
                                                 {"DELETE", DELETE},
                                                 {"READ_CONTROL", READ_CONTROL},
                                                 {"WRITE_DAC", WRITE_DAC},
                                                 {"WRITE_OWNER", WRITE_OWNER},
                                                 {"SYNCHRONIZE", SYNCHRONIZE},
                                                 {"MAXIMUM_ALLOWED", MAXIMUM_ALLOWED},
                                                 {"read", GENERIC_READ},
                                                 {"write", GENERIC_WRITE},
                                                 {"delete", DELETE},
                                                 {"all", GENERIC_ALL},
                                                 {NULL, 0}};

static const struct name_value share_names[] = {{"FILE_SHARE_READ", FILE_SHARE_READ},
                                                {"FILE_SHARE_WRITE", FILE_SHARE_WRITE},
                                                {"FILE_SHARE_DELETE", FILE_SHARE_DELETE},
                                                {"read", FILE_SHARE_READ},
                                                {"write", FILE_SHARE_WRITE},
                                                {"delete", FILE_SHARE_DELETE},
                                                {NULL, 0}};

static const struct name_value disposition_names[] = {{"FILE_SUPERSEDE", FILE_SUPERSEDE},
                                                      {"FILE_OPEN", FILE_OPEN},
                                                      {"FILE_CREATE", FILE_CREATE},
                                                      {"FILE_OPEN_IF", FILE_OPEN_IF},
                                                      {"FILE_OVERWRITE", FILE_OVERWRITE},
                                                      {"FILE_OVERWRITE_IF", FILE_OVERWRITE_IF},
                                                      {"supersede", FILE_SUPERSEDE},
                                                      {"open", FILE_OPEN},
                                                      {"create", FILE_CREATE},
                                                      {"open_if", FILE_OPEN_IF},
                                                      {"overwrite", FILE_OVERWRITE},
                                                      {"overwrite_if", FILE_OVERWRITE_IF},
                                                      {NULL, 0}};

static const struct name_value option_names[] = {
    {"FILE_DIRECTORY_FILE", FILE_DIRECTORY_FILE},
    {"FILE_WRITE_THROUGH", FILE_WRITE_THROUGH},
    {"FILE_SEQUENTIAL_ONLY", FILE_SEQUENTIAL_ONLY},
    {"FILE_NO_INTERMEDIATE_BUFFERING", FILE_NO_INTERMEDIATE_BUFFERING},
    {"FILE_SYNCHRONOUS_IO_ALERT", FILE_SYNCHRONOUS_IO_ALERT},
    {"FILE_SYNCHRONOUS_IO_NONALERT", FILE_SYNCHRONOUS_IO_NONALERT},
    {"FILE_NON_DIRECTORY_FILE", FILE_NON_DIRECTORY_FILE},
    {"FILE_RANDOM_ACCESS", FILE_RANDOM_ACCESS},
    {"FILE_DELETE_ON_CLOSE", FILE_DELETE_ON_CLOSE},
    {"FILE_OPEN_BY_FILE_ID", FILE_OPEN_BY_FILE_ID},
    {"FILE_OPEN_FOR_BACKUP_INTENT", FILE_OPEN_FOR_BACKUP_INTENT},
    {"FILE_OPEN_REPARSE_POINT", FILE_OPEN_REPARSE_POINT},
    {NULL, 0}};

static const struct name_value attribute_names[] = {
    {"FILE_ATTRIBUTE_READONLY", FILE_ATTRIBUTE_READONLY},
    {"FILE_ATTRIBUTE_HIDDEN", FILE_ATTRIBUTE_HIDDEN},
    {"FILE_ATTRIBUTE_SYSTEM", FILE_ATTRIBUTE_SYSTEM},
    {"FILE_ATTRIBUTE_DIRECTORY", FILE_ATTRIBUTE_DIRECTORY},
    {"FILE_ATTRIBUTE_ARCHIVE", FILE_ATTRIBUTE_ARCHIVE},
    {"FILE_ATTRIBUTE_NORMAL", FILE_ATTRIBUTE_NORMAL},
    {"FILE_ATTRIBUTE_TEMPORARY", FILE_ATTRIBUTE_TEMPORARY},
    {"FILE_ATTRIBUTE_OFFLINE", FILE_ATTRIBUTE_OFFLINE},
    {"FILE_ATTRIBUTE_NOT_CONTENT_INDEXED", FILE_ATTRIBUTE_NOT_CONTENT_INDEXED},
    {"readonly", FILE_ATTRIBUTE_READONLY},
    {"hidden", FILE_ATTRIBUTE_HIDDEN},
    {"system", FILE_ATTRIBUTE_SYSTEM},
    {"archive", FILE_ATTRIBUTE_ARCHIVE},
    {"normal", FILE_ATTRIBUTE_NORMAL},
    {NULL, 0}};

static const struct name_value io_flag_names[] = {
    {"noncached", FLTSIM_IO_NONCACHED},       {"paging", FLTSIM_IO_PAGING},
    {"sync_paging", FLTSIM_IO_SYNC_PAGING},   {"fast", FLTSIM_IO_FAST},
    {"fast_only", FLTSIM_IO_FAST_ONLY},       {"kernel_mode", FLTSIM_IO_KERNEL_MODE},
    {"top_level_irp", SC_FLAG_TOP_LEVEL_IRP}, {NULL, 0}};

static const struct name_value kernel_flag_names[] = {{"kernel_mode", FLTSIM_IO_KERNEL_MODE},
                                                      {"fast", FLTSIM_IO_FAST},
                                                      {"fast_only", FLTSIM_IO_FAST_ONLY},
                                                      {NULL, 0}};

static const struct name_value query_open_class_names[] = {
    {"FileBasicInformation", FileBasicInformation},
    {"FileNetworkOpenInformation", FileNetworkOpenInformation},
    {NULL, 0}};

static const struct name_value volume_class_names[] = {
    {"FileFsVolumeInformation", FileFsVolumeInformation},
    {"FileFsSizeInformation", FileFsSizeInformation},
    {"FileFsDeviceInformation", FileFsDeviceInformation},
    {"FileFsAttributeInformation", FileFsAttributeInformation},
    {"FileFsFullSizeInformation", FileFsFullSizeInformation},
    {NULL, 0}};

static const struct name_value unlock_minor_names[] = {{"single", IRP_MN_UNLOCK_SINGLE},
                                                       {"all", IRP_MN_UNLOCK_ALL},
                                                       {"by_key", IRP_MN_UNLOCK_ALL_BY_KEY},
                                                       {NULL, 0}};

/* Control codes by name; any other code is given as a number. */
static const struct name_value control_code_names[] = {
    {"FSCTL_REQUEST_OPLOCK_LEVEL_1", FSCTL_REQUEST_OPLOCK_LEVEL_1},
    {"FSCTL_REQUEST_OPLOCK_LEVEL_2", FSCTL_REQUEST_OPLOCK_LEVEL_2},
    {"FSCTL_REQUEST_BATCH_OPLOCK", FSCTL_REQUEST_BATCH_OPLOCK},
    {"FSCTL_REQUEST_FILTER_OPLOCK", FSCTL_REQUEST_FILTER_OPLOCK},
    {"FSCTL_IS_VOLUME_MOUNTED", FSCTL_IS_VOLUME_MOUNTED},
    {"FSCTL_GET_REPARSE_POINT", FSCTL_GET_REPARSE_POINT},
    /* CTL_CODE(MOUNTDEVCONTROLTYPE 'M', 2, METHOD_BUFFERED, FILE_ANY_ACCESS) */
    {"IOCTL_MOUNTDEV_QUERY_DEVICE_NAME", 0x004D0008},
    {NULL, 0}};

static const struct name_value security_names[] = {
    {"OWNER", OWNER_SECURITY_INFORMATION},
    {"GROUP", GROUP_SECURITY_INFORMATION},
    {"DACL", DACL_SECURITY_INFORMATION},
    {"SACL", SACL_SECURITY_INFORMATION},
    {"LABEL", LABEL_SECURITY_INFORMATION},
    {"ATTRIBUTE", ATTRIBUTE_SECURITY_INFORMATION},
    {"SCOPE", SCOPE_SECURITY_INFORMATION},
    {"PROCESS_TRUST_LABEL", PROCESS_TRUST_LABEL_SECURITY_INFORMATION},
    {"BACKUP", BACKUP_SECURITY_INFORMATION},
    {NULL, 0}};

/* Query classes with their default length (0: variable, 4096). */
static const struct name_value query_class_names[] = {
    {"FileBasicInformation", FileBasicInformation},
    {"FileStandardInformation", FileStandardInformation},
    {"FileInternalInformation", FileInternalInformation},
    {"FileEaInformation", FileEaInformation},
    {"FileAccessInformation", FileAccessInformation},
    {"FileNameInformation", FileNameInformation},
    {"FilePositionInformation", FilePositionInformation},
    {"FileModeInformation", FileModeInformation},
    {"FileAlignmentInformation", FileAlignmentInformation},
    {"FileAllInformation", FileAllInformation},
    {"FileNetworkOpenInformation", FileNetworkOpenInformation},
    {"FileAttributeTagInformation", FileAttributeTagInformation},
    {"FileAlternateNameInformation", FileAlternateNameInformation},
    {"FileNormalizedNameInformation", FileNormalizedNameInformation},
    {"FileStreamInformation", FileStreamInformation},
    {NULL, 0}};

/* The default length of a query's buffer: the record of a fixed-size class,
 * 4096 for one that carries a name (variable length). */
static ULONG query_class_size(FILE_INFORMATION_CLASS c)
{
    return fltsim__file_info_named(c) ? 4096 : fltsim__file_info_size(c);
}

/* set_information: the class and the key naming its one field. */
static const struct {
    const char *key;
    FILE_INFORMATION_CLASS info_class;
} set_fields[] = {
    {"end_of_file", FileEndOfFileInformation}, {"allocation_size", FileAllocationInformation},
    {"position", FilePositionInformation},     {"delete", FileDispositionInformation},
    {"flags", FileDispositionInformationEx},   {"attributes", FileBasicInformation}};

/* FileDispositionInformationEx's flags. */
static const struct name_value disposition_flag_names[] = {
    {"FILE_DISPOSITION_DO_NOT_DELETE", FILE_DISPOSITION_DO_NOT_DELETE},
    {"FILE_DISPOSITION_DELETE", FILE_DISPOSITION_DELETE},
    {"FILE_DISPOSITION_POSIX_SEMANTICS", FILE_DISPOSITION_POSIX_SEMANTICS},
    {"FILE_DISPOSITION_FORCE_IMAGE_SECTION_CHECK", FILE_DISPOSITION_FORCE_IMAGE_SECTION_CHECK},
    {"FILE_DISPOSITION_ON_CLOSE", FILE_DISPOSITION_ON_CLOSE},
    {"FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE", FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE},
    {NULL, 0}};

static const struct name_value set_class_names[] = {
    {"FileEndOfFileInformation", FileEndOfFileInformation},
    {"FileAllocationInformation", FileAllocationInformation},
    {"FilePositionInformation", FilePositionInformation},
    {"FileDispositionInformation", FileDispositionInformation},
    {"FileDispositionInformationEx", FileDispositionInformationEx},
    {"FileBasicInformation", FileBasicInformation},
    {NULL, 0}};

static const struct name_value directory_class_names[] = {
    {"FileDirectoryInformation", FileDirectoryInformation},
    {"FileFullDirectoryInformation", FileFullDirectoryInformation},
    {"FileBothDirectoryInformation", FileBothDirectoryInformation},
    {"FileNamesInformation", FileNamesInformation},
    {"FileIdBothDirectoryInformation", FileIdBothDirectoryInformation},
    {"FileIdFullDirectoryInformation", FileIdFullDirectoryInformation},
    {NULL, 0}};

static const struct name_value sync_type_names[] = {
    {"SyncTypeOther", SyncTypeOther}, {"SyncTypeCreateSection", SyncTypeCreateSection}, {NULL, 0}};

static const struct name_value protection_names[] = {{"PAGE_READONLY", PAGE_READONLY},
                                                     {"PAGE_READWRITE", PAGE_READWRITE},
                                                     {"PAGE_EXECUTE_READ", PAGE_EXECUTE_READ},
                                                     {NULL, 0}};

/* A GUID written as 8-4-4-4-12 hex digits, braces optional. */
static bool parse_guid(const char *text, GUID *out)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    unsigned char b[16];
    size_t nb = 0;
    const char *p = text;
    bool braces = *p == '{';
    if (braces)
        p++;
    for (int g = 0; g < 5; g++) {
        if (g > 0 && *p++ != '-')
            return false;
        for (int k = 0; k < groups[g]; k += 2) {
            int hi = fltsim__ld_hex_digit(p[0]), lo = hi < 0 ? -1 : fltsim__ld_hex_digit(p[1]);
            if (lo < 0)
                return false;
            b[nb++] = (unsigned char)(hi << 4 | lo);
            p += 2;
        }
    }
    if (braces && *p++ != '}')
        return false;
    if (*p != '\0')
        return false;
    out->Data1 = (ULONG)b[0] << 24 | (ULONG)b[1] << 16 | (ULONG)b[2] << 8 | b[3];
    out->Data2 = (USHORT)(b[4] << 8 | b[5]);
    out->Data3 = (USHORT)(b[6] << 8 | b[7]);
    memcpy(out->Data4, b + 8, 8);
    return true;
}

#define MAX_CREATE_ECPS 16

/* A create step's ecp: one {guid, data | hex | zeros} mapping or a list of
 * them, into c->ecps (arena). */
static bool load_ecps(struct ld *ld, yaml_node_t *node, struct fltsim_create_params *c)
{
    static const char *const ecp_keys[] = {"guid", "data", "hex", "zeros", NULL};
    size_t count = node->type == YAML_SEQUENCE_NODE ? fltsim__ld_list_count(node) : 1;
    if (node->type != YAML_SEQUENCE_NODE && !fltsim__ld_want_mapping(ld, node, "ecp"))
        return false;
    if (count == 0 || count > MAX_CREATE_ECPS)
        return fltsim__ld_fail(ld, node, "ecp has %zu entries; expected 1 to %d", count,
                               MAX_CREATE_ECPS);
    struct fltsim_ecp *ecps = fltsim__ld_alloc(ld, count * sizeof(*ecps));
    if (ecps == NULL)
        return fltsim__ld_oom(ld, node);
    memset(ecps, 0, count * sizeof(*ecps));
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *m =
            node->type == YAML_SEQUENCE_NODE ? fltsim__ld_list_item(ld, node, i) : node;
        yaml_node_t *g;
        if (!fltsim__ld_want_mapping(ld, m, "ecp") ||
            !fltsim__ld_check_keys(ld, m, "an ecp", ecp_keys) ||
            !fltsim__ld_require(ld, m, "guid", "an ecp", &g) ||
            !fltsim__ld_want_scalar(ld, g, "guid"))
            return false;
        if (!parse_guid(fltsim__ld_text_of(g), &ecps[i].type))
            return fltsim__ld_fail(ld, g,
                                   "guid '%s' is not a GUID; expected "
                                   "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}",
                                   fltsim__ld_text_of(g));
        for (size_t j = 0; j < i; j++)
            if (memcmp(&ecps[j].type, &ecps[i].type, sizeof(GUID)) == 0)
                return fltsim__ld_fail(ld, g,
                                       "guid '%s' is given twice; a create carries one ECP of "
                                       "each type",
                                       fltsim__ld_text_of(g));
        struct sc_bytes bytes;
        if (!fltsim__ld_get_bytes(ld, m, "an ecp", &bytes))
            return false;
        if (bytes.size > 65536)
            return fltsim__ld_fail(ld, m, "an ecp's context is %zu bytes; expected at most 65536",
                                   bytes.size);
        ecps[i].data = bytes.data;
        ecps[i].size = (ULONG)bytes.size;
    }
    c->ecps = ecps;
    c->ecp_count = (ULONG)count;
    return true;
}

/* Operations: the keys each accepts besides the common step keys. */
#define COMMON_KEYS "op", "id", "thread", "nowait", "expect"
static const char *const create_keys[] = {COMMON_KEYS,
                                          "handle",
                                          "path",
                                          "access",
                                          "share",
                                          "disposition",
                                          "options",
                                          "attributes",
                                          "allocation_size",
                                          "open_target_directory",
                                          "kernel_mode",
                                          "top_level_irp",
                                          "root",
                                          "ecp",
                                          NULL};
static const char *const open_keys[] = {COMMON_KEYS, "handle", "path", "access", NULL};
static const char *const read_keys[] = {COMMON_KEYS, "handle", "offset", "length",
                                        "flags",     "async",  NULL};
static const char *const write_keys[] = {COMMON_KEYS, "handle", "offset", "data", "hex",
                                         "zeros",     "flags",  "async",  NULL};
static const char *const query_info_keys[] = {COMMON_KEYS, "handle", "class",
                                              "length",    "flags",  NULL};
static const char *const set_info_keys[] = {COMMON_KEYS,       "handle",   "class",  "end_of_file",
                                            "allocation_size", "position", "delete", "flags",
                                            "attributes",      NULL};
static const char *const rename_keys[] = {COMMON_KEYS, "handle", "new_name", "replace", NULL};
static const char *const delete_keys[] = {COMMON_KEYS, "handle", "delete", NULL};
static const char *const query_dir_keys[] = {COMMON_KEYS, "handle", "class",  "pattern",
                                             "restart",   "single", "length", NULL};
static const char *const handle_keys[] = {COMMON_KEYS, "handle", NULL};
static const char *const acquire_keys[] = {COMMON_KEYS, "handle", "sync_type", "protection", NULL};
static const char *const map_keys[] = {COMMON_KEYS, "handle", "protection", NULL};
static const char *const query_open_keys[] = {COMMON_KEYS, "path", "class", NULL};
static const char *const query_volume_keys[] = {COMMON_KEYS, "handle", "class", "length", NULL};
static const char *const lock_keys[] = {COMMON_KEYS,        "handle",    "offset", "length", "key",
                                        "fail_immediately", "exclusive", "flags",  NULL};
static const char *const unlock_keys[] = {COMMON_KEYS, "handle", "minor", "offset",
                                          "length",    "key",    "flags", NULL};
static const char *const fs_control_keys[] = {COMMON_KEYS, "handle",     "code",
                                              "in_length", "out_length", NULL};
static const char *const device_control_keys[] = {COMMON_KEYS,  "handle", "code", "in_length",
                                                  "out_length", "flags",  NULL};
static const char *const query_ea_keys[] = {COMMON_KEYS, "handle", "length", "restart", NULL};
static const char *const query_security_keys[] = {COMMON_KEYS, "handle", "information", "length",
                                                  NULL};
static const char *const set_security_keys[] = {COMMON_KEYS, "handle", "information", NULL};
static const char *const mod_write_keys[] = {COMMON_KEYS, "handle", "ending_offset", NULL};
static const char *const cancel_keys[] = {COMMON_KEYS, "handle", "request", NULL};

static const struct {
    const char *name;
    enum sc_op op;
    const char *const *keys;
} ops[] = {{"create", SC_OP_CREATE, create_keys},
           {"open", SC_OP_OPEN, open_keys},
           {"read", SC_OP_READ, read_keys},
           {"write", SC_OP_WRITE, write_keys},
           {"query_information", SC_OP_QUERY_INFORMATION, query_info_keys},
           {"set_information", SC_OP_SET_INFORMATION, set_info_keys},
           {"rename", SC_OP_RENAME, rename_keys},
           {"delete", SC_OP_DELETE, delete_keys},
           {"query_directory", SC_OP_QUERY_DIRECTORY, query_dir_keys},
           {"flush", SC_OP_FLUSH, handle_keys},
           {"acquire_for_section_sync", SC_OP_ACQUIRE_FOR_SECTION_SYNC, acquire_keys},
           {"release_for_section_sync", SC_OP_RELEASE_FOR_SECTION_SYNC, handle_keys},
           {"map_section", SC_OP_MAP_SECTION, map_keys},
           {"close", SC_OP_CLOSE, handle_keys},
           {"query_open", SC_OP_QUERY_OPEN, query_open_keys},
           {"query_volume_information", SC_OP_QUERY_VOLUME_INFORMATION, query_volume_keys},
           {"lock", SC_OP_LOCK, lock_keys},
           {"unlock", SC_OP_UNLOCK, unlock_keys},
           {"fs_control", SC_OP_FS_CONTROL, fs_control_keys},
           {"device_control", SC_OP_DEVICE_CONTROL, device_control_keys},
           {"query_ea", SC_OP_QUERY_EA, query_ea_keys},
           {"query_security", SC_OP_QUERY_SECURITY, query_security_keys},
           {"set_security", SC_OP_SET_SECURITY, set_security_keys},
           {"acquire_for_mod_write", SC_OP_ACQUIRE_FOR_MOD_WRITE, mod_write_keys},
           {"release_for_mod_write", SC_OP_RELEASE_FOR_MOD_WRITE, handle_keys},
           {"acquire_for_cc_flush", SC_OP_ACQUIRE_FOR_CC_FLUSH, handle_keys},
           {"release_for_cc_flush", SC_OP_RELEASE_FOR_CC_FLUSH, handle_keys},
           {"cancel", SC_OP_CANCEL, cancel_keys}};

/* The operations added for capture replay (io.h): query_open, volume
 * information, locks, controls, EAs, security, mod-write. */
static bool load_more_io(struct ld *ld, yaml_node_t *m, struct sc_step *s, const char *where)
{
    yaml_node_t *n;
    ULONG64 v;
    if (s->op != SC_OP_QUERY_OPEN && !fltsim__ld_use_handle(ld, m, s))
        return false;
    switch (s->op) {
    case SC_OP_QUERY_OPEN:
        if (!fltsim__ld_require(ld, m, "path", where, &n) ||
            !fltsim__ld_get_wstring(ld, n, "path", &s->path))
            return false;
        v = FileNetworkOpenInformation;
        if ((n = fltsim__ld_get(ld, m, "class")) != NULL &&
            !fltsim__ld_get_enum(ld, n, "class", "query_open class", query_open_class_names, &v))
            return false;
        s->info_class = (FILE_INFORMATION_CLASS)v;
        s->length = v == FileBasicInformation ? sizeof(FILE_BASIC_INFORMATION)
                                              : sizeof(FILE_NETWORK_OPEN_INFORMATION);
        return true;
    case SC_OP_QUERY_VOLUME_INFORMATION:
        if (!fltsim__ld_require(ld, m, "class", where, &n) ||
            !fltsim__ld_get_enum(ld, n, "class", "volume information class", volume_class_names,
                                 &v))
            return false;
        s->info_class = (FILE_INFORMATION_CLASS)v;
        s->length = 512;
        return (n = fltsim__ld_get(ld, m, "length")) == NULL ||
               fltsim__ld_get_ulong(ld, n, "length", &s->length);
    case SC_OP_LOCK:
    case SC_OP_UNLOCK:
        s->fail_immediately = s->exclusive = true;
        s->minor = s->op == SC_OP_LOCK ? IRP_MN_LOCK : IRP_MN_UNLOCK_SINGLE;
        if ((n = fltsim__ld_get(ld, m, "minor")) != NULL) {
            if (!fltsim__ld_get_enum(ld, n, "minor", "unlock minor", unlock_minor_names, &v))
                return false;
            s->minor = (UCHAR)v;
        }
        if (s->minor == IRP_MN_LOCK || s->minor == IRP_MN_UNLOCK_SINGLE) {
            if (!fltsim__ld_require(ld, m, "offset", where, &n) ||
                !fltsim__ld_get_longlong(ld, n, "offset", &s->offset) ||
                !fltsim__ld_require(ld, m, "length", where, &n) ||
                !fltsim__ld_get_longlong(ld, n, "length", &s->range_length))
                return false;
        } else {
            static const char *const ranged[] = {"offset", "length"};
            for (size_t i = 0; i < 2; i++)
                if ((n = fltsim__ld_get(ld, m, ranged[i])) != NULL)
                    return fltsim__ld_fail(
                        ld, n,
                        "'%s' does not apply to an unlock of every lock; expected it "
                        "only with minor: single",
                        ranged[i]);
        }
        if ((n = fltsim__ld_get(ld, m, "key")) != NULL &&
            !fltsim__ld_get_ulong(ld, n, "key", &s->key))
            return false;
        if ((n = fltsim__ld_get(ld, m, "fail_immediately")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "fail_immediately", &s->fail_immediately))
            return false;
        if ((n = fltsim__ld_get(ld, m, "exclusive")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "exclusive", &s->exclusive))
            return false;
        return (n = fltsim__ld_get(ld, m, "flags")) == NULL ||
               fltsim__ld_get_flags(ld, n, "flags", "I/O flag", kernel_flag_names, &s->flags);
    case SC_OP_FS_CONTROL:
    case SC_OP_DEVICE_CONTROL:
        if (!fltsim__ld_require(ld, m, "code", where, &n) || !fltsim__ld_want_scalar(ld, n, "code"))
            return false;
        if (fltsim__ld_is_plain(n) && fltsim__ld_parse_uint(fltsim__ld_text_of(n), &v)) {
            if (v > 0xFFFFFFFFull)
                return fltsim__ld_fail(ld, n,
                                       "code %s is too large; expected a 32-bit control code",
                                       fltsim__ld_text_of(n));
        } else if (!fltsim__ld_get_enum(ld, n, "code", "control code", control_code_names, &v)) {
            return false;
        }
        s->code = (ULONG)v;
        if ((n = fltsim__ld_get(ld, m, "in_length")) != NULL &&
            !fltsim__ld_get_ulong(ld, n, "in_length", &s->in_length))
            return false;
        if ((n = fltsim__ld_get(ld, m, "out_length")) != NULL &&
            !fltsim__ld_get_ulong(ld, n, "out_length", &s->length))
            return false;
        if (s->in_length > (1u << 20) || s->length > (1u << 20))
            return fltsim__ld_fail(ld, m,
                                   "control buffers are limited to 1048576 bytes; expected less");
        return (n = fltsim__ld_get(ld, m, "flags")) == NULL ||
               fltsim__ld_get_flags(ld, n, "flags", "I/O flag", kernel_flag_names, &s->flags);
    case SC_OP_QUERY_EA:
        s->length = 4096;
        if ((n = fltsim__ld_get(ld, m, "length")) != NULL &&
            !fltsim__ld_get_ulong(ld, n, "length", &s->length))
            return false;
        return (n = fltsim__ld_get(ld, m, "restart")) == NULL ||
               fltsim__ld_get_bool(ld, n, "restart", &s->restart);
    case SC_OP_QUERY_SECURITY:
    case SC_OP_SET_SECURITY:
        if (!fltsim__ld_require(ld, m, "information", where, &n) ||
            !fltsim__ld_get_flags(ld, n, "information", "security information", security_names,
                                  &s->security_information))
            return false;
        s->length = 4096;
        return (n = fltsim__ld_get(ld, m, "length")) == NULL ||
               fltsim__ld_get_ulong(ld, n, "length", &s->length);
    default: /* SC_OP_ACQUIRE_FOR_MOD_WRITE */
        return (n = fltsim__ld_get(ld, m, "ending_offset")) == NULL ||
               fltsim__ld_get_longlong(ld, n, "ending_offset", &s->offset);
    }
}

/* cancel: `request` names an earlier async read or write step on the same
 * handle (only that request is cancelled); without it, all of the handle's. */
static bool load_cancel(struct ld *ld, yaml_node_t *m, struct sc_step *s)
{
    s->request = -1;
    yaml_node_t *n = fltsim__ld_get(ld, m, "request");
    if (n == NULL)
        return true;
    if (!fltsim__ld_want_scalar(ld, n, "request"))
        return false;
    const char *id = fltsim__ld_text_of(n);
    size_t index = (size_t)(s - ld->sc->steps);
    size_t j = 0;
    while (j < index && (ld->sc->steps[j].id == NULL || strcmp(ld->sc->steps[j].id, id) != 0))
        j++;
    if (j == index)
        return fltsim__ld_fail(ld, n,
                               "request '%s' is not the id of an earlier step; expected the id "
                               "of an async read or write step above this one",
                               id);
    const struct sc_step *t = &ld->sc->steps[j];
    if (t->kind != SC_STEP_IO || !t->async || t->handle != s->handle)
        return fltsim__ld_fail(ld, n,
                               "request '%s' is not an async read or write on this step's "
                               "handle; expected the id of one (async: true, same handle)",
                               id);
    s->request = (int)j;
    return true;
}

bool fltsim__ld_load_io_step(struct ld *ld, yaml_node_t *m, struct sc_step *s, yaml_node_t *opn)
{
    yaml_node_t *n;
    size_t which = ARRAY_COUNT(ops);
    if (!fltsim__ld_want_scalar(ld, opn, "op"))
        return false;
    for (size_t i = 0; i < ARRAY_COUNT(ops); i++)
        if (strcmp(ops[i].name, fltsim__ld_text_of(opn)) == 0)
            which = i;
    if (which == ARRAY_COUNT(ops)) {
        char names[1024] = "";
        size_t used = 0;
        for (size_t i = 0; i < ARRAY_COUNT(ops) && used < sizeof(names); i++)
            used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
                                     ops[i].name);
        return fltsim__ld_fail(ld, opn, "unknown operation '%s'; expected one of %s",
                               fltsim__ld_text_of(opn), names);
    }
    char where[64];
    snprintf(where, sizeof(where), "%s %s step", fltsim__ld_article(ops[which].name),
             ops[which].name);
    if (!fltsim__ld_check_keys(ld, m, where, ops[which].keys))
        return false;
    s->kind = SC_STEP_IO;
    s->op = ops[which].op;
    s->label = ops[which].name;
    s->handle = -1;
    if ((n = fltsim__ld_get(ld, m, "async")) != NULL &&
        !fltsim__ld_get_bool(ld, n, "async", &s->async))
        return false;

    switch (s->op) {
    case SC_OP_CREATE: {
        struct fltsim_create_params *c = &s->create;
        c->desired_access = GENERIC_READ;
        c->share_access = FILE_SHARE_READ | FILE_SHARE_WRITE;
        c->disposition = FILE_OPEN;
        c->create_options = FILE_SYNCHRONOUS_IO_NONALERT;
        if (!fltsim__ld_require(ld, m, "path", where, &n) ||
            !fltsim__ld_get_wstring(ld, n, "path", &s->path))
            return false;
        s->root = -1;
        if ((n = fltsim__ld_get(ld, m, "root")) != NULL &&
            !fltsim__ld_handle_ref(ld, n, "root", &s->root))
            return false;
        if ((n = fltsim__ld_get(ld, m, "ecp")) != NULL && !load_ecps(ld, n, c))
            return false;
        if ((n = fltsim__ld_get(ld, m, "access")) != NULL &&
            !fltsim__ld_get_flags(ld, n, "access", "access right", access_names,
                                  &c->desired_access))
            return false;
        if ((n = fltsim__ld_get(ld, m, "share")) != NULL &&
            !fltsim__ld_get_flags(ld, n, "share", "share mode", share_names, &c->share_access))
            return false;
        ULONG64 d;
        if ((n = fltsim__ld_get(ld, m, "disposition")) != NULL) {
            if (!fltsim__ld_get_enum(ld, n, "disposition", "disposition", disposition_names, &d))
                return false;
            c->disposition = (ULONG)d;
        }
        if ((n = fltsim__ld_get(ld, m, "options")) != NULL &&
            !fltsim__ld_get_flags(ld, n, "options", "create option", option_names,
                                  &c->create_options))
            return false;
        if ((n = fltsim__ld_get(ld, m, "attributes")) != NULL &&
            !fltsim__ld_get_flags(ld, n, "attributes", "attribute", attribute_names,
                                  &c->file_attributes))
            return false;
        if ((n = fltsim__ld_get(ld, m, "allocation_size")) != NULL) {
            if (!fltsim__ld_get_uint(ld, n, "allocation_size", INT64_MAX, &d))
                return false;
            c->allocation_size = (LONGLONG)d;
        }
        bool b = false;
        if ((n = fltsim__ld_get(ld, m, "open_target_directory")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "open_target_directory", &b))
            return false;
        if (b)
            c->operation_flags |= SL_OPEN_TARGET_DIRECTORY;
        b = false;
        if ((n = fltsim__ld_get(ld, m, "kernel_mode")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "kernel_mode", &b))
            return false;
        if (b)
            c->flags |= FLTSIM_IO_KERNEL_MODE;
        b = false;
        if ((n = fltsim__ld_get(ld, m, "top_level_irp")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "top_level_irp", &b))
            return false;
        if (b)
            s->flags |= SC_FLAG_TOP_LEVEL_IRP;
        break;
    }
    case SC_OP_OPEN:
        s->create.desired_access = GENERIC_READ;
        if (!fltsim__ld_require(ld, m, "path", where, &n) ||
            !fltsim__ld_get_wstring(ld, n, "path", &s->path))
            return false;
        if ((n = fltsim__ld_get(ld, m, "access")) != NULL &&
            !fltsim__ld_get_flags(ld, n, "access", "access right", access_names,
                                  &s->create.desired_access))
            return false;
        break;
    case SC_OP_READ:
    case SC_OP_WRITE:
        if (!fltsim__ld_use_handle(ld, m, s))
            return false;
        if ((n = fltsim__ld_get(ld, m, "offset")) != NULL) {
            ULONG64 off;
            s->has_offset = true;
            if (s->op == SC_OP_WRITE && fltsim__ld_is_plain(n) &&
                strcmp(fltsim__ld_text_of(n), "end") == 0) {
                /* FILE_WRITE_TO_END_OF_FILE in LowPart, -1 in HighPart. */
                s->offset = -1;
            } else {
                if (!fltsim__ld_get_uint(ld, n, "offset", INT64_MAX, &off))
                    return false;
                s->offset = (LONGLONG)off;
            }
        } else if (s->async) {
            return fltsim__ld_fail(ld, m, "an async %s needs an offset; expected 'offset:'",
                                   s->label);
        }
        if ((n = fltsim__ld_get(ld, m, "flags")) != NULL &&
            !fltsim__ld_get_flags(ld, n, "flags", "I/O flag", io_flag_names, &s->flags))
            return false;
        if (s->op == SC_OP_READ) {
            if (!fltsim__ld_require(ld, m, "length", where, &n) ||
                !fltsim__ld_get_ulong(ld, n, "length", &s->length))
                return false;
        } else {
            if (!fltsim__ld_get_bytes(ld, m, where, &s->data))
                return false;
            if (!s->data.set)
                return fltsim__ld_fail(ld, m,
                                       "a write step has nothing to write; expected data or hex");
            if (s->data.size > 0xFFFFFFFFu)
                return fltsim__ld_fail(ld, m, "write data is too long");
            s->length = (ULONG)s->data.size;
        }
        break;
    case SC_OP_QUERY_INFORMATION: {
        ULONG64 c;
        if (!fltsim__ld_use_handle(ld, m, s) || !fltsim__ld_require(ld, m, "class", where, &n) ||
            !fltsim__ld_get_enum(ld, n, "class", "information class", query_class_names, &c))
            return false;
        s->info_class = (FILE_INFORMATION_CLASS)c;
        s->length = query_class_size(s->info_class);
        if ((n = fltsim__ld_get(ld, m, "length")) != NULL &&
            !fltsim__ld_get_ulong(ld, n, "length", &s->length))
            return false;
        if ((n = fltsim__ld_get(ld, m, "flags")) != NULL &&
            !fltsim__ld_get_flags(ld, n, "flags", "I/O flag", kernel_flag_names, &s->flags))
            return false;
        break;
    }
    case SC_OP_SET_INFORMATION: {
        ULONG64 c;
        if (!fltsim__ld_use_handle(ld, m, s) || !fltsim__ld_require(ld, m, "class", where, &n) ||
            !fltsim__ld_get_enum(ld, n, "class", "information class", set_class_names, &c))
            return false;
        s->info_class = (FILE_INFORMATION_CLASS)c;
        for (size_t i = 0; i < ARRAY_COUNT(set_fields); i++) {
            yaml_node_t *f = fltsim__ld_get(ld, m, set_fields[i].key);
            if (f != NULL && set_fields[i].info_class != s->info_class)
                return fltsim__ld_fail(
                    ld, f, "'%s' does not belong to class %s; expected that class's field",
                    set_fields[i].key, fltsim__ld_text_of(n));
            if (set_fields[i].info_class != s->info_class)
                continue;
            if (f == NULL)
                return fltsim__ld_fail(
                    ld, m, "a set_information step of class %s has no '%s'; expected it",
                    fltsim__ld_text_of(n), set_fields[i].key);
            bool b;
            ULONG a;
            switch (s->info_class) {
            case FileDispositionInformation:
                if (!fltsim__ld_get_bool(ld, f, "delete", &b))
                    return false;
                s->value = b;
                break;
            case FileBasicInformation:
                if (!fltsim__ld_get_flags(ld, f, "attributes", "attribute", attribute_names, &a))
                    return false;
                s->value = a;
                break;
            case FileDispositionInformationEx:
                if (!fltsim__ld_get_flags(ld, f, "flags", "disposition flag",
                                          disposition_flag_names, &a))
                    return false;
                s->value = a;
                break;
            default:
                if (!fltsim__ld_get_uint(ld, f, set_fields[i].key, INT64_MAX, &s->value))
                    return false;
            }
        }
        break;
    }
    case SC_OP_RENAME:
        if (!fltsim__ld_use_handle(ld, m, s) || !fltsim__ld_require(ld, m, "new_name", where, &n) ||
            !fltsim__ld_get_wstring(ld, n, "new_name", &s->text))
            return false;
        if ((n = fltsim__ld_get(ld, m, "replace")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "replace", &s->replace))
            return false;
        break;
    case SC_OP_DELETE: {
        bool b = true;
        if (!fltsim__ld_use_handle(ld, m, s))
            return false;
        if ((n = fltsim__ld_get(ld, m, "delete")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "delete", &b))
            return false;
        s->value = b;
        break;
    }
    case SC_OP_QUERY_DIRECTORY: {
        ULONG64 c = FileDirectoryInformation;
        if (!fltsim__ld_use_handle(ld, m, s))
            return false;
        if ((n = fltsim__ld_get(ld, m, "class")) != NULL &&
            !fltsim__ld_get_enum(ld, n, "class", "directory information class",
                                 directory_class_names, &c))
            return false;
        s->info_class = (FILE_INFORMATION_CLASS)c;
        s->length = 4096;
        if ((n = fltsim__ld_get(ld, m, "length")) != NULL &&
            !fltsim__ld_get_ulong(ld, n, "length", &s->length))
            return false;
        if ((n = fltsim__ld_get(ld, m, "pattern")) != NULL &&
            !fltsim__ld_get_wstring(ld, n, "pattern", &s->text))
            return false;
        if ((n = fltsim__ld_get(ld, m, "restart")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "restart", &s->restart))
            return false;
        if ((n = fltsim__ld_get(ld, m, "single")) != NULL &&
            !fltsim__ld_get_bool(ld, n, "single", &s->single))
            return false;
        break;
    }
    case SC_OP_ACQUIRE_FOR_SECTION_SYNC: {
        ULONG64 v = SyncTypeCreateSection;
        if (!fltsim__ld_use_handle(ld, m, s))
            return false;
        if ((n = fltsim__ld_get(ld, m, "sync_type")) != NULL &&
            !fltsim__ld_get_enum(ld, n, "sync_type", "sync type", sync_type_names, &v))
            return false;
        s->value = v;
        v = PAGE_READONLY;
        if ((n = fltsim__ld_get(ld, m, "protection")) != NULL &&
            !fltsim__ld_get_enum(ld, n, "protection", "page protection", protection_names, &v))
            return false;
        s->protection = (ULONG)v;
        break;
    }
    case SC_OP_MAP_SECTION: {
        ULONG64 v = PAGE_READONLY;
        if (!fltsim__ld_use_handle(ld, m, s))
            return false;
        if ((n = fltsim__ld_get(ld, m, "protection")) != NULL &&
            !fltsim__ld_get_enum(ld, n, "protection", "page protection", protection_names, &v))
            return false;
        s->protection = (ULONG)v;
        break;
    }
    case SC_OP_FLUSH:
    case SC_OP_RELEASE_FOR_SECTION_SYNC:
    case SC_OP_RELEASE_FOR_MOD_WRITE:
    case SC_OP_ACQUIRE_FOR_CC_FLUSH:
    case SC_OP_RELEASE_FOR_CC_FLUSH:
        if (!fltsim__ld_use_handle(ld, m, s))
            return false;
        break;
    case SC_OP_QUERY_OPEN:
    case SC_OP_QUERY_VOLUME_INFORMATION:
    case SC_OP_LOCK:
    case SC_OP_UNLOCK:
    case SC_OP_FS_CONTROL:
    case SC_OP_DEVICE_CONTROL:
    case SC_OP_QUERY_EA:
    case SC_OP_QUERY_SECURITY:
    case SC_OP_SET_SECURITY:
    case SC_OP_ACQUIRE_FOR_MOD_WRITE:
        if (!load_more_io(ld, m, s, where))
            return false;
        break;
    case SC_OP_CLOSE:
        if (!fltsim__ld_use_handle(ld, m, s))
            return false;
        ld->handle_open[s->handle] = false;
        break;
    case SC_OP_CANCEL:
        if (!fltsim__ld_use_handle(ld, m, s) || !load_cancel(ld, m, s))
            return false;
        break;
    }
    if (s->async && s->op != SC_OP_READ && s->op != SC_OP_WRITE)
        return fltsim__ld_fail(ld, fltsim__ld_get(ld, m, "async"),
                               "'async' applies to read and write steps; expected it only there");
    return true;
}
