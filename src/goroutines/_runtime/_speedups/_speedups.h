/* _speedups.h: the accelerator's one internal header.
 *
 * _speedups: the hot paths of the runtime in C, an optional accelerator.
 *
 * The Python code is the reference: proc.go / park_g / ready and the
 * queue-only round of _find_runnable, GWaiter.wake (proc.py, waiter.py),
 * go (_go.py), Chan.send / recv / recv_ok / __iter__ (_chan.py), select and
 * its case constructors (_select.py), WaitGroup.add / done
 * (_sync/waitgroup.py). Each
 * function here is a line-by-line port of its Python twin over the very same
 * objects: Chan, Waiter, G, P and WaitGroup stay Python classes with
 * __slots__, and this module reads and writes their slots at the offsets of
 * the slot descriptors that accel.py's registry passes to the setup_*
 * functions, once, at import. So the rest of the runtime (close, timers, the
 * other sync primitives, asyncio, deadlock detection, dump) runs unchanged on
 * either path, every case a port leaves to Python is handled by its twin, and
 * GOROUTINES_PURE=1 switches this module off (GOROUTINES_PURE=chan,select:
 * those ports, and the ports that need them).
 *
 * What C buys: no bytecode dispatch, no frame per call, direct slot access,
 * and greenlet's C switch. What it does not change: every channel operation
 * still takes the channel's lock and every park still has a token won by
 * exactly one waker (waiter.py's protocol).
 *
 * Lock is the type of park tokens, channel locks and the sync primitives'
 * internal locks when this module is present: a
 * drop-in for the parts of _thread.lock the runtime uses (acquire with
 * blocking/timeout, release, locked, the context manager). Its state is one
 * flag that is only read and written with the GIL held, so the uncontended
 * acquire/release is a flag flip; a thread that must wait sleeps, GIL
 * released, on an OS semaphore made at the first contention. A test-and-set
 * of the flag (acquire(False)) is atomic because nothing between the test
 * and the set can release the GIL. That argument needs the GIL: free-threaded
 * builds do not build this module and run the Python path.
 *
 * A Lock also records which thread took it (owner), so that a thread that
 * already holds it and asks again does not wait for itself forever: its
 * acquire() without a timeout raises RuntimeError (REENTERED); with one, it
 * times out as a plain lock's would, and acquire(False) fails.
 * That happens only when Python code runs in the middle of a runtime
 * operation on the lock's thread (a __del__ run by a collection, a weakref
 * callback, a signal handler) and operates on the same primitive. Twin:
 * waiter.py Lock, the pure path's lock, which says the same.
 */
/* The files, one per port of accel.py's registry (PORTS) and two for what
 * they share:
 *
 *   module.c     the module: init, the method tables, slot offsets from the
 *                registry's descriptors, errors (fault), the deque calls
 *   lock.c       port "lock": the Lock type (park tokens, channel locks)
 *   method.c     the method wrapper accel.install puts the ports in
 *   sched.c      port "sched": set_p, attention, ready, park_g, GWaiter.wake
 *   go.c         port "go": go() and proc.go
 *   chan.c       port "chan": Chan.__init__ / send / recv / recv_ok / __iter__
 *   select.c     port "select": select() and its case constructors
 *   waitgroup.c  port "waitgroup": WaitGroup.add / done
 *   arena.c      port "arena": the greenlets' frame-stack chunk cache
 *   preempt.c    port "preempt": the sys.monitoring callback of preemption
 *   net.c        port "net": Conn.read / Conn.write (goroutines.net)
 *   netpoll.c    port "netpoll": the netpoller's wait and _dispatch
 *
 * State shared between files is declared here and defined in the file named
 * beside it; everything else stays static in its file. The shared names are
 * hidden: the module's only exported symbol is PyInit__speedups.
 *
 * A port never looks a slot up by name: its setup_* function receives the
 * slot descriptors, in the order its offset table lists them, from
 * accel.py's registry (the names live there only), and checks their count.
 */

#ifndef GOROUTINES_SPEEDUPS_H
#define GOROUTINES_SPEEDUPS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <time.h>

#include "greenlet.h"

/* greenlet.h gives each file its own static pointer to greenlet's C API,
   which only the file calling PyGreenlet_Import would set: every file uses
   the one module.c sets instead. */
static inline void **
greenlet_h_api_unused(void)
{
    return _PyGreenlet_API;
}
#define _PyGreenlet_API speedups_greenlet_api

#ifdef Py_GIL_DISABLED
#error "goroutines._speedups relies on the GIL; free-threaded builds use the pure-Python path"
#endif

#if defined(__GNUC__) && !defined(_WIN32)
#pragma GCC visibility push(hidden)
#endif

extern void **speedups_greenlet_api; /* greenlet's C API (module.c) */

/* ------------------------------------------------------------------------ */
/* Lock (lock.c)                                                            */

typedef struct {
    PyObject_HEAD
    char locked;
    int waiters;             /* threads sleeping in acquire() */
    unsigned long owner;     /* the thread that acquired it, while locked; 0 when
                                unknown (a park token won by token_win) */
    PyThread_type_lock sema; /* made on first contention; a release posts it */
} LockObject;

extern PyTypeObject Lock_Type;
extern PyObject *timeout_judge; /* _thread.lock, unlocked, that judges timeouts */
extern PyObject *str_acquire, *str_release;

int lock_acquire_slow(LockObject *l, double timeout);

/* A new unlocked Lock (a park token, a channel's lock). */
static inline PyObject *
lock_new_fast(void)
{
    LockObject *l = PyObject_New(LockObject, &Lock_Type);
    if (l == NULL)
        return NULL;
    l->locked = 0;
    l->waiters = 0;
    l->owner = 0;
    l->sema = NULL;
    return (PyObject *)l;
}

/* Take a free lock for the calling thread. */
static inline void
lock_take(LockObject *l)
{
    l->locked = 1;
    l->owner = PyThread_get_thread_ident();
}

/* Whether the calling thread holds l (took it and has not released it). */
static inline int
lock_owned(LockObject *l)
{
    return l->locked && l->owner == PyThread_get_thread_ident();
}

static inline int
lock_acquire_blocking(LockObject *l)
{
    if (!l->locked) {
        lock_take(l);
        return 1;
    }
    return lock_acquire_slow(l, -1.0);
}

static inline void
lock_release_held(LockObject *l)
{
    l->locked = 0;
    l->owner = 0;
    if (l->waiters)
        PyThread_release_lock(l->sema);
}

/* ------------------------------------------------------------------------ */
/* method (method.c)                                                        */

extern PyTypeObject Method_Type;

/* ------------------------------------------------------------------------ */
/* Slots of the runtime's Python classes (module.c)                         */

#define SLOT(o, off) (*(PyObject **)((char *)(o) + (off)))

/* Store v (borrowed) in a slot. */
static inline void
slot_set(PyObject *o, Py_ssize_t off, PyObject *v)
{
    PyObject *old = SLOT(o, off);
    Py_INCREF(v);
    SLOT(o, off) = v;
    Py_XDECREF(old);
}

PyObject *slot_unset(PyObject *o, Py_ssize_t off);

/* The name of cls's __slots__ member at offset off, interned (a new
   reference); NULL with an error if there is none. */
PyObject *slot_name(PyTypeObject *cls, Py_ssize_t off);

/* Read a slot (borrowed); NULL with the AttributeError Python code reading
   it would get (the words differ between versions) if it was never set. */
static inline PyObject *
slot_get(PyObject *o, Py_ssize_t off)
{
    PyObject *v = SLOT(o, off);
    return v != NULL ? v : slot_unset(o, off);
}

/* One slot a port reads: where its offset goes, and the class it belongs to
   (a subclass of it is fine). */
typedef struct {
    Py_ssize_t *offset;
    PyTypeObject **cls;
} SlotTarget;

/* Fill each target's offset from descriptors, the sequence of slot
   descriptors (member descriptors of __slots__) that accel.py's registry
   lists for the port, in the same order: a clear error unless there are
   exactly n, each a __slots__ member of its target's class. 0 or -1. */
int slot_offsets(const char *port, PyObject *descriptors, const SlotTarget *targets,
                 Py_ssize_t n);

/* A setup_* function's arguments: the port's slot descriptors by position
   (*slots, borrowed), then one object for each of the n names by keyword
   (out[i], borrowed), all required. 0, or -1 with a TypeError. */
int setup_args(const char *port, PyObject *args, PyObject *kw, const char *const *names,
               PyObject **out, Py_ssize_t n, PyObject **slots);

/* out (a strong reference it keeps) = v; with a TypeError unless v is a
   class, when type is set. */
int keep(PyObject **out, PyObject *v);
int keep_type(const char *port, const char *what, PyTypeObject **out, PyObject *v);

/* The runtime's classes (set by setup_sched, setup_chan) and their slots. */
extern PyTypeObject *chan_type, *waiter_type, *gwaiter_type, *g_type, *p_type;
PyObject *new_gwaiter(PyObject *g, PyObject *token); /* GWaiter(g, token) (chan.c) */
extern Py_ssize_t c_lock, c_buf, c_cap, c_closed, c_recvq, c_sendq, c_timer, c_bubble;
extern Py_ssize_t w_token, w_elem, w_value, w_ok, w_done, w_g, w_case, w_chan;
extern Py_ssize_t g_id, g_state, g_wait_reason, g_token, g_greenlet, g_throw_exc, g_p, g_waiter;
extern Py_ssize_t p_ident, p_runnext, p_runq, p_inbound, p_sleeping, p_schedtick, p_streak,
    p_killing, p_curg, p_free_workers, p_g0, p_g1, p_timerq;

/* ------------------------------------------------------------------------ */
/* The scheduler's shared state (sched.c, setup_sched)                      */

extern PyObject *sched_dict;    /* sched's globals: "attention" is read on every operation */
extern PyObject *find_runnable; /* proc._find_runnable(p) */
extern PyObject *closed_error;  /* errors.ChannelClosedError (setup_chan) */
extern PyObject *s_runnable, *s_running, *s_waiting; /* G states */
extern PyObject *s_chan_send, *s_chan_receive;       /* wait reasons */
extern long timer_check_mask, runnext_streak;
extern PyObject *py_throw;    /* errors.throw: builds a RuntimeFault */
extern PyObject *py_note_use; /* sched.note_use */

/* Interned strings and constants (module.c). */
extern PyObject *str_attention, *str_wakeup, *str_wake, *str_abandon, *str_token, *str_remove;
extern PyObject *s_empty, *zero, *minus_one;
extern PyObject *str_p_release, *str_ids, *str_asyncio_events, *str_gr_context;

/* This thread's P (sched.tls.p, mirrored by set_p). A strong reference,
   given back when the thread ends (see PRelease) or set_p(None). */
extern __thread PyObject *tls_p;

/* This thread's depth of calls into the ports (preempt.c): a preemption never
   switches a goroutine out while it is above zero. method.c and ChanIter_next
   count it; switch_to_impl saves it and zeroes it for the goroutine it
   switches to. */
extern __thread int accel_depth;

/* sched.attention and the accelerator's hint of it: see sched.c. */
extern int attention_hint;

static inline int
is_attention(void)
{
    if (!attention_hint)
        return 0;
    if (PyDict_GetItemWithError(sched_dict, str_attention) == Py_True)
        return 1;
    attention_hint = 0;
    return 0;
}

/* The event layer's hook (sched.c; events.py is its twin): NULL while no
   tracer subscribes, so a port pays one pointer test per event site. The
   kinds are events.py's numbers. trace_emit writes the event to the
   recorder's buffer while it records (trace_recording) and calls the hook
   with (kind, g, arg) while one is set; it never fails: an error in the hook
   is reported as unraisable. */
extern PyObject *trace_hook;
extern int trace_recording;
#define TRACING() (trace_hook != NULL || trace_recording)
#define EV_PARK 2
#define EV_READY 3
#define EV_RESUME 4
void trace_emit(long kind, PyObject *g, PyObject *arg);

/* ------------------------------------------------------------------------ */
/* Errors (module.c)                                                        */

PyObject *err_take(void);
void err_restore(PyObject *exc);
void err_chain_context(PyObject *prior);
int note_use(void);
int fault(const char *format, ...);

/* ------------------------------------------------------------------------ */
/* Queues (module.c)                                                        */

/* The runtime's queues are collections.deque objects. Their length is the
   object's ob_size, and popleft/append are called through their C functions:
   no method dispatch on the hot path. Anything else (a deque subclass, the
   unbuffered channel's empty tuple) goes the way Python code would: len()
   and method calls by name, so an override is honoured on both paths. Each
   of the three reports an error (-1 or NULL) that every caller checks. */
extern PyTypeObject *deque_type;
extern PyCFunction deque_popleft_c, deque_append_c;
extern PyObject *str_popleft, *str_append;

int dq_missing(void);

static inline Py_ssize_t
dq_len(PyObject *dq)
{
    if (dq != NULL && Py_IS_TYPE(dq, deque_type))
        return Py_SIZE(dq);
    return dq == NULL ? dq_missing() : PyObject_Length(dq);
}

static inline PyObject *
dq_popleft(PyObject *dq)
{
    if (dq != NULL && Py_IS_TYPE(dq, deque_type))
        return deque_popleft_c(dq, NULL);
    if (dq == NULL) {
        dq_missing();
        return NULL;
    }
    return PyObject_CallMethodNoArgs(dq, str_popleft);
}

static inline int
dq_append(PyObject *dq, PyObject *item)
{
    PyObject *r;
    if (dq != NULL && Py_IS_TYPE(dq, deque_type))
        r = deque_append_c(dq, item);
    else if (dq == NULL)
        return dq_missing();
    else
        r = PyObject_CallMethodOneArg(dq, str_append, item);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Win a park token: token.acquire(False). 1 won, 0 lost, -1 error. */
static inline int
token_win(PyObject *tok)
{
    if (Py_IS_TYPE(tok, &Lock_Type)) {
        LockObject *l = (LockObject *)tok;
        if (l->locked)
            return 0;
        l->locked = 1;
        return 1;
    }
    PyObject *args[2] = {tok, Py_False};
    PyObject *r = PyObject_VectorcallMethod(str_acquire, args, 2 | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                            NULL);
    if (r == NULL)
        return -1;
    int won = PyObject_IsTrue(r);
    Py_DECREF(r);
    return won;
}

/* ------------------------------------------------------------------------ */
/* ready / wake / park_g (sched.c)                                          */

int call_method0(PyObject *obj, PyObject *name);
int ready_impl(PyObject *g);
int park_g_impl(PyObject *p, PyObject *g, PyObject *reason, PyObject *token);

/* w.wake() for a waiter whose token the caller won. */
static inline int
wake(PyObject *w)
{
    if (Py_IS_TYPE(w, gwaiter_type)) {
        PyObject *g = slot_get(w, w_g);
        return g == NULL ? -1 : ready_impl(g);
    }
    return call_method0(w, str_wake);
}

/* An int slot as a C long: 0 if unset; -1 with an error if not a C long. */
static inline long
long_slot(PyObject *o, Py_ssize_t off)
{
    PyObject *v = SLOT(o, off);
    return v == NULL ? 0 : PyLong_AsLong(v);
}

static inline int
set_long_slot(PyObject *o, Py_ssize_t off, long v)
{
    PyObject *n = PyLong_FromLong(v);
    if (n == NULL)
        return -1;
    PyObject *old = SLOT(o, off);
    SLOT(o, off) = n;
    Py_XDECREF(old);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* What select shares with the channel operations (chan.c)                  */

/* c as Chan.__init__ left it, with the accelerator's Lock: the ports run
   only on such channels. Anything else (an instance whose __init__ never
   ran, fields replaced) goes to the Python twin before anything is done,
   so both paths raise the same error. */
static inline int
chan_is_plain(PyObject *c)
{
    PyObject *l = SLOT(c, c_lock);
    return l != NULL && Py_IS_TYPE(l, &Lock_Type) && SLOT(c, c_buf) != NULL &&
           SLOT(c, c_cap) != NULL && SLOT(c, c_closed) != NULL && SLOT(c, c_recvq) != NULL &&
           SLOT(c, c_sendq) != NULL && SLOT(c, c_timer) != NULL;
}

/* The goroutine running on p, or NULL when p runs none (its curg is None:
   a P's scheduler code outside any goroutine). The ports that may park
   hand that case to their twins. */
static inline PyObject *
running_g(PyObject *p)
{
    PyObject *g = SLOT(p, p_curg);
    return g != NULL && Py_IS_TYPE(g, g_type) ? g : NULL;
}

/* c._cap as a size; a capacity beyond that is as good as unbounded. */
static inline Py_ssize_t
chan_cap(PyObject *c)
{
    Py_ssize_t cap = PyLong_AsSsize_t(SLOT(c, c_cap));
    if (cap == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return PY_SSIZE_T_MAX;
    }
    return cap;
}

/* A new reference to the value a sender's waiter offers (its elem). */
static inline PyObject *
offered(PyObject *sender)
{
    PyObject *v = slot_get(sender, w_elem);
    return v == NULL ? NULL : Py_NewRef(v);
}

PyObject *pop_partner(PyObject *q);

/* The caller runs in the synctest bubble b, a channel's _bubble when that is
   not None (callers compare with None first): 0, or -1 with the channel
   error msg (Go's "... on synctest channel from outside bubble"). */
int bubble_check(PyObject *b, const char *msg);
PyObject *value_ok(PyObject *value, int ok);

/* ------------------------------------------------------------------------ */
/* Each file's part of the module (module.c adds them)                      */

extern PyMethodDef sched_methods[], go_methods[], waitgroup_methods[], chan_methods[],
    select_methods[], arena_methods[], preempt_methods[], net_methods[], netpoll_methods[];
extern PyTypeObject ChanIter_Type, PRelease_Type;

#if defined(__GNUC__) && !defined(_WIN32)
#pragma GCC visibility pop
#endif

#endif /* GOROUTINES_SPEEDUPS_H */
