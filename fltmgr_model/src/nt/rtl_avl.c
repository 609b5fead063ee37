/*
 * Generic tables over AVL trees (RTL_AVL_TABLE): RtlInitializeGenericTableAvl
 * and the Insert(Full), Lookup(Full), Delete(Ex), Enumerate (restartable,
 * WithoutSplaying, LikeADirectory), LookupFirstMatching, GetElement, Number
 * and IsEmpty routines, which RTL_USE_AVL_TABLES also maps the generic names
 * onto. A real height-balanced tree in the WDK's layout: BalancedRoot is a
 * sentinel whose RightChild is the root, each element starts with its
 * RTL_BALANCED_LINKS (Balance -1, 0, +1) and the caller's data follows them,
 * so every search, insert and delete is O(log n). The caller's routines are
 * called as Windows calls them.
 */
#include <string.h>

#include "nt_internal.h"

struct avl_element {
    RTL_BALANCED_LINKS links;
    LONGLONG user; /* the caller's data starts here */
};

#define AVL_HEADER offsetof(struct avl_element, user)
_Static_assert(AVL_HEADER == sizeof(RTL_BALANCED_LINKS),
               "Learn: callers must not touch the first sizeof(RTL_BALANCED_LINKS) bytes");

typedef PRTL_BALANCED_LINKS node_t;

static PVOID user_of(node_t n)
{
    return n != NULL ? &CONTAINING_RECORD(n, struct avl_element, links)->user : NULL;
}

static node_t root_of(PRTL_AVL_TABLE T)
{
    return T->BalancedRoot.RightChild;
}

static bool table_ok(PRTL_AVL_TABLE T, const char *api)
{
    if (T == NULL || T->BalancedRoot.Parent != &T->BalancedRoot || T->CompareRoutine == NULL) {
        fltsim__rtl_report("%s on an AVL table RtlInitializeGenericTableAvl never initialized "
                           "(%p); nothing done",
                           api, (void *)T);
        return false;
    }
    return true;
}

static RTL_GENERIC_COMPARE_RESULTS compare(PRTL_AVL_TABLE T, PVOID buffer, node_t n)
{
    RTL_GENERIC_COMPARE_RESULTS r = T->CompareRoutine(T, buffer, user_of(n));
    return fltsim__rtl_check_compare(r, "the AVL table's CompareRoutine");
}

/* ---- tree shape ---- */

/* In parent (the sentinel included), old's link becomes new. */
static void set_child(node_t parent, node_t old, node_t new_child)
{
    if (parent->LeftChild == old)
        parent->LeftChild = new_child;
    else
        parent->RightChild = new_child;
}

static void rotate_left(node_t x)
{
    node_t y = x->RightChild;
    x->RightChild = y->LeftChild;
    if (y->LeftChild != NULL)
        y->LeftChild->Parent = x;
    y->Parent = x->Parent;
    set_child(x->Parent, x, y);
    y->LeftChild = x;
    x->Parent = y;
}

static void rotate_right(node_t x)
{
    node_t y = x->LeftChild;
    x->LeftChild = y->RightChild;
    if (y->RightChild != NULL)
        y->RightChild->Parent = x;
    y->Parent = x->Parent;
    set_child(x->Parent, x, y);
    y->RightChild = x;
    x->Parent = y;
}

/* n's balance is +2 or -2: one or two rotations; returns the subtree's new
 * top. *shorter tells whether the subtree lost height (never on insert). */
static node_t rebalance(node_t n, bool *shorter)
{
    int dir = n->Balance > 0 ? 1 : -1; /* the heavy side */
    node_t heavy = dir > 0 ? n->RightChild : n->LeftChild;
    if (heavy->Balance == -dir) {
        /* double rotation: the inner grandchild rises */
        node_t g = dir > 0 ? heavy->LeftChild : heavy->RightChild;
        if (dir > 0) {
            rotate_right(heavy);
            rotate_left(n);
        } else {
            rotate_left(heavy);
            rotate_right(n);
        }
        n->Balance = (CHAR)(g->Balance == dir ? -dir : 0);
        heavy->Balance = (CHAR)(g->Balance == -dir ? dir : 0);
        g->Balance = 0;
        *shorter = true;
        return g;
    }
    if (dir > 0)
        rotate_left(n);
    else
        rotate_right(n);
    if (heavy->Balance == 0) { /* only after a delete */
        n->Balance = (CHAR)dir;
        heavy->Balance = (CHAR)-dir;
        *shorter = false;
    } else {
        n->Balance = 0;
        heavy->Balance = 0;
        *shorter = true;
    }
    return heavy;
}

static void insert_fixup(PRTL_AVL_TABLE T, node_t n)
{
    node_t sentinel = &T->BalancedRoot;
    node_t child = n;
    for (node_t p = n->Parent; p != sentinel; child = p, p = p->Parent) {
        p->Balance = (CHAR)(p->Balance + (child == p->LeftChild ? -1 : 1));
        if (p->Balance == 0)
            return; /* the subtree kept its height */
        if (p->Balance == 2 || p->Balance == -2) {
            bool shorter;
            rebalance(p, &shorter); /* back to the height before the insert */
            return;
        }
    }
}

/* A subtree of p (its left one when left) lost one level. */
static void delete_fixup(PRTL_AVL_TABLE T, node_t p, bool left)
{
    node_t sentinel = &T->BalancedRoot;
    while (p != sentinel) {
        p->Balance = (CHAR)(p->Balance + (left ? 1 : -1));
        if (p->Balance == 1 || p->Balance == -1)
            return; /* its height did not change */
        node_t top = p;
        if (p->Balance != 0) {
            bool shorter;
            top = rebalance(p, &shorter);
            if (!shorter)
                return;
        }
        node_t parent = top->Parent;
        left = parent != sentinel && parent->LeftChild == top;
        p = parent;
    }
}

static node_t leftmost(node_t n)
{
    while (n != NULL && n->LeftChild != NULL)
        n = n->LeftChild;
    return n;
}

static node_t rightmost(node_t n)
{
    while (n != NULL && n->RightChild != NULL)
        n = n->RightChild;
    return n;
}

static node_t successor(PRTL_AVL_TABLE T, node_t n)
{
    if (n->RightChild != NULL)
        return leftmost(n->RightChild);
    node_t p = n->Parent;
    while (p != &T->BalancedRoot && p->RightChild == n) {
        n = p;
        p = p->Parent;
    }
    return p == &T->BalancedRoot ? NULL : p;
}

static node_t predecessor(PRTL_AVL_TABLE T, node_t n)
{
    if (n->LeftChild != NULL)
        return rightmost(n->LeftChild);
    node_t p = n->Parent;
    while (p != &T->BalancedRoot && p->LeftChild == n) {
        n = p;
        p = p->Parent;
    }
    return p == &T->BalancedRoot ? NULL : p;
}

/* The tree's height, following the taller side down. */
static void update_depth(PRTL_AVL_TABLE T)
{
    ULONG depth = 0;
    for (node_t n = root_of(T); n != NULL; depth++)
        n = n->Balance > 0 ? n->RightChild : (n->LeftChild != NULL ? n->LeftChild : n->RightChild);
    T->DepthOfTree = depth;
}

/* Indices move under an insert or a delete: forget the cached position. */
static void forget_position(PRTL_AVL_TABLE T)
{
    T->OrderedPointer = NULL;
    T->WhichOrderedElement = 0;
}

static TABLE_SEARCH_RESULT find(PRTL_AVL_TABLE T, PVOID Buffer, node_t *where)
{
    node_t n = root_of(T);
    *where = NULL;
    if (n == NULL)
        return TableEmptyTree;
    for (;;) {
        RTL_GENERIC_COMPARE_RESULTS r = compare(T, Buffer, n);
        *where = n;
        if (r == GenericEqual)
            return TableFoundNode;
        node_t next = r == GenericLessThan ? n->LeftChild : n->RightChild;
        if (next == NULL)
            return r == GenericLessThan ? TableInsertAsLeft : TableInsertAsRight;
        n = next;
    }
}

/* ---- the routines ---- */

VOID RtlInitializeGenericTableAvl(PRTL_AVL_TABLE Table, PRTL_AVL_COMPARE_ROUTINE CompareRoutine,
                                  PRTL_AVL_ALLOCATE_ROUTINE AllocateRoutine,
                                  PRTL_AVL_FREE_ROUTINE FreeRoutine, PVOID TableContext)
{
    if (Table == NULL) {
        fltsim__rtl_report("RtlInitializeGenericTableAvl(NULL); nothing done");
        return;
    }
    if (CompareRoutine == NULL || AllocateRoutine == NULL || FreeRoutine == NULL)
        fltsim__rtl_report("RtlInitializeGenericTableAvl: the compare, allocate and free routines "
                           "are all required (%s missing); the table will refuse to work",
                           CompareRoutine == NULL    ? "CompareRoutine"
                           : AllocateRoutine == NULL ? "AllocateRoutine"
                                                     : "FreeRoutine");
    memset(Table, 0, sizeof(*Table));
    Table->BalancedRoot.Parent = &Table->BalancedRoot;
    Table->CompareRoutine = CompareRoutine;
    Table->AllocateRoutine = AllocateRoutine;
    Table->FreeRoutine = FreeRoutine;
    Table->TableContext = TableContext;
}

static PVOID insert_at(PRTL_AVL_TABLE T, PVOID Buffer, CLONG BufferSize, PBOOLEAN NewElement,
                       node_t where, TABLE_SEARCH_RESULT result, const char *api)
{
    if (NewElement != NULL)
        *NewElement = FALSE;
    if (result == TableFoundNode)
        return user_of(where);
    if (T->AllocateRoutine == NULL || T->FreeRoutine == NULL) {
        fltsim__rtl_report("%s: the table has no allocate or free routine; NULL returned", api);
        return NULL;
    }
    if (BufferSize > (CLONG)-1 - AVL_HEADER)
        return NULL;
    struct avl_element *e = T->AllocateRoutine(T, (CLONG)(AVL_HEADER + BufferSize));
    if (e == NULL)
        return NULL;
    node_t n = &e->links;
    memset(n, 0, sizeof(*n));
    if (result == TableEmptyTree || where == NULL) {
        n->Parent = &T->BalancedRoot;
        T->BalancedRoot.RightChild = n;
    } else {
        n->Parent = where;
        if (result == TableInsertAsLeft)
            where->LeftChild = n;
        else
            where->RightChild = n;
    }
    if (BufferSize > 0)
        memcpy(&e->user, Buffer, BufferSize);
    insert_fixup(T, n);
    T->NumberGenericTableElements++;
    update_depth(T);
    forget_position(T);
    if (NewElement != NULL)
        *NewElement = TRUE;
    return &e->user;
}

PVOID RtlInsertElementGenericTableAvl(PRTL_AVL_TABLE Table, PVOID Buffer, CLONG BufferSize,
                                      PBOOLEAN NewElement)
{
    if (!table_ok(Table, "RtlInsertElementGenericTableAvl")) {
        if (NewElement != NULL)
            *NewElement = FALSE;
        return NULL;
    }
    node_t where;
    TABLE_SEARCH_RESULT result = find(Table, Buffer, &where);
    return insert_at(Table, Buffer, BufferSize, NewElement, where, result,
                     "RtlInsertElementGenericTableAvl");
}

PVOID RtlInsertElementGenericTableFullAvl(PRTL_AVL_TABLE Table, PVOID Buffer, CLONG BufferSize,
                                          PBOOLEAN NewElement, PVOID NodeOrParent,
                                          TABLE_SEARCH_RESULT SearchResult)
{
    const char *api = "RtlInsertElementGenericTableFullAvl";
    if (!table_ok(Table, api)) {
        if (NewElement != NULL)
            *NewElement = FALSE;
        return NULL;
    }
    if (SearchResult == TableEmptyTree ? root_of(Table) != NULL : NodeOrParent == NULL) {
        /* A search result that no longer fits the tree: searched again. */
        fltsim__rtl_report("%s: NodeOrParent %p and search result %d do not fit the table (%s); "
                           "fltsim searches again",
                           api, NodeOrParent, (int)SearchResult,
                           root_of(Table) != NULL ? "not empty" : "empty");
        node_t where;
        SearchResult = find(Table, Buffer, &where);
        NodeOrParent = where;
    }
    return insert_at(Table, Buffer, BufferSize, NewElement, NodeOrParent, SearchResult, api);
}

PVOID RtlLookupElementGenericTableAvl(PRTL_AVL_TABLE Table, PVOID Buffer)
{
    if (!table_ok(Table, "RtlLookupElementGenericTableAvl"))
        return NULL;
    node_t where;
    return find(Table, Buffer, &where) == TableFoundNode ? user_of(where) : NULL;
}

PVOID RtlLookupElementGenericTableFullAvl(PRTL_AVL_TABLE Table, PVOID Buffer, PVOID *NodeOrParent,
                                          TABLE_SEARCH_RESULT *SearchResult)
{
    if (!table_ok(Table, "RtlLookupElementGenericTableFullAvl"))
        return NULL;
    node_t where;
    TABLE_SEARCH_RESULT result = find(Table, Buffer, &where);
    if (SearchResult != NULL)
        *SearchResult = result;
    /* An empty tree leaves NodeOrParent as it was (Learn). */
    if (result != TableEmptyTree && NodeOrParent != NULL)
        *NodeOrParent = where;
    return result == TableFoundNode ? user_of(where) : NULL;
}

static void delete_node(PRTL_AVL_TABLE T, node_t z)
{
    /* An enumeration standing on z goes on from its predecessor. */
    if (T->RestartKey == z)
        T->RestartKey = predecessor(T, z);
    if (z->LeftChild != NULL && z->RightChild != NULL) {
        /* Two children: z trades places (links and balance) with its
         * successor y, which has no left child; the elements stay where the
         * caller's pointers expect them. */
        node_t y = leftmost(z->RightChild);
        node_t zp = z->Parent, zl = z->LeftChild, zr = z->RightChild, yp = y->Parent;
        node_t yr = y->RightChild;
        CHAR zb = z->Balance;
        set_child(zp, z, y);
        y->Parent = zp;
        y->LeftChild = zl;
        zl->Parent = y;
        if (yp == z) {
            y->RightChild = z;
            z->Parent = y;
        } else {
            y->RightChild = zr;
            zr->Parent = y;
            set_child(yp, y, z);
            z->Parent = yp;
        }
        z->LeftChild = NULL;
        z->RightChild = yr;
        if (yr != NULL)
            yr->Parent = z;
        z->Balance = y->Balance;
        y->Balance = zb;
    }
    node_t child = z->LeftChild != NULL ? z->LeftChild : z->RightChild;
    node_t p = z->Parent;
    bool left = p != &T->BalancedRoot && p->LeftChild == z;
    set_child(p, z, child);
    if (child != NULL)
        child->Parent = p;
    delete_fixup(T, p, left);
    T->NumberGenericTableElements--;
    T->DeleteCount++;
    update_depth(T);
    forget_position(T);
    if (T->FreeRoutine != NULL)
        T->FreeRoutine(T, CONTAINING_RECORD(z, struct avl_element, links));
}

BOOLEAN RtlDeleteElementGenericTableAvl(PRTL_AVL_TABLE Table, PVOID Buffer)
{
    if (!table_ok(Table, "RtlDeleteElementGenericTableAvl"))
        return FALSE;
    node_t n;
    if (find(Table, Buffer, &n) != TableFoundNode)
        return FALSE;
    delete_node(Table, n);
    return TRUE;
}

VOID RtlDeleteElementGenericTableAvlEx(PRTL_AVL_TABLE Table, PVOID NodeOrParent)
{
    const char *api = "RtlDeleteElementGenericTableAvlEx";
    if (!table_ok(Table, api))
        return;
    if (NodeOrParent == NULL || root_of(Table) == NULL) {
        fltsim__rtl_report("%s: no node to delete (NodeOrParent %p, %s table); ignored", api,
                           NodeOrParent, root_of(Table) == NULL ? "empty" : "non-empty");
        return;
    }
    delete_node(Table, NodeOrParent);
}

PVOID RtlEnumerateGenericTableWithoutSplayingAvl(PRTL_AVL_TABLE Table, PVOID *RestartKey)
{
    if (!table_ok(Table, "RtlEnumerateGenericTableWithoutSplayingAvl") || RestartKey == NULL ||
        root_of(Table) == NULL)
        return NULL;
    node_t n = *RestartKey == NULL ? leftmost(root_of(Table)) : successor(Table, *RestartKey);
    if (n != NULL)
        *RestartKey = n;
    return user_of(n);
}

/* The table's own RestartKey carries the enumeration from call to call. */
PVOID RtlEnumerateGenericTableAvl(PRTL_AVL_TABLE Table, BOOLEAN Restart)
{
    if (!table_ok(Table, "RtlEnumerateGenericTableAvl"))
        return NULL;
    PVOID key = Restart ? NULL : Table->RestartKey;
    PVOID user = RtlEnumerateGenericTableWithoutSplayingAvl(Table, &key);
    Table->RestartKey = key;
    return user;
}

/* The left-most element the compare routine finds equal to Buffer. */
PVOID RtlLookupFirstMatchingElementGenericTableAvl(PRTL_AVL_TABLE Table, PVOID Buffer,
                                                   PVOID *RestartKey)
{
    if (!table_ok(Table, "RtlLookupFirstMatchingElementGenericTableAvl"))
        return NULL;
    node_t match = NULL;
    for (node_t n = root_of(Table); n != NULL;) {
        RTL_GENERIC_COMPARE_RESULTS r = compare(Table, Buffer, n);
        if (r == GenericEqual)
            match = n;
        n = r == GenericGreaterThan ? n->RightChild : n->LeftChild;
    }
    if (RestartKey != NULL)
        *RestartKey = match;
    return user_of(match);
}

/* Where a directory-style enumeration starts or resumes: from RestartKey
 * while no element was deleted since it was handed out, otherwise from the
 * entry Buffer names (or the first one after it when it is gone). */
static node_t directory_start(PRTL_AVL_TABLE T, ULONG NextFlag, PVOID *RestartKey,
                              PULONG DeleteCount, PVOID Buffer)
{
    if (*RestartKey != NULL && *DeleteCount == T->DeleteCount)
        return NextFlag ? successor(T, *RestartKey) : *RestartKey;
    node_t where;
    TABLE_SEARCH_RESULT result = find(T, Buffer, &where);
    switch (result) {
    case TableFoundNode:
        return NextFlag ? successor(T, where) : where;
    case TableInsertAsLeft:
        return where;
    case TableInsertAsRight:
        return successor(T, where);
    default:
        return NULL;
    }
}

PVOID RtlEnumerateGenericTableLikeADirectory(PRTL_AVL_TABLE Table,
                                             PRTL_AVL_MATCH_FUNCTION MatchFunction, PVOID MatchData,
                                             ULONG NextFlag, PVOID *RestartKey, PULONG DeleteCount,
                                             PVOID Buffer)
{
    const char *api = "RtlEnumerateGenericTableLikeADirectory";
    if (!table_ok(Table, api))
        return NULL;
    if (RestartKey == NULL || DeleteCount == NULL) {
        fltsim__rtl_report("%s: RestartKey and DeleteCount are required; NULL returned", api);
        return NULL;
    }
    node_t n = root_of(Table) != NULL
                   ? directory_start(Table, NextFlag, RestartKey, DeleteCount, Buffer)
                   : NULL;
    /* The match function returns STATUS_SUCCESS for an entry to return,
     * STATUS_NO_MATCH to skip one, anything else to end the enumeration. */
    for (; n != NULL; n = successor(Table, n)) {
        NTSTATUS status =
            MatchFunction != NULL ? MatchFunction(Table, user_of(n), MatchData) : STATUS_SUCCESS;
        if (status == STATUS_NO_MATCH)
            continue;
        if (status != STATUS_SUCCESS)
            n = NULL;
        break;
    }
    *RestartKey = n;
    *DeleteCount = Table->DeleteCount;
    return user_of(n);
}

/* The Ith element in collation order (an AVL table keeps no insertion order
 * to count in; Learn's wording is the splay table's), walked to from the
 * nearest of the first, the last and the element asked for last. */
PVOID RtlGetElementGenericTableAvl(PRTL_AVL_TABLE Table, ULONG I)
{
    if (!table_ok(Table, "RtlGetElementGenericTableAvl"))
        return NULL;
    ULONG count = Table->NumberGenericTableElements;
    if (I >= count)
        return NULL;
    ULONG want = I + 1; /* WhichOrderedElement counts from 1 */
    ULONG at = Table->WhichOrderedElement;
    node_t n = Table->OrderedPointer;
    ULONG from_here = (n == NULL || at == 0) ? (ULONG)-1 : (want > at ? want - at : at - want);
    if (want - 1 < from_here) {
        n = leftmost(root_of(Table));
        at = 1;
        from_here = want - 1;
    }
    if (count - want < from_here) {
        n = rightmost(root_of(Table));
        at = count;
    }
    for (; at < want; at++)
        n = successor(Table, n);
    for (; at > want; at--)
        n = predecessor(Table, n);
    Table->OrderedPointer = n;
    Table->WhichOrderedElement = want;
    return user_of(n);
}

ULONG RtlNumberGenericTableElementsAvl(PRTL_AVL_TABLE Table)
{
    return Table != NULL ? Table->NumberGenericTableElements : 0;
}

BOOLEAN RtlIsGenericTableEmptyAvl(PRTL_AVL_TABLE Table)
{
    return Table == NULL || Table->BalancedRoot.RightChild == NULL;
}
