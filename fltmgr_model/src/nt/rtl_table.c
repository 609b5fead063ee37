/*
 * Generic tables over splay trees (RTL_GENERIC_TABLE): RtlInitializeGenericTable
 * and the Insert(Full), Lookup(Full), Delete, Enumerate(WithoutSplaying),
 * GetElement, Number and IsEmpty routines. Each element is one block from the
 * caller's allocate routine: the RTL_SPLAY_LINKS and the insert-order
 * LIST_ENTRY first (the 40 bytes Learn tells callers not to touch), the
 * caller's data after them, and the caller's compare routine is called with
 * (Table, key buffer, element data) as Windows calls it. GetElement counts in
 * insertion order, as documented. The AVL package is rtl_avl.c's; both report
 * misuse through fltsim__rtl_report, defined here.
 */
#include <string.h>

#include "nt_internal.h"

void fltsim__rtl_report(const char *fmt, ...)
{
    char message[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    fltsim__ke_report("RTL", "-", "%s", message);
}

RTL_GENERIC_COMPARE_RESULTS fltsim__rtl_check_compare(RTL_GENERIC_COMPARE_RESULTS r,
                                                      const char *who)
{
    if (r == GenericLessThan || r == GenericGreaterThan || r == GenericEqual)
        return r;
    fltsim__rtl_report("%s returned %d, which is not an RTL_GENERIC_COMPARE_RESULTS value; "
                       "taken as GenericGreaterThan",
                       who, (int)r);
    return GenericGreaterThan;
}

/* An element as the allocate routine's block holds it. */
struct splay_element {
    RTL_SPLAY_LINKS links; /* a root's Parent is itself, as with RtlInitializeSplayLinks */
    LIST_ENTRY order;      /* Table->InsertOrderList */
    LONGLONG user;         /* the caller's data starts here */
};

#define SPLAY_HEADER offsetof(struct splay_element, user)
_Static_assert(SPLAY_HEADER == sizeof(RTL_SPLAY_LINKS) + sizeof(LIST_ENTRY),
               "Learn: callers must not touch the first sizeof(RTL_SPLAY_LINKS) + "
               "sizeof(LIST_ENTRY) bytes");

static struct splay_element *element_of(PRTL_SPLAY_LINKS links)
{
    return CONTAINING_RECORD(links, struct splay_element, links);
}

static PVOID user_of(PRTL_SPLAY_LINKS links)
{
    return links != NULL ? &element_of(links)->user : NULL;
}

static bool is_root(PRTL_SPLAY_LINKS n)
{
    return n->Parent == n;
}

/* A table RtlInitializeGenericTable never set up (zeroed memory) has no
 * insert-order list. */
static bool table_ok(PRTL_GENERIC_TABLE Table, const char *api)
{
    if (Table == NULL || Table->InsertOrderList.Flink == NULL || Table->CompareRoutine == NULL) {
        fltsim__rtl_report("%s on a generic table RtlInitializeGenericTable never initialized "
                           "(%p); nothing done",
                           api, (void *)Table);
        return false;
    }
    return true;
}

static RTL_GENERIC_COMPARE_RESULTS compare(PRTL_GENERIC_TABLE Table, PVOID buffer,
                                           PRTL_SPLAY_LINKS n)
{
    RTL_GENERIC_COMPARE_RESULTS r = Table->CompareRoutine(Table, buffer, user_of(n));
    return fltsim__rtl_check_compare(r, "the generic table's CompareRoutine");
}

/* ---- splaying ---- */

/* Replaces child (a child of parent, or the root) by replacement in the tree. */
static void replace_child(PRTL_GENERIC_TABLE Table, PRTL_SPLAY_LINKS parent, PRTL_SPLAY_LINKS child,
                          PRTL_SPLAY_LINKS replacement)
{
    if (parent == child) { /* child was the root */
        Table->TableRoot = replacement;
        if (replacement != NULL)
            replacement->Parent = replacement;
        return;
    }
    if (parent->LeftChild == child)
        parent->LeftChild = replacement;
    else
        parent->RightChild = replacement;
    if (replacement != NULL)
        replacement->Parent = parent;
}

/* Rotates n above its parent. */
static void rotate_up(PRTL_GENERIC_TABLE Table, PRTL_SPLAY_LINKS n)
{
    PRTL_SPLAY_LINKS p = n->Parent;
    PRTL_SPLAY_LINKS g = p->Parent;
    if (p->LeftChild == n) {
        p->LeftChild = n->RightChild;
        if (n->RightChild != NULL)
            n->RightChild->Parent = p;
        n->RightChild = p;
    } else {
        p->RightChild = n->LeftChild;
        if (n->LeftChild != NULL)
            n->LeftChild->Parent = p;
        n->LeftChild = p;
    }
    replace_child(Table, g, p, n);
    p->Parent = n;
}

/* Makes n the root by splaying (zig, zig-zig, zig-zag): amortized O(log n). */
static void splay(PRTL_GENERIC_TABLE Table, PRTL_SPLAY_LINKS n)
{
    while (!is_root(n)) {
        PRTL_SPLAY_LINKS p = n->Parent;
        if (is_root(p)) {
            rotate_up(Table, n);
        } else if ((p->LeftChild == n) == (p->Parent->LeftChild == p)) {
            rotate_up(Table, p);
            rotate_up(Table, n);
        } else {
            rotate_up(Table, n);
            rotate_up(Table, n);
        }
    }
}

static PRTL_SPLAY_LINKS leftmost(PRTL_SPLAY_LINKS n)
{
    while (n != NULL && n->LeftChild != NULL)
        n = n->LeftChild;
    return n;
}

static PRTL_SPLAY_LINKS rightmost(PRTL_SPLAY_LINKS n)
{
    while (n != NULL && n->RightChild != NULL)
        n = n->RightChild;
    return n;
}

/* The next element in collation order, or NULL. */
static PRTL_SPLAY_LINKS successor(PRTL_SPLAY_LINKS n)
{
    if (n->RightChild != NULL)
        return leftmost(n->RightChild);
    while (!is_root(n) && n->Parent->RightChild == n)
        n = n->Parent;
    return is_root(n) ? NULL : n->Parent;
}

/* ---- search ---- */

/* Where Buffer is or would go: the node (TableFoundNode) or the parent of
 * the empty slot (TableInsertAsLeft/Right), NULL for an empty tree. */
static TABLE_SEARCH_RESULT find(PRTL_GENERIC_TABLE Table, PVOID Buffer, PRTL_SPLAY_LINKS *where)
{
    PRTL_SPLAY_LINKS n = Table->TableRoot;
    *where = NULL;
    if (n == NULL)
        return TableEmptyTree;
    for (;;) {
        RTL_GENERIC_COMPARE_RESULTS r = compare(Table, Buffer, n);
        *where = n;
        if (r == GenericEqual)
            return TableFoundNode;
        PRTL_SPLAY_LINKS next = r == GenericLessThan ? n->LeftChild : n->RightChild;
        if (next == NULL)
            return r == GenericLessThan ? TableInsertAsLeft : TableInsertAsRight;
        n = next;
    }
}

VOID RtlInitializeGenericTable(PRTL_GENERIC_TABLE Table,
                               PRTL_GENERIC_COMPARE_ROUTINE CompareRoutine,
                               PRTL_GENERIC_ALLOCATE_ROUTINE AllocateRoutine,
                               PRTL_GENERIC_FREE_ROUTINE FreeRoutine, PVOID TableContext)
{
    if (Table == NULL) {
        fltsim__rtl_report("RtlInitializeGenericTable(NULL); nothing done");
        return;
    }
    if (CompareRoutine == NULL || AllocateRoutine == NULL || FreeRoutine == NULL)
        fltsim__rtl_report("RtlInitializeGenericTable: the compare, allocate and free routines "
                           "are all required (%s missing); the table will refuse to work",
                           CompareRoutine == NULL    ? "CompareRoutine"
                           : AllocateRoutine == NULL ? "AllocateRoutine"
                                                     : "FreeRoutine");
    Table->TableRoot = NULL;
    InitializeListHead(&Table->InsertOrderList);
    Table->OrderedPointer = &Table->InsertOrderList;
    Table->WhichOrderedElement = 0;
    Table->NumberGenericTableElements = 0;
    Table->CompareRoutine = CompareRoutine;
    Table->AllocateRoutine = AllocateRoutine;
    Table->FreeRoutine = FreeRoutine;
    Table->TableContext = TableContext;
}

static PVOID insert_at(PRTL_GENERIC_TABLE Table, PVOID Buffer, CLONG BufferSize,
                       PBOOLEAN NewElement, PRTL_SPLAY_LINKS where, TABLE_SEARCH_RESULT result,
                       const char *api)
{
    if (NewElement != NULL)
        *NewElement = FALSE;
    if (result == TableFoundNode) {
        splay(Table, where);
        return user_of(where);
    }
    if (Table->AllocateRoutine == NULL || Table->FreeRoutine == NULL) {
        fltsim__rtl_report("%s: the table has no allocate or free routine; NULL returned", api);
        return NULL;
    }
    if (BufferSize > (CLONG)-1 - SPLAY_HEADER)
        return NULL;
    struct splay_element *e = Table->AllocateRoutine(Table, (CLONG)(SPLAY_HEADER + BufferSize));
    if (e == NULL)
        return NULL;
    PRTL_SPLAY_LINKS n = &e->links;
    n->LeftChild = n->RightChild = NULL;
    if (result == TableEmptyTree || where == NULL) {
        n->Parent = n;
        Table->TableRoot = n;
    } else {
        n->Parent = where;
        if (result == TableInsertAsLeft)
            where->LeftChild = n;
        else
            where->RightChild = n;
    }
    InsertTailList(&Table->InsertOrderList, &e->order);
    Table->NumberGenericTableElements++;
    if (BufferSize > 0)
        memcpy(&e->user, Buffer, BufferSize);
    splay(Table, n);
    if (NewElement != NULL)
        *NewElement = TRUE;
    return &e->user;
}

PVOID RtlInsertElementGenericTable(PRTL_GENERIC_TABLE Table, PVOID Buffer, CLONG BufferSize,
                                   PBOOLEAN NewElement)
{
    if (!table_ok(Table, "RtlInsertElementGenericTable")) {
        if (NewElement != NULL)
            *NewElement = FALSE;
        return NULL;
    }
    PRTL_SPLAY_LINKS where;
    TABLE_SEARCH_RESULT result = find(Table, Buffer, &where);
    return insert_at(Table, Buffer, BufferSize, NewElement, where, result,
                     "RtlInsertElementGenericTable");
}

PVOID RtlInsertElementGenericTableFull(PRTL_GENERIC_TABLE Table, PVOID Buffer, CLONG BufferSize,
                                       PBOOLEAN NewElement, PVOID NodeOrParent,
                                       TABLE_SEARCH_RESULT SearchResult)
{
    const char *api = "RtlInsertElementGenericTableFull";
    if (!table_ok(Table, api)) {
        if (NewElement != NULL)
            *NewElement = FALSE;
        return NULL;
    }
    if (SearchResult == TableEmptyTree ? Table->TableRoot != NULL : NodeOrParent == NULL) {
        /* A search result that no longer fits the tree: searched again. */
        fltsim__rtl_report("%s: NodeOrParent %p and search result %d do not fit the table (%s); "
                           "fltsim searches again",
                           api, NodeOrParent, (int)SearchResult,
                           Table->TableRoot != NULL ? "not empty" : "empty");
        PRTL_SPLAY_LINKS where;
        SearchResult = find(Table, Buffer, &where);
        NodeOrParent = where;
    }
    return insert_at(Table, Buffer, BufferSize, NewElement, NodeOrParent, SearchResult, api);
}

PVOID RtlLookupElementGenericTable(PRTL_GENERIC_TABLE Table, PVOID Buffer)
{
    if (!table_ok(Table, "RtlLookupElementGenericTable"))
        return NULL;
    PRTL_SPLAY_LINKS where;
    if (find(Table, Buffer, &where) != TableFoundNode)
        return NULL;
    splay(Table, where);
    return user_of(where);
}

/* Does not splay: NodeOrParent must stay valid for an InsertFull. */
PVOID RtlLookupElementGenericTableFull(PRTL_GENERIC_TABLE Table, PVOID Buffer, PVOID *NodeOrParent,
                                       TABLE_SEARCH_RESULT *SearchResult)
{
    if (!table_ok(Table, "RtlLookupElementGenericTableFull"))
        return NULL;
    PRTL_SPLAY_LINKS where;
    TABLE_SEARCH_RESULT result = find(Table, Buffer, &where);
    if (SearchResult != NULL)
        *SearchResult = result;
    if (result != TableEmptyTree && NodeOrParent != NULL)
        *NodeOrParent = where;
    return result == TableFoundNode ? user_of(where) : NULL;
}

BOOLEAN RtlDeleteElementGenericTable(PRTL_GENERIC_TABLE Table, PVOID Buffer)
{
    if (!table_ok(Table, "RtlDeleteElementGenericTable"))
        return FALSE;
    PRTL_SPLAY_LINKS n;
    if (find(Table, Buffer, &n) != TableFoundNode)
        return FALSE;
    /* Splay it up, then join its subtrees under the largest of the left. */
    splay(Table, n);
    PRTL_SPLAY_LINKS left = n->LeftChild, right = n->RightChild;
    if (left == NULL) {
        Table->TableRoot = right;
        if (right != NULL)
            right->Parent = right;
    } else {
        left->Parent = left;
        Table->TableRoot = left;
        PRTL_SPLAY_LINKS max = rightmost(left);
        splay(Table, max); /* max is now the root, with no right child */
        max->RightChild = right;
        if (right != NULL)
            right->Parent = max;
    }
    struct splay_element *e = element_of(n);
    RemoveEntryList(&e->order);
    Table->NumberGenericTableElements--;
    Table->OrderedPointer = &Table->InsertOrderList;
    Table->WhichOrderedElement = 0;
    if (Table->FreeRoutine != NULL)
        Table->FreeRoutine(Table, e);
    return TRUE;
}

/* The enumeration's place is the root: Restart splays the first element up,
 * each next call the root's successor. A lookup between two calls moves it,
 * as on Windows. */
PVOID RtlEnumerateGenericTable(PRTL_GENERIC_TABLE Table, BOOLEAN Restart)
{
    if (!table_ok(Table, "RtlEnumerateGenericTable") || Table->TableRoot == NULL)
        return NULL;
    PRTL_SPLAY_LINKS n =
        Restart ? leftmost(Table->TableRoot) : leftmost(Table->TableRoot->RightChild);
    if (n == NULL)
        return NULL;
    splay(Table, n);
    return user_of(n);
}

PVOID RtlEnumerateGenericTableWithoutSplaying(PRTL_GENERIC_TABLE Table, PVOID *RestartKey)
{
    if (!table_ok(Table, "RtlEnumerateGenericTableWithoutSplaying") || RestartKey == NULL ||
        Table->TableRoot == NULL)
        return NULL;
    PRTL_SPLAY_LINKS n =
        *RestartKey == NULL ? leftmost(Table->TableRoot) : successor((PRTL_SPLAY_LINKS)*RestartKey);
    if (n != NULL)
        *RestartKey = n;
    return user_of(n);
}

/* The Ith element inserted (Learn), walking the insert-order list from the
 * nearest of its head, its tail and the last element asked for. */
PVOID RtlGetElementGenericTable(PRTL_GENERIC_TABLE Table, ULONG I)
{
    if (!table_ok(Table, "RtlGetElementGenericTable"))
        return NULL;
    ULONG count = Table->NumberGenericTableElements;
    if (I >= count)
        return NULL;
    ULONG want = I + 1; /* WhichOrderedElement counts from 1; 0 is the list head */
    ULONG at = Table->WhichOrderedElement;
    PLIST_ENTRY p = Table->OrderedPointer;
    if (at > count || p == NULL) {
        at = 0;
        p = &Table->InsertOrderList;
    }
    ULONG from_here = want > at ? want - at : at - want;
    if (want < from_here) {
        at = 0;
        p = &Table->InsertOrderList;
    } else if (count + 1 - want < from_here) {
        at = count + 1;
        p = &Table->InsertOrderList;
    }
    for (; at < want; at++)
        p = p->Flink;
    for (; at > want; at--)
        p = p->Blink;
    Table->OrderedPointer = p;
    Table->WhichOrderedElement = want;
    return &CONTAINING_RECORD(p, struct splay_element, order)->user;
}

ULONG RtlNumberGenericTableElements(PRTL_GENERIC_TABLE Table)
{
    return Table != NULL ? Table->NumberGenericTableElements : 0;
}

BOOLEAN RtlIsGenericTableEmpty(PRTL_GENERIC_TABLE Table)
{
    return Table == NULL || Table->TableRoot == NULL;
}
