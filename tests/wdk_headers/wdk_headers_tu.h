/*
 * Private to test_wdk_headers: what the suite's other translation units
 * report about how the WDK headers came out in them (each is compiled with
 * its own target Windows version, and with or without INITGUID).
 */
#ifndef FLTSIM_TEST_WDK_HEADERS_TU_H
#define FLTSIM_TEST_WDK_HEADERS_TU_H

#include <stddef.h>

struct wdk_headers_view {
    unsigned long ntddi_version;
    unsigned long win32_winnt;
    unsigned long winver;
    int flt_mgr_win7;
    int flt_mgr_win8;
    unsigned int flt_registration_version;
    size_t driver_create_context_size;
    const void *declared_guid; /* the address of a GUID the TU only declares */
    const void *shared_guid;   /* the address of a GUID the TU defines too */
    const void *ecp_guid;      /* a DEFINE_GUID of fltKernel.h, as this TU sees it */
};

/* A TU that sets _WIN32_WINNT to Windows 7 (0x0601) before any header. */
void wdk_headers_win7_view(struct wdk_headers_view *view);
/* A TU that sets NTDDI_VERSION to Windows 10 1607 (RS1) before any header. */
void wdk_headers_rs1_view(struct wdk_headers_view *view);

#endif /* FLTSIM_TEST_WDK_HEADERS_TU_H */
