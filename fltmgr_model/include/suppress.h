/*
 * suppress.h for fltsim. The WDK's header gives names to static-analysis
 * (PREfast) warning numbers for '#pragma prefast(suppress: ...)' and
 * '#pragma warning(suppress: ...)'. gcc and clang ignore those pragmas
 * (fltsim builds filters with -Wno-unknown-pragmas) and never expand their
 * arguments, so the header only exists for sources that include it.
 */
#ifndef FLTSIM_SUPPRESS_H
#define FLTSIM_SUPPRESS_H
#endif /* FLTSIM_SUPPRESS_H */
