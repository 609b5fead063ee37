/*
 * FltMgr: the extra create parameters (ECPs) of a create, as a filter reads
 * them from, and attaches them to, its callback data.
 * Part of the WDK surface: include <fltKernel.h>, not this file.
 */
#ifndef FLTSIM_WDK_FLT_ECP_H
#define FLTSIM_WDK_FLT_ECP_H

#ifdef __cplusplus
extern "C" {
#endif

NTSTATUS FltAllocateExtraCreateParameterList(PFLT_FILTER Filter, FSRTL_ALLOCATE_ECPLIST_FLAGS Flags,
                                             PECP_LIST *EcpList);
NTSTATUS
FltAllocateExtraCreateParameter(PFLT_FILTER Filter, LPCGUID EcpType, ULONG SizeOfContext,
                                FSRTL_ALLOCATE_ECP_FLAGS Flags,
                                PFSRTL_EXTRA_CREATE_PARAMETER_CLEANUP_CALLBACK CleanupCallback,
                                ULONG PoolTag, PVOID *EcpContext);
VOID FltInitExtraCreateParameterLookasideList(PFLT_FILTER Filter, PVOID Lookaside,
                                              FSRTL_ECP_LOOKASIDE_FLAGS Flags, SIZE_T Size,
                                              ULONG Tag);
VOID FltDeleteExtraCreateParameterLookasideList(PFLT_FILTER Filter, PVOID Lookaside,
                                                FSRTL_ECP_LOOKASIDE_FLAGS Flags);
NTSTATUS FltAllocateExtraCreateParameterFromLookasideList(
    PFLT_FILTER Filter, LPCGUID EcpType, ULONG SizeOfContext, FSRTL_ALLOCATE_ECP_FLAGS Flags,
    PFSRTL_EXTRA_CREATE_PARAMETER_CLEANUP_CALLBACK CleanupCallback, PVOID LookasideList,
    PVOID *EcpContext);
NTSTATUS FltInsertExtraCreateParameter(PFLT_FILTER Filter, PECP_LIST EcpList, PVOID EcpContext);
/* STATUS_NOT_FOUND when the list has no ECP of EcpType. */
NTSTATUS FltFindExtraCreateParameter(PFLT_FILTER Filter, PECP_LIST EcpList, LPCGUID EcpType,
                                     PVOID *EcpContext, ULONG *EcpContextSize);
NTSTATUS FltRemoveExtraCreateParameter(PFLT_FILTER Filter, PECP_LIST EcpList, LPCGUID EcpType,
                                       PVOID *EcpContext, ULONG *EcpContextSize);
VOID FltFreeExtraCreateParameterList(PFLT_FILTER Filter, PECP_LIST EcpList);
VOID FltFreeExtraCreateParameter(PFLT_FILTER Filter, PVOID EcpContext);
/* *EcpList is NULL when the create carries no ECP list. */
NTSTATUS FltGetEcpListFromCallbackData(PFLT_FILTER Filter, PFLT_CALLBACK_DATA CallbackData,
                                       PECP_LIST *EcpList);
NTSTATUS FltSetEcpListIntoCallbackData(PFLT_FILTER Filter, PFLT_CALLBACK_DATA CallbackData,
                                       PECP_LIST EcpList);
NTSTATUS FltGetNextExtraCreateParameter(PFLT_FILTER Filter, PECP_LIST EcpList,
                                        PVOID CurrentEcpContext, LPGUID NextEcpType,
                                        PVOID *NextEcpContext, ULONG *NextEcpContextSize);
VOID FltAcknowledgeEcp(PFLT_FILTER Filter, PVOID EcpContext);
BOOLEAN FltIsEcpAcknowledged(PFLT_FILTER Filter, PVOID EcpContext);
BOOLEAN FltIsEcpFromUserMode(PFLT_FILTER Filter, PVOID EcpContext);
VOID FltPrepareToReuseEcp(PFLT_FILTER Filter, PVOID EcpContext);

/* The ECP FltCreateFileEx2 returns when a create is reparsed to another device. */
DEFINE_GUID(GUID_ECP_FLT_CREATEFILE_TARGET, 0xce08041d, 0xf411, 0x447f, 0xb7, 0x0d, 0xcc, 0xee,
            0x45, 0xc2, 0x3f, 0xac);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_FLT_ECP_H */
