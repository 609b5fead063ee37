/*
 * SAL annotations, calling-convention keywords and other Microsoft compiler
 * decorations, all compiled to nothing (DESIGN decision 3). Minifilter sources
 * are full of them; fltsim only needs them to parse. The list covers what the
 * WDK samples and common filters use; an annotation missing here is a build
 * error, which is the honest outcome: add it here.
 */
#ifndef FLTSIM_SAL_H
#define FLTSIM_SAL_H

/* Calling conventions and declaration decorations. */
#define NTAPI
#define NTSYSAPI
#define NTSYSCALLAPI
#define NTKERNELAPI
#define FLTAPI
#define WINAPI
#define FASTCALL
#define __stdcall
#define __cdecl
#define __fastcall
#define __forceinline static inline
#define FORCEINLINE static inline
#define DECLSPEC_NOINLINE
#define DECLSPEC_NORETURN
#define DECLSPEC_RESTRICT
#define DECLSPEC_ALIGN(x) _Alignas(x)
#define DECLSPEC_CACHEALIGN
#define DECLSPEC_IMPORT
#define DECLSPEC_EXPORT
#define DECLSPEC_DEPRECATED_DDK
#define __declspec(x)
#define __drv_aliasesMem
#define __drv_allocatesMem(x)
#define __drv_freesMem(x)
#define __drv_dispatchType(x)
#define __drv_maxIRQL(x)
#define __drv_minIRQL(x)
#define __drv_requiresIRQL(x)
#define __drv_setsIRQL(x)
#define __drv_savesIRQL
#define __drv_restoresIRQL
#define __drv_when(c, a)
#define __drv_mustHold(x)
#define __drv_mustHoldCriticalRegion
#define __drv_neverHold(x)
#define __drv_acquiresResource(x)
#define __drv_releasesResource(x)
#define __drv_sameIRQL
#define __drv_functionClass(x)
#define __drv_reportError(x)
#define __drv_strictType(t, c)
#define __drv_strictTypeMatch(x)
#define __drv_valueIs(x)
#define __drv_inTry
#define __drv_preferredFunction(f, r)
#define __drv_allocatesMem(x)

/* Old-style (pre-SAL 2) annotations. */
#define __in
#define __in_opt
#define __out
#define __out_opt
#define __inout
#define __inout_opt
#define __deref_out
#define __deref_out_opt
#define __in_bcount(x)
#define __out_bcount(x)
#define __in_ecount(x)
#define __out_ecount(x)
#define __checkReturn
#define __range(a, b)

/* SAL 2 parameter annotations. */
#define _In_
#define _In_opt_
#define _In_z_
#define _In_opt_z_
#define _Out_
#define _Out_opt_
#define _Inout_
#define _Inout_opt_
#define _Inout_z_
#define _Outptr_
#define _Outptr_opt_
#define _Outptr_result_maybenull_
#define _Outptr_opt_result_maybenull_
#define _Outptr_result_buffer_(x)
#define _Outptr_result_bytebuffer_(x)
#define _Outptr_result_nullonfailure_
#define _Deref_out_
#define _Deref_out_opt_
#define _Deref_out_range_(a, b)
#define _In_reads_(x)
#define _In_reads_opt_(x)
#define _In_reads_bytes_(x)
#define _In_reads_bytes_opt_(x)
#define _In_reads_z_(x)
#define _In_range_(a, b)
#define _Out_range_(a, b)
#define _Out_writes_(x)
#define _Out_writes_opt_(x)
#define _Out_writes_bytes_(x)
#define _Out_writes_bytes_opt_(x)
#define _Out_writes_bytes_to_(a, b)
#define _Out_writes_bytes_to_opt_(a, b)
#define _Out_writes_to_(a, b)
#define _Out_writes_to_opt_(a, b)
#define _Out_writes_z_(x)
#define _Out_writes_bytes_all_(x)
#define _Out_writes_all_(x)
#define _Inout_updates_(x)
#define _Inout_updates_opt_(x)
#define _Inout_updates_bytes_(x)
#define _Inout_updates_bytes_opt_(x)
#define _Inout_updates_bytes_to_(a, b)
#define _Field_size_(x)
#define _Field_size_opt_(x)
#define _Field_size_bytes_(x)
#define _Field_size_bytes_opt_(x)
#define _Field_size_bytes_part_(a, b)
#define _Field_size_bytes_part_opt_(a, b)
#define _Field_size_part_(a, b)
#define _Field_range_(a, b)
#define _Field_z_
#define _Readable_bytes_(x)
#define _Writable_bytes_(x)
#define _Post_readable_byte_size_(x)
#define _Post_writable_byte_size_(x)
#define _Post_equal_to_(x)
#define _Post_satisfies_(x)
#define _Post_invalid_
#define _Post_valid_
#define _Post_z_
#define _Post_maybenull_
#define _Post_notnull_
#define _Pre_
#define _Post_
#define _Pre_notnull_
#define _Pre_maybenull_
#define _Pre_valid_
#define _Pre_satisfies_(x)
#define _Pre_defensive_
#define _Ret_
#define _Ret_maybenull_
#define _Ret_notnull_
#define _Ret_range_(a, b)
#define _Ret_z_
#define _Ret_writes_(x)
#define _Ret_writes_bytes_(x)
#define _Ret_writes_bytes_maybenull_(x)
#define _Ret_writes_maybenull_(x)
#define _Result_nullonfailure_
#define _Result_zeroonfailure_
#define _Success_(x)
#define _Must_inspect_result_
#define _Check_return_
#define _Use_decl_annotations_
#define _Printf_format_string_
#define _Reserved_
#define _Frees_ptr_
#define _Frees_ptr_opt_
#define _Null_terminated_
#define _NullNull_terminated_
#define _Notnull_
#define _Maybenull_
#define _Const_
#define _Literal_
#define _Strict_type_match_
#define _Points_to_data_
#define _Unchanged_(x)
#define _When_(c, a)
#define _At_(t, a)
#define _At_buffer_(t, i, c, a)
#define _Analysis_assume_(x)
#define _Analysis_mode_(x)
#define _Analysis_noreturn_
#define _Function_class_(x)
#define _Dispatch_type_(x)
#define _Kernel_float_saved_
#define _Kernel_float_restored_
#define _Kernel_float_used_
#define _Kernel_requires_resource_held_(x)
#define _Kernel_requires_resource_not_held_(x)
#define _Kernel_acquires_resource_(x)
#define _Kernel_releases_resource_(x)
#define _Kernel_clear_do_init_(x)
#define _IRQL_requires_(x)
#define _IRQL_requires_max_(x)
#define _IRQL_requires_min_(x)
#define _IRQL_requires_same_
#define _IRQL_raises_(x)
#define _IRQL_saves_
#define _IRQL_restores_
#define _IRQL_saves_global_(k, v)
#define _IRQL_restores_global_(k, v)
#define _IRQL_always_function_max_(x)
#define _IRQL_always_function_min_(x)
#define _IRQL_uses_cancel_
#define _IRQL_is_cancel_
#define _IRQL_requires_none_
#define _Requires_lock_held_(x)
#define _Requires_lock_not_held_(x)
#define _Requires_exclusive_lock_held_(x)
#define _Requires_shared_lock_held_(x)
#define _Acquires_lock_(x)
#define _Releases_lock_(x)
#define _Acquires_exclusive_lock_(x)
#define _Acquires_shared_lock_(x)
#define _Releases_exclusive_lock_(x)
#define _Releases_shared_lock_(x)
#define _Guarded_by_(x)
#define _Interlocked_
#define _Interlocked_operand_
#define _Benign_race_begin_
#define _Benign_race_end_
#define _No_competing_thread_
#define _No_competing_thread_begin_
#define _No_competing_thread_end_
#define _Has_lock_kind_(x)
#define _Has_lock_level_(x)
#define _Lock_level_order_(a, b)
#define _Create_lock_level_(x)
#define _Always_(x)
#define _On_failure_(x)
#define _Return_type_success_(x)
#define _Enum_is_bitflag_
#define _Strict_type_match_
#define _Flt_CompletionContext_Outptr_
#define _Flt_ConnectNotify_
#define _Flt_DisconnectNotify_
#define _Flt_MessageNotify_

#endif /* FLTSIM_SAL_H */
