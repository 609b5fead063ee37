/*
 * A second translation unit for test_wdk_headers: the target version is
 * chosen with _WIN32_WINNT alone (Windows 7), so NTDDI_VERSION must follow it
 * as in the WDK. It includes ntddk.h without INITGUID and declares a GUID
 * that rs1.c defines, then includes initguid.h and defines a GUID the other
 * units define as well (the definitions must merge at link time).
 */
#define _WIN32_WINNT 0x0601

#include <ntddk.h>

#include "wdk_headers_tu.h"

/* No INITGUID here yet: only an extern declaration of rs1.c's GUID, so the
 * (different) bytes written here must not matter. */
DEFINE_GUID(FltsimTestGuidDeclared, 0xdeadbeef, 0xdead, 0xbeef, 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad,
            0xbe, 0xef);

#include <initguid.h>

/* Now a (weak) definition, which the main unit also has. */
DEFINE_GUID(FltsimTestGuidShared, 0xfedcba98, 0x7654, 0x3210, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54,
            0x32, 0x10);

#include <fltKernel.h>

void wdk_headers_win7_view(struct wdk_headers_view *view)
{
    view->ntddi_version = NTDDI_VERSION;
    view->win32_winnt = _WIN32_WINNT;
    view->winver = WINVER;
    view->flt_mgr_win7 = FLT_MGR_WIN7;
    view->flt_mgr_win8 = FLT_MGR_WIN8;
    view->flt_registration_version = FLT_REGISTRATION_VERSION;
    view->driver_create_context_size = sizeof(IO_DRIVER_CREATE_CONTEXT);
    view->declared_guid = &FltsimTestGuidDeclared;
    view->shared_guid = &FltsimTestGuidShared;
    view->ecp_guid = &GUID_ECP_FLT_CREATEFILE_TARGET;
}
