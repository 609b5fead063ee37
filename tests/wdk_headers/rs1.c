/*
 * A third translation unit for test_wdk_headers: the target version is
 * chosen with NTDDI_VERSION alone (Windows 10 1607), so _WIN32_WINNT and
 * WINVER must follow it, and the structures that grew in 1607 have their
 * new fields. It also holds the definition of a GUID that win7.c declares.
 */
#define NTDDI_VERSION 0x0A000002 /* NTDDI_WIN10_RS1 */

#include <fltKernel.h>

#include "wdk_headers_tu.h"

/* After fltKernel.h (which includes initguid.h): definitions. */
DEFINE_GUID(FltsimTestGuidDeclared, 0x01234567, 0x89ab, 0xcdef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
            0xcd, 0xef);
DEFINE_GUID(FltsimTestGuidShared, 0xfedcba98, 0x7654, 0x3210, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54,
            0x32, 0x10);

void wdk_headers_rs1_view(struct wdk_headers_view *view)
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
