/*
 * Scenario running, the process steps (scenario_run_internal.h), on their
 * scenario thread through the model's test API (fltsim/program.h):
 * create_process (fltsim_ps_create, the create notifications may deny it),
 * open_process and open_thread (fltsim_ps_open, through the object
 * callbacks), duplicate (fltsim_ps_duplicate) and terminate_process
 * (fltsim_ps_exit). The ids of the processes the scenario created live in
 * the run; the handles in the run's handle table as file handles do.
 */
#include <stdio.h>

#include "scenario_run_internal.h"

/* The id of the process ref names now; 0 when it has none (not yet created,
 * a program not started). */
static ULONG process_id_of(struct run *run, const struct sc_ps_ref *ref)
{
    ULONG id = ref->id;
    uv_mutex_lock(&run->lock);
    if (ref->created >= 0)
        id = run->process_ids[ref->created];
    else if (ref->program >= 0)
        id = run->programs[ref->program].process != NULL
                 ? fltsim_process_id(run->programs[ref->program].process)
                 : 0;
    uv_mutex_unlock(&run->lock);
    return id;
}

void fltsim__run_ps_step(struct run *run, const struct sc_step *s, struct rstep *r)
{
    fltsim_system *sys = run->sys;
    NTSTATUS status = STATUS_SUCCESS;
    HANDLE h = NULL;
    ACCESS_MASK granted = 0;
    ULONG pid = process_id_of(run, &s->target);
    switch (s->ps_op) {
    case SC_PS_CREATE: {
        ULONG parent = process_id_of(run, &s->parent);
        bool no_parent = (s->parent.created >= 0 || s->parent.program >= 0) && parent == 0;
        struct fltsim_ps_params params = {
            .image = s->image, .process_id = s->ps_id, .parent_id = parent != 0 ? parent : 1000};
        ULONG id = 0;
        status = no_parent ? STATUS_INVALID_PARAMETER : fltsim_ps_create(sys, &params, &id);
        if (NT_SUCCESS(status)) {
            uv_mutex_lock(&run->lock);
            run->process_ids[s->ps_process] = id;
            uv_mutex_unlock(&run->lock);
        }
        r->information = id;
        break;
    }
    case SC_PS_OPEN:
        if (pid == 0 && s->ps_id == 0) {
            status = STATUS_INVALID_CID;
            break;
        }
        status = fltsim_ps_open(sys, pid, s->ps_id, s->access, s->kernel, &h, &granted);
        break;
    case SC_PS_DUPLICATE: {
        uv_mutex_lock(&run->lock);
        HANDLE source = run->handles[s->root];
        uv_mutex_unlock(&run->lock);
        status = pid == 0 ? STATUS_INVALID_CID
                          : fltsim_ps_duplicate(sys, source, pid, s->access, s->same_access, &h,
                                                &granted);
        break;
    }
    case SC_PS_TERMINATE:
        status = pid == 0 ? STATUS_INVALID_CID : fltsim_ps_exit(sys, pid, (NTSTATUS)s->exit_code);
        break;
    }
    if (h != NULL && s->handle >= 0) {
        uv_mutex_lock(&run->lock);
        run->handles[s->handle] = h;
        uv_mutex_unlock(&run->lock);
    }
    if (s->ps_op == SC_PS_OPEN || s->ps_op == SC_PS_DUPLICATE)
        r->information = granted;
    r->status = status;
}

void fltsim__run_ps_what(const struct run *run, const struct sc_step *s, char *what, size_t size)
{
    const struct fltsim_scenario *sc = run->sc;
    const struct sc_ps_ref *ref = s->ps_op == SC_PS_CREATE ? NULL : &s->target;
    if (s->ps_op == SC_PS_CREATE)
        snprintf(what, size, "%s (%s)", sc->processes[s->ps_process], s->image);
    else if (s->ps_op == SC_PS_DUPLICATE)
        snprintf(what, size, "%s into %s", sc->handles[s->root],
                 ref->created >= 0   ? sc->processes[ref->created]
                 : ref->program >= 0 ? sc->programs[ref->program].name
                                     : "a process");
    else if (s->ps_op == SC_PS_OPEN && s->ps_id != 0)
        snprintf(what, size, "%lu", (unsigned long)s->ps_id);
    else if (ref->created >= 0)
        snprintf(what, size, "%s", sc->processes[ref->created]);
    else if (ref->program >= 0)
        snprintf(what, size, "%s", sc->programs[ref->program].name);
    else
        snprintf(what, size, "%lu", (unsigned long)ref->id);
}
