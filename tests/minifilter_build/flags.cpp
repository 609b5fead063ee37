/*
 * fltsim_add_minifilter(... CXX): the C++ flags a kernel filter is built
 * with, checked by the compiler. (It includes no WDK header: making those
 * C++-clean is another piece of work.)
 */
static_assert(__cplusplus == 201703L, "-std=gnu++17");
#if defined(__STRICT_ANSI__)
#error "-std=c++17 instead of gnu++17"
#endif
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#error "exceptions are on; expected -fno-exceptions"
#endif
#if defined(__cpp_rtti) || defined(__GXX_RTTI)
#error "RTTI is on; expected -fno-rtti"
#endif
static_assert(sizeof(wchar_t) == 2 && sizeof(L"ab") == 6, "-fshort-wchar");

extern "C" int FltsimCxxFlagsChecked(void);
extern "C" int FltsimCxxFlagsChecked(void)
{
    return 1;
}
