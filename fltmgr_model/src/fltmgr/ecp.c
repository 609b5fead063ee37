/*
 * Extra create parameters (ECPs): the lists, the ECP context blocks (a
 * header before the context the caller sees: type GUID, size, flags, cleanup
 * callback, the list it is in), the Flt and FsRtl routines over them, and
 * the list a create carries in its request (struct fltsim_request's
 * ecp_list), which FltGetEcpListFromCallbackData and
 * FltSetEcpListIntoCallbackData read and set. Blocks a filter allocates are
 * its pool (leaks are V23 at unload); the I/O manager's come from
 * fltsim_ecp_list_create. Misuse (freeing an ECP still in a list, a block
 * that is not an ECP) is an "IO" report.
 */
#include <string.h>

#include "filter_io_internal.h"

enum {
    ECP_ACKNOWLEDGED = 0x1,
    ECP_FROM_USER_MODE = 0x2,
    ECP_IN_LIST = 0x4,
    ECP_FROM_NPAGED_LOOKASIDE = 0x8,
    ECP_FROM_PAGED_LOOKASIDE = 0x10
};

#define ECP_HEADER(ctx)                                                                            \
    ((struct fltsim_ecp_header *)(void *)((char *)(ctx)-offsetof(struct fltsim_ecp_header,         \
                                                                 context)))

/* Reports (IO) on the system of the code running, else sys (may be NULL). */
static void ecp_report(fltsim_system *sys, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void ecp_report(fltsim_system *sys, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct fltsim_tls *t = fltsim__tls();
    if (t->sys != NULL)
        fltsim__report(t->sys, t->filter, NULL, t->op, "IO", "6.7", "%s", msg);
    else if (sys != NULL)
        fltsim__report(sys, NULL, NULL, NULL, "IO", "6.7", "%s", msg);
    else
        fprintf(stderr, "fltsim: IO: %s\n", msg);
}

/* The header of an ECP context, or NULL after a report naming api. */
static struct fltsim_ecp_header *ecp_of(PVOID context, const char *api)
{
    if (context != NULL) {
        struct fltsim_ecp_header *h = ECP_HEADER(context);
        if (h->magic == FLTSIM_MAGIC_ECP)
            return h;
    }
    ecp_report(NULL,
               "%s(%p): not an ECP context FltAllocateExtraCreateParameter allocated (freed?); "
               "ignored",
               api, context);
    return NULL;
}

static bool list_ok(PECP_LIST list, const char *api)
{
    if (list != NULL && list->magic == FLTSIM_MAGIC_ECP_LIST)
        return true;
    ecp_report(NULL,
               "%s(%p): not an ECP list FltAllocateExtraCreateParameterList allocated; ignored",
               api, (void *)list);
    return false;
}

static struct fltsim_ecp_header *find(PECP_LIST list, LPCGUID type)
{
    for (PLIST_ENTRY e = list->ecps.Flink; e != &list->ecps; e = e->Flink) {
        struct fltsim_ecp_header *h = CONTAINING_RECORD(e, struct fltsim_ecp_header, link);
        if (memcmp(&h->type, type, sizeof(GUID)) == 0)
            return h;
    }
    return NULL;
}

/* Runs the cleanup callback and gives the block back. */
static void ecp_destroy(struct fltsim_ecp_header *h)
{
    if (h->cleanup != NULL)
        h->cleanup(h->context, &h->type);
    h->magic = FLTSIM_MAGIC_DEAD;
    if (h->flags & ECP_FROM_NPAGED_LOOKASIDE)
        ExFreeToNPagedLookasideList(h->lookaside, h);
    else if (h->flags & ECP_FROM_PAGED_LOOKASIDE)
        ExFreeToPagedLookasideList(h->lookaside, h);
    else
        fltsim__pool_free(h);
}

static void ecp_init(struct fltsim_ecp_header *h, LPCGUID type, ULONG size,
                     PFSRTL_EXTRA_CREATE_PARAMETER_CLEANUP_CALLBACK cleanup)
{
    memset(h, 0, sizeof(*h) + size);
    h->magic = FLTSIM_MAGIC_ECP;
    h->sys = fltsim__tls()->sys;
    h->type = *type;
    h->size = size;
    h->cleanup = cleanup;
    InitializeListHead(&h->link);
}

/* ---- FsRtl ---- */

NTSTATUS FsRtlAllocateExtraCreateParameterList(FSRTL_ALLOCATE_ECPLIST_FLAGS Flags,
                                               PECP_LIST *EcpList)
{
    (void)Flags; /* quota is not modeled */
    if (EcpList == NULL)
        return STATUS_INVALID_PARAMETER;
    *EcpList = NULL;
    PECP_LIST list = fltsim__pool_allocate_at(PagedPool, sizeof(*list), 'LpcE',
                                              "FltAllocateExtraCreateParameterList", 0);
    if (list == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    list->magic = FLTSIM_MAGIC_ECP_LIST;
    InitializeListHead(&list->ecps);
    *EcpList = list;
    return STATUS_SUCCESS;
}

void fltsim__ecp_list_free(PECP_LIST list)
{
    while (!IsListEmpty(&list->ecps)) {
        PLIST_ENTRY e = RemoveHeadList(&list->ecps);
        ecp_destroy(CONTAINING_RECORD(e, struct fltsim_ecp_header, link));
    }
    list->magic = FLTSIM_MAGIC_DEAD;
    fltsim__pool_free(list);
}

VOID FsRtlFreeExtraCreateParameterList(PECP_LIST EcpList)
{
    if (list_ok(EcpList, "FltFreeExtraCreateParameterList"))
        fltsim__ecp_list_free(EcpList);
}

NTSTATUS
FsRtlAllocateExtraCreateParameter(LPCGUID EcpType, ULONG SizeOfContext,
                                  FSRTL_ALLOCATE_ECP_FLAGS Flags,
                                  PFSRTL_EXTRA_CREATE_PARAMETER_CLEANUP_CALLBACK CleanupCallback,
                                  ULONG PoolTag, PVOID *EcpContext)
{
    if (EcpContext == NULL || EcpType == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "FltAllocateExtraCreateParameter: EcpType and EcpContext are required");
    *EcpContext = NULL;
    if (SizeOfContext > MAXULONG - sizeof(struct fltsim_ecp_header))
        return STATUS_INSUFFICIENT_RESOURCES;
    ULONG pool = (Flags & FSRTL_ALLOCATE_ECP_FLAG_NONPAGED_POOL) ? NonPagedPoolNx : PagedPool;
    struct fltsim_ecp_header *h = fltsim__pool_allocate_at(
        pool, sizeof(*h) + SizeOfContext, PoolTag, "FltAllocateExtraCreateParameter", 0);
    if (h == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    ecp_init(h, EcpType, SizeOfContext, CleanupCallback);
    *EcpContext = h->context;
    return STATUS_SUCCESS;
}

VOID FsRtlFreeExtraCreateParameter(PVOID EcpContext)
{
    struct fltsim_ecp_header *h = ecp_of(EcpContext, "FltFreeExtraCreateParameter");
    if (h == NULL)
        return;
    if (h->flags & ECP_IN_LIST) {
        ecp_report(h->sys,
                   "FltFreeExtraCreateParameter(%p): the ECP is still in a list (remove it first, "
                   "or free the list); ignored",
                   EcpContext);
        return;
    }
    ecp_destroy(h);
}

VOID FsRtlInitExtraCreateParameterLookasideList(PVOID Lookaside, FSRTL_ECP_LOOKASIDE_FLAGS Flags,
                                                SIZE_T Size, ULONG Tag)
{
    SIZE_T whole = Size + sizeof(struct fltsim_ecp_header);
    if (Flags & FSRTL_ECP_LOOKASIDE_FLAG_NONPAGED_POOL)
        ExInitializeNPagedLookasideList(Lookaside, NULL, NULL, POOL_NX_ALLOCATION, whole, Tag, 0);
    else
        ExInitializePagedLookasideList(Lookaside, NULL, NULL, 0, whole, Tag, 0);
}

VOID FsRtlDeleteExtraCreateParameterLookasideList(PVOID Lookaside, FSRTL_ECP_LOOKASIDE_FLAGS Flags)
{
    if (Flags & FSRTL_ECP_LOOKASIDE_FLAG_NONPAGED_POOL)
        ExDeleteNPagedLookasideList(Lookaside);
    else
        ExDeletePagedLookasideList(Lookaside);
}

NTSTATUS FsRtlAllocateExtraCreateParameterFromLookasideList(
    LPCGUID EcpType, ULONG SizeOfContext, FSRTL_ALLOCATE_ECP_FLAGS Flags,
    PFSRTL_EXTRA_CREATE_PARAMETER_CLEANUP_CALLBACK CleanupCallback, PVOID LookasideList,
    PVOID *EcpContext)
{
    if (EcpContext == NULL || EcpType == NULL || LookasideList == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "FltAllocateExtraCreateParameterFromLookasideList: EcpType, "
                            "LookasideList and EcpContext are required");
    *EcpContext = NULL;
    PGENERAL_LOOKASIDE general = LookasideList;
    if ((SIZE_T)SizeOfContext + sizeof(struct fltsim_ecp_header) > general->Size)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "FltAllocateExtraCreateParameterFromLookasideList: SizeOfContext %lu "
                            "is larger than the list's entries",
                            (unsigned long)SizeOfContext);
    bool nonpaged = (Flags & FSRTL_ALLOCATE_ECP_FLAG_NONPAGED_POOL) != 0;
    struct fltsim_ecp_header *h = nonpaged ? ExAllocateFromNPagedLookasideList(LookasideList)
                                           : ExAllocateFromPagedLookasideList(LookasideList);
    if (h == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    ecp_init(h, EcpType, SizeOfContext, CleanupCallback);
    h->flags = nonpaged ? ECP_FROM_NPAGED_LOOKASIDE : ECP_FROM_PAGED_LOOKASIDE;
    h->lookaside = LookasideList;
    *EcpContext = h->context;
    return STATUS_SUCCESS;
}

NTSTATUS FsRtlInsertExtraCreateParameter(PECP_LIST EcpList, PVOID EcpContext)
{
    static const char api[] = "FltInsertExtraCreateParameter";
    if (!list_ok(EcpList, api))
        return STATUS_INVALID_PARAMETER;
    struct fltsim_ecp_header *h = ecp_of(EcpContext, api);
    if (h == NULL)
        return STATUS_INVALID_PARAMETER;
    if (h->flags & ECP_IN_LIST)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: the ECP is already in a list", api);
    /* Microsoft Learn: STATUS_INVALID_PARAMETER when an ECP of the same
     * GUID is in the list. */
    if (find(EcpList, &h->type) != NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: the list already has an ECP of this GUID", api);
    InsertTailList(&EcpList->ecps, &h->link);
    h->flags |= ECP_IN_LIST;
    h->list = EcpList;
    return STATUS_SUCCESS;
}

NTSTATUS FsRtlFindExtraCreateParameter(PECP_LIST EcpList, LPCGUID EcpType, PVOID *EcpContext,
                                       ULONG *EcpContextSize)
{
    if (EcpContext != NULL)
        *EcpContext = NULL;
    if (EcpType == NULL || !list_ok(EcpList, "FltFindExtraCreateParameter"))
        return STATUS_INVALID_PARAMETER;
    struct fltsim_ecp_header *h = find(EcpList, EcpType);
    if (h == NULL)
        return STATUS_NOT_FOUND;
    if (EcpContext != NULL)
        *EcpContext = h->context;
    if (EcpContextSize != NULL)
        *EcpContextSize = h->size;
    return STATUS_SUCCESS;
}

NTSTATUS FsRtlRemoveExtraCreateParameter(PECP_LIST EcpList, LPCGUID EcpType, PVOID *EcpContext,
                                         ULONG *EcpContextSize)
{
    if (EcpContext == NULL || EcpType == NULL || !list_ok(EcpList, "FltRemoveExtraCreateParameter"))
        return STATUS_INVALID_PARAMETER;
    *EcpContext = NULL;
    struct fltsim_ecp_header *h = find(EcpList, EcpType);
    if (h == NULL)
        return STATUS_NOT_FOUND;
    RemoveEntryList(&h->link);
    InitializeListHead(&h->link);
    h->flags &= ~(ULONG)ECP_IN_LIST;
    h->list = NULL;
    *EcpContext = h->context;
    if (EcpContextSize != NULL)
        *EcpContextSize = h->size;
    return STATUS_SUCCESS;
}

NTSTATUS FsRtlGetNextExtraCreateParameter(PECP_LIST EcpList, PVOID CurrentEcpContext,
                                          LPGUID NextEcpType, PVOID *NextEcpContext,
                                          ULONG *NextEcpContextSize)
{
    static const char api[] = "FltGetNextExtraCreateParameter";
    if (NextEcpContext != NULL)
        *NextEcpContext = NULL;
    if (!list_ok(EcpList, api))
        return STATUS_INVALID_PARAMETER;
    PLIST_ENTRY next = EcpList->ecps.Flink;
    if (CurrentEcpContext != NULL) {
        struct fltsim_ecp_header *cur = ecp_of(CurrentEcpContext, api);
        if (cur == NULL || cur->list != EcpList)
            return STATUS_INVALID_PARAMETER;
        next = cur->link.Flink;
    }
    if (next == &EcpList->ecps)
        return STATUS_NOT_FOUND;
    struct fltsim_ecp_header *h = CONTAINING_RECORD(next, struct fltsim_ecp_header, link);
    if (NextEcpType != NULL)
        *NextEcpType = h->type;
    if (NextEcpContext != NULL)
        *NextEcpContext = h->context;
    if (NextEcpContextSize != NULL)
        *NextEcpContextSize = h->size;
    return STATUS_SUCCESS;
}

VOID FsRtlAcknowledgeEcp(PVOID EcpContext)
{
    struct fltsim_ecp_header *h = ecp_of(EcpContext, "FltAcknowledgeEcp");
    if (h != NULL)
        __atomic_or_fetch(&h->flags, ECP_ACKNOWLEDGED, __ATOMIC_SEQ_CST);
}

BOOLEAN FsRtlIsEcpAcknowledged(PVOID EcpContext)
{
    struct fltsim_ecp_header *h = ecp_of(EcpContext, "FltIsEcpAcknowledged");
    return h != NULL && (__atomic_load_n(&h->flags, __ATOMIC_SEQ_CST) & ECP_ACKNOWLEDGED);
}

BOOLEAN FsRtlIsEcpFromUserMode(PVOID EcpContext)
{
    struct fltsim_ecp_header *h = ecp_of(EcpContext, "FltIsEcpFromUserMode");
    return h != NULL && (h->flags & ECP_FROM_USER_MODE);
}

VOID FsRtlPrepareToReuseEcp(PVOID EcpContext)
{
    struct fltsim_ecp_header *h = ecp_of(EcpContext, "FltPrepareToReuseEcp");
    if (h != NULL)
        __atomic_and_fetch(&h->flags, ~(ULONG)ECP_ACKNOWLEDGED, __ATOMIC_SEQ_CST);
}

/* ---- FltMgr: the same with the filter named ---- */

static bool filter_ok(PFLT_FILTER filter, const char *api)
{
    if (fltsim__is_filter(filter))
        return true;
    fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Filter is not a filter", api);
    return false;
}

NTSTATUS FltAllocateExtraCreateParameterList(PFLT_FILTER Filter, FSRTL_ALLOCATE_ECPLIST_FLAGS Flags,
                                             PECP_LIST *EcpList)
{
    if (!filter_ok(Filter, "FltAllocateExtraCreateParameterList"))
        return STATUS_INVALID_PARAMETER;
    return FsRtlAllocateExtraCreateParameterList(Flags, EcpList);
}

NTSTATUS
FltAllocateExtraCreateParameter(PFLT_FILTER Filter, LPCGUID EcpType, ULONG SizeOfContext,
                                FSRTL_ALLOCATE_ECP_FLAGS Flags,
                                PFSRTL_EXTRA_CREATE_PARAMETER_CLEANUP_CALLBACK CleanupCallback,
                                ULONG PoolTag, PVOID *EcpContext)
{
    if (!filter_ok(Filter, "FltAllocateExtraCreateParameter"))
        return STATUS_INVALID_PARAMETER;
    NTSTATUS status = FsRtlAllocateExtraCreateParameter(EcpType, SizeOfContext, Flags,
                                                        CleanupCallback, PoolTag, EcpContext);
    if (NT_SUCCESS(status))
        ECP_HEADER(*EcpContext)->sys = Filter->sys;
    return status;
}

VOID FltInitExtraCreateParameterLookasideList(PFLT_FILTER Filter, PVOID Lookaside,
                                              FSRTL_ECP_LOOKASIDE_FLAGS Flags, SIZE_T Size,
                                              ULONG Tag)
{
    (void)Filter;
    FsRtlInitExtraCreateParameterLookasideList(Lookaside, Flags, Size, Tag);
}

VOID FltDeleteExtraCreateParameterLookasideList(PFLT_FILTER Filter, PVOID Lookaside,
                                                FSRTL_ECP_LOOKASIDE_FLAGS Flags)
{
    (void)Filter;
    FsRtlDeleteExtraCreateParameterLookasideList(Lookaside, Flags);
}

NTSTATUS FltAllocateExtraCreateParameterFromLookasideList(
    PFLT_FILTER Filter, LPCGUID EcpType, ULONG SizeOfContext, FSRTL_ALLOCATE_ECP_FLAGS Flags,
    PFSRTL_EXTRA_CREATE_PARAMETER_CLEANUP_CALLBACK CleanupCallback, PVOID LookasideList,
    PVOID *EcpContext)
{
    if (!filter_ok(Filter, "FltAllocateExtraCreateParameterFromLookasideList"))
        return STATUS_INVALID_PARAMETER;
    NTSTATUS status = FsRtlAllocateExtraCreateParameterFromLookasideList(
        EcpType, SizeOfContext, Flags, CleanupCallback, LookasideList, EcpContext);
    if (NT_SUCCESS(status))
        ECP_HEADER(*EcpContext)->sys = Filter->sys;
    return status;
}

NTSTATUS FltInsertExtraCreateParameter(PFLT_FILTER Filter, PECP_LIST EcpList, PVOID EcpContext)
{
    if (!filter_ok(Filter, "FltInsertExtraCreateParameter"))
        return STATUS_INVALID_PARAMETER;
    return FsRtlInsertExtraCreateParameter(EcpList, EcpContext);
}

NTSTATUS FltFindExtraCreateParameter(PFLT_FILTER Filter, PECP_LIST EcpList, LPCGUID EcpType,
                                     PVOID *EcpContext, ULONG *EcpContextSize)
{
    if (!filter_ok(Filter, "FltFindExtraCreateParameter"))
        return STATUS_INVALID_PARAMETER;
    return FsRtlFindExtraCreateParameter(EcpList, EcpType, EcpContext, EcpContextSize);
}

NTSTATUS FltRemoveExtraCreateParameter(PFLT_FILTER Filter, PECP_LIST EcpList, LPCGUID EcpType,
                                       PVOID *EcpContext, ULONG *EcpContextSize)
{
    if (!filter_ok(Filter, "FltRemoveExtraCreateParameter"))
        return STATUS_INVALID_PARAMETER;
    return FsRtlRemoveExtraCreateParameter(EcpList, EcpType, EcpContext, EcpContextSize);
}

VOID FltFreeExtraCreateParameterList(PFLT_FILTER Filter, PECP_LIST EcpList)
{
    (void)Filter;
    FsRtlFreeExtraCreateParameterList(EcpList);
}

VOID FltFreeExtraCreateParameter(PFLT_FILTER Filter, PVOID EcpContext)
{
    (void)Filter;
    FsRtlFreeExtraCreateParameter(EcpContext);
}

NTSTATUS FltGetNextExtraCreateParameter(PFLT_FILTER Filter, PECP_LIST EcpList,
                                        PVOID CurrentEcpContext, LPGUID NextEcpType,
                                        PVOID *NextEcpContext, ULONG *NextEcpContextSize)
{
    if (!filter_ok(Filter, "FltGetNextExtraCreateParameter"))
        return STATUS_INVALID_PARAMETER;
    return FsRtlGetNextExtraCreateParameter(EcpList, CurrentEcpContext, NextEcpType, NextEcpContext,
                                            NextEcpContextSize);
}

VOID FltAcknowledgeEcp(PFLT_FILTER Filter, PVOID EcpContext)
{
    (void)Filter;
    FsRtlAcknowledgeEcp(EcpContext);
}

BOOLEAN FltIsEcpAcknowledged(PFLT_FILTER Filter, PVOID EcpContext)
{
    (void)Filter;
    return FsRtlIsEcpAcknowledged(EcpContext);
}

BOOLEAN FltIsEcpFromUserMode(PFLT_FILTER Filter, PVOID EcpContext)
{
    (void)Filter;
    return FsRtlIsEcpFromUserMode(EcpContext);
}

VOID FltPrepareToReuseEcp(PFLT_FILTER Filter, PVOID EcpContext)
{
    (void)Filter;
    FsRtlPrepareToReuseEcp(EcpContext);
}

/* ---- the create's list in its callback data ---- */

/* The IRP-based create data is, or NULL. */
static struct fltsim_op *create_op(PFLT_CALLBACK_DATA data)
{
    struct fltsim_op *op = fltsim__op_from_data(data);
    if (op == NULL || op->kind != FLTSIM_OP_IRP || op->iopb.MajorFunction != IRP_MJ_CREATE ||
        op->req == NULL)
        return NULL;
    return op;
}

NTSTATUS FltGetEcpListFromCallbackData(PFLT_FILTER Filter, PFLT_CALLBACK_DATA CallbackData,
                                       PECP_LIST *EcpList)
{
    static const char api[] = "FltGetEcpListFromCallbackData";
    if (!filter_ok(Filter, api) || EcpList == NULL)
        return STATUS_INVALID_PARAMETER;
    struct fltsim_op *op = create_op(CallbackData);
    if (op == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: CallbackData is not an IRP-based create",
                            api);
    *EcpList = op->req->ecp_list;
    return STATUS_SUCCESS;
}

NTSTATUS FltSetEcpListIntoCallbackData(PFLT_FILTER Filter, PFLT_CALLBACK_DATA CallbackData,
                                       PECP_LIST EcpList)
{
    static const char api[] = "FltSetEcpListIntoCallbackData";
    if (!filter_ok(Filter, api))
        return STATUS_INVALID_PARAMETER;
    struct fltsim_op *op = create_op(CallbackData);
    if (op == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER_2,
                            "%s: CallbackData is not an IRP-based create", api);
    if (!list_ok(EcpList, api))
        return STATUS_INVALID_PARAMETER;
    if (op->req->ecp_list != NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER_3,
                            "%s: the create already carries an ECP list", api);
    op->req->ecp_list = EcpList;
    return STATUS_SUCCESS;
}

/* ---- the I/O manager's side (fltsim/model.h) ---- */

NTSTATUS fltsim_ecp_list_create(const struct fltsim_ecp *ecps, ULONG count, KPROCESSOR_MODE mode,
                                PECP_LIST *out)
{
    if (out == NULL || (ecps == NULL && count != 0))
        return STATUS_INVALID_PARAMETER;
    *out = NULL;
    PECP_LIST list = fltsim__pool_allocate_internal(PagedPool, sizeof(*list), 'LpcE', true);
    if (list == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    list->magic = FLTSIM_MAGIC_ECP_LIST;
    InitializeListHead(&list->ecps);
    for (ULONG k = 0; k < count; k++) {
        if (ecps[k].data == NULL && ecps[k].size != 0) {
            fltsim__ecp_list_free(list);
            return fltsim__fail(STATUS_INVALID_PARAMETER, "ECP %lu: data is NULL",
                                (unsigned long)k);
        }
        if (find(list, &ecps[k].type) != NULL) {
            fltsim__ecp_list_free(list);
            return fltsim__fail(STATUS_INVALID_PARAMETER, "ECP %lu: its GUID is given twice",
                                (unsigned long)k);
        }
        struct fltsim_ecp_header *h =
            fltsim__pool_allocate_internal(PagedPool, sizeof(*h) + ecps[k].size, 'CpcE', true);
        if (h == NULL) {
            fltsim__ecp_list_free(list);
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        ecp_init(h, &ecps[k].type, ecps[k].size, NULL);
        if (ecps[k].size != 0)
            memcpy(h->context, ecps[k].data, ecps[k].size);
        h->flags = ECP_IN_LIST | (mode == UserMode ? ECP_FROM_USER_MODE : 0);
        h->list = list;
        InsertTailList(&list->ecps, &h->link);
    }
    *out = list;
    return STATUS_SUCCESS;
}

void fltsim_ecp_list_free(PECP_LIST list)
{
    if (list != NULL && list->magic == FLTSIM_MAGIC_ECP_LIST)
        fltsim__ecp_list_free(list);
}
