/*
 * The sample PML capture of the test support (pml_writer.h): 27 events of
 * every class, the file-system ones covering each operation whose
 * parameters the reader decodes (create, read, write, query and set
 * information, lock, directory query and notify, control, mapping,
 * security, fast I/O), a pended one, a UTF-16 path and stack frames.
 * tests/test_capture_pml.c states what each event decodes to.
 */
#include <stdlib.h>
#include <string.h>

#include "pml_writer.h"

#define APP 3 /* process indexes */
#define EXPLORER 0
#define SVCHOST 5
#define SVCHOST2 6

static uint64_t clock_100ns = 132000000000000000ull; /* 2019-04-17, UTC */

static void add(struct pml_writer *w, uint32_t process, uint32_t tid, uint32_t cls, uint16_t op,
                uint32_t result, const struct pml_blob *detail, const void *extra,
                size_t extra_size, uint16_t depth)
{
    clock_100ns += 1000;
    struct pml_record r = {.process = process,
                           .tid = tid,
                           .event_class = cls,
                           .operation = op,
                           .duration = result == 0x103 ? 0 : 150,
                           .time = clock_100ns,
                           .result = result,
                           .stack_depth = depth,
                           .detail = detail->p,
                           .detail_size = detail->len,
                           .extra = extra,
                           .extra_size = extra_size};
    pml_writer_event(w, &r);
}

/* A file-system event of the app (tid 7): fs's detail, then tail bytes. */
static void fs_event(struct pml_writer *w, uint16_t op, struct pml_fs *fs, uint32_t result,
                     const struct pml_blob *tail, const void *extra, size_t extra_size)
{
    struct pml_blob b = {0};
    pml_fs_detail(w, fs, &b);
    if (tail != NULL)
        pml_blob_bytes(&b, tail->p, tail->len);
    add(w, APP, 7, 3, op, result, &b, extra, extra_size, op == 20 ? 2 : 0);
    free(b.p);
}

static void create(struct pml_writer *w, const char *path, bool ascii, uint8_t disposition,
                   uint32_t options, uint16_t share, uint32_t access, uint32_t result,
                   uint32_t open_result)
{
    struct pml_fs fs = {.path = path, .ascii = ascii};
    pml_param32(w, &fs, 1, 0, (uint32_t)disposition << 24 | options);
    pml_param32(w, &fs, 2, 0, (uint32_t)share << 16);
    pml_param64(w, &fs, 5, 4096); /* AllocationSize */
    struct pml_blob tail = {0};
    pml_blob_u32(&tail, access);
    pml_blob_u8(&tail, 0); /* no impersonation SID */
    pml_blob_bytes(&tail, NULL, 3);
    unsigned char extra[4] = {(unsigned char)open_result, 0, 0, 0};
    fs_event(w, 20, &fs, result, &tail, result == 0 ? extra : NULL, 4);
    free(tail.p);
}

static void rw(struct pml_writer *w, uint16_t op, const char *path, uint32_t flags, uint64_t offset,
               uint32_t length, uint32_t result, long transferred)
{
    struct pml_fs fs = {.path = path, .ascii = true, .flags = flags};
    pml_param32(w, &fs, 0, 0, length);
    pml_param64(w, &fs, 2, offset);
    unsigned char extra[4] = {(unsigned char)transferred, (unsigned char)(transferred >> 8), 0, 0};
    fs_event(w, op, &fs, result, NULL, transferred >= 0 ? extra : NULL, 4);
}

/* An event whose sub-operation and tail say it all. */
static void simple(struct pml_writer *w, uint16_t op, uint8_t sub, const char *path,
                   uint32_t result, const struct pml_blob *tail)
{
    struct pml_fs fs = {.sub = sub, .path = path, .ascii = true};
    fs_event(w, op, &fs, result, tail, NULL, 0);
}

static void file_system_events(struct pml_writer *w)
{
    const char *a = "C:\\docs\\a.txt";
    create(w, a, true, 1, 0x60, 3, 0x120089, 0, 1); /* 0 Open -> Opened */
    rw(w, 23, a, 0x43, 0, 4096, 0, 1000);           /* 1 */
    rw(w, 23, a, 0, 1000, 4096, 0xC0000011, -1);    /* 2 END OF FILE */
    simple(w, 25, 5, a, 0, NULL);                   /* 3 QueryStandard */
    simple(w, 38, 0, a, 0, NULL);                   /* 4 CloseFile */
}

static void more_file_system_events(struct pml_writer *w)
{
    const char *a = "C:\\docs\\a.txt", *b = "C:\\docs\\b.txt";
    struct pml_blob tail = {0};
    create(w, b, true, 3, 0x60, 0, 0x12019F, 0, 2); /* 6 OpenIf -> Created */
    rw(w, 24, b, 0, 0, 5, 0, 5);                    /* 7 */
    pml_blob_u64(&tail, 5);
    simple(w, 26, 20, b, 0, &tail); /* 8 SetEndOfFile 5 */
    struct pml_fs lock = {.sub = 1, .path = b, .ascii = true};
    pml_param64(w, &lock, 2, 0);
    lock.params[3 * pml_writer_ptr(w) + 8] = 1; /* FailImmediately */
    lock.params[3 * pml_writer_ptr(w) + 9] = 1; /* ExclusiveLock */
    fs_event(w, 37, &lock, 0, &tail, NULL, 0);  /* 9 LockFile 0+5 */
    lock = (struct pml_fs){.sub = 2, .path = b, .ascii = true};
    fs_event(w, 37, &lock, 0, &tail, NULL, 0); /* 10 UnlockFileSingle */
    tail.len = 0;
    pml_blob_u8(&tail, 1);
    simple(w, 26, 13, b, 0, &tail);                          /* 11 SetDisposition delete */
    simple(w, 38, 0, b, 0, NULL);                            /* 12 CloseFile */
    create(w, "C:\\docs", true, 1, 0x21, 3, 0x100001, 0, 1); /* 13 the directory */
    struct pml_fs dir = {.sub = 1, .path = "C:\\docs", .ascii = true};
    pml_param32(w, &dir, 2, 0, 37); /* FileIdBothDirectoryInformation */
    tail.len = 0;
    pml_blob_u16(&tail, pml_string_info("*.txt", true));
    pml_blob_chars(&tail, "*.txt", true);
    fs_event(w, 32, &dir, 0, &tail, NULL, 0); /* 14 QueryDirectory */
    dir = (struct pml_fs){.sub = 2, .path = "C:\\docs", .ascii = true};
    pml_param32(w, &dir, 1, 0, 0x15);
    fs_event(w, 32, &dir, 0x103, NULL, NULL, 0); /* 15 NotifyChangeDirectory, pended */
    simple(w, 38, 0, "C:\\docs", 0, NULL);       /* 16 CloseFile */
    struct pml_fs fs = {.path = a, .ascii = true};
    pml_param32(w, &fs, 2, 0, 0x900A8);              /* FSCTL_GET_REPARSE_POINT */
    fs_event(w, 33, &fs, 0xC0000275, NULL, NULL, 0); /* 17 NOT A REPARSE POINT */
    fs = (struct pml_fs){.path = a, .ascii = true};
    pml_param32(w, &fs, 0, 0, 1);           /* SyncType */
    pml_param32(w, &fs, 0, 4, 0x10);        /* PageProtection */
    fs_event(w, 19, &fs, 0, NULL, NULL, 0); /* 18 CreateFileMapping */
    simple(w, 6, 0, a, 0xC01C0004, NULL);   /* 19 QueryOpen: FAST IO DISALLOWED */
    fs = (struct pml_fs){.path = a, .ascii = true};
    pml_param32(w, &fs, 0, 0, 7);
    fs_event(w, 40, &fs, 0xC0000023, NULL, NULL, 0); /* 20 QuerySecurityFile */
    create(w, "C:\\docs\\\xD7\x99\xD7\x95\xD7\xA0\xD7\x99\xD7\xA7\xD7\x95\xD7\x93.txt", false, 1,
           0x60, 3, 0x120089, 0xC0000034, 0); /* 21 NAME NOT FOUND, UTF-16 path */
    free(tail.p);
}

unsigned char *pml_sample(bool is64, size_t *size)
{
    struct pml_writer *w = pml_writer_new(is64);
    clock_100ns = 132000000000000000ull;
    pml_writer_process(w, EXPLORER, 1364, "Explorer.EXE");
    pml_writer_process(w, APP, 100, "app.exe");
    pml_writer_process(w, SVCHOST, 1136, "svchost.exe");
    pml_writer_process(w, SVCHOST2, 2000, "svchost.exe");
    unsigned char me[16] = {192, 168, 1, 10}, router[16] = {192, 168, 1, 1};
    pml_writer_host(w, me, "FLTSIM-TEST.local");
    pml_writer_port(w, 53, false, "domain");

    file_system_events(w);
    struct pml_blob d = {0};
    pml_blob_u16(&d, pml_string_info("HKLM\\Software\\Fltsim", true));
    pml_blob_bytes(&d, NULL, 6); /* 2 unknown bytes, the desired access */
    pml_blob_chars(&d, "HKLM\\Software\\Fltsim", true);
    add(w, EXPLORER, 1720, 2, 0, 0, &d, NULL, 0, 0); /* 5 RegOpenKey */
    more_file_system_events(w);

    d.len = 0; /* 22 Load Image: base, size, the path */
    pml_blob_bytes(&d, NULL, pml_writer_ptr(w) + 4);
    pml_blob_u16(&d, pml_string_info("C:\\Windows\\System32\\ntdll.dll", false));
    pml_blob_u16(&d, 0);
    pml_blob_chars(&d, "C:\\Windows\\System32\\ntdll.dll", false);
    add(w, EXPLORER, 1720, 1, 5, 0, &d, NULL, 0, 0);
    d.len = 0; /* 23 Process Create: the new image's path */
    pml_blob_bytes(&d, NULL, 8 + 0x24);
    pml_blob_u8(&d, 2);
    pml_blob_u8(&d, 0);
    pml_blob_u16(&d, pml_string_info("C:\\Windows\\notepad.exe", false));
    pml_blob_bytes(&d, NULL, 4 + 2);
    pml_blob_chars(&d, "C:\\Windows\\notepad.exe", false);
    add(w, EXPLORER, 1720, 1, 1, 0, &d, NULL, 0, 0);
    d.len = 0; /* 24 UDP Send: flags (both IPv4), 6 bytes, addresses, ports */
    pml_blob_u16(&d, 3);
    pml_blob_bytes(&d, NULL, 6);
    pml_blob_bytes(&d, me, 16);
    pml_blob_bytes(&d, router, 16);
    pml_blob_u16(&d, 61610);
    pml_blob_u16(&d, 53);
    add(w, SVCHOST, 0, 5, 2, 0, &d, NULL, 0, 0);
    d.len = 0;
    add(w, SVCHOST2, 2004, 4, 0, 0, &d, NULL, 0, 0); /* 25 Thread Profiling */
    add(w, APP, 7, 1, 4, 0, &d, NULL, 0, 0);         /* 26 Thread Exit */
    free(d.p);
    unsigned char *data = pml_writer_finish(w, size);
    pml_writer_free(w);
    return data;
}
