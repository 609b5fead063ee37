/*
 * crtdbg.h for fltsim's user-mode programs: the debug CRT's assertion
 * macros, as in a release build (they check nothing).
 */
#ifndef FLTSIM_CRTDBG_H
#define FLTSIM_CRTDBG_H

#define _ASSERT(expr) ((void)0)
#define _ASSERTE(expr) ((void)0)
#define _RPT0(rptno, msg) ((void)0)
#define _CrtSetDbgFlag(f) 0

#endif /* FLTSIM_CRTDBG_H */
