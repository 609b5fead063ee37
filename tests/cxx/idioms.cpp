/*
 * Private to test_cxx: the WDK surface used from C++ the way kernel C++ code
 * uses it, compiled with fltsim_add_minifilter's C++ flags: a flags
 * enumeration with DEFINE_ENUM_FLAG_OPERATORS, structured exception handling
 * (__try/__except/__finally/__leave) around objects with destructors, and the
 * WDK macros that build strings, lists and object attributes. The functions
 * have C linkage; test_cxx.c calls them and checks what they return.
 */
#include <fltKernel.h>

#include "layout.h"

/* ---- DEFINE_ENUM_FLAG_OPERATORS ---- */

enum CXX_TEST_FLAGS : ULONG { CxxFlagNone = 0, CxxFlagA = 0x1, CxxFlagB = 0x2, CxxFlagC = 0x80 };
DEFINE_ENUM_FLAG_OPERATORS(CXX_TEST_FLAGS)

/* The operators are constexpr where the WDK's are: usable in constant
 * expressions. */
static_assert((CxxFlagA | CxxFlagB) == CXX_TEST_FLAGS(0x3), "operator|");
static_assert((CXX_TEST_FLAGS(0x83) & CxxFlagC) == CxxFlagC, "operator&");
static_assert((CxxFlagA ^ CXX_TEST_FLAGS(0x3)) == CxxFlagB, "operator^");
static_assert((~CxxFlagA & CXX_TEST_FLAGS(0xFF)) == CXX_TEST_FLAGS(0xFE), "operator~");

unsigned long long cxx_enum_flag_results(unsigned first, unsigned second)
{
    CXX_TEST_FLAGS a = CXX_TEST_FLAGS(first), b = CXX_TEST_FLAGS(second);
    CXX_TEST_FLAGS or_assigned = a, and_assigned = a, xor_assigned = a;
    or_assigned |= b;
    and_assigned &= b;
    xor_assigned ^= b;
    /* A flags enumeration in a WDK structure field and FlagOn/SetFlag/ClearFlag. */
    CXX_TEST_FLAGS set = CxxFlagNone;
    SetFlag(set, CxxFlagC);
    ClearFlag(set, CxxFlagNone);
    unsigned long long bytes[] = {(ULONG)(a | b),      (ULONG)(a & b),
                                  (ULONG)(a ^ b),      (ULONG)(~a) & 0xFF,
                                  (ULONG)or_assigned,  (ULONG)and_assigned,
                                  (ULONG)xor_assigned, (ULONG)(FlagOn(set, CxxFlagC) ? 1 : 0)};
    unsigned long long packed = 0;
    for (int i = 0; i < 8; i++)
        packed |= (bytes[i] & 0xFF) << (8 * i);
    return packed;
}

/* ---- structured exception handling ---- */

/* excpt.h maps the old spellings (try, except, finally, leave) in C only, as
 * the WDK does: in C++ they are the language's keywords, or plain names. */
#if defined(try) || defined(except) || defined(finally) || defined(leave)
#error "excpt.h's lowercase SEH spellings are defined in C++"
#endif

namespace
{

/* Appends words to a caller's buffer. */
class Log
{
  public:
    Log(char *buffer, size_t size) : Buffer(buffer), Size(size)
    {
        if (Size != 0)
            Buffer[0] = '\0';
    }
    void Add(const char *word)
    {
        size_t used = strlen(Buffer);
        size_t need = strlen(word) + (used != 0 ? 1 : 0);
        if (used + need + 1 > Size)
            return;
        if (used != 0)
            Buffer[used++] = ' ';
        memcpy(Buffer + used, word, strlen(word) + 1);
    }

  private:
    char *Buffer;
    size_t Size;
};

/* An object whose destructor says it ran. */
class Noisy
{
  public:
    Noisy(Log &log, const char *name) : Out(log), Name(name)
    {
    }
    Noisy(const Noisy &) = delete;
    Noisy &operator=(const Noisy &) = delete;
    ~Noisy()
    {
        Out.Add(Name);
    }

  private:
    Log &Out;
    const char *Name;
};

/* Through a pointer, so that the raise is in a frame of its own. */
__attribute__((noinline)) void RaiseIn(long code)
{
    ExRaiseStatus((NTSTATUS)code);
}
void (*volatile RaiseInCallee)(long) = RaiseIn;

int Filter(Log &log, NTSTATUS code, NTSTATUS *seen)
{
    log.Add("filter");
    *seen = code;
    return EXCEPTION_EXECUTE_HANDLER;
}

} // namespace

long cxx_seh_run(int how, long code, char *log_buffer, size_t log_size)
{
    Log log(log_buffer, log_size);
    NTSTATUS seen = 0;
    {
        Noisy outer(log, "~outer");
        __try {
            __try {
                /* The destructor runs when the block is left normally or by
                 * __leave (C++ scope rules); an exception unwinds past it
                 * without running it, as on Windows, where C++ objects in a
                 * frame SEH unwinds are not destroyed without /EHa. */
                Noisy inner(log, "~inner");
                log.Add("body");
                if (how == 1)
                    __leave;
                if (how == 2)
                    RaiseInCallee(code);
                if (how == 3)
                    ProbeForWrite(NULL, 1, 1);
                log.Add("end");
            } __finally {
                log.Add(AbnormalTermination() ? "finally-abnormal" : "finally");
            }
        } __except (Filter(log, GetExceptionCode(), &seen)) {
            log.Add("handler");
        }
        log.Add("after");
    }
    return seen;
}

/* ---- the macro surface ---- */

namespace
{

struct Item {
    ULONG Value;
    LIST_ENTRY Links;
};

DECLARE_CONST_UNICODE_STRING(ConstName, L"\\Registry\\Machine");

} // namespace

int cxx_macros_hold(int *total)
{
    int held = 0, count = 0;
    auto check = [&](bool condition) {
        count++;
        if (condition)
            held++;
    };

    UNICODE_STRING wide = RTL_CONSTANT_STRING(L"abc");
    STRING narrow = RTL_CONSTANT_STRING("hello");
    static const UNICODE_STRING StaticWide = RTL_CONSTANT_STRING(L"\\Device");
    check(wide.Length == 6 && wide.MaximumLength == 8 && wide.Buffer[2] == L'c');
    check(narrow.Length == 5 && narrow.MaximumLength == 6 && narrow.Buffer[0] == 'h');
    check(StaticWide.Length == 14 && ConstName.Length == 34);

    UNICODE_STRING upper = RTL_CONSTANT_STRING(L"ABC");
    check(RtlCompareUnicodeString(&wide, &upper, TRUE) == 0);
    check(RtlEqualUnicodeString(&wide, &upper, FALSE) == FALSE);

    WCHAR buffer[16];
    UNICODE_STRING built;
    RtlInitEmptyUnicodeString(&built, buffer, sizeof(buffer));
    check(NT_SUCCESS(RtlAppendUnicodeToString(&built, L"x:")) &&
          NT_SUCCESS(RtlAppendUnicodeStringToString(&built, &wide)) && built.Length == 10);

    OBJECT_ATTRIBUTES attributes;
    InitializeObjectAttributes(&attributes, &wide, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL,
                               NULL);
    check(attributes.Length == sizeof(attributes) && attributes.ObjectName == &wide &&
          FlagOn(attributes.Attributes, OBJ_KERNEL_HANDLE));

    LIST_ENTRY head;
    Item items[3] = {{1, {}}, {2, {}}, {3, {}}};
    InitializeListHead(&head);
    for (Item &item : items)
        InsertTailList(&head, &item.Links);
    ULONG sum = 0;
    for (PLIST_ENTRY entry = head.Flink; entry != &head; entry = entry->Flink)
        sum = sum * 10 + CONTAINING_RECORD(entry, Item, Links)->Value;
    check(sum == 123);
    check(CONTAINING_RECORD(RemoveHeadList(&head), Item, Links)->Value == 1 && !IsListEmpty(&head));

    UCHAR bytes[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    check(*(PUCHAR)Add2Ptr(bytes, 5) == 5 && PtrOffset(bytes, &bytes[6]) == 6);

    ULONG flags = 0;
    SetFlag(flags, FLTFL_POST_OPERATION_DRAINING);
    check(FlagOn(flags, FLTFL_POST_OPERATION_DRAINING) && BooleanFlagOn(flags, 1) == TRUE);
    ClearFlag(flags, FLTFL_POST_OPERATION_DRAINING);
    check(flags == 0);

    check(ARRAYSIZE(items) == 3 && RTL_FIELD_SIZE(Item, Links) == sizeof(LIST_ENTRY) &&
          NT_SUCCESS(STATUS_SUCCESS) && !NT_SUCCESS(STATUS_ACCESS_DENIED) &&
          NT_ERROR(STATUS_ACCESS_DENIED));

    *total = count;
    return held;
}
