/*
 * ProcMon's Result column <-> NTSTATUS (TRACES.md 1.4). One X-macro list of
 * (code, display name) pairs makes both directions. The names are ProcMon's
 * display strings, spaces between words, checked against every Result in the
 * real captures; procmon-parser's table (which spells a few with underscores
 * and files BUFFER TOO SMALL under the wrong code) informed the list.
 * Where ProcMon shows one name for two codes, the first listed is the one a
 * name parses to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fltsim/capture.h>

/* X(code, name); a name listed twice parses to its first code. */
#define CAPTURE_STATUS_LIST(X)                                                                     \
    X(0x00000000, "SUCCESS")                                                                       \
    X(0xC0000034, "NAME NOT FOUND")                                                                \
    X(0xC01C0004, "FAST IO DISALLOWED")                                                            \
    X(0x0000012A, "FILE LOCKED WITH ONLY READERS")                                                 \
    X(0x80000005, "BUFFER OVERFLOW")                                                               \
    X(0xC0000275, "NOT REPARSE POINT")                                                             \
    X(0x00000104, "REPARSE")                                                                       \
    X(0x00000105, "MORE ENTRIES")                                                                  \
    X(0x00000108, "OPLOCK BREAK IN PROGRESS")                                                      \
    X(0x0000010B, "NOTIFY CLEANUP")                                                                \
    X(0x0000010C, "NOTIFY ENUM DIR")                                                               \
    X(0x0000012B, "FILE LOCKED WITH WRITERS")                                                      \
    X(0x00000215, "OPLOCK SWITCHED TO NEW HANDLE")                                                 \
    X(0x00000216, "OPLOCK HANDLE CLOSED")                                                          \
    X(0x00000367, "WAIT FOR OPLOCK")                                                               \
    X(0x40000016, "PREDEFINED HANDLE")                                                             \
    X(0x80000002, "DATATYPE MISALIGNMENT")                                                         \
    X(0x80000006, "NO MORE FILES")                                                                 \
    X(0x80000015, "INVALID EA FLAG")                                                               \
    X(0x8000001A, "NO MORE ENTRIES")                                                               \
    X(0xC0000001, "UNSUCCESSFUL")                                                                  \
    X(0xC0000002, "NOT IMPLEMENTED")                                                               \
    X(0xC0000003, "INVALID INFO CLASS")                                                            \
    X(0xC0000004, "INFO LENGTH MISMATCH")                                                          \
    X(0xC0000005, "ACCESS VIOLATION")                                                              \
    X(0xC0000006, "IN PAGE ERROR")                                                                 \
    X(0xC0000008, "INVALID HANDLE")                                                                \
    X(0xC000000D, "INVALID PARAMETER")                                                             \
    X(0xC000000E, "NO SUCH DEVICE")                                                                \
    X(0xC000000F, "NO SUCH FILE")                                                                  \
    X(0xC0000010, "INVALID DEVICE REQUEST")                                                        \
    X(0xC0000011, "END OF FILE")                                                                   \
    X(0xC0000012, "WRONG VOLUME")                                                                  \
    X(0xC0000013, "NO MEDIA")                                                                      \
    X(0xC0000015, "NONEXISTENT SECTOR")                                                            \
    X(0xC0000017, "NO MEMORY")                                                                     \
    X(0xC0000021, "ALREADY COMMITED")                                                              \
    X(0xC0000022, "ACCESS DENIED")                                                                 \
    X(0xC0000023, "BUFFER TOO SMALL")                                                              \
    X(0xC0000032, "DISK CORRUPT")                                                                  \
    X(0xC0000033, "NAME INVALID")                                                                  \
    X(0xC0000035, "NAME COLLISION")                                                                \
    X(0xC0000039, "OBJECT PATH INVALID")                                                           \
    X(0xC000003A, "PATH NOT FOUND")                                                                \
    X(0xC000003B, "PATH SYNTAX BAD")                                                               \
    X(0xC000003C, "DATA OVERRUN")                                                                  \
    X(0xC000003F, "CRC ERROR")                                                                     \
    X(0xC0000043, "SHARING VIOLATION")                                                             \
    X(0xC0000044, "QUOTA EXCEEDED")                                                                \
    X(0xC000004F, "EAS NOT SUPPORTED")                                                             \
    X(0xC0000050, "EA TOO LARGE")                                                                  \
    X(0xC0000051, "NONEXISTENT EA ENTRY")                                                          \
    X(0xC0000052, "NO EAS ON FILE")                                                                \
    X(0xC0000053, "EA CORRUPTED ERROR")                                                            \
    X(0xC0000054, "FILE LOCK CONFLICT")                                                            \
    X(0xC0000055, "NOT GRANTED")                                                                   \
    X(0xC0000056, "DELETE PENDING")                                                                \
    X(0xC0000061, "PRIVILEGE NOT HELD")                                                            \
    X(0xC000006D, "LOGON FAILURE")                                                                 \
    X(0xC000007E, "RANGE NOT LOCKED")                                                              \
    X(0xC000007F, "DISK FULL")                                                                     \
    X(0xC0000098, "FILE INVALID")                                                                  \
    X(0xC000009A, "INSUFFICIENT RESOURCES")                                                        \
    X(0xC000009C, "DEVICE DATA ERROR")                                                             \
    X(0xC000009D, "DEVICE NOT CONNECTED")                                                          \
    X(0xC00000A2, "MEDIA WRITE PROTECTED")                                                         \
    X(0xC00000A5, "BAD IMPERSONATION")                                                             \
    X(0xC00000AB, "INSTANCE NOT AVAILABLE")                                                        \
    X(0xC00000AC, "PIPE NOT AVAILABLE")                                                            \
    X(0xC00000AD, "INVALID PIPE STATE")                                                            \
    X(0xC00000AE, "PIPE BUSY")                                                                     \
    X(0xC00000B0, "PIPE DISCONNECTED")                                                             \
    X(0xC00000B1, "PIPE CLOSING")                                                                  \
    X(0xC00000B2, "PIPE CONNECTED")                                                                \
    X(0xC00000B3, "PIPE LISTENING")                                                                \
    X(0xC00000B4, "INVALID READ MODE")                                                             \
    X(0xC00000B5, "IO TIMEOUT")                                                                    \
    X(0xC00000BA, "IS DIRECTORY")                                                                  \
    X(0xC00000BB, "NOT SUPPORTED")                                                                 \
    X(0xC00000BD, "DUPLICATE NAME")                                                                \
    X(0xC00000BE, "BAD NETWORK PATH")                                                              \
    X(0xC00000C1, "BAD NETWORK PATH")                                                              \
    X(0xC00000C3, "INVALID NETWORK RESPONSE")                                                      \
    X(0xC00000C4, "NETWORK ERROR")                                                                 \
    X(0xC00000CC, "BAD NETWORK NAME")                                                              \
    X(0xC00000D4, "BAD NETWORK NAME")                                                              \
    X(0xC00000D8, "CANT WAIT")                                                                     \
    X(0xC00000D9, "PIPE EMPTY")                                                                    \
    X(0xC00000DB, "CSC OBJECT PATH NOT FOUND")                                                     \
    X(0xC00000E2, "OPLOCK NOT GRANTED")                                                            \
    X(0xC00000EF, "INVALID PARAMETER 1")                                                           \
    X(0xC00000F0, "INVALID PARAMETER 2")                                                           \
    X(0xC00000F1, "INVALID PARAMETER 3")                                                           \
    X(0xC00000F2, "INVALID PARAMETER 4")                                                           \
    X(0xC00000FB, "REDIRECTOR NOT STARTED")                                                        \
    X(0xC0000101, "NOT EMPTY")                                                                     \
    X(0xC0000102, "FILE CORRUPT")                                                                  \
    X(0xC0000103, "NOT A DIRECTORY")                                                               \
    X(0xC0000107, "FILES OPEN")                                                                    \
    X(0xC000010D, "CANNOT IMPERSONATE")                                                            \
    X(0xC0000120, "CANCELLED")                                                                     \
    X(0xC0000121, "CANNOT DELETE")                                                                 \
    X(0xC0000123, "FILE DELETED")                                                                  \
    X(0xC0000128, "FILE CLOSED")                                                                   \
    X(0xC000012A, "THREAD NOT IN PROCESS")                                                         \
    X(0xC0000148, "INVALID LEVEL")                                                                 \
    X(0xC000014B, "PIPE BROKEN")                                                                   \
    X(0xC000014C, "REGISTRY CORRUPT")                                                              \
    X(0xC000014D, "IO FAILED")                                                                     \
    X(0xC000017C, "KEY DELETED")                                                                   \
    X(0xC0000181, "CHILD MUST BE VOLATILE")                                                        \
    X(0xC0000184, "INVALID DEVICE STATE")                                                          \
    X(0xC0000185, "IO DEVICE ERROR")                                                               \
    X(0xC0000188, "LOG FILE FULL")                                                                 \
    X(0xC000019C, "FS DRIVER REQUIRED")                                                            \
    X(0xC0000205, "INSUFFICIENT SERVER RESOURCES")                                                 \
    X(0xC0000207, "INVALID ADDRESS COMPONENT")                                                     \
    X(0xC000020C, "DISCONNECTED")                                                                  \
    X(0xC0000225, "NOT FOUND")                                                                     \
    X(0xC0000243, "USER MAPPED FILE")                                                              \
    X(0xC0000248, "LOGIN WKSTA RESTRICTION")                                                       \
    X(0xC0000257, "PATH NOT COVERED")                                                              \
    X(0xC000026D, "DFS UNAVAILABLE")                                                               \
    X(0xC0000273, "NO MORE MATCHES")                                                               \
    X(0xC00002EA, "CANNOT MAKE")                                                                   \
    X(0xC00002F0, "OBJECTID NOT FOUND")                                                            \
    X(0xC0000388, "DOWNGRADE DETECTED")                                                            \
    X(0xC0000425, "HIVE UNLOADED")                                                                 \
    X(0xC0000427, "FILE SYSTEM LIMITATION")                                                        \
    X(0xC0000463, "DEVICE FEATURE NOT SUPPORTED")                                                  \
    X(0xC000046D, "OBJECT NOT EXTERNALLY BACKED")                                                  \
    X(0xC0000909, "CANNOT BREAK OPLOCK")                                                           \
    X(0xC000A2A1, "OFFLOAD READ FLT NOT SUPPORTED")                                                \
    X(0xC000A2A2, "OFFLOAD WRITE FLT NOT SUPPORTED")                                               \
    X(0xC000A2A3, "OFFLOAD READ FILE NOT SUPPORTED")                                               \
    X(0xC000A2A4, "OFFLOAD READ FILE NOT SUPPORTED")                                               \
    X(0xC0190001, "TRANSACTIONAL CONFLICT")                                                        \
    X(0xC0190002, "INVALID TRANSACTION")                                                           \
    X(0xC0190003, "TRANSACTION NOT ACTIVE")                                                        \
    X(0xC019003E, "EFS NOT ALLOWED IN TRANSACTION")                                                \
    X(0xC019003F, "TRANSACTIONAL OPEN NOT ALLOWED")                                                \
    X(0xC0190040, "TRANSACTED MAPPING UNSUPPORTED REMOTE")                                         \
    X(0xC0190044, "CANNOT EXECUTE FILE IN TRANSACTION")                                            \
    X(0xC0190049, "SPARSE NOT ALLOWED IN TRANSACTION")

struct status_entry {
    uint32_t code;
    const char *name;
};

#define STATUS_ENTRY(code, name) {code, name},
static const struct status_entry statuses[] = {CAPTURE_STATUS_LIST(STATUS_ENTRY)};
#undef STATUS_ENTRY

/* Equal, taking '_' in text for ' ' (procmon-parser's spellings). */
static bool name_equal(const char *text, const char *name)
{
    for (; *name != '\0'; text++, name++) {
        char c = *text == '_' ? ' ' : *text;
        if (c != *name)
            return false;
    }
    return *text == '\0';
}

static bool parse_hex(const char *text, uint32_t *value)
{
    if (text[0] != '0' || (text[1] != 'x' && text[1] != 'X') || text[2] == '\0')
        return false;
    uint64_t v = 0;
    for (const char *p = text + 2; *p != '\0'; p++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else
            return false;
        v = v * 16 + (uint64_t)d;
        if (v > 0xFFFFFFFFu)
            return false;
    }
    *value = (uint32_t)v;
    return true;
}

bool fltsim_capture_status_parse(const char *text, NTSTATUS *status)
{
    if (text == NULL)
        return false;
    if (text[0] == '\0') {
        *status = STATUS_PENDING;
        return true;
    }
    uint32_t code;
    if (parse_hex(text, &code)) {
        *status = (NTSTATUS)code;
        return true;
    }
    if (strncmp(text, "STATUS_", 7) == 0)
        text += 7;
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        if (statuses[i].name[0] == (text[0] == '_' ? ' ' : text[0]) &&
            name_equal(text, statuses[i].name)) {
            *status = (NTSTATUS)statuses[i].code;
            return true;
        }
    }
    return false;
}

const char *fltsim_capture_status_name(NTSTATUS status, char *buf, size_t size)
{
    if ((uint32_t)status == (uint32_t)STATUS_PENDING) {
        if (size > 0)
            buf[0] = '\0';
        return buf;
    }
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        if (statuses[i].code == (uint32_t)status)
            return statuses[i].name;
    snprintf(buf, size, "0x%X", (unsigned)status);
    return buf;
}
