#include "_speedups.h"

/* The scheduler's state, from sched.py and proc.py (setup_sched). */
PyObject *sched_dict;
PyObject *find_runnable;
PyObject *closed_error;
PyObject *s_runnable, *s_running, *s_waiting;
PyObject *s_chan_send, *s_chan_receive;
long timer_check_mask, runnext_streak;

__thread PyObject *tls_p = NULL;

/* sched.attention, and the accelerator's hint of it.

   Reading sched's globals on every operation costs a dictionary lookup;
   attention_hint says whether that is needed. The invariant is

       attention_hint == 0  implies  sched.attention is not True

   and every step that changes either keeps it:
     * set_attention(True) (sched._set_attention, the only writer of
       sched.attention) stores True in sched's globals and raises the hint in
       one C call. Nothing between the two releases the GIL or runs bytecode
       (PyDict_SetItem of an interned str key; the value it replaces is a bool,
       whose release runs no code), so no other thread and no signal handler
       (CPython runs those only between bytecodes, or in a blocking call's
       EINTR path, neither of which is here) can look in between.
     * set_attention(False) stores False and leaves the hint raised.
     * is_attention lowers the hint only in the same C call in which it read
       False, again with nothing able to run in between.
   The earlier protocol - raise the hint in one call, store True in the next
   bytecode - let another thread's read fall between the two, lower the hint
   and hide the True that followed: a pending panic or SIGINT that goroutine 1,
   looping on accelerated channel operations, never saw. */
int attention_hint = 1;

/* Twin: the store in sched._set_attention (its only caller). */
static PyObject *
sp_set_attention(PyObject *mod, PyObject *value)
{
    if (!PyBool_Check(value)) {
        PyErr_Format(PyExc_TypeError, "set_attention() needs a bool, got %R", value);
        return NULL;
    }
    if (sched_dict == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "setup_sched() first");
        return NULL;
    }
    if (PyDict_SetItem(sched_dict, str_attention, value) < 0)
        return NULL;
    if (value == Py_True)
        attention_hint = 1;
    Py_RETURN_NONE;
}


/* The event layer (events.py): the hook every event goes to while a tracer
   subscribes, else NULL. */
PyObject *trace_hook = NULL;

/* Twin: the store of the hook in events._publish (its only caller):
   set_trace_hook(fn) while something subscribes, set_trace_hook(None) when
   nothing does. */
static PyObject *
sp_set_trace_hook(PyObject *mod, PyObject *hook)
{
    if (hook != Py_None && !PyCallable_Check(hook)) {
        PyErr_Format(PyExc_TypeError, "set_trace_hook() needs a callable or None, got %R", hook);
        return NULL;
    }
    PyObject *old = trace_hook;
    if (hook == Py_None) {
        trace_hook = NULL;
    } else {
        Py_INCREF(hook);
        trace_hook = hook;
    }
    Py_XDECREF(old);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------------ */
/* The event recorder (the tracer's buffer)                                 */

/* Twin: events.rec_start, rec_record, rec_stop, rec_take (the recorder). Events as (monotonic ns, kind, goroutine id, P,
   arg), written without calling Python: a growing array, or a ring of
   `capacity` records that overwrites its oldest (Go's flight recorder). The
   references it holds (the id, the P, the arg) are given back when a record
   is overwritten or the recording is taken. */
typedef struct {
    long long ts;
    long kind;
    PyObject *gid; /* the G's id (an int), or NULL: no goroutine */
    PyObject *p;   /* the P of the thread, or NULL: a thread without one */
    PyObject *arg;
} trace_rec;

int trace_recording = 0;
static trace_rec *recs = NULL;
static Py_ssize_t rec_cap = 0, rec_len = 0, rec_head = 0; /* head: the oldest, in a ring */
static int rec_ring = 0;
static long long rec_dropped = 0;

static void
rec_clear_one(trace_rec *r)
{
    Py_CLEAR(r->gid);
    Py_CLEAR(r->p);
    Py_CLEAR(r->arg);
}

void
rec_write(long kind, PyObject *g, PyObject *arg)
{
    trace_rec *r;
    if (rec_len < rec_cap) {
        r = &recs[(rec_head + rec_len) % rec_cap];
        rec_len++;
    } else if (rec_ring) {
        r = &recs[rec_head];
        rec_clear_one(r);
        rec_head = (rec_head + 1) % rec_cap;
        rec_dropped++;
    } else {
        Py_ssize_t cap = rec_cap ? rec_cap * 2 : 65536;
        trace_rec *n = PyMem_RawRealloc(recs, (size_t)cap * sizeof(trace_rec));
        if (n == NULL) {
            rec_dropped++; /* out of memory: the event is lost, the program goes on */
            return;
        }
        recs = n;
        rec_cap = cap;
        r = &recs[rec_len++];
    }
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    r->ts = (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
    r->kind = kind;
    PyObject *gid = NULL;
    if (g != NULL && g != Py_None) {
        if (Py_IS_TYPE(g, g_type))
            gid = SLOT(g, g_id);
        else
            gid = g; /* an id already (the Python recorder's callers pass G's) */
    }
    Py_XINCREF(gid);
    r->gid = gid;
    Py_XINCREF(tls_p);
    r->p = tls_p;
    Py_XINCREF(arg);
    r->arg = arg;
}

static void
rec_free(void)
{
    for (Py_ssize_t i = 0; i < rec_len; i++)
        rec_clear_one(&recs[(rec_head + i) % rec_cap]);
    PyMem_RawFree(recs);
    recs = NULL;
    rec_cap = rec_len = rec_head = 0;
}

/* Twin: events.rec_start: record from now on into a ring
   of capacity records (ring true), or a growing array. */
static PyObject *
sp_rec_start(PyObject *mod, PyObject *args)
{
    Py_ssize_t capacity;
    int ring;
    if (!PyArg_ParseTuple(args, "np:rec_start", &capacity, &ring))
        return NULL;
    if (trace_recording) {
        PyErr_SetString(PyExc_RuntimeError, "rec_start: the recorder is already recording");
        return NULL;
    }
    rec_free();
    rec_ring = ring;
    rec_dropped = 0;
    if (ring) {
        if (capacity < 1) {
            PyErr_SetString(PyExc_ValueError, "rec_start: a ring needs a capacity of at least 1");
            return NULL;
        }
        recs = PyMem_RawMalloc((size_t)capacity * sizeof(trace_rec));
        if (recs == NULL)
            return PyErr_NoMemory();
        rec_cap = capacity;
    }
    trace_recording = 1;
    Py_RETURN_NONE;
}

/* Twin: events.rec_record: one event, from Python code. */
static PyObject *
sp_rec_record(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "record(kind, g, arg)");
        return NULL;
    }
    long kind = PyLong_AsLong(args[0]);
    if (kind == -1 && PyErr_Occurred())
        return NULL;
    if (trace_recording)
        rec_write(kind, args[1], args[2]);
    Py_RETURN_NONE;
}

/* Twin: events.rec_stop: stop recording; how many records the ring
   dropped. The records stay, for rec_take. */
static PyObject *
sp_rec_stop(PyObject *mod, PyObject *unused)
{
    trace_recording = 0;
    long long dropped = rec_dropped;
    rec_dropped = 0;
    return PyLong_FromLongLong(dropped);
}

/* Twin: events.rec_take: take out up to n of the oldest records, as a list
   of (ts, kind, goroutine id or 0, P or None, arg) tuples; [] once none is
   left (the buffer is freed then). Only after rec_stop. */
static PyObject *
sp_rec_take(PyObject *mod, PyObject *arg)
{
    Py_ssize_t n = PyLong_AsSsize_t(arg);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    if (trace_recording) {
        PyErr_SetString(PyExc_RuntimeError, "rec_take: stop the recorder first (rec_stop)");
        return NULL;
    }
    if (n < 0)
        n = 0;
    if (n > rec_len)
        n = rec_len;
    PyObject *list = PyList_New(n);
    if (list == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        trace_rec *r = &recs[(rec_head + i) % rec_cap];
        PyObject *t = Py_BuildValue("(LlOOO)", r->ts, r->kind, r->gid ? r->gid : zero,
                                    r->p ? r->p : Py_None, r->arg ? r->arg : Py_None);
        if (t == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, t);
    }
    for (Py_ssize_t i = 0; i < n; i++)
        rec_clear_one(&recs[(rec_head + i) % rec_cap]);
    if (n > 0) {
        rec_head = (rec_head + n) % rec_cap;
        rec_len -= n;
    }
    if (rec_len == 0)
        rec_free();
    return list;
}

/* Twin: `if _events.hook is not None: _events.hook(kind, g, arg)` in
   proc.ready, park_g and GWaiter.wake. Called only where the caller holds no
   error and at the twin's point (ready: before anything; park: after the
   G's state, reason and token are stored, before the next G is picked; at
   resume: before throw_exc is read), so the Python code the hook runs (and a
   GIL switch inside it) sees the state the twin's would there.
   The hook's own error is reported, never raised: an event lost, never a
   runtime broken. */
void
trace_emit(long kind, PyObject *g, PyObject *arg)
{
    if (trace_recording)
        rec_write(kind, g, arg);
    PyObject *hook = trace_hook;
    if (hook == NULL)
        return;
    PyObject *k = PyLong_FromLong(kind);
    if (k == NULL) {
        PyErr_Clear();
        return;
    }
    Py_INCREF(hook);
    PyObject *args[3] = {k, g, arg};
    PyObject *r = PyObject_Vectorcall(hook, args, 3, NULL);
    Py_DECREF(k);
    if (r == NULL)
        PyErr_WriteUnraisable(hook);
    else
        Py_DECREF(r);
    Py_DECREF(hook);
}

/* ------------------------------------------------------------------------ */
/* ready / wake / park_g                                                    */

/* obj.name() with its result dropped: 0, or -1 with an error. */
int
call_method0(PyObject *obj, PyObject *name)
{
    PyObject *r = PyObject_CallMethodNoArgs(obj, name);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Twin: proc.ready (and GWaiter.wake, its inlined copy): make a parked g
   runnable; the caller has won g's park token, so nobody else will ever
   ready g. Go's goready cannot fail; here a failing step (a queue append,
   the wake-up call) is a RuntimeFault - g is lost, a broken runtime - with
   the original error as its __cause__, never an error the caller could take
   for its own. The order loses nothing else: on this thread the old runnext
   is appended first (it stays runnext if that fails); for another thread's
   P, g is runnable before it is in inbound. */
int
ready_impl(PyObject *g)
{
    if (!Py_IS_TYPE(g, g_type)) {
        PyErr_Format(PyExc_TypeError, "ready() needs a goroutine, got %R", g);
        return -1;
    }
    if (TRACING())
        trace_emit(EV_READY, g, Py_None);
    PyObject *p = slot_get(g, g_p);
    if (p == NULL)
        return -1;
    if (!PyObject_TypeCheck(p, p_type))
        return fault("ready: goroutine %S has no P", SLOT(g, g_id) ? SLOT(g, g_id) : Py_None);
    /* p.ident == get_ident(): p is this thread's P (tls_p, the common case),
       or its ident says so (while _aio unbinds tls_p). */
    int local = p == tls_p;
    if (!local) {
        PyObject *ident = slot_get(p, p_ident);
        if (ident == NULL)
            goto lost;
        unsigned long id = PyLong_AsUnsignedLong(ident);
        if (id == (unsigned long)-1 && PyErr_Occurred())
            goto lost;
        local = id == PyThread_get_thread_ident();
    }
    if (local) {
        /* Only this thread touches runnext and runq: the order of the
           stores is free, so the append that can fail goes first. */
        PyObject *old = SLOT(p, p_runnext);
        if (old != NULL && old != Py_None) {
            if (dq_append(SLOT(p, p_runq), old) < 0)
                goto lost;
        }
        slot_set(g, g_state, s_runnable);
        slot_set(p, p_runnext, g);
        return 0;
    }
    /* Runnable before another thread can take it from inbound (and run it):
       the GIL is not released between the two, but the Python twin's are
       two bytecodes. */
    slot_set(g, g_state, s_runnable);
    if (dq_append(SLOT(p, p_inbound), g) < 0)
        goto lost;
    if (SLOT(p, p_sleeping) == Py_True) {
        if (call_method0(p, str_wakeup) < 0)
            goto lost;
    }
    return 0;
lost:
    return fault("ready: goroutine %S could not be made runnable",
                 SLOT(g, g_id) ? SLOT(g, g_id) : Py_None);
}

static PyObject *
sp_ready(PyObject *mod, PyObject *g)
{
    if (ready_impl(g) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *py_gwaiter_wake; /* the Python twin */

/* Twin: GWaiter.wake (waiter.py): ready_impl. Leaves to Python: a waiter
   that is not exactly a GWaiter, arity errors. */
static PyObject *
sp_gwaiter_wake(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 1 || !Py_IS_TYPE(args[0], gwaiter_type))
        return PyObject_Vectorcall(py_gwaiter_wake, args, nargs, NULL);
    if (wake(args[0]) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* p.schedtick + 1, full width as in the Python twin (an int; it would take
   centuries to leave a C long): Go's checks on the tick - every Nth
   schedule, "has it moved since the last look" - need a counter that does
   not wrap. -1 with an error. */
static inline long
next_schedtick(PyObject *p)
{
    long tick = long_slot(p, p_schedtick);
    if (tick == -1 && PyErr_Occurred())
        return -1;
    if (tick < 0 || tick == LONG_MAX) {
        fault("p.schedtick out of range");
        return -1;
    }
    return tick + 1;
}

/* Twin: one round of proc._find_runnable when it has nothing but queues to look
   at (no attention, nothing inbound from other threads, not a tick for the
   timers and the netpoller): runnext (within its streak), the timer-woken
   queue, the run queue. A new reference, or NULL without an error when the
   Python twin must run (it may wait), or NULL with an error. Without this,
   a fifth of W5's parks went through a Python call. */
static PyObject *
find_runnable_fast(PyObject *p)
{
    if (is_attention())
        return NULL;
    Py_ssize_t ninbound = dq_len(SLOT(p, p_inbound));
    if (ninbound != 0)
        return NULL; /* an error (-1) is set, or the Python twin drains it */
    long tick = next_schedtick(p);
    if (tick < 0)
        return NULL;
    if (!(tick & timer_check_mask))
        return NULL;
    PyObject *runq = SLOT(p, p_runq);
    Py_ssize_t nrunq = dq_len(runq);
    if (nrunq < 0)
        return NULL;
    PyObject *g = SLOT(p, p_runnext);
    long streak = long_slot(p, p_streak);
    if (streak == -1 && PyErr_Occurred())
        return NULL;
    if (set_long_slot(p, p_schedtick, tick) < 0)
        return NULL;
    if (g != NULL && g != Py_None && (streak < runnext_streak || nrunq == 0)) {
        Py_INCREF(g);
        slot_set(p, p_runnext, Py_None);
        if (set_long_slot(p, p_streak, streak + 1) < 0) {
            Py_DECREF(g);
            return NULL;
        }
        return g;
    }
    if (set_long_slot(p, p_streak, 0) < 0)
        return NULL;
    PyObject *tq = SLOT(p, p_timerq);
    Py_ssize_t ntq = dq_len(tq);
    if (ntq < 0)
        return NULL;
    if (ntq > 0 && ((tick & 7) || nrunq == 0))
        return dq_popleft(tq);
    if (nrunq > 0)
        return dq_popleft(runq);
    return NULL;
}

/* Twin: proc._switch_to after its first two lines (the caller has set p.curg and
   nxt.state): switch to nxt's greenlet, or start nxt on an idle worker
   greenlet, or have p's g0 start a new worker for it. Doing this here rather
   than calling the Python function keeps an interpreter frame off the C stack
   that a parked goroutine's greenlet saves (~1 KiB each). */
static PyObject *
switch_to_impl(PyObject *p, PyObject *nxt)
{
    PyObject *gr = SLOT(nxt, g_greenlet);
    PyObject *r;
    /* The depth of port calls belongs to this goroutine: nxt runs at its own
       (zero, or what it saved here when it switched out). */
    int depth = accel_depth;
    accel_depth = 0;
    if (gr != NULL && gr != Py_None) {
        Py_INCREF(gr);
        r = PyGreenlet_Switch((PyGreenlet *)gr, NULL, NULL);
        Py_DECREF(gr);
        accel_depth = depth;
        return r;
    }
    /* The greenlet that starts nxt finds it in p.curg (see proc._worker). */
    PyObject *free_workers = SLOT(p, p_free_workers);
    if (free_workers != NULL && PyList_CheckExact(free_workers) &&
        PyList_GET_SIZE(free_workers) > 0) {
        Py_ssize_t n = PyList_GET_SIZE(free_workers);
        gr = PyList_GET_ITEM(free_workers, n - 1);
        Py_INCREF(gr);
        if (PyList_SetSlice(free_workers, n - 1, n, NULL) < 0) {
            Py_DECREF(gr);
            accel_depth = depth;
            return NULL;
        }
        slot_set(nxt, g_greenlet, gr);
    } else {
        gr = slot_get(p, p_g0);
        if (gr == NULL) {
            accel_depth = depth;
            return NULL;
        }
        Py_INCREF(gr);
    }
    if (!PyGreenlet_Check(gr)) {
        fault("switch: expected a greenlet, got %R", gr);
        r = NULL;
    } else {
        r = PyGreenlet_Switch((PyGreenlet *)gr, NULL, NULL);
    }
    Py_DECREF(gr);
    accel_depth = depth;
    return r;
}

/* Twin: proc.park_g. Block g (p's running G) until its token is won and
   it is readied; returns 0, or -1 with what a waker delivered (throw_exc)
   or what the scheduler raised. If picking the next G fails, g did not
   park: it is running again, and the error is the caller's (who takes its
   waiter back, as after any failed park). */
int
park_g_impl(PyObject *p, PyObject *g, PyObject *reason, PyObject *token)
{
    if (SLOT(p, p_killing) == Py_True && SLOT(p, p_g1) != g) { /* g is not goroutine 1 */
        PyErr_SetNone(PyExc_GreenletExit);
        return -1;
    }
    slot_set(g, g_state, s_waiting);
    slot_set(g, g_wait_reason, reason);
    slot_set(g, g_token, token);
    if (TRACING())
        trace_emit(EV_PARK, g, reason);
    /* Fast path of _find_runnable: hand the P to runnext (the G this one just
       readied) unless it is time to look at timers, other threads or fairness. */
    PyObject *nxt = SLOT(p, p_runnext);
    long tick = next_schedtick(p);
    long streak = long_slot(p, p_streak);
    if (tick < 0 || (streak == -1 && PyErr_Occurred()))
        goto not_parked;
    int fast = 0;
    if (nxt != NULL && nxt != Py_None && (tick & timer_check_mask) && !is_attention()) {
        Py_ssize_t nrunq = 0;
        if (streak >= runnext_streak && (nrunq = dq_len(SLOT(p, p_runq))) < 0)
            goto not_parked;
        Py_ssize_t ninbound = dq_len(SLOT(p, p_inbound));
        if (ninbound < 0)
            goto not_parked;
        fast = (streak < runnext_streak || nrunq == 0) && ninbound == 0;
    }
    if (fast) {
        Py_INCREF(nxt);
        if (set_long_slot(p, p_schedtick, tick) < 0 || set_long_slot(p, p_streak, streak + 1) < 0) {
            Py_DECREF(nxt);
            goto not_parked;
        }
        slot_set(p, p_runnext, Py_None);
    } else {
        nxt = find_runnable_fast(p);
        if (nxt == NULL) {
            if (PyErr_Occurred())
                goto not_parked;
            nxt = PyObject_CallOneArg(find_runnable, p);
            if (nxt == NULL)
                goto not_parked;
        }
    }
    if (nxt == g) {
        slot_set(g, g_state, s_running);
        slot_set(p, p_curg, g);
        Py_DECREF(nxt);
    } else {
        if (!Py_IS_TYPE(nxt, g_type)) {
            PyObject *bad = nxt;
            fault("schedule: the scheduler picked %R, not a goroutine", bad);
            Py_DECREF(bad);
            goto not_parked;
        }
        slot_set(p, p_curg, nxt);
        slot_set(nxt, g_state, s_running);
        PyObject *r = switch_to_impl(p, nxt);
        Py_DECREF(nxt);
        if (r == NULL)
            return -1;
        Py_DECREF(r);
    }
    if (TRACING())
        trace_emit(EV_RESUME, g, Py_None);
    PyObject *exc = SLOT(g, g_throw_exc);
    if (exc != NULL && exc != Py_None) {
        Py_INCREF(exc);
        slot_set(g, g_throw_exc, Py_None);
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
        return -1;
    }
    return 0;
not_parked:
    slot_set(g, g_state, s_running);
    return -1;
}

static PyObject *
sp_park_g(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "park_g(p, g, reason, token)");
        return NULL;
    }
    if (!Py_IS_TYPE(args[0], p_type) || !Py_IS_TYPE(args[1], g_type)) {
        PyErr_SetString(PyExc_TypeError, "park_g() needs a P and a goroutine");
        return NULL;
    }
    if (park_g_impl(args[0], args[1], args[2], args[3]) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* PRelease: gives this thread's P back when the thread ends.

   tls_p is a C thread-local; nothing in C runs when a thread exits with the
   GIL. So the first set_p(p) of a thread stores one of these in the thread
   state's dict (PyThreadState_GetDict), which CPython clears on that very
   thread, GIL held, as the thread ends (PyThreadState_Clear in thread_run;
   the main thread's at finalisation): its dealloc drops tls_p there. Without
   it, a thread that ended bound to a P (a run() on a plain thread ended by
   its thread, a P of a scheduler thread that exits) kept that P, its
   selector and its wake-up pipe forever.

   A PRelease only touches tls_p on the thread that made it (owner): the
   dict of a thread is cleared on that thread; were one ever released
   elsewhere (interpreter teardown), the reference is left alone (a leak at
   exit, never a write to another thread's variable). */
typedef struct {
    PyObject_HEAD
    unsigned long owner;
} PReleaseObject;

static __thread int tls_p_release_armed;

static void
PRelease_dealloc(PReleaseObject *r)
{
    if (r->owner == PyThread_get_thread_ident()) {
        PyObject *p = tls_p;
        tls_p = NULL;
        tls_p_release_armed = 0;
        Py_XDECREF(p);
    }
    PyObject_Free(r);
}

PyTypeObject PRelease_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "goroutines._runtime._speedups.PRelease",
    .tp_basicsize = sizeof(PReleaseObject),
    .tp_dealloc = (destructor)PRelease_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Gives the accelerator's reference to a thread's P back when the thread ends.",
};

static int
arm_p_release(void)
{
    if (tls_p_release_armed)
        return 0;
    PyObject *d = PyThreadState_GetDict();
    if (d == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "set_p(): no thread state");
        return -1;
    }
    PReleaseObject *r = PyObject_New(PReleaseObject, &PRelease_Type);
    if (r == NULL)
        return -1;
    r->owner = PyThread_get_thread_ident();
    int rc = PyDict_SetItem(d, str_p_release, (PyObject *)r);
    tls_p_release_armed = rc == 0;
    Py_DECREF(r); /* on failure its dealloc leaves tls_p as it is (unset yet) */
    return rc;
}

/* Twin: the accelerator's half of sched.set_p. p is a P made by P.__init__
   (the slots C reads are set) or None. */
static PyObject *
sp_set_p(PyObject *mod, PyObject *p)
{
    if (p != Py_None) {
        if (p_type == NULL || !PyObject_TypeCheck(p, p_type)) {
            PyErr_Format(PyExc_TypeError, "set_p() needs a P or None, got %R", p);
            return NULL;
        }
        if (SLOT(p, p_runq) == NULL || SLOT(p, p_inbound) == NULL || SLOT(p, p_timerq) == NULL ||
            SLOT(p, p_runnext) == NULL || SLOT(p, p_ident) == NULL) {
            PyErr_SetString(PyExc_TypeError, "set_p(): P.__init__ has not run");
            return NULL;
        }
        if (arm_p_release() < 0)
            return NULL;
    }
    PyObject *old = tls_p;
    tls_p = p == Py_None ? NULL : Py_NewRef(p);
    Py_XDECREF(old);
    Py_RETURN_NONE;
}


/* ------------------------------------------------------------------------ */
/* setup                                                                    */

/* The slots this port reads, in the order accel.py's registry lists them
   (PORTS["sched"].slots): keep the two in step. */
static const SlotTarget sched_slots[] = {
    {&w_token, &waiter_type},     /* Waiter.token */
    {&w_elem, &waiter_type},      /* Waiter.elem */
    {&w_value, &waiter_type},     /* Waiter.value */
    {&w_ok, &waiter_type},        /* Waiter.ok */
    {&w_done, &waiter_type},      /* Waiter.done */
    {&w_case, &waiter_type},      /* Waiter.case */
    {&w_chan, &waiter_type},      /* Waiter.chan */
    {&w_g, &gwaiter_type},        /* GWaiter.g */
    {&g_id, &g_type},             /* G.id */
    {&g_state, &g_type},          /* G.state */
    {&g_wait_reason, &g_type},    /* G.wait_reason */
    {&g_token, &g_type},          /* G.token */
    {&g_greenlet, &g_type},       /* G.greenlet */
    {&g_throw_exc, &g_type},      /* G.throw_exc */
    {&g_p, &g_type},              /* G.p */
    {&g_waiter, &g_type},         /* G.waiter */
    {&p_g1, &p_type},             /* P.g1 */
    {&p_ident, &p_type},          /* P.ident */
    {&p_runnext, &p_type},        /* P.runnext */
    {&p_runq, &p_type},           /* P.runq */
    {&p_inbound, &p_type},        /* P.inbound */
    {&p_sleeping, &p_type},       /* P.sleeping */
    {&p_schedtick, &p_type},      /* P.schedtick */
    {&p_streak, &p_type},         /* P.streak */
    {&p_killing, &p_type},        /* P.killing */
    {&p_curg, &p_type},           /* P.curg */
    {&p_free_workers, &p_type},   /* P.free_workers */
    {&p_g0, &p_type},             /* P.g0 */
    {&p_timerq, &p_type},         /* P.timerq */
};

/* setup_sched(slots, **objects): everything the port uses, passed by the
   module that wires it (no name is looked up here). */
static PyObject *
sp_setup_sched(PyObject *mod, PyObject *args, PyObject *kw)
{
    static const char *const names[] = {
        "waiter_cls", "gwaiter_cls", "g_cls", "p_cls", "sched_globals", "find_runnable", "throw",
        "note_use", "py_gwaiter_wake", "runnable", "running", "waiting", "wait_chan_send", "wait_chan_receive",
        "timer_check_mask", "runnext_streak",
    };
    enum { N = sizeof(names) / sizeof(names[0]) };
    PyObject *o[N], *slots;
    if (setup_args("sched", args, kw, names, o, N, &slots) < 0)
        return NULL;
    if (!PyDict_Check(o[4])) {
        PyErr_SetString(PyExc_TypeError, "setup_sched(): sched_globals must be a dict");
        return NULL;
    }
    long mask = PyLong_AsLong(o[14]);
    long streak = mask == -1 && PyErr_Occurred() ? -1 : PyLong_AsLong(o[15]);
    if (streak == -1 && PyErr_Occurred())
        return NULL;
    if (keep_type("sched", "waiter_cls", &waiter_type, o[0]) < 0 ||
        keep_type("sched", "gwaiter_cls", &gwaiter_type, o[1]) < 0 ||
        keep_type("sched", "g_cls", &g_type, o[2]) < 0 ||
        keep_type("sched", "p_cls", &p_type, o[3]) < 0)
        return NULL;
    if (slot_offsets("sched", slots, sched_slots, sizeof(sched_slots) / sizeof(sched_slots[0])) < 0)
        return NULL;
    /* The name Waiter.token goes by, for reading it off objects that are
       not Waiters as Python code would (pop_partner). */
    PyObject *token_name = slot_name(waiter_type, w_token);
    if (token_name == NULL)
        return NULL;
    Py_XSETREF(str_token, token_name);
    keep(&sched_dict, o[4]);
    keep(&find_runnable, o[5]);
    keep(&py_throw, o[6]);
    keep(&py_note_use, o[7]);
    keep(&py_gwaiter_wake, o[8]);
    keep(&s_runnable, o[9]);
    keep(&s_running, o[10]);
    keep(&s_waiting, o[11]);
    keep(&s_chan_send, o[12]);
    keep(&s_chan_receive, o[13]);
    timer_check_mask = mask;
    runnext_streak = streak;
    Py_RETURN_NONE;
}

PyMethodDef sched_methods[] = {
    {"setup_sched", (PyCFunction)(void (*)(void))sp_setup_sched, METH_VARARGS | METH_KEYWORDS,
     "setup_sched(slots, **objects): the scheduler's classes, slots, state and twins."},
    {"set_attention", (PyCFunction)sp_set_attention, METH_O,
     "set_attention(value): sched.attention = value, and the accelerator's hint."},
    {"set_p", (PyCFunction)sp_set_p, METH_O, "set_p(p): this thread's P (or None)."},
    {"set_trace_hook", (PyCFunction)sp_set_trace_hook, METH_O,
     "set_trace_hook(fn): the event layer's hook (None: no tracer)."},
    {"rec_start", (PyCFunction)sp_rec_start, METH_VARARGS,
     "rec_start(capacity, ring): the event recorder records from now on."},
    {"rec_record", (PyCFunction)(void (*)(void))sp_rec_record, METH_FASTCALL,
     "rec_record(kind, g, arg): record one event."},
    {"rec_stop", (PyCFunction)sp_rec_stop, METH_NOARGS,
     "rec_stop(): stop recording; the number of records dropped."},
    {"rec_take", (PyCFunction)sp_rec_take, METH_O,
     "rec_take(n): take out up to n of the oldest records."},
    {"ready", (PyCFunction)sp_ready, METH_O, "proc.ready(g) in C."},
    {"park_g", (PyCFunction)(void (*)(void))sp_park_g, METH_FASTCALL,
     "proc.park_g(p, g, reason, token) in C."},
    {"gwaiter_wake", (PyCFunction)(void (*)(void))sp_gwaiter_wake, METH_FASTCALL,
     "GWaiter.wake(self) in C."},
    {NULL, NULL, 0, NULL},
};
