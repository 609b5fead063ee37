/*
 * Dynamic lookup of kernel routines: MmGetSystemRoutineAddress, and the
 * search FltGetRoutineAddress (fltmgr/support.c) shares. The names are those
 * of the table generated at build time from what the model defines
 * (routine_table.h): a routine fltsim implements is found, at the address a
 * filter calling it directly would reach; any other gives NULL, as on a
 * Windows too old to have it. As on Windows, the kernel's table
 * (MmGetSystemRoutineAddress) holds no Flt routine and FltMgr's holds only
 * Flt routines; the simulated Windows version does not hide any routine.
 */
#include "model_internal.h"
#include "nt/routine_table.h"
#include "nt_internal.h"

/* Export names are short ASCII identifiers. */
#define EXPORT_NAME_MAX 128

void *fltsim__routine_address(const char *name, bool fltmgr)
{
    bool flt = strncmp(name, "Flt", 3) == 0;
    if (flt != fltmgr)
        return NULL;
    size_t lo = 0, hi = fltsim__routine_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, fltsim__routines[mid].name);
        if (c == 0) {
            const struct fltsim_routine *r = &fltsim__routines[mid];
            if (r->data)
                return (void *)r->address.data;
            /* POSIX: a routine's address converts to and from void *. */
            void *p;
            memcpy(&p, &r->address.code, sizeof(p));
            return p;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

PVOID MmGetSystemRoutineAddress(PUNICODE_STRING SystemRoutineName)
{
    fltsim__check_irql(fltsim__tls()->sys, PASSIVE_LEVEL, "MmGetSystemRoutineAddress");
    PUNICODE_STRING s = SystemRoutineName;
    if (s == NULL || (s->Buffer == NULL && s->Length != 0) || (s->Length & 1) != 0) {
        fltsim__ke_report("KE", "-",
                          "MmGetSystemRoutineAddress: SystemRoutineName is not a valid "
                          "UNICODE_STRING");
        return NULL;
    }
    /* An export name is ASCII: anything else names no routine. */
    size_t n = s->Length / sizeof(WCHAR);
    char name[EXPORT_NAME_MAX];
    if (n == 0 || n >= sizeof(name))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s->Buffer[i] == 0 || s->Buffer[i] > 0x7F)
            return NULL;
        name[i] = (char)s->Buffer[i];
    }
    name[n] = 0;
    return fltsim__routine_address(name, false);
}
