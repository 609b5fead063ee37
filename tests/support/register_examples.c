/*
 * Registers fltsim's example filters and programs as the built-in catalog
 * (fltsim/catalog.h) before a suite's main runs, as the fltsim program does
 * at its start: the sim library carries no filter of its own. Every suite
 * and fltsim-bench link this object (fltsim_add_test).
 */
#include <example_filters.h>

__attribute__((constructor)) static void register_examples(void)
{
    fltsim_examples_register();
}
