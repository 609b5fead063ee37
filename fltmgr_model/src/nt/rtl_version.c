/*
 * The Windows version the simulated machine runs (wdm.h): RtlGetVersion,
 * RtlIsNtDdiVersionAvailable and RtlIsServicePackVersionInstalled answer the
 * version of the system whose filter code runs on the calling thread
 * (fltsim_system_options.windows), or the default, Windows 11 24H2
 * (10.0.26100), on a thread that runs no filter code. This file also checks
 * and resolves the option for fltsim_system_create. Which routines a Windows
 * version has is not modeled: every routine fltsim implements exists whatever
 * the version (dynamic lookup is nt/routines.c's).
 */
#include <stdio.h>

#include "model_internal.h"
#include "nt_internal.h"

#define DEFAULT_BUILD 26100 /* Windows 11 version 24H2 */
#define FIRST_WIN10_BUILD 10240

/* wSuiteMask: VER_SUITE_SINGLEUSERTS on a workstation, with VER_SUITE_TERMINAL
 * on a server, as a default installation of each reports. */
#define SUITE_SINGLEUSERTS 0x0100
#define SUITE_TERMINAL 0x0010

static const struct fltsim_windows_version default_version = {
    .major = 10, .minor = 0, .build = DEFAULT_BUILD, .product_type = VER_NT_WORKSTATION};

/* The NTDDI value of each released Windows 10 and 11 kernel, by first build
 * (a build in between runs the kernel of the release before it). */
static const struct {
    ULONG build;
    ULONG ntddi;
} win10_releases[] = {
    {10240, NTDDI_WIN10},     {10586, NTDDI_WIN10_TH2},  {14393, NTDDI_WIN10_RS1},
    {15063, NTDDI_WIN10_RS2}, {16299, NTDDI_WIN10_RS3},  {17134, NTDDI_WIN10_RS4},
    {17763, NTDDI_WIN10_RS5}, {18362, NTDDI_WIN10_19H1}, {19041, NTDDI_WIN10_VB},
    {20348, NTDDI_WIN10_FE},  {22000, NTDDI_WIN10_CO},   {22621, NTDDI_WIN10_NI},
    {26100, NTDDI_WIN11_GE},
};

static bool is_zero(const struct fltsim_windows_version *v)
{
    return v->major == 0 && v->minor == 0 && v->build == 0 && v->service_pack_major == 0 &&
           v->service_pack_minor == 0 && v->product_type == 0;
}

NTSTATUS fltsim_windows_version_check(const struct fltsim_windows_version *v)
{
    static const char api[] = "the Windows version";
    if (v == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s is NULL", api);
    if (is_zero(v))
        return STATUS_SUCCESS;
    bool known = (v->major == 5 && v->minor <= 2) || (v->major == 6 && v->minor <= 3) ||
                 (v->major == 10 && v->minor == 0);
    if (!known)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s %u.%u is not one of Windows NT's (5.0, 5.1, 5.2, 6.0, 6.1, 6.2, "
                            "6.3, 10.0)",
                            api, (unsigned)v->major, (unsigned)v->minor);
    if (v->major == 10 && v->build < FIRST_WIN10_BUILD)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s 10.0.%u: the first build of Windows 10 is %u", api,
                            (unsigned)v->build, FIRST_WIN10_BUILD);
    if (v->major == 10 && (v->service_pack_major != 0 || v->service_pack_minor != 0))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s 10.0.%u has a service pack; Windows 10 and later have none", api,
                            (unsigned)v->build);
    if (v->service_pack_major > 0xFF || v->service_pack_minor > 0xFF)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: service pack %u.%u; each number is at most 255", api,
                            (unsigned)v->service_pack_major, (unsigned)v->service_pack_minor);
    if (v->product_type > VER_NT_SERVER)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: product type %u is not VER_NT_WORKSTATION, "
                            "VER_NT_DOMAIN_CONTROLLER or VER_NT_SERVER",
                            api, (unsigned)v->product_type);
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__windows_version_resolve(const struct fltsim_windows_version *in,
                                         struct fltsim_windows_version *out)
{
    if (in == NULL || is_zero(in)) {
        *out = default_version;
        return STATUS_SUCCESS;
    }
    NTSTATUS status = fltsim_windows_version_check(in);
    if (!NT_SUCCESS(status))
        return status;
    *out = *in;
    if (out->product_type == 0)
        out->product_type = VER_NT_WORKSTATION;
    return STATUS_SUCCESS;
}

void fltsim_system_windows_version(fltsim_system *sys, struct fltsim_windows_version *out)
{
    if (out != NULL)
        *out = sys != NULL ? sys->windows : default_version;
}

/* The version the calling thread's system runs. */
static const struct fltsim_windows_version *running(void)
{
    fltsim_system *sys = fltsim__tls()->sys;
    return sys != NULL ? &sys->windows : &default_version;
}

/* The NTDDI value of v: OS in the high word, service pack in the third
 * byte, and for Windows 10 and later the release in the low byte. */
static ULONG ntddi_of(const struct fltsim_windows_version *v)
{
    ULONG os = (v->major << 24) | (v->minor << 16);
    if (v->major < 10)
        return os | ((ULONG)v->service_pack_major << 8);
    ULONG ntddi = NTDDI_WIN10;
    for (size_t i = 0; i < sizeof(win10_releases) / sizeof(win10_releases[0]); i++)
        if (v->build >= win10_releases[i].build)
            ntddi = win10_releases[i].ntddi;
    return ntddi;
}

NTSTATUS RtlGetVersion(PRTL_OSVERSIONINFOW lpVersionInformation)
{
    fltsim__check_irql(fltsim__tls()->sys, PASSIVE_LEVEL, "RtlGetVersion");
    PRTL_OSVERSIONINFOW info = lpVersionInformation;
    if (info == NULL) {
        fltsim__ke_report("KE", "-",
                          "RtlGetVersion(NULL): lpVersionInformation is required "
                          "(Windows faults on NULL)");
        return STATUS_INVALID_PARAMETER;
    }
    ULONG size = info->dwOSVersionInfoSize;
    bool ex = size == sizeof(RTL_OSVERSIONINFOEXW);
    if (!ex && size != sizeof(RTL_OSVERSIONINFOW)) {
        fltsim__ke_report("KE", "-",
                          "RtlGetVersion: dwOSVersionInfoSize is %u; it must be "
                          "sizeof(RTL_OSVERSIONINFOW) (%u) or sizeof(RTL_OSVERSIONINFOEXW) (%u)",
                          (unsigned)size, (unsigned)sizeof(RTL_OSVERSIONINFOW),
                          (unsigned)sizeof(RTL_OSVERSIONINFOEXW));
        return STATUS_INVALID_PARAMETER;
    }
    const struct fltsim_windows_version *v = running();
    info->dwMajorVersion = v->major;
    info->dwMinorVersion = v->minor;
    info->dwBuildNumber = v->build;
    info->dwPlatformId = VER_PLATFORM_WIN32_NT;
    memset(info->szCSDVersion, 0, sizeof(info->szCSDVersion));
    if (v->service_pack_major != 0) {
        char csd[32];
        int n = snprintf(csd, sizeof(csd), "Service Pack %u", (unsigned)v->service_pack_major);
        for (int i = 0; i < n; i++)
            info->szCSDVersion[i] = (WCHAR)csd[i];
    }
    if (ex) {
        PRTL_OSVERSIONINFOEXW exinfo = (PRTL_OSVERSIONINFOEXW)info;
        exinfo->wServicePackMajor = v->service_pack_major;
        exinfo->wServicePackMinor = v->service_pack_minor;
        exinfo->wSuiteMask =
            (USHORT)(v->product_type == VER_NT_WORKSTATION ? SUITE_SINGLEUSERTS
                                                           : SUITE_SINGLEUSERTS | SUITE_TERMINAL);
        exinfo->wProductType = v->product_type;
        exinfo->wReserved = 0;
    }
    return STATUS_SUCCESS;
}

BOOLEAN RtlIsNtDdiVersionAvailable(ULONG Version)
{
    fltsim__check_irql(fltsim__tls()->sys, PASSIVE_LEVEL, "RtlIsNtDdiVersionAvailable");
    return ntddi_of(running()) >= Version ? TRUE : FALSE;
}

BOOLEAN RtlIsServicePackVersionInstalled(ULONG Version)
{
    fltsim__check_irql(fltsim__tls()->sys, PASSIVE_LEVEL, "RtlIsServicePackVersionInstalled");
    const struct fltsim_windows_version *v = running();
    ULONG os = (v->major << 24) | (v->minor << 16);
    if (OSVER(Version) != os)
        return FALSE; /* another major version: Learn says FALSE, not a comparison */
    return v->service_pack_major >= SPVER(Version) ? TRUE : FALSE;
}
