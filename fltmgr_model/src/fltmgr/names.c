/*
 * Operation codes and callback statuses: their names (from the X-macro lists in
 * fltsim/irp_mj_list.h) and the callback slot each code occupies (SPEC 1.3:
 * 28 IRP majors plus 22 FltMgr codes, 50 slots), and the names of the minor
 * codes fltsim knows.
 */
#include "model_internal.h"

const char *fltsim_major_name(UCHAR major)
{
    switch (major) {
#define IRP_CASE(name, value)                                                                      \
    case value:                                                                                    \
        return #name;
        FLTSIM_IRP_MJ_LIST(IRP_CASE)
#undef IRP_CASE
#define FLT_CASE(name, value, kind)                                                                \
    case value:                                                                                    \
        return #name;
        FLTSIM_FLT_MJ_LIST(FLT_CASE)
#undef FLT_CASE
    default:
        return NULL;
    }
}

const char *fltsim_minor_name(UCHAR major, UCHAR minor)
{
#define MN_CASE(mj, mn)                                                                            \
    if (major == (mj) && minor == (mn))                                                            \
        return #mn;
    FLTSIM_IRP_MN_LIST(MN_CASE)
#undef MN_CASE
    return NULL;
}

int fltsim__slot_of(UCHAR major)
{
    if (major <= IRP_MJ_MAXIMUM_FUNCTION)
        return major;
    switch (major) {
#define FLT_CASE(name, value, kind) case value:
        FLTSIM_FLT_MJ_LIST(FLT_CASE)
#undef FLT_CASE
        return 0x1c + (0xff - major);
    default:
        return -1;
    }
}

bool fltsim__is_fast_io_code(UCHAR major)
{
    switch (major) {
#define FLT_CASE(name, value, kind) FLT_KIND_##kind(value)
#define FLT_KIND_F(value) case value:
#define FLT_KIND_S(value)
        FLTSIM_FLT_MJ_LIST(FLT_CASE)
        return true;
    default:
        return false;
    }
}

bool fltsim__is_fs_filter_code(UCHAR major)
{
    switch (major) {
#undef FLT_KIND_F
#undef FLT_KIND_S
#define FLT_KIND_F(value)
#define FLT_KIND_S(value) case value:
        FLTSIM_FLT_MJ_LIST(FLT_CASE)
        return true;
    default:
        return false;
    }
#undef FLT_KIND_F
#undef FLT_KIND_S
#undef FLT_CASE
}

const char *fltsim_preop_status_name(FLT_PREOP_CALLBACK_STATUS status)
{
    switch (status) {
    case FLT_PREOP_SUCCESS_WITH_CALLBACK:
        return "FLT_PREOP_SUCCESS_WITH_CALLBACK";
    case FLT_PREOP_SUCCESS_NO_CALLBACK:
        return "FLT_PREOP_SUCCESS_NO_CALLBACK";
    case FLT_PREOP_PENDING:
        return "FLT_PREOP_PENDING";
    case FLT_PREOP_DISALLOW_FASTIO:
        return "FLT_PREOP_DISALLOW_FASTIO";
    case FLT_PREOP_COMPLETE:
        return "FLT_PREOP_COMPLETE";
    case FLT_PREOP_SYNCHRONIZE:
        return "FLT_PREOP_SYNCHRONIZE";
    case FLT_PREOP_DISALLOW_FSFILTER_IO:
        return "FLT_PREOP_DISALLOW_FSFILTER_IO";
    }
    return NULL;
}

const char *fltsim_postop_status_name(FLT_POSTOP_CALLBACK_STATUS status)
{
    switch (status) {
    case FLT_POSTOP_FINISHED_PROCESSING:
        return "FLT_POSTOP_FINISHED_PROCESSING";
    case FLT_POSTOP_MORE_PROCESSING_REQUIRED:
        return "FLT_POSTOP_MORE_PROCESSING_REQUIRED";
    case FLT_POSTOP_DISALLOW_FSFILTER_IO:
        return "FLT_POSTOP_DISALLOW_FSFILTER_IO";
    }
    return NULL;
}
