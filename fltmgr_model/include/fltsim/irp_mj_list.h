/*
 * The one table of operation codes (SPEC 1.3). wdm.h makes the IRP_MJ_*
 * constants of the first list, fltKernel.h those of the second (FltMgr's own
 * codes, written in the WDK as negative numbers cast to UCHAR), and
 * fltsim_major_name() names both. The third column is the kind of operation a
 * code can be: I = IRP, F = fast I/O, S = FS-filter callback (for the FltMgr codes
 * only; IRP majors can also arrive as fast I/O where SPEC 1.3 says).
 */
#ifndef FLTSIM_IRP_MJ_LIST_H
#define FLTSIM_IRP_MJ_LIST_H

#define FLTSIM_IRP_MJ_LIST(X)                                                                      \
    X(IRP_MJ_CREATE, 0x00)                                                                         \
    X(IRP_MJ_CREATE_NAMED_PIPE, 0x01)                                                              \
    X(IRP_MJ_CLOSE, 0x02)                                                                          \
    X(IRP_MJ_READ, 0x03)                                                                           \
    X(IRP_MJ_WRITE, 0x04)                                                                          \
    X(IRP_MJ_QUERY_INFORMATION, 0x05)                                                              \
    X(IRP_MJ_SET_INFORMATION, 0x06)                                                                \
    X(IRP_MJ_QUERY_EA, 0x07)                                                                       \
    X(IRP_MJ_SET_EA, 0x08)                                                                         \
    X(IRP_MJ_FLUSH_BUFFERS, 0x09)                                                                  \
    X(IRP_MJ_QUERY_VOLUME_INFORMATION, 0x0a)                                                       \
    X(IRP_MJ_SET_VOLUME_INFORMATION, 0x0b)                                                         \
    X(IRP_MJ_DIRECTORY_CONTROL, 0x0c)                                                              \
    X(IRP_MJ_FILE_SYSTEM_CONTROL, 0x0d)                                                            \
    X(IRP_MJ_DEVICE_CONTROL, 0x0e)                                                                 \
    X(IRP_MJ_INTERNAL_DEVICE_CONTROL, 0x0f)                                                        \
    X(IRP_MJ_SHUTDOWN, 0x10)                                                                       \
    X(IRP_MJ_LOCK_CONTROL, 0x11)                                                                   \
    X(IRP_MJ_CLEANUP, 0x12)                                                                        \
    X(IRP_MJ_CREATE_MAILSLOT, 0x13)                                                                \
    X(IRP_MJ_QUERY_SECURITY, 0x14)                                                                 \
    X(IRP_MJ_SET_SECURITY, 0x15)                                                                   \
    X(IRP_MJ_POWER, 0x16)                                                                          \
    X(IRP_MJ_SYSTEM_CONTROL, 0x17)                                                                 \
    X(IRP_MJ_DEVICE_CHANGE, 0x18)                                                                  \
    X(IRP_MJ_QUERY_QUOTA, 0x19)                                                                    \
    X(IRP_MJ_SET_QUOTA, 0x1a)                                                                      \
    X(IRP_MJ_PNP, 0x1b)

#define FLTSIM_FLT_MJ_LIST(X)                                                                      \
    X(IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION, 0xFF, S)                                         \
    X(IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION, 0xFE, S)                                         \
    X(IRP_MJ_ACQUIRE_FOR_MOD_WRITE, 0xFD, S)                                                       \
    X(IRP_MJ_RELEASE_FOR_MOD_WRITE, 0xFC, S)                                                       \
    X(IRP_MJ_ACQUIRE_FOR_CC_FLUSH, 0xFB, S)                                                        \
    X(IRP_MJ_RELEASE_FOR_CC_FLUSH, 0xFA, S)                                                        \
    X(IRP_MJ_QUERY_OPEN, 0xF9, S)                                                                  \
    X(IRP_MJ_FAST_IO_CHECK_IF_POSSIBLE, 0xF3, F)                                                   \
    X(IRP_MJ_NETWORK_QUERY_OPEN, 0xF2, F)                                                          \
    X(IRP_MJ_MDL_READ, 0xF1, F)                                                                    \
    X(IRP_MJ_MDL_READ_COMPLETE, 0xF0, F)                                                           \
    X(IRP_MJ_PREPARE_MDL_WRITE, 0xEF, F)                                                           \
    X(IRP_MJ_MDL_WRITE_COMPLETE, 0xEE, F)                                                          \
    X(IRP_MJ_VOLUME_MOUNT, 0xED, F)                                                                \
    X(IRP_MJ_VOLUME_DISMOUNT, 0xEC, F)

/* Minor function codes with names, per major (fltsim_minor_name). The values
 * are the IRP_MN_* constants of wdm.h. Where the WDK gives one value two names
 * (IRP_MN_KERNEL_CALL and IRP_MN_TRACK_LINK), the one fltsim uses is listed. */
#define FLTSIM_IRP_MN_RW_LIST(X, major)                                                            \
    X(major, IRP_MN_NORMAL)                                                                        \
    X(major, IRP_MN_DPC)                                                                           \
    X(major, IRP_MN_MDL)                                                                           \
    X(major, IRP_MN_COMPLETE)                                                                      \
    X(major, IRP_MN_COMPRESSED)                                                                    \
    X(major, IRP_MN_MDL_DPC)                                                                       \
    X(major, IRP_MN_COMPLETE_MDL)                                                                  \
    X(major, IRP_MN_COMPLETE_MDL_DPC)

#define FLTSIM_IRP_MN_LIST(X)                                                                      \
    FLTSIM_IRP_MN_RW_LIST(X, IRP_MJ_READ)                                                          \
    FLTSIM_IRP_MN_RW_LIST(X, IRP_MJ_WRITE)                                                         \
    X(IRP_MJ_DIRECTORY_CONTROL, IRP_MN_QUERY_DIRECTORY)                                            \
    X(IRP_MJ_DIRECTORY_CONTROL, IRP_MN_NOTIFY_CHANGE_DIRECTORY)                                    \
    X(IRP_MJ_DIRECTORY_CONTROL, IRP_MN_NOTIFY_CHANGE_DIRECTORY_EX)                                 \
    X(IRP_MJ_FILE_SYSTEM_CONTROL, IRP_MN_USER_FS_REQUEST)                                          \
    X(IRP_MJ_FILE_SYSTEM_CONTROL, IRP_MN_MOUNT_VOLUME)                                             \
    X(IRP_MJ_FILE_SYSTEM_CONTROL, IRP_MN_VERIFY_VOLUME)                                            \
    X(IRP_MJ_FILE_SYSTEM_CONTROL, IRP_MN_LOAD_FILE_SYSTEM)                                         \
    X(IRP_MJ_FILE_SYSTEM_CONTROL, IRP_MN_KERNEL_CALL)                                              \
    X(IRP_MJ_LOCK_CONTROL, IRP_MN_LOCK)                                                            \
    X(IRP_MJ_LOCK_CONTROL, IRP_MN_UNLOCK_SINGLE)                                                   \
    X(IRP_MJ_LOCK_CONTROL, IRP_MN_UNLOCK_ALL)                                                      \
    X(IRP_MJ_LOCK_CONTROL, IRP_MN_UNLOCK_ALL_BY_KEY)

#endif /* FLTSIM_IRP_MJ_LIST_H */
