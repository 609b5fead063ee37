/*
 * Facts about information classes that the I/O manager, the file systems and
 * the scenario loader all need, kept in one table: the size of each
 * FILE_INFORMATION_CLASS record, the fixed part before its variable-length
 * name, and the fixed part (everything before FileName) of each
 * directory-enumeration class. Each caller keeps its own rule about which
 * classes it takes and what the size means to it.
 */
#include "sim_internal.h"

#define NAME_FIXED(type) ((ULONG)offsetof(type, FileName))
#define ALL_INFO_NAME ((ULONG)offsetof(FILE_ALL_INFORMATION, NameInformation))

/* One FILE_INFORMATION_CLASS record: sizeof it, and the part that must fit
 * before its variable-length name (size again for a record with no name). */
static const struct {
    FILE_INFORMATION_CLASS info_class;
    ULONG size, fixed;
} info_sizes[] = {
    {FileBasicInformation, sizeof(FILE_BASIC_INFORMATION), sizeof(FILE_BASIC_INFORMATION)},
    {FileStandardInformation, sizeof(FILE_STANDARD_INFORMATION), sizeof(FILE_STANDARD_INFORMATION)},
    {FileInternalInformation, sizeof(FILE_INTERNAL_INFORMATION), sizeof(FILE_INTERNAL_INFORMATION)},
    {FileEaInformation, sizeof(FILE_EA_INFORMATION), sizeof(FILE_EA_INFORMATION)},
    {FileAccessInformation, sizeof(FILE_ACCESS_INFORMATION), sizeof(FILE_ACCESS_INFORMATION)},
    {FileNameInformation, sizeof(FILE_NAME_INFORMATION), NAME_FIXED(FILE_NAME_INFORMATION)},
    {FileAlternateNameInformation, sizeof(FILE_NAME_INFORMATION),
     NAME_FIXED(FILE_NAME_INFORMATION)},
    {FileNormalizedNameInformation, sizeof(FILE_NAME_INFORMATION),
     NAME_FIXED(FILE_NAME_INFORMATION)},
    {FileStreamInformation, sizeof(FILE_STREAM_INFORMATION),
     (ULONG)offsetof(FILE_STREAM_INFORMATION, StreamName)},
    {FileRenameInformation, sizeof(FILE_RENAME_INFORMATION), NAME_FIXED(FILE_RENAME_INFORMATION)},
    {FileLinkInformation, sizeof(FILE_RENAME_INFORMATION), NAME_FIXED(FILE_RENAME_INFORMATION)},
    {FileDispositionInformation, sizeof(FILE_DISPOSITION_INFORMATION),
     sizeof(FILE_DISPOSITION_INFORMATION)},
    {FileDispositionInformationEx, sizeof(FILE_DISPOSITION_INFORMATION_EX),
     sizeof(FILE_DISPOSITION_INFORMATION_EX)},
    {FilePositionInformation, sizeof(FILE_POSITION_INFORMATION), sizeof(FILE_POSITION_INFORMATION)},
    {FileModeInformation, sizeof(FILE_MODE_INFORMATION), sizeof(FILE_MODE_INFORMATION)},
    {FileAlignmentInformation, sizeof(FILE_ALIGNMENT_INFORMATION),
     sizeof(FILE_ALIGNMENT_INFORMATION)},
    {FileAllInformation, sizeof(FILE_ALL_INFORMATION),
     ALL_INFO_NAME + NAME_FIXED(FILE_NAME_INFORMATION)},
    {FileAllocationInformation, sizeof(FILE_ALLOCATION_INFORMATION),
     sizeof(FILE_ALLOCATION_INFORMATION)},
    {FileEndOfFileInformation, sizeof(FILE_END_OF_FILE_INFORMATION),
     sizeof(FILE_END_OF_FILE_INFORMATION)},
    {FileNetworkOpenInformation, sizeof(FILE_NETWORK_OPEN_INFORMATION),
     sizeof(FILE_NETWORK_OPEN_INFORMATION)},
    {FileAttributeTagInformation, sizeof(FILE_ATTRIBUTE_TAG_INFORMATION),
     sizeof(FILE_ATTRIBUTE_TAG_INFORMATION)},
};

static size_t info_index(FILE_INFORMATION_CLASS info_class)
{
    size_t i = 0;
    while (i < sizeof(info_sizes) / sizeof(info_sizes[0]) && info_sizes[i].info_class != info_class)
        i++;
    return i;
}

ULONG fltsim__file_info_size(FILE_INFORMATION_CLASS info_class)
{
    size_t i = info_index(info_class);
    return i < sizeof(info_sizes) / sizeof(info_sizes[0]) ? info_sizes[i].size : 0;
}

ULONG fltsim__file_info_fixed_size(FILE_INFORMATION_CLASS info_class)
{
    size_t i = info_index(info_class);
    return i < sizeof(info_sizes) / sizeof(info_sizes[0]) ? info_sizes[i].fixed : 0;
}

bool fltsim__file_info_named(FILE_INFORMATION_CLASS info_class)
{
    ULONG size = fltsim__file_info_size(info_class);
    return size == 0 || fltsim__file_info_fixed_size(info_class) != size;
}

ULONG fltsim__directory_entry_fixed_size(FILE_INFORMATION_CLASS info_class)
{
    switch (info_class) {
    case FileDirectoryInformation:
        return NAME_FIXED(FILE_DIRECTORY_INFORMATION);
    case FileFullDirectoryInformation:
        return NAME_FIXED(FILE_FULL_DIR_INFORMATION);
    case FileBothDirectoryInformation:
        return NAME_FIXED(FILE_BOTH_DIR_INFORMATION);
    case FileNamesInformation:
        return NAME_FIXED(FILE_NAMES_INFORMATION);
    case FileIdBothDirectoryInformation:
        return NAME_FIXED(FILE_ID_BOTH_DIR_INFORMATION);
    case FileIdFullDirectoryInformation:
        return NAME_FIXED(FILE_ID_FULL_DIR_INFORMATION);
    default:
        return 0;
    }
}

bool fltsim__fast_query_class(FILE_INFORMATION_CLASS info_class)
{
    return info_class == FileBasicInformation || info_class == FileStandardInformation ||
           info_class == FileNetworkOpenInformation;
}
