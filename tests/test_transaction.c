/*
 * Transactions are not modeled (issue 18, item 10): no create carries one
 * (FLT_RELATED_OBJECTS.Transaction is NULL, IoGetTransactionParameterBlock
 * answers NULL), and the KTM routines the WDK samples call link but fail:
 * STATUS_NOT_SUPPORTED (FltGetTransactionContext: STATUS_NOT_FOUND) with a
 * simulator report (rule SIM) naming the routine.
 */
#include <stdio.h>
#include <string.h>

#include "fltsim_test.h"

/* A transaction pointer a filter could only have made up: fltsim never
 * hands one out. */
static int fake_transaction;

/* Post-create: what a transaction-aware filter (the change and delete
 * samples) would try, recorded for the test thread. */
static FLT_POSTOP_CALLBACK_STATUS txn_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                           PCFLT_RELATED_OBJECTS objects, PVOID context,
                                           FLT_POST_OPERATION_FLAGS flags)
{
    (void)tf;
    (void)context;
    (void)flags;
    if (!NT_SUCCESS(data->IoStatus.Status))
        return FLT_POSTOP_FINISHED_PROCESSING;
    PKTRANSACTION txn = (PKTRANSACTION)(void *)&fake_transaction;
    PFLT_CONTEXT ctx = (PFLT_CONTEXT)(void *)&fake_transaction, old = ctx;
    rec_add("txn=%s", objects->Transaction == NULL ? "none" : "some");
    rec_add("block=%s",
            IoGetTransactionParameterBlock(objects->FileObject) == NULL ? "none" : "some");
    rec_add("enlist=0x%08lx", (unsigned long)(ULONG)FltEnlistInTransaction(
                                  objects->Instance, txn, ctx, TRANSACTION_NOTIFY_COMMIT));
    rec_add("rollback=0x%08lx",
            (unsigned long)(ULONG)FltRollbackEnlistment(objects->Instance, txn, ctx));
    rec_add("commit=0x%08lx", (unsigned long)(ULONG)FltCommitComplete(objects->Instance, txn, ctx));
    /* Called before recording: argument order is unspecified. */
    NTSTATUS st =
        FltSetTransactionContext(objects->Instance, txn, FLT_SET_CONTEXT_KEEP_IF_EXISTS, ctx, &old);
    rec_add("set=0x%08lx old=%s", (unsigned long)(ULONG)st, old == NULL ? "null" : "set");
    ctx = (PFLT_CONTEXT)(void *)&fake_transaction;
    st = FltGetTransactionContext(objects->Instance, txn, &ctx);
    rec_add("get=0x%08lx ctx=%s", (unsigned long)(ULONG)st, ctx == NULL ? "null" : "set");
    st = FltDeleteTransactionContext(objects->Instance, txn, NULL);
    rec_add("delete=0x%08lx", (unsigned long)(ULONG)st);
    ULONG len = 77;
    UCHAR info[64];
    st = ZwQueryInformationTransaction(NULL, TransactionBasicInformation, info, sizeof(info), &len);
    rec_add("query=0x%08lx len=%lu", (unsigned long)(ULONG)st, (unsigned long)len);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static void transaction_routines_fail_with_a_sim_report(void **state)
{
    (void)state;
    tf_reset_all();
    rec_reset();
    struct test_world w;
    world_create(&w, 0);
    static struct tf_filter tf; /* the system keeps it until destroyed */
    tf_init(&tf, "T", "370000");
    tf_only(&tf, IRP_MJ_CREATE);
    tf.post = txn_post;
    assert_status(tf_load(w.sys, &tf), STATUS_SUCCESS);
    fltsim_system_reports_clear(w.sys);
    rec_reset();
    HANDLE h;
    assert_status(fltsim_io_open(w.sys, L"C:\\a.txt", GENERIC_READ, &h), STATUS_SUCCESS);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    assert_recorded("T:pre:CREATE T:post:CREATE txn=none block=none enlist=0xc00000bb "
                    "rollback=0xc00000bb commit=0xc00000bb set=0xc00000bb old=null "
                    "get=0xc0000225 ctx=null delete=0xc00000bb query=0xc00000bb len=0");
    /* One report per call that pretends a transaction exists. */
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "SIM"), 7);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(w.sys, 0, &r), STATUS_SUCCESS);
    char text[512];
    fltsim_report_format(&r, text, sizeof(text));
    assert_non_null(strstr(text, "FltEnlistInTransaction: transactions are not modeled"));
    world_destroy(&w);
}

/* The samples find them by name too (FltGetRoutineAddress,
 * MmGetSystemRoutineAddress). */
static void transaction_routines_are_found_by_name(void **state)
{
    (void)state;
    static const char *const flt[] = {"FltEnlistInTransaction",   "FltRollbackEnlistment",
                                      "FltPrePrepareComplete",    "FltPrepareComplete",
                                      "FltCommitComplete",        "FltCommitFinalizeComplete",
                                      "FltRollbackComplete",      "FltSetTransactionContext",
                                      "FltGetTransactionContext", "FltDeleteTransactionContext"};
    for (size_t i = 0; i < sizeof(flt) / sizeof(flt[0]); i++)
        assert_non_null(FltGetRoutineAddress(flt[i]));
    UNICODE_STRING u;
    RtlInitUnicodeString(&u, L"ZwQueryInformationTransaction");
    assert_non_null(MmGetSystemRoutineAddress(&u));
    RtlInitUnicodeString(&u, L"IoGetTransactionParameterBlock");
    assert_non_null(MmGetSystemRoutineAddress(&u));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transaction_routines_fail_with_a_sim_report),
        cmocka_unit_test(transaction_routines_are_found_by_name),
    };
    return FLTSIM_RUN_SUITE("transaction", tests);
}
