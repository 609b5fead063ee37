/*
 * The one table of NTSTATUS codes fltsim knows (STYLE: code-to-name tables are
 * written once as X-macro lists). ntstatus.h turns it into the STATUS_*
 * constants; fltsim_ntstatus_name() turns it into names. Values are the WDK's
 * (SPEC section 11 and the general NT codes the file systems return).
 *
 * FLTSIM_NTSTATUS_LIST holds one name per value; FLTSIM_NTSTATUS_ALIAS_LIST
 * holds second names for a value already listed (they get a constant but the
 * name function reports the first name).
 */
#ifndef FLTSIM_NTSTATUS_LIST_H
#define FLTSIM_NTSTATUS_LIST_H

#define FLTSIM_NTSTATUS_LIST(X)                                                                    \
    /* success */                                                                                  \
    X(STATUS_SUCCESS, 0x00000000)                                                                  \
    X(STATUS_ABANDONED, 0x00000080)                                                                \
    X(STATUS_USER_APC, 0x000000C0)                                                                 \
    X(STATUS_ALERTED, 0x00000101)                                                                  \
    X(STATUS_TIMEOUT, 0x00000102)                                                                  \
    X(STATUS_PENDING, 0x00000103)                                                                  \
    X(STATUS_REPARSE, 0x00000104)                                                                  \
    X(STATUS_MORE_ENTRIES, 0x00000105)                                                             \
    X(STATUS_SOME_NOT_MAPPED, 0x00000107)                                                          \
    X(STATUS_OPLOCK_BREAK_IN_PROGRESS, 0x00000108)                                                 \
    X(STATUS_NOTIFY_CLEANUP, 0x0000010B)                                                           \
    X(STATUS_NOTIFY_ENUM_DIR, 0x0000010C)                                                          \
    X(STATUS_FSFILTER_OP_COMPLETED_SUCCESSFULLY, 0x00000126)                                       \
    X(STATUS_FILE_LOCKED_WITH_ONLY_READERS, 0x0000012A)                                            \
    X(STATUS_FILE_LOCKED_WITH_WRITERS, 0x0000012B)                                                 \
    X(STATUS_FLT_IO_COMPLETE, 0x001C0001)                                                          \
    /* informational */                                                                            \
    X(STATUS_OBJECT_NAME_EXISTS, 0x40000000)                                                       \
    /* warnings */                                                                                 \
    X(STATUS_DATATYPE_MISALIGNMENT, 0x80000002)                                                    \
    X(STATUS_BREAKPOINT, 0x80000003)                                                               \
    X(STATUS_BUFFER_OVERFLOW, 0x80000005)                                                          \
    X(STATUS_NO_MORE_FILES, 0x80000006)                                                            \
    X(STATUS_DEVICE_BUSY, 0x80000011)                                                              \
    X(STATUS_NO_MORE_ENTRIES, 0x8000001A)                                                          \
    X(STATUS_FLT_BUFFER_TOO_SMALL, 0x801C0001)                                                     \
    /* errors */                                                                                   \
    X(STATUS_UNSUCCESSFUL, 0xC0000001)                                                             \
    X(STATUS_NOT_IMPLEMENTED, 0xC0000002)                                                          \
    X(STATUS_INVALID_INFO_CLASS, 0xC0000003)                                                       \
    X(STATUS_INFO_LENGTH_MISMATCH, 0xC0000004)                                                     \
    X(STATUS_ACCESS_VIOLATION, 0xC0000005)                                                         \
    X(STATUS_INVALID_HANDLE, 0xC0000008)                                                           \
    X(STATUS_INVALID_CID, 0xC000000B)                                                              \
    X(STATUS_INVALID_PARAMETER, 0xC000000D)                                                        \
    X(STATUS_NO_SUCH_DEVICE, 0xC000000E)                                                           \
    X(STATUS_NO_SUCH_FILE, 0xC000000F)                                                             \
    X(STATUS_INVALID_DEVICE_REQUEST, 0xC0000010)                                                   \
    X(STATUS_END_OF_FILE, 0xC0000011)                                                              \
    X(STATUS_NO_MEDIA_IN_DEVICE, 0xC0000013)                                                       \
    X(STATUS_MORE_PROCESSING_REQUIRED, 0xC0000016)                                                 \
    X(STATUS_NO_MEMORY, 0xC0000017)                                                                \
    X(STATUS_CONFLICTING_ADDRESSES, 0xC0000018)                                                    \
    X(STATUS_NOT_MAPPED_VIEW, 0xC0000019)                                                          \
    X(STATUS_ILLEGAL_INSTRUCTION, 0xC000001D)                                                      \
    X(STATUS_INVALID_VIEW_SIZE, 0xC000001F)                                                        \
    X(STATUS_INVALID_FILE_FOR_SECTION, 0xC0000020)                                                 \
    X(STATUS_ACCESS_DENIED, 0xC0000022)                                                            \
    X(STATUS_BUFFER_TOO_SMALL, 0xC0000023)                                                         \
    X(STATUS_OBJECT_TYPE_MISMATCH, 0xC0000024)                                                     \
    X(STATUS_NONCONTINUABLE_EXCEPTION, 0xC0000025)                                                 \
    X(STATUS_INVALID_PARAMETER_MIX, 0xC0000030)                                                    \
    X(STATUS_OBJECT_NAME_INVALID, 0xC0000033)                                                      \
    X(STATUS_OBJECT_NAME_NOT_FOUND, 0xC0000034)                                                    \
    X(STATUS_OBJECT_NAME_COLLISION, 0xC0000035)                                                    \
    X(STATUS_PORT_DISCONNECTED, 0xC0000037)                                                        \
    X(STATUS_DEVICE_ALREADY_ATTACHED, 0xC0000038)                                                  \
    X(STATUS_OBJECT_PATH_INVALID, 0xC0000039)                                                      \
    X(STATUS_OBJECT_PATH_NOT_FOUND, 0xC000003A)                                                    \
    X(STATUS_OBJECT_PATH_SYNTAX_BAD, 0xC000003B)                                                   \
    X(STATUS_SHARING_VIOLATION, 0xC0000043)                                                        \
    X(STATUS_QUOTA_EXCEEDED, 0xC0000044)                                                           \
    X(STATUS_INVALID_PAGE_PROTECTION, 0xC0000045)                                                  \
    X(STATUS_THREAD_IS_TERMINATING, 0xC000004B)                                                    \
    X(STATUS_SECTION_PROTECTION, 0xC000004E)                                                       \
    X(STATUS_EAS_NOT_SUPPORTED, 0xC000004F)                                                        \
    X(STATUS_NO_EAS_ON_FILE, 0xC0000052)                                                           \
    X(STATUS_FILE_LOCK_CONFLICT, 0xC0000054)                                                       \
    X(STATUS_LOCK_NOT_GRANTED, 0xC0000055)                                                         \
    X(STATUS_DELETE_PENDING, 0xC0000056)                                                           \
    X(STATUS_PRIVILEGE_NOT_HELD, 0xC0000061)                                                       \
    X(STATUS_INVALID_SECURITY_DESCR, 0xC0000079)                                                   \
    X(STATUS_PROCEDURE_NOT_FOUND, 0xC000007A)                                                      \
    X(STATUS_INVALID_IMAGE_FORMAT, 0xC000007B)                                                     \
    X(STATUS_RANGE_NOT_LOCKED, 0xC000007E)                                                         \
    X(STATUS_DISK_FULL, 0xC000007F)                                                                \
    X(STATUS_INTEGER_OVERFLOW, 0xC0000095)                                                         \
    X(STATUS_FILE_INVALID, 0xC0000098)                                                             \
    X(STATUS_INSUFFICIENT_RESOURCES, 0xC000009A)                                                   \
    X(STATUS_MEDIA_WRITE_PROTECTED, 0xC00000A2)                                                    \
    X(STATUS_INSTRUCTION_MISALIGNMENT, 0xC00000AA)                                                 \
    X(STATUS_FILE_IS_A_DIRECTORY, 0xC00000BA)                                                      \
    X(STATUS_NOT_SUPPORTED, 0xC00000BB)                                                            \
    X(STATUS_NOT_SAME_DEVICE, 0xC00000D4)                                                          \
    X(STATUS_FILE_RENAMED, 0xC00000D5)                                                             \
    X(STATUS_CANT_WAIT, 0xC00000D8)                                                                \
    X(STATUS_OPLOCK_NOT_GRANTED, 0xC00000E2)                                                       \
    X(STATUS_INVALID_USER_BUFFER, 0xC00000E8)                                                      \
    X(STATUS_INVALID_PARAMETER_1, 0xC00000EF)                                                      \
    X(STATUS_INVALID_PARAMETER_2, 0xC00000F0)                                                      \
    X(STATUS_INVALID_PARAMETER_3, 0xC00000F1)                                                      \
    X(STATUS_INVALID_PARAMETER_4, 0xC00000F2)                                                      \
    X(STATUS_INVALID_PARAMETER_5, 0xC00000F3)                                                      \
    X(STATUS_INVALID_PARAMETER_6, 0xC00000F4)                                                      \
    X(STATUS_INVALID_PARAMETER_7, 0xC00000F5)                                                      \
    X(STATUS_INVALID_PARAMETER_8, 0xC00000F6)                                                      \
    X(STATUS_INVALID_PARAMETER_9, 0xC00000F7)                                                      \
    X(STATUS_INVALID_PARAMETER_10, 0xC00000F8)                                                     \
    X(STATUS_INVALID_PARAMETER_11, 0xC00000F9)                                                     \
    X(STATUS_INVALID_PARAMETER_12, 0xC00000FA)                                                     \
    X(STATUS_DIRECTORY_NOT_EMPTY, 0xC0000101)                                                      \
    X(STATUS_NOT_A_DIRECTORY, 0xC0000103)                                                          \
    X(STATUS_NAME_TOO_LONG, 0xC0000106)                                                            \
    X(STATUS_PROCESS_IS_TERMINATING, 0xC000010A)                                                   \
    X(STATUS_MAPPED_FILE_SIZE_ZERO, 0xC000011E)                                                    \
    X(STATUS_TOO_MANY_OPENED_FILES, 0xC000011F)                                                    \
    X(STATUS_CANCELLED, 0xC0000120)                                                                \
    X(STATUS_CANNOT_DELETE, 0xC0000121)                                                            \
    X(STATUS_FILE_DELETED, 0xC0000123)                                                             \
    X(STATUS_FILE_CLOSED, 0xC0000128)                                                              \
    X(STATUS_CONTROL_C_EXIT, 0xC000013A)                                                           \
    X(STATUS_UNHANDLED_EXCEPTION, 0xC0000144)                                                      \
    X(STATUS_KEY_DELETED, 0xC000017C)                                                              \
    X(STATUS_INVALID_DEVICE_STATE, 0xC0000184)                                                     \
    X(STATUS_IO_DEVICE_ERROR, 0xC0000185)                                                          \
    X(STATUS_INVALID_BUFFER_SIZE, 0xC0000206)                                                      \
    X(STATUS_MAPPED_ALIGNMENT, 0xC0000220)                                                         \
    X(STATUS_NOT_FOUND, 0xC0000225)                                                                \
    X(STATUS_REQUEST_ABORTED, 0xC0000240)                                                          \
    X(STATUS_CONNECTION_COUNT_LIMIT, 0xC0000246)                                                   \
    X(STATUS_DRIVER_ENTRYPOINT_NOT_FOUND, 0xC0000263)                                              \
    X(STATUS_VOLUME_DISMOUNTED, 0xC000026E)                                                        \
    X(STATUS_NO_MATCH, 0xC0000272)                                                                 \
    X(STATUS_NO_MORE_MATCHES, 0xC0000273)                                                          \
    X(STATUS_NOT_A_REPARSE_POINT, 0xC0000275)                                                      \
    X(STATUS_IO_REPARSE_TAG_INVALID, 0xC0000276)                                                   \
    X(STATUS_IO_REPARSE_TAG_MISMATCH, 0xC0000277)                                                  \
    X(STATUS_IO_REPARSE_DATA_INVALID, 0xC0000278)                                                  \
    X(STATUS_IO_REPARSE_TAG_NOT_HANDLED, 0xC0000279)                                               \
    X(STATUS_REPARSE_POINT_NOT_RESOLVED, 0xC0000280)                                               \
    X(STATUS_REPARSE_ATTRIBUTE_CONFLICT, 0xC00002B2)                                               \
    X(STATUS_OBJECTID_NOT_FOUND, 0xC00002F0)                                                       \
    X(STATUS_INVALID_DEVICE_OBJECT_PARAMETER, 0xC0000369)                                          \
    X(STATUS_VIRUS_INFECTED, 0xC0000906)                                                           \
    /* filter manager, facility 0x1C (SPEC 11) */                                                  \
    X(STATUS_FLT_NO_HANDLER_DEFINED, 0xC01C0001)                                                   \
    X(STATUS_FLT_CONTEXT_ALREADY_DEFINED, 0xC01C0002)                                              \
    X(STATUS_FLT_INVALID_ASYNCHRONOUS_REQUEST, 0xC01C0003)                                         \
    X(STATUS_FLT_DISALLOW_FAST_IO, 0xC01C0004)                                                     \
    X(STATUS_FLT_INVALID_NAME_REQUEST, 0xC01C0005)                                                 \
    X(STATUS_FLT_NOT_SAFE_TO_POST_OPERATION, 0xC01C0006)                                           \
    X(STATUS_FLT_NOT_INITIALIZED, 0xC01C0007)                                                      \
    X(STATUS_FLT_FILTER_NOT_READY, 0xC01C0008)                                                     \
    X(STATUS_FLT_POST_OPERATION_CLEANUP, 0xC01C0009)                                               \
    X(STATUS_FLT_INTERNAL_ERROR, 0xC01C000A)                                                       \
    X(STATUS_FLT_DELETING_OBJECT, 0xC01C000B)                                                      \
    X(STATUS_FLT_MUST_BE_NONPAGED_POOL, 0xC01C000C)                                                \
    X(STATUS_FLT_DUPLICATE_ENTRY, 0xC01C000D)                                                      \
    X(STATUS_FLT_CBDQ_DISABLED, 0xC01C000E)                                                        \
    X(STATUS_FLT_DO_NOT_ATTACH, 0xC01C000F)                                                        \
    X(STATUS_FLT_DO_NOT_DETACH, 0xC01C0010)                                                        \
    X(STATUS_FLT_INSTANCE_ALTITUDE_COLLISION, 0xC01C0011)                                          \
    X(STATUS_FLT_INSTANCE_NAME_COLLISION, 0xC01C0012)                                              \
    X(STATUS_FLT_FILTER_NOT_FOUND, 0xC01C0013)                                                     \
    X(STATUS_FLT_VOLUME_NOT_FOUND, 0xC01C0014)                                                     \
    X(STATUS_FLT_INSTANCE_NOT_FOUND, 0xC01C0015)                                                   \
    X(STATUS_FLT_CONTEXT_ALLOCATION_NOT_FOUND, 0xC01C0016)                                         \
    X(STATUS_FLT_INVALID_CONTEXT_REGISTRATION, 0xC01C0017)                                         \
    X(STATUS_FLT_NAME_CACHE_MISS, 0xC01C0018)                                                      \
    X(STATUS_FLT_NO_DEVICE_OBJECT, 0xC01C0019)                                                     \
    X(STATUS_FLT_VOLUME_ALREADY_MOUNTED, 0xC01C001A)                                               \
    X(STATUS_FLT_ALREADY_ENLISTED, 0xC01C001B)                                                     \
    X(STATUS_FLT_CONTEXT_ALREADY_LINKED, 0xC01C001C)                                               \
    X(STATUS_FLT_NO_WAITER_FOR_REPLY, 0xC01C0020)                                                  \
    X(STATUS_FLT_REGISTRATION_BUSY, 0xC01C0023)

#define FLTSIM_NTSTATUS_ALIAS_LIST(X)                                                              \
    X(STATUS_WAIT_0, 0x00000000)                                                                   \
    X(STATUS_FLT_DISALLOW_FSFILTER_IO, 0xC01C0004)

#endif /* FLTSIM_NTSTATUS_LIST_H */
