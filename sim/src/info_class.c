/*
 * Facts about information classes that both the I/O manager and memfs need:
 * the fixed part (everything before FileName) of each directory-enumeration
 * class.
 */
#include "sim_internal.h"

ULONG fltsim__directory_entry_fixed_size(FILE_INFORMATION_CLASS info_class)
{
    switch (info_class) {
    case FileDirectoryInformation:
        return (ULONG)offsetof(FILE_DIRECTORY_INFORMATION, FileName);
    case FileFullDirectoryInformation:
        return (ULONG)offsetof(FILE_FULL_DIR_INFORMATION, FileName);
    case FileBothDirectoryInformation:
        return (ULONG)offsetof(FILE_BOTH_DIR_INFORMATION, FileName);
    case FileNamesInformation:
        return (ULONG)offsetof(FILE_NAMES_INFORMATION, FileName);
    case FileIdBothDirectoryInformation:
        return (ULONG)offsetof(FILE_ID_BOTH_DIR_INFORMATION, FileName);
    case FileIdFullDirectoryInformation:
        return (ULONG)offsetof(FILE_ID_FULL_DIR_INFORMATION, FileName);
    default:
        return 0;
    }
}
