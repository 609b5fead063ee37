/*
 * wdmsec.h for fltsim: creating a device object with a security descriptor
 * given in SDDL (IoCreateDeviceSecure), the WDK's predefined SDDL strings,
 * and IoValidateDeviceIoControlAccess. Declarations only: fltsim does not
 * implement them yet.
 */
#ifndef FLTSIM_WDMSEC_H
#define FLTSIM_WDMSEC_H

#include "wdm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The predefined SDDL strings (data the WDK's library defines). */
extern const UNICODE_STRING SDDL_DEVOBJ_KERNEL_ONLY;
extern const UNICODE_STRING SDDL_DEVOBJ_INF_SUPPLIED;
extern const UNICODE_STRING SDDL_DEVOBJ_SYS_ALL;
extern const UNICODE_STRING SDDL_DEVOBJ_SYS_ALL_ADM_ALL;
extern const UNICODE_STRING SDDL_DEVOBJ_SYS_ALL_ADM_RX;
extern const UNICODE_STRING SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_R;
extern const UNICODE_STRING SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_R_RES_R;
extern const UNICODE_STRING SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_RW_RES_R;
extern const UNICODE_STRING SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_RWX_RES_RWX;

NTSTATUS IoCreateDeviceSecure(PDRIVER_OBJECT DriverObject, ULONG DeviceExtensionSize,
                              PUNICODE_STRING DeviceName, DEVICE_TYPE DeviceType,
                              ULONG DeviceCharacteristics, BOOLEAN Exclusive,
                              PCUNICODE_STRING DefaultSDDLString, LPCGUID DeviceClassGuid,
                              PDEVICE_OBJECT *DeviceObject);
NTSTATUS IoValidateDeviceIoControlAccess(PIRP Irp, ULONG RequiredAccess);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDMSEC_H */
