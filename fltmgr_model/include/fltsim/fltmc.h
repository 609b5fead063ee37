/*
 * The fltmc view of a simulated system (issue 19): what `fltmc filters`,
 * `fltmc instances` and `fltmc volumes` print on Windows. Part of the model
 * API: <fltsim/model.h> includes it.
 */
#ifndef FLTSIM_FLTMC_H
#define FLTSIM_FLTMC_H

#include <stdbool.h>
#include <stdio.h>

#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What `fltmc filters`, `fltmc instances` and `fltmc volumes` print on
 * Windows, for a simulated system (issue 19): the same headers and columns.
 * filters: every registered filter (started or not), its attached instances
 * and the altitude of its default instance (else its first registry
 * instance), highest altitude first, frame 0. instances: every attached
 * instance, by filter name, then volume and altitude: the volume as "C:" or
 * its device name, altitude, instance name, frame 0 (fltsim has no
 * SupportedFeatures, so the SprtFtrs and VlStatus columns are left out).
 * volumes: every mounted volume, in mount order: "C:" or empty, the device
 * name and the file system as fltmc names it (NTFS, FAT, Remote ...). */
enum fltsim_fltmc_view {
    FLTSIM_FLTMC_FILTERS = 0,
    FLTSIM_FLTMC_INSTANCES = 1,
    FLTSIM_FLTMC_VOLUMES = 2
};

/* "filters", "instances" or "volumes" (ASCII case ignored) into *out; false
 * for anything else or NULL. */
bool fltsim_fltmc_view_parse(const char *name, enum fltsim_fltmc_view *out);

/* Writes the view, one call of cb per line (UTF-8, no line end; the first is
 * empty, as fltmc's is). The lists are copied under the system's lock and
 * cb runs after it is released, so cb may call the model. Any thread.
 * STATUS_INVALID_PARAMETER for a NULL sys or cb or a view outside the enum,
 * STATUS_INSUFFICIENT_RESOURCES when the copy cannot be allocated (nothing
 * is written then). */
typedef void (*fltsim_fltmc_line_cb)(void *ctx, const char *line);
NTSTATUS fltsim_fltmc(fltsim_system *sys, enum fltsim_fltmc_view view, fltsim_fltmc_line_cb cb,
                      void *ctx);
/* The same written to out, each line ended with "\n"; STATUS_UNSUCCESSFUL
 * (fltsim_last_error says so) when writing to out fails. */
NTSTATUS fltsim_fltmc_write(fltsim_system *sys, enum fltsim_fltmc_view view, FILE *out);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_FLTMC_H */
