/*
 * The file-system part of the NT kernel interface that minifilters use: file
 * and volume information classes with their structures, the top-level IRP
 * (SPEC 6.6), name matching with wildcards, and the flag helpers. WDK names
 * and values; routines declared here are implemented in fltmgr_model/src/.
 */
#ifndef FLTSIM_NTIFS_H
#define FLTSIM_NTIFS_H

#include "ntddk.h"

/* The WDK surface of ntifs.h beyond ntddk.h, one piece per family (fltsim/decl/). */
#include "fltsim/decl/fs_info.h"
#include "fltsim/decl/fsctl.h"
#include "fltsim/decl/se.h"
#include "fltsim/decl/fsrtl.h"
#include "fltsim/decl/ifs_kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FlagOn(_F, _SF) ((_F) & (_SF))
#define BooleanFlagOn(F, SF) ((BOOLEAN)(((F) & (SF)) != 0))
#define SetFlag(_F, _SF) ((_F) |= (_SF))
#define ClearFlag(_F, _SF) ((_F) &= ~(_SF))

/* ---- top-level IRP (SPEC 6.6): one slot per simulated thread ---- */

#define FSRTL_FSP_TOP_LEVEL_IRP ((PIRP)(ULONG_PTR)0x01)
#define FSRTL_CACHE_TOP_LEVEL_IRP ((PIRP)(ULONG_PTR)0x02)
#define FSRTL_MOD_WRITE_TOP_LEVEL_IRP ((PIRP)(ULONG_PTR)0x03)
#define FSRTL_FAST_IO_TOP_LEVEL_IRP ((PIRP)(ULONG_PTR)0x04)
#define FSRTL_NETWORK_RECURSIVE_TOP_LEVEL_IRP ((PIRP)(ULONG_PTR)0x05)
#define FSRTL_MAX_TOP_LEVEL_IRP_FLAG ((PIRP)(ULONG_PTR)0xFFFF)

PIRP IoGetTopLevelIrp(void);
void IoSetTopLevelIrp(PIRP Irp);

/* ---- name matching ---- */

/* The DOS wildcards of FsRtlIsNameInExpression. */
#define DOS_STAR ((WCHAR)'<')
#define DOS_QM ((WCHAR)'>')
#define DOS_DOT ((WCHAR)'"')

/* FsRtlIsNameInExpression: Expression may hold *, ?, and the DOS wildcards
 * < > "; with IgnoreCase the expression must already be upcased (as on
 * Windows) and the name is upcased while matching. UpcaseTable must be NULL. */
BOOLEAN FsRtlIsNameInExpression(PUNICODE_STRING Expression, PUNICODE_STRING Name,
                                BOOLEAN IgnoreCase, PWCH UpcaseTable);
/* FsRtlDoesNameContainWildCards: TRUE when the name holds * ? < > or ". */
BOOLEAN FsRtlDoesNameContainWildCards(PUNICODE_STRING Name);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_NTIFS_H */
