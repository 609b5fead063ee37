/*
 * PRIVATE to sim/: output files written whole or not at all (output.c), for
 * the fltsim program and the scenario runner. An output is written to a
 * temporary file beside its target and renamed onto it only once everything
 * is written, flushed and synced, so a failure (a full disk, a size limit, an
 * I/O error) leaves the target as it was.
 */
#ifndef FLTSIM_SIM_OUTPUT_H
#define FLTSIM_SIM_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

struct fltsim__output {
    FILE *stream;       /* write here between open and commit or abort */
    const char *target; /* the path as given (for messages); NULL: standard output */
    char *final;        /* the file the temporary one is renamed onto, or NULL */
    char *temp;         /* the temporary file beside final, or NULL (written in place) */
    struct fltsim__output_sink *sink; /* output.c's: the descriptor and its first write error */
};

/* Opens an output for path. A regular file (existing or not) is written
 * through a new temporary file in the directory of the file path names (after
 * symbolic links, so a link stays a link), with the mode and owner of the
 * existing file, else 0666 less the umask. A path that exists and is not a
 * regular file (a character device such as /dev/null or /dev/full, a FIFO) is
 * written in place; NULL is standard output. Returns 0, or an errno value
 * (EISDIR for a directory) with nothing created and *out cleared. Thread-safe;
 * path must outlive the output. */
int fltsim__output_open(struct fltsim__output *out, const char *path);

/* Finishes the output: flushes the stream and checks its error indicator,
 * syncs and closes the temporary file and renames it onto the target. Returns
 * 0, or the errno value of what failed (EIO when a write failed earlier
 * without one); on failure the temporary file is removed and the target is as
 * it was. The output is closed either way (standard output is flushed and
 * checked, not closed). */
int fltsim__output_commit(struct fltsim__output *out);

/* Closes the output and removes its temporary file: the target is left as it
 * was (standard output is only flushed). Cannot fail; a cleared or finished
 * output is ignored. */
void fltsim__output_abort(struct fltsim__output *out);

/* true when a and b name the same file: the same device and inode (after
 * symbolic links, so a link or a hard link to a file is that file), or, when
 * neither exists yet, the same name in the same directory. Cannot fail. */
bool fltsim__output_same_file(const char *a, const char *b);

/* Removes the temporary files of the outputs open now, leaving every target
 * as it was: for a fatal signal's handler before the process ends (only
 * unlink is called, which is async-signal-safe). Cannot fail. */
void fltsim__output_remove_temps(void);

/* Makes standard output a stream that remembers the errno of its first
 * failed write (glibc; elsewhere it is left as it is). Call once, before
 * anything is written to it and before threads start. */
void fltsim__output_wrap_stdout(void);
/* The errno of the first failed write to the wrapped standard output, or 0
 * (none, or not known). */
int fltsim__output_stdout_error(void);

#endif /* FLTSIM_SIM_OUTPUT_H */
