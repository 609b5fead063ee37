/*
 * SAL annotations, calling-convention keywords and other Microsoft compiler
 * decorations (DESIGN decision 3). Annotations and calling conventions compile
 * to nothing; the few decorations with a meaning get the gcc/clang
 * equivalent (FORCEINLINE, DECLSPEC_SELECTANY, DECLSPEC_ALIGN). The list
 * covers what the WDK samples and common filters use; an annotation missing
 * here is a build error, which is the honest outcome: add it here.
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
/* MSVC's __forceinline: an inline function whose every call is inlined.
 * Forced inlining (always_inline) makes the C99 inline definition in a
 * header enough at every optimization level; "static FORCEINLINE" and a
 * FORCEINLINE definition after an ordinary prototype work as with MSVC. Only
 * taking the address of a header-only FORCEINLINE function has no MSVC
 * equivalent here (it fails to link, naming the function). */
#define __forceinline inline __attribute__((always_inline))
#define FORCEINLINE __forceinline
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

/* More decorations: selectany data is a weak symbol (one definition kept at
 * link time, as MSVC keeps one); the rest compile to nothing. */
#define DECLSPEC_SELECTANY __attribute__((weak))
#define DECLSPEC_NOTHROW
#define DECLSPEC_NOVTABLE
#define DECLSPEC_GUARDNOCF
#define DECLSPEC_SAFEBUFFERS
#define DECLSPEC_ADDRSAFE
#define DECLSPEC_NOSANITIZE_ADDRESS
#define DECLSPEC_NOINITALL
#define DECLSPEC_CHPE_GUEST
#define CALLBACK
#define APIENTRY
#define STDMETHODCALLTYPE
#define NTAPI_INLINE
#define NTSYSAPI_INLINE
#define NTHALAPI
#define NTKRNLVISTAAPI
#define UNALIGNED
#define UNALIGNED64
#define __unaligned
#define __ptr32
#define __ptr64
#define POINTER_32
#define POINTER_64
#define POINTER_SIGNED
#define POINTER_UNSIGNED
#define RESTRICTED_POINTER
#define NOT_BUILD_WINDOWS_DEPRECATE
#define DEPRECATED
#define __volatile_shim volatile

/* The rest of the SAL 2 and driver annotations, all empty. */
#define _Flt_ConnectionCookie_Outptr_
#define _Post_null_
#define _Unreferenced_parameter_
#define _Post_ptr_invalid_
#define _Post_maybez_
#define _Pre_null_
#define _Pre_z_
#define _Pre_opt_valid_
#define _Pre_invalid_
#define _Pre_readonly_
#define _Pre_writeonly_
#define _Valid_
#define _Notvalid_
#define _Null_
#define _Notliteral_
#define _In_z_opt_
#define _Inout_opt_z_
#define _Out_z_
#define _Outptr_result_z_
#define _Outptr_opt_result_z_
#define _Outptr_result_maybenull_z_
#define _Outptr_opt_result_maybenull_z_
#define _Outptr_opt_result_nullonfailure_
#define _COM_Outptr_
#define _COM_Outptr_opt_
#define _COM_Outptr_result_maybenull_
#define _Deref_out_z_
#define _Deref_in_
#define _Deref_inout_
#define _Deref_pre_z_
#define _Deref_post_z_
#define _Deref_post_null_
#define _Deref_post_maybenull_
#define _Deref_post_opt_valid_
#define _Ret_null_
#define _Ret_valid_
#define _Ret_opt_valid_
#define _Ret_maybenull_z_
#define _Kernel_IoGetDmaAdapter_
#define _Raises_SEH_exception_
#define _Releases_nonreentrant_lock_
#define _Acquires_nonreentrant_lock_
#define _Requires_no_locks_held_
#define _Post_same_lock_
#define _Notref_
#define _Pre_unknown_
#define _Printf_format_string_params_(x)
#define _Scanf_format_string_
#define _Scanf_s_format_string_
#define _In_defensive_
#define _Out_defensive_
#define _Inout_defensive_
#define _Ret_writes_z_(x)
#define _Post_writable_size_(x)
#define _Post_readable_size_(x)
#define _Deref_out_opt_z_
#define _Deref_opt_out_
#define _Deref_opt_out_opt_
#define __drv_notInTry
#define __drv_innerMustHoldGlobal(x)
#define __drv_mustHoldCancelSpinLock
#define __drv_mustHoldGlobal(x)
#define __drv_releasesCancelSpinLock
#define __drv_acquiresCancelSpinLock
#define __drv_dispatchType_other
#define __drv_completionType
#define __drv_useCancelIRQL
#define __drv_isCancelIRQL
#define __drv_clearDoInit
#define __drv_formatString(x)
#define __drv_isObjectPointer(x)
#define __drv_nonConstant
#define __drv_out(x)
#define __drv_in(x)
#define __drv_deref(x)
#define __in_z
#define __in_opt_z
#define __out_z
#define __success(x)
#define __deref_opt_out
#define __deref_inout
#define __deref_inout_opt
#define __inout_z
#define __reserved
#define __nullterminated
#define __notnull
#define __maybenull
#define __typefix(x)
#define __field_bcount(x)
#define __field_ecount(x)
#define __bcount(x)
#define __ecount(x)
#define __in_bcount_opt(x)
#define __in_ecount_opt(x)
#define __out_bcount_opt(x)
#define __out_ecount_opt(x)
#define __out_bcount_part(a, b)
#define __out_ecount_part(a, b)
#define __inout_bcount(x)
#define __inout_ecount(x)
#define __inout_bcount_opt(x)
#define __inout_ecount_opt(x)
#define __out_bcount_full(x)
#define __out_ecount_full(x)
#define __drv_maxFunctionIRQL(x)
#define __drv_minFunctionIRQL(x)
#define __drv_floatUsed
#define __drv_floatSaved
#define __drv_floatRestored
#define _Outptr_result_bytebuffer_maybenull_(x)
#define _Outptr_opt_result_bytebuffer_(x)
#define _Outptr_opt_result_buffer_(x)
#define _Outptr_result_buffer_maybenull_(x)
#define _Outptr_result_bytebuffer_all_(x)
#define _Outptr_opt_result_bytebuffer_all_(x)
#define _In_reads_or_z_(x)
#define _In_reads_or_z_opt_(x)
#define _In_reads_opt_z_(x)
#define _Out_writes_opt_z_(x)
#define _Out_writes_bytes_all_opt_(x)
#define _Out_writes_all_opt_(x)
#define _Inout_updates_z_(x)
#define _Inout_updates_opt_z_(x)
#define _Inout_updates_all_(x)
#define _Inout_updates_all_opt_(x)
#define _Inout_updates_bytes_all_(x)
#define _Inout_updates_bytes_all_opt_(x)
#define _Field_size_full_(x)
#define _Field_size_bytes_full_(x)
#define _Field_size_full_opt_(x)
#define _Field_size_bytes_full_opt_(x)
#define _Struct_size_bytes_(x)
#define _Ret_writes_bytes_to_(x)
#define _Pre_equal_to_(x)
#define _Pre_readable_size_(x)
#define _Pre_writable_size_(x)
#define _Pre_readable_byte_size_(x)
#define _Pre_writable_byte_size_(x)
#define _Deref_pre_readonly_(x)
#define _Deref_in_range_(x)
#define _Deref_inout_range_(x)
#define _Deref_post_bytecap_(x)
#define _Deref_post_cap_(x)
#define _Deref_post_count_(x)
#define _Deref_post_bytecount_(x)
#define _Deref_pre_bytecap_(x)
#define _Deref_pre_cap_(x)
#define _In_reads_to_ptr_(x)
#define _Out_writes_to_ptr_(x)
#define _Out_writes_to_ptr_z_(x)
#define _Outptr_result_buffer_all_(x)
#define _Outptr_result_buffer_all_maybenull_(x)
#define _Write_guarded_by_(x)
#define _Satisfies_(x)
#define _Inexpressible_(x)
#define __drv_acquiresExclusiveResource(x)
#define __drv_releasesExclusiveResource(x)
#define __drv_acquiresResourceGlobal(x)
#define __drv_releasesResourceGlobal(x)
#define __drv_neverHoldGlobal(x)
#define __drv_IoGetDmaAdapter(x)
#define __drv_constant(x)
#define __drv_interlocked(x)
#define __deref_out_bcount(x)
#define __deref_out_ecount(x)
#define _Inout_updates_to_(a, b)
#define _Inout_updates_bytes_to_opt_(a, b)
#define _Inout_updates_to_opt_(a, b)
#define _Outptr_result_buffer_to_(a, b)
#define _Outptr_result_bytebuffer_to_(a, b)
#define _Outptr_opt_result_buffer_to_(a, b)
#define _Outptr_opt_result_bytebuffer_to_(a, b)
#define _Ret_writes_to_(a, b)
#define _Field_size_part_opt_(a, b)
#define __in_range(a, b)
#define __out_range(a, b)

#endif /* FLTSIM_SAL_H */
