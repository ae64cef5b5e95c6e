/* _speedups: the hot paths of the runtime in C, an optional accelerator.
 *
 * The Python code is the reference: sched.go / park_g / ready and the
 * queue-only round of _find_runnable, GWaiter.wake (sched.py, waiter.py),
 * go (_go.py), Chan.send / recv / recv_ok / __iter__ (_chan.py), select and
 * its case constructors (_select.py), WaitGroup.add / done (_sync.py). Each
 * function here is a line-by-line port of its Python twin over the very same
 * objects: Chan, Waiter, G, P and WaitGroup stay Python classes with
 * __slots__, and this module reads and writes their slots at the offsets of
 * the slot descriptors, looked up once by the setup_* functions. So the rest
 * of the runtime (close, timers, the other sync primitives, asyncio, deadlock
 * detection, dump) runs unchanged on either path, every case a port leaves to
 * Python is handled by its twin, and GOROUTINES_PURE=1 switches this module
 * off.
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

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <time.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "greenlet.h"

#ifdef Py_GIL_DISABLED
#error "goroutines._speedups relies on the GIL; free-threaded builds use the pure-Python path"
#endif

/* ------------------------------------------------------------------------ */
/* Lock                                                                     */

typedef struct {
    PyObject_HEAD
    char locked;
    int waiters;             /* threads sleeping in acquire() */
    unsigned long owner;     /* the thread that acquired it, while locked; 0 when
                                unknown (a park token won by token_win) */
    PyThread_type_lock sema; /* made on first contention; a release posts it */
} LockObject;

/* waiter.py REENTERED, word for word. */
#define LOCK_REENTERED                                                                  \
    "this thread is already inside an operation on this channel or primitive (a "      \
    "__del__, weakref callback or signal handler ran in the middle of it), so waiting " \
    "for it here would hang forever; do blocking work from such code in a goroutine of " \
    "its own: go(fn)"

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

static PyTypeObject Lock_Type;

static PyObject *
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

static PyObject *
Lock_tp_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    if (PyTuple_GET_SIZE(args) != 0 || (kw != NULL && PyDict_GET_SIZE(kw) != 0)) {
        PyErr_SetString(PyExc_TypeError, "Lock() takes no arguments");
        return NULL;
    }
    LockObject *l = (LockObject *)type->tp_alloc(type, 0);
    if (l == NULL)
        return NULL;
    l->locked = 0;
    l->waiters = 0;
    l->owner = 0;
    l->sema = NULL;
    return (PyObject *)l;
}

static void
Lock_dealloc(LockObject *l)
{
    if (l->sema != NULL)
        PyThread_free_lock(l->sema);
    PyObject_Free(l);
}

static double
monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Wait for the flag. timeout < 0: forever. 1 acquired, 0 timed out, -1 error
   (RuntimeError for a wait without a timeout by the thread that holds it:
   nobody else can release it). */
static int
lock_acquire_slow(LockObject *l, double timeout)
{
    if (timeout < 0 && lock_owned(l)) {
        PyErr_SetString(PyExc_RuntimeError, LOCK_REENTERED);
        return -1;
    }
    if (l->sema == NULL) {
        l->sema = PyThread_allocate_lock();
        if (l->sema == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        /* Held: a waiter sleeps on it until a release posts it. */
        PyThread_acquire_lock(l->sema, NOWAIT_LOCK);
    }
    double deadline = timeout > 0 ? monotonic_seconds() + timeout : 0.0;
    for (;;) {
        if (!l->locked) {
            lock_take(l);
            return 1;
        }
        if (timeout == 0)
            return 0;
        PY_TIMEOUT_T us = -1;
        if (timeout > 0) {
            double left = deadline - monotonic_seconds();
            if (left <= 0)
                return 0;
            /* left <= TIMEOUT_MAX seconds (lock_check_timeout), but clamp anyway. */
            us = left * 1e6 >= (double)PY_TIMEOUT_MAX ? PY_TIMEOUT_MAX : (PY_TIMEOUT_T)(left * 1e6);
            if (us < 1)
                us = 1;
        }
        PyThread_type_lock sema = l->sema;
        PyLockStatus r;
        l->waiters++;
        Py_INCREF(l); /* the object outlives the wait even if the caller drops it */
        Py_BEGIN_ALLOW_THREADS
        r = PyThread_acquire_lock_timed(sema, us, 1);
        Py_END_ALLOW_THREADS
        l->waiters--;
        Py_DECREF(l);
        if (r == PY_LOCK_INTR) {
            if (Py_MakePendingCalls() < 0)
                return -1;
        }
    }
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

/* _thread.lock, unlocked, that judges timeouts (see lock_check_timeout). */
static PyObject *timeout_judge;
static PyObject *str_acquire, *str_release;

/* Twin: _thread.lock.acquire's argument rules. A timeout is accepted, refused
   (the same exception, with the message of this very interpreter: the
   words changed between 3.11 and 3.13) or overflows exactly as _thread.lock
   says, by asking one: an unlocked _thread.lock takes the arguments, checks
   them, and acquires at once without releasing the GIL; it is released
   again before anything else runs. An accepted timeout is then a number
   within TIMEOUT_MAX seconds; a negative one can only be -1 (as _thread
   counts it, to the nanosecond): wait forever. 0 on success with *out set,
   -1 with an error. */
static int
lock_check_timeout(PyObject *blocking_o, PyObject *timeout_o, double *out)
{
    PyObject *a[3] = {timeout_judge, blocking_o != NULL ? blocking_o : Py_True, timeout_o};
    PyObject *r = PyObject_VectorcallMethod(str_acquire, a, 3 | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                            NULL);
    if (r == NULL)
        return -1;
    int got = r == Py_True;
    Py_DECREF(r);
    if (got) {
        r = PyObject_CallMethodNoArgs(timeout_judge, str_release);
        if (r == NULL)
            return -1;
        Py_DECREF(r);
    }
    double t = PyFloat_AsDouble(timeout_o);
    if (t == -1.0 && PyErr_Occurred())
        return -1;
    *out = t < 0 ? -1.0 : t;
    return 0;
}

static PyObject *
Lock_acquire(LockObject *l, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *blocking_o = NULL, *timeout_o = NULL;
    if (nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "acquire() takes at most 2 arguments");
        return NULL;
    }
    if (nargs >= 1)
        blocking_o = args[0];
    if (nargs == 2)
        timeout_o = args[1];
    if (kwnames != NULL) {
        Py_ssize_t nk = PyTuple_GET_SIZE(kwnames);
        for (Py_ssize_t i = 0; i < nk; i++) {
            PyObject *k = PyTuple_GET_ITEM(kwnames, i);
            PyObject *v = args[nargs + i];
            if (PyUnicode_CompareWithASCIIString(k, "blocking") == 0 && blocking_o == NULL)
                blocking_o = v;
            else if (PyUnicode_CompareWithASCIIString(k, "timeout") == 0 && timeout_o == NULL)
                timeout_o = v;
            else {
                PyErr_Format(PyExc_TypeError, "acquire() got an unexpected keyword argument %R", k);
                return NULL;
            }
        }
    }
    int blocking = 1;
    if (blocking_o != NULL) {
        blocking = PyObject_IsTrue(blocking_o);
        if (blocking < 0)
            return NULL;
    }
    double timeout = -1.0;
    if (timeout_o != NULL && lock_check_timeout(blocking_o, timeout_o, &timeout) < 0)
        return NULL;
    if (!l->locked) {
        lock_take(l);
        Py_RETURN_TRUE;
    }
    if (!blocking)
        Py_RETURN_FALSE;
    int r = lock_acquire_slow(l, timeout);
    if (r < 0)
        return NULL;
    return PyBool_FromLong(r);
}

static PyObject *
Lock_release(LockObject *l, PyObject *Py_UNUSED(ignored))
{
    if (!l->locked) {
        PyErr_SetString(PyExc_RuntimeError, "release unlocked lock");
        return NULL;
    }
    lock_release_held(l);
    Py_RETURN_NONE;
}

static PyObject *
Lock_locked(LockObject *l, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(l->locked);
}

static PyObject *
Lock_is_owned(LockObject *l, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(lock_owned(l));
}

static PyObject *
Lock_enter(LockObject *l, PyObject *Py_UNUSED(ignored))
{
    if (lock_acquire_blocking(l) < 0)
        return NULL;
    Py_RETURN_TRUE;
}

static PyObject *
Lock_exit(LockObject *l, PyObject *const *args, Py_ssize_t nargs)
{
    return Lock_release(l, NULL);
}

static PyObject *
Lock_repr(LockObject *l)
{
    return PyUnicode_FromFormat("<%s goroutines._speedups.Lock object at %p>",
                                l->locked ? "locked" : "unlocked", l);
}

static PyMethodDef Lock_methods[] = {
    {"acquire", (PyCFunction)(void (*)(void))Lock_acquire, METH_FASTCALL | METH_KEYWORDS,
     "acquire(blocking=True, timeout=-1) -> bool"},
    {"release", (PyCFunction)Lock_release, METH_NOARGS, "release()"},
    {"locked", (PyCFunction)Lock_locked, METH_NOARGS, "locked() -> bool"},
    {"_is_owned", (PyCFunction)Lock_is_owned, METH_NOARGS,
     "_is_owned() -> bool: whether the calling thread holds it"},
    {"__enter__", (PyCFunction)Lock_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))Lock_exit, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Lock_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "goroutines._runtime._speedups.Lock",
    .tp_basicsize = sizeof(LockObject),
    .tp_dealloc = (destructor)Lock_dealloc,
    .tp_repr = (reprfunc)Lock_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A lock with _thread.lock's interface; the runtime's park token and channel lock.",
    .tp_methods = Lock_methods,
    .tp_new = Lock_tp_new,
};

/* ------------------------------------------------------------------------ */
/* method: makes a C function (self, *args) usable as a Python method        */

typedef struct {
    PyObject_HEAD
    PyObject *func;    /* the C implementation: called as func(self, *args) */
    PyObject *wrapped; /* the Python reference implementation (its docs, signature) */
    vectorcallfunc vectorcall;
    int takes_keywords; /* func handles keyword arguments; else they go to wrapped */
} MethodObject;

static PyTypeObject Method_Type;

static PyObject *
Method_vectorcall(MethodObject *m, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0 && !m->takes_keywords)
        return PyObject_Vectorcall(m->wrapped, args, nargsf, kwnames);
    return PyObject_Vectorcall(m->func, args, nargsf, kwnames);
}

static PyObject *
Method_tp_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    PyObject *func, *wrapped;
    if (!PyArg_ParseTuple(args, "OO:method", &func, &wrapped))
        return NULL;
    MethodObject *m = (MethodObject *)type->tp_alloc(type, 0);
    if (m == NULL)
        return NULL;
    Py_INCREF(func);
    Py_INCREF(wrapped);
    m->func = func;
    m->wrapped = wrapped;
    m->vectorcall = (vectorcallfunc)Method_vectorcall;
    m->takes_keywords = !PyCFunction_Check(func) || (PyCFunction_GET_FLAGS(func) & METH_KEYWORDS);
    return (PyObject *)m;
}

static void
Method_dealloc(MethodObject *m)
{
    PyObject_GC_UnTrack(m);
    Py_CLEAR(m->func);
    Py_CLEAR(m->wrapped);
    Py_TYPE(m)->tp_free((PyObject *)m);
}

static int
Method_traverse(MethodObject *m, visitproc visit, void *arg)
{
    Py_VISIT(m->func);
    Py_VISIT(m->wrapped);
    return 0;
}

static PyObject *
Method_get(PyObject *self, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None) {
        Py_INCREF(self);
        return self;
    }
    return PyMethod_New(self, obj);
}

static PyObject *
Method_getattro(MethodObject *m, PyObject *name)
{
    /* __doc__, __name__, __qualname__, __module__, __annotations__... come from
       the Python twin, so help(), inspect and the docs see the same method. */
    PyObject *r = PyObject_GenericGetAttr((PyObject *)m, name);
    if (r != NULL || !PyErr_ExceptionMatches(PyExc_AttributeError))
        return r;
    PyErr_Clear();
    return PyObject_GetAttr(m->wrapped, name);
}

static PyObject *
Method_repr(MethodObject *m)
{
    PyObject *name = PyObject_GetAttrString(m->wrapped, "__qualname__");
    if (name == NULL)
        return NULL;
    PyObject *r = PyUnicode_FromFormat("<function %U (C accelerated) at %p>", name, m);
    Py_DECREF(name);
    return r;
}

/* Pickled by reference, as the Python function would be: its qualified name
   in its module names this object. */
static PyObject *
Method_reduce(MethodObject *m, PyObject *Py_UNUSED(ignored))
{
    return PyObject_GetAttrString(m->wrapped, "__qualname__");
}

static PyMethodDef Method_methods[] = {
    {"__reduce__", (PyCFunction)Method_reduce, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Method_members[] = {
    {"__wrapped__", T_OBJECT, offsetof(MethodObject, wrapped), READONLY, NULL},
    {"__func__", T_OBJECT, offsetof(MethodObject, func), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyObject *
Method_get_doc(MethodObject *m, void *closure)
{
    return PyObject_GetAttrString(m->wrapped, "__doc__");
}

static PyGetSetDef Method_getset[] = {
    {"__doc__", (getter)Method_get_doc, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject Method_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "goroutines._runtime._speedups.method",
    .tp_basicsize = sizeof(MethodObject),
    .tp_dealloc = (destructor)Method_dealloc,
    .tp_vectorcall_offset = offsetof(MethodObject, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_getattro = (getattrofunc)Method_getattro,
    .tp_repr = (reprfunc)Method_repr,
    .tp_methods = Method_methods,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
                Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_doc = "method(cfunc, pyfunc): cfunc(self, *args) as a method documented by pyfunc.",
    .tp_traverse = (traverseproc)Method_traverse,
    .tp_members = Method_members,
    .tp_getset = Method_getset,
    .tp_descr_get = Method_get,
    .tp_new = Method_tp_new,
};

/* ------------------------------------------------------------------------ */
/* Slots of the runtime's Python classes                                     */

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

static PyObject *slot_unset(PyObject *o, const char *name);

/* Read a slot (borrowed); NULL with the AttributeError Python code reading
   it would get (the words differ between versions) if it was never set. */
static inline PyObject *
slot_get(PyObject *o, Py_ssize_t off, const char *name)
{
    PyObject *v = SLOT(o, off);
    return v != NULL ? v : slot_unset(o, name);
}

static PyObject *
slot_unset(PyObject *o, const char *name)
{
    PyObject *v = PyObject_GetAttrString(o, name); /* raises the interpreter's own error */
    if (v != NULL) {
        Py_DECREF(v);
        PyErr_Format(PyExc_AttributeError, "'%s' object has no attribute '%s'",
                     Py_TYPE(o)->tp_name, name);
    }
    return NULL;
}

static int get_attr(PyObject *o, const char *name, PyObject **out);

static PyTypeObject *chan_type, *waiter_type, *gwaiter_type, *g_type, *p_type;

static Py_ssize_t c_lock, c_buf, c_cap, c_closed, c_recvq, c_sendq, c_timer;
static Py_ssize_t w_token, w_elem, w_value, w_ok, w_done, w_g, w_case, w_chan;
static Py_ssize_t g_id, g_state, g_wait_reason, g_token, g_greenlet, g_throw_exc, g_p, g_waiter;
static Py_ssize_t p_ident, p_runnext, p_runq, p_inbound, p_sleeping, p_schedtick, p_streak,
    p_killing, p_curg, p_free_workers, p_g0, p_g1, p_timerq;

/* From sched.py and friends, installed by setup(). */
static PyObject *sched_dict;      /* sched's globals: "attention" is read on every operation */
static PyObject *find_runnable;   /* sched._find_runnable(p) */
static PyObject *closed_error;    /* errors.ChannelClosedError */
static PyObject *s_runnable, *s_running, *s_waiting; /* G states */
static PyObject *s_chan_send, *s_chan_receive;       /* wait reasons */
static long timer_check_mask, runnext_streak;

static PyObject *str_attention, *str_wakeup, *str_wake, *str_abandon, *str_token;

/* Python twins, for the paths left to Python (attention, timers, foreign callers). */
static PyObject *py_send, *py_recv, *py_recv_ok;

/* This thread's P (sched._tls.p, mirrored by set_p). A strong reference,
   given back when the thread ends (see PRelease) or set_p(None). */
static __thread PyObject *tls_p = NULL;

static int
slot_offset(PyObject *cls, const char *name, Py_ssize_t *out)
{
    PyObject *d = PyObject_GetAttrString(cls, name);
    if (d == NULL)
        return -1;
    if (!Py_IS_TYPE(d, &PyMemberDescr_Type)) {
        PyErr_Format(PyExc_TypeError, "%R.%s is not a __slots__ member", cls, name);
        Py_DECREF(d);
        return -1;
    }
    PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
    if (m->type != T_OBJECT_EX) {
        PyErr_Format(PyExc_TypeError, "%R.%s: unexpected member type", cls, name);
        Py_DECREF(d);
        return -1;
    }
    *out = m->offset;
    Py_DECREF(d);
    return 0;
}

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
static int attention_hint = 1;

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

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */

/* The current exception as one object (normalised, traceback attached),
   and no exception set; NULL if there was none. */
static PyObject *
err_take(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    if (t == NULL)
        return NULL;
    PyErr_NormalizeException(&t, &v, &tb);
    if (tb != NULL) {
        PyException_SetTraceback(v, tb);
        Py_DECREF(tb);
    }
    Py_DECREF(t);
    return v;
#endif
}

/* Raise exc again as it was (steals it); no-op for NULL. */
static void
err_restore(PyObject *exc)
{
    if (exc == NULL)
        return;
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc, PyException_GetTraceback(exc));
#endif
}

/* The exception now set was raised while prior (stolen; may be NULL) was
   being handled: prior becomes its __context__, as Python chains an
   exception raised in an except or finally clause. */
static void
err_chain_context(PyObject *prior)
{
    if (prior == NULL)
        return;
    PyObject *exc = err_take();
    if (exc == NULL) {
        err_restore(prior);
        return;
    }
    if (exc != prior)
        PyException_SetContext(exc, prior);
    else
        Py_DECREF(prior);
    err_restore(exc);
}

static PyObject *py_throw; /* errors.throw (through sched): builds a RuntimeFault */
static PyObject *py_note_use; /* sched.note_use */

/* A port serves a caller without a P (a plain thread) from C: count that
   thread as a possible waker, as its Python twin's
   `if _tls.p is None and not _tls.foreign: _sched.note_use()` does (the
   call is sched.note_use itself). 0, or -1 with an error. */
static int
note_use(void)
{
    PyObject *r = PyObject_CallNoArgs(py_note_use);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* A broken runtime invariant: raise RuntimeFault("goroutines: fatal error: "
   + the message), the exception the Python twins raise with throw(). An
   exception already set becomes its __cause__ (raise ... from it). -1. */
static int
fault(const char *format, ...)
{
    PyObject *cause = err_take();
    va_list va;
    va_start(va, format);
    PyObject *msg = PyUnicode_FromFormatV(format, va);
    va_end(va);
    PyObject *exc = NULL;
    if (msg != NULL) {
        if (py_throw != NULL)
            exc = PyObject_CallOneArg(py_throw, msg);
        else
            PyErr_Format(PyExc_RuntimeError, "goroutines: fatal error: %U", msg);
        Py_DECREF(msg);
    }
    if (exc == NULL) {
        err_chain_context(cause);
        return -1;
    }
    if (cause != NULL) {
        PyException_SetContext(exc, Py_NewRef(cause));
        PyException_SetCause(exc, cause);
    }
    err_restore(exc);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Queues                                                                   */

/* The runtime's queues are collections.deque objects. Their length is the
   object's ob_size, and popleft/append are called through their C functions:
   no method dispatch on the hot path. Anything else (a deque subclass, the
   unbuffered channel's empty tuple) goes the way Python code would: len()
   and method calls by name, so an override is honoured on both paths. Each
   of the three reports an error (-1 or NULL) that every caller checks. */
static PyTypeObject *deque_type;
static PyCFunction deque_popleft_c, deque_append_c;
static PyObject *str_popleft, *str_append;

static int
dq_missing(void)
{
    return fault("a runtime queue is missing (an object not made by its __init__)");
}

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
/* ready / wake / park_g                                                    */

/* obj.name() with its result dropped: 0, or -1 with an error. */
static int
call_method0(PyObject *obj, PyObject *name)
{
    PyObject *r = PyObject_CallMethodNoArgs(obj, name);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Twin: sched.ready (and GWaiter.wake, its inlined copy): make a parked g
   runnable; the caller has won g's park token, so nobody else will ever
   ready g. Go's goready cannot fail; here a failing step (a queue append,
   the wake-up call) is a RuntimeFault - g is lost, a broken runtime - with
   the original error as its __cause__, never an error the caller could take
   for its own. The order loses nothing else: on this thread the old runnext
   is appended first (it stays runnext if that fails); for another thread's
   P, g is runnable before it is in inbound. */
static int
ready_impl(PyObject *g)
{
    if (!Py_IS_TYPE(g, g_type)) {
        PyErr_Format(PyExc_TypeError, "ready() needs a goroutine, got %R", g);
        return -1;
    }
    PyObject *p = slot_get(g, g_p, "p");
    if (p == NULL)
        return -1;
    if (!PyObject_TypeCheck(p, p_type))
        return fault("ready: goroutine %S has no P", SLOT(g, g_id) ? SLOT(g, g_id) : Py_None);
    /* p.ident == get_ident(): p is this thread's P (tls_p, the common case),
       or its ident says so (while _aio unbinds tls_p). */
    int local = p == tls_p;
    if (!local) {
        PyObject *ident = slot_get(p, p_ident, "ident");
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

/* w.wake() for a waiter whose token the caller won. */
static inline int
wake(PyObject *w)
{
    if (Py_IS_TYPE(w, gwaiter_type)) {
        PyObject *g = slot_get(w, w_g, "g");
        return g == NULL ? -1 : ready_impl(g);
    }
    return call_method0(w, str_wake);
}

static PyObject *py_gwaiter_wake; /* the Python twin */

static PyObject *
sp_gwaiter_wake(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 1 || !Py_IS_TYPE(args[0], gwaiter_type))
        return PyObject_Vectorcall(py_gwaiter_wake, args, nargs, NULL);
    if (wake(args[0]) < 0)
        return NULL;
    Py_RETURN_NONE;
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

/* One round of sched._find_runnable when it has nothing but queues to look
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

/* sched._switch_to after its first two lines (the caller has set p.curg and
   nxt.state): switch to nxt's greenlet, or start nxt on an idle worker
   greenlet, or have p's g0 start a new worker for it. Doing this here rather
   than calling the Python function keeps an interpreter frame off the C stack
   that a parked goroutine's greenlet saves (~1 KiB each). */
static PyObject *
switch_to_impl(PyObject *p, PyObject *nxt)
{
    PyObject *gr = SLOT(nxt, g_greenlet);
    PyObject *r;
    if (gr != NULL && gr != Py_None) {
        Py_INCREF(gr);
        r = PyGreenlet_Switch((PyGreenlet *)gr, NULL, NULL);
        Py_DECREF(gr);
        return r;
    }
    /* The greenlet that starts nxt finds it in p.curg (see sched._worker). */
    PyObject *free_workers = SLOT(p, p_free_workers);
    if (free_workers != NULL && PyList_CheckExact(free_workers) &&
        PyList_GET_SIZE(free_workers) > 0) {
        Py_ssize_t n = PyList_GET_SIZE(free_workers);
        gr = PyList_GET_ITEM(free_workers, n - 1);
        Py_INCREF(gr);
        if (PyList_SetSlice(free_workers, n - 1, n, NULL) < 0) {
            Py_DECREF(gr);
            return NULL;
        }
        slot_set(nxt, g_greenlet, gr);
    } else {
        gr = slot_get(p, p_g0, "g0");
        if (gr == NULL)
            return NULL;
        Py_INCREF(gr);
    }
    if (!PyGreenlet_Check(gr)) {
        fault("switch: expected a greenlet, got %R", gr);
        r = NULL;
    } else {
        r = PyGreenlet_Switch((PyGreenlet *)gr, NULL, NULL);
    }
    Py_DECREF(gr);
    return r;
}

/* Twin: sched.park_g. Block g (p's running G) until its token is won and
   it is readied; returns 0, or -1 with what a waker delivered (throw_exc)
   or what the scheduler raised. If picking the next G fails, g did not
   park: it is running again, and the error is the caller's (who takes its
   waiter back, as after any failed park). */
static int
park_g_impl(PyObject *p, PyObject *g, PyObject *reason, PyObject *token)
{
    if (SLOT(p, p_killing) == Py_True && SLOT(p, p_g1) != g) { /* g is not goroutine 1 */
        PyErr_SetNone(PyExc_GreenletExit);
        return -1;
    }
    slot_set(g, g_state, s_waiting);
    slot_set(g, g_wait_reason, reason);
    slot_set(g, g_token, token);
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
static PyObject *str_p_release;

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

static PyTypeObject PRelease_Type = {
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

/* Twin: the accelerator's half of sched._set_p. p is a P made by P.__init__
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
/* go                                                                       */
/*
 * sched.go, and the public go() that calls it, for a goroutine started by a
 * goroutine of this thread's P: the same G, filled the same way, queued the
 * same way. The Python twins take every other case (no P, a thread running an
 * asyncio loop, a pending panic, keyword arguments, a callable that is not a
 * plain function or method), before anything was done.
 */

static PyObject *gmod_dict;          /* goroutines._runtime.g's globals (_ids is replaced by run) */
static PyObject *allgs_dict;         /* g.allgs */
static PyObject *get_running_loop;   /* asyncio.events._get_running_loop, once imported */
static PyObject *py_sched_go, *py_go;
static PyObject *s_empty, *zero, *minus_one, *str_ids, *str_asyncio_events, *str_gr_context;
static Py_ssize_t g_fn, g_args, g_context, g_parent_id, g_created_code, g_created_lasti;

/* This thread's P if go() may put the new G on it; NULL (no error) if the
   Python twin must decide. */
static PyObject *
go_p(void)
{
    PyObject *p = tls_p;
    if (p == NULL || is_attention())
        return NULL;
    PyObject *ev = PyDict_GetItemWithError(PyImport_GetModuleDict(), str_asyncio_events);
    if (ev != NULL) {
        /* A thread running an asyncio loop: sched.go's rules decide. */
        if (get_running_loop == NULL) {
            get_running_loop = PyObject_GetAttrString(ev, "_get_running_loop");
            if (get_running_loop == NULL)
                return NULL;
        }
        PyObject *loop = PyObject_CallNoArgs(get_running_loop);
        if (loop == NULL)
            return NULL;
        Py_DECREF(loop);
        if (loop != Py_None)
            return NULL;
    } else if (PyErr_Occurred()) {
        return NULL;
    }
    return p;
}

/* Twin: the body of sched.go. A new G running fn(*args) on p, queued, in
   allgs; created at frame. NULL with an error, and no G anywhere. */
static PyObject *
new_g(PyObject *p, PyObject *fn, PyObject *args, PyFrameObject *frame)
{
    PyObject *ids = PyDict_GetItemWithError(gmod_dict, str_ids);
    if (ids == NULL) {
        if (!PyErr_Occurred())
            fault("newproc: goroutine ids not initialised");
        return NULL;
    }
    PyObject *id = PyIter_Next(ids);
    if (id == NULL) {
        if (!PyErr_Occurred())
            fault("newproc: goroutine ids exhausted");
        return NULL;
    }
    /* A copy of the caller's context, or None for an empty one (sched.go). */
    PyObject *cur = (PyObject *)PyGreenlet_GetCurrent();
    PyObject *ctx = cur == NULL ? NULL : PyObject_GetAttr(cur, str_gr_context);
    Py_XDECREF(cur);
    if (ctx == NULL) {
        Py_DECREF(id);
        return NULL;
    }
    if (ctx != Py_None) {
        Py_ssize_t n = PyObject_Length(ctx);
        Py_DECREF(ctx);
        ctx = n > 0 ? PyContext_CopyCurrent() : (n == 0 ? Py_NewRef(Py_None) : NULL);
        if (ctx == NULL) {
            Py_DECREF(id);
            return NULL;
        }
    }
    PyObject *code = frame != NULL ? (PyObject *)PyFrame_GetCode(frame) : Py_NewRef(Py_None);
    PyObject *lasti = frame != NULL ? PyLong_FromLong(PyFrame_GetLasti(frame)) : Py_NewRef(zero);
    PyObject *g = lasti == NULL ? NULL : g_type->tp_alloc(g_type, 0);
    if (g == NULL) {
        Py_DECREF(id);
        Py_DECREF(ctx);
        Py_XDECREF(code);
        Py_XDECREF(lasti);
        return NULL;
    }
    SLOT(g, g_id) = id; /* the slots own these new references */
    SLOT(g, g_context) = ctx;
    SLOT(g, g_created_code) = code;
    SLOT(g, g_created_lasti) = lasti;
    slot_set(g, g_fn, fn);
    slot_set(g, g_args, args);
    slot_set(g, g_p, p);
    slot_set(g, g_state, s_runnable);
    slot_set(g, g_wait_reason, s_empty);
    slot_set(g, g_greenlet, Py_None);
    slot_set(g, g_token, Py_None);
    slot_set(g, g_throw_exc, Py_None);
    slot_set(g, g_waiter, Py_None);
    PyObject *curg = SLOT(p, p_curg);
    PyObject *parent = curg != NULL && Py_IS_TYPE(curg, g_type) ? SLOT(curg, g_id) : NULL;
    slot_set(g, g_parent_id, parent != NULL ? parent : zero);
    if (PyDict_SetItem(allgs_dict, id, g) < 0) {
        Py_DECREF(g);
        return NULL;
    }
    if (dq_append(SLOT(p, p_runq), g) < 0) {
        /* Not queued, so it never runs: it must not stay in allgs either (a
           goroutine nobody will run, counted and dumped forever). The
           caller gets the error; no goroutine was started. */
        PyObject *exc = err_take();
        if (PyDict_DelItem(allgs_dict, id) < 0)
            PyErr_Clear();
        err_restore(exc);
        Py_DECREF(g);
        return NULL;
    }
    return g;
}

static PyObject *
sp_sched_go(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyTuple_CheckExact(args[1]) || !PyDict_CheckExact(args[2]) ||
        PyDict_GET_SIZE(args[2]) != 0 || !PyLong_CheckExact(args[3]))
        goto python;
    PyObject *p = go_p();
    if (p == NULL) {
        if (PyErr_Occurred())
            return NULL;
        goto python;
    }
    long depth = PyLong_AsLong(args[3]);
    if (depth < 1) {
        if (PyErr_Occurred())
            return NULL;
        goto python;
    }
    /* sys._getframe(depth) as sched.go counts it: its own frame is depth 0,
       which this C function does not have. */
    PyFrameObject *f = PyEval_GetFrame();
    Py_XINCREF(f);
    for (long k = 1; k < depth && f != NULL; k++) {
        PyFrameObject *back = PyFrame_GetBack(f);
        Py_DECREF(f);
        f = back;
    }
    PyObject *g = new_g(p, args[0], args[1], f);
    Py_XDECREF(f);
    return g;
python:
    return PyObject_Vectorcall(py_sched_go, args, nargs, NULL);
}

#define ASYNC_FLAGS (CO_COROUTINE | CO_ASYNC_GENERATOR | CO_ITERABLE_COROUTINE)

static PyObject *
sp_go(PyObject *mod, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs < 1 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0))
        goto python;
    PyObject *fn = args[0], *func = fn;
    if (PyMethod_Check(fn))
        func = PyMethod_GET_FUNCTION(fn);
    if (!PyFunction_Check(func) ||
        (((PyCodeObject *)PyFunction_GET_CODE(func))->co_flags & ASYNC_FLAGS))
        goto python; /* other callables, and the TypeError for async ones */
    PyObject *p = go_p();
    if (p == NULL) {
        if (PyErr_Occurred())
            return NULL;
        goto python;
    }
    PyObject *tup = PyTuple_New(nargs - 1);
    if (tup == NULL)
        return NULL;
    for (Py_ssize_t k = 1; k < nargs; k++)
        PyTuple_SET_ITEM(tup, k - 1, Py_NewRef(args[k]));
    PyObject *g = new_g(p, fn, tup, PyEval_GetFrame()); /* the caller's frame */
    Py_DECREF(tup);
    return g;
python:
    return PyObject_Vectorcall(py_go, args, nargsf, kwnames);
}

static PyObject *
sp_setup_go(PyObject *mod, PyObject *args)
{
    PyObject *sched_go, *gmod;
    if (!PyArg_ParseTuple(args, "OO:setup_go", &sched_go, &gmod))
        return NULL;
    if (g_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "setup_sched() first");
        return NULL;
    }
    PyObject *G = (PyObject *)g_type, *allgs = NULL;
    if (slot_offset(G, "id", &g_id) || slot_offset(G, "fn", &g_fn) ||
        slot_offset(G, "args", &g_args) || slot_offset(G, "context", &g_context) ||
        slot_offset(G, "parent_id", &g_parent_id) ||
        slot_offset(G, "created_code", &g_created_code) ||
        slot_offset(G, "created_lasti", &g_created_lasti) || get_attr(gmod, "allgs", &allgs))
        return NULL;
    if (!PyDict_CheckExact(allgs)) {
        Py_DECREF(allgs);
        PyErr_SetString(PyExc_TypeError, "allgs must be a dict");
        return NULL;
    }
    Py_XSETREF(allgs_dict, allgs);
    PyObject *d = PyModule_GetDict(gmod);
    Py_XSETREF(gmod_dict, Py_NewRef(d));
    Py_XSETREF(py_sched_go, Py_NewRef(sched_go));
    Py_RETURN_NONE;
}

static PyObject *
sp_setup_public_go(PyObject *mod, PyObject *go)
{
    if (py_sched_go == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "setup_go() first");
        return NULL;
    }
    Py_XSETREF(py_go, Py_NewRef(go));
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------------ */
/* WaitGroup.add / done                                                     */
/*
 * The common case of each: the counter changes and stays above zero, or
 * reaches zero with nobody waiting, on a thread with a P. Everything else (a
 * caller without a P, which the twin counts as a possible waker, a wrong
 * type, going negative, waking waiters) is the Python twin's, called
 * after the lock was released and nothing was changed.
 */

static PyTypeObject *wg_type;
static Py_ssize_t wg_lock, wg_count, wg_waiters;
static PyObject *py_wg_add, *py_wg_done;

/* 1 done, 0 leave it to Python, -1 error. */
static int
wg_add_fast(PyObject *wg, long delta)
{
    PyObject *lock = SLOT(wg, wg_lock);
    PyObject *count = SLOT(wg, wg_count);
    PyObject *waiters = SLOT(wg, wg_waiters);
    if (lock == NULL || !Py_IS_TYPE(lock, &Lock_Type) || count == NULL || waiters == NULL ||
        !PyList_CheckExact(waiters) || tls_p == NULL)
        return 0;
    if (lock_acquire_blocking((LockObject *)lock) < 0)
        return -1;
    count = SLOT(wg, wg_count);
    long n = PyLong_AsLong(count);
    if (n == -1 && PyErr_Occurred()) {
        lock_release_held((LockObject *)lock);
        return -1;
    }
    n += delta;
    if (n < 0 || (n == 0 && PyList_GET_SIZE(waiters) > 0)) {
        lock_release_held((LockObject *)lock);
        return 0;
    }
    int r = set_long_slot(wg, wg_count, n);
    lock_release_held((LockObject *)lock);
    return r < 0 ? -1 : 1;
}

static PyObject *
sp_wg_add(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs == 2 && Py_IS_TYPE(args[0], wg_type) && PyLong_CheckExact(args[1])) {
        int overflow;
        long delta = PyLong_AsLongAndOverflow(args[1], &overflow);
        if (!overflow && !(delta == -1 && PyErr_Occurred())) {
            int r = wg_add_fast(args[0], delta);
            if (r < 0)
                return NULL;
            if (r > 0)
                Py_RETURN_NONE;
        }
        PyErr_Clear();
    }
    return PyObject_Vectorcall(py_wg_add, args, nargs, NULL);
}

static PyObject *
sp_wg_done(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs == 1 && Py_IS_TYPE(args[0], wg_type)) {
        int r = wg_add_fast(args[0], -1);
        if (r < 0)
            return NULL;
        if (r > 0)
            Py_RETURN_NONE;
    }
    return PyObject_Vectorcall(py_wg_done, args, nargs, NULL);
}

static PyObject *
sp_setup_waitgroup(PyObject *mod, PyObject *cls)
{
    if (!PyType_Check(cls)) {
        PyErr_SetString(PyExc_TypeError, "setup_waitgroup() needs the WaitGroup class");
        return NULL;
    }
    if (slot_offset(cls, "_lock", &wg_lock) || slot_offset(cls, "_count", &wg_count) ||
        slot_offset(cls, "_waiters", &wg_waiters) || get_attr(cls, "add", &py_wg_add) ||
        get_attr(cls, "done", &py_wg_done))
        return NULL;
    Py_XSETREF(wg_type, (PyTypeObject *)Py_NewRef(cls));
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------------ */
/* Chan.send / recv / recv_ok                                               */

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

/* Lock a channel that chan_is_plain accepted. */
static inline LockObject *
chan_lock(PyObject *c)
{
    LockObject *l = (LockObject *)SLOT(c, c_lock);
    if (lock_acquire_blocking(l) < 0)
        return NULL;
    return l;
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

/* The goroutine's reusable GWaiter with a fresh token; NULL on error. */
static PyObject *
goroutine_waiter(PyObject *g, PyObject **token_out)
{
    PyObject *w = SLOT(g, g_waiter);
    if (w == NULL || !Py_IS_TYPE(w, gwaiter_type)) {
        /* GWaiter(g, None), its __init__'s stores without the call */
        w = gwaiter_type->tp_alloc(gwaiter_type, 0);
        if (w == NULL)
            return NULL;
        slot_set(w, w_token, Py_None);
        slot_set(w, w_elem, Py_None);
        slot_set(w, w_value, Py_None);
        slot_set(w, w_ok, Py_False);
        slot_set(w, w_done, Py_False);
        slot_set(w, w_case, minus_one);
        slot_set(w, w_chan, Py_None);
        slot_set(w, w_g, g);
        PyObject *old_w = SLOT(g, g_waiter);
        SLOT(g, g_waiter) = w; /* the slot owns the new reference */
        Py_XDECREF(old_w);
    }
    PyObject *token = lock_new_fast();
    if (token == NULL)
        return NULL;
    PyObject *old = SLOT(w, w_token);
    SLOT(w, w_token) = token; /* owned by the slot; borrowed below */
    Py_XDECREF(old);
    *token_out = token;
    return w;
}

/* The park failed (an exception): take w out of q unless a waker owns it
   (Chan._abandon), keeping the exception. If _abandon itself raises, that
   error is the one raised, with the park's as its __context__: what the
   Python twin's `except BaseException: self._abandon(w, q); raise` does. */
static void
abandon(PyObject *chan, PyObject *w, PyObject *q)
{
    PyObject *exc = err_take();
    PyObject *r = PyObject_CallMethodObjArgs(chan, str_abandon, w, q, NULL);
    if (r == NULL) {
        err_chain_context(exc);
        return;
    }
    Py_DECREF(r);
    err_restore(exc);
}

/* Chan.__init__(self, capacity=0) for an int capacity from 0 to sys.maxsize
   given by position (the Python twin validates everything else and raises). */
static PyObject *no_buffer; /* _chan._NO_BUFFER */
static PyObject *py_chan_init;

static PyObject *
sp_chan_init(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2 || !Py_IS_TYPE(args[0], chan_type) ||
        (nargs == 2 && !PyLong_CheckExact(args[1])))
        goto python;
    PyObject *self = args[0];
    PyObject *cap = nargs == 2 ? args[1] : zero;
    int neg = PyObject_RichCompareBool(cap, zero, Py_LT);
    int sign = neg == 0 ? PyObject_RichCompareBool(cap, zero, Py_GT) : 0;
    if (neg < 0 || sign < 0)
        return NULL;
    if (neg)
        goto python; /* the Python twin's ValueError */
    if (PyLong_AsSsize_t(cap) == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        goto python; /* beyond sys.maxsize: the twin's ValueError */
    }
    PyObject *lock = lock_new_fast();
    PyObject *buf = lock == NULL ? NULL
                    : sign ? PyObject_CallNoArgs((PyObject *)deque_type) : Py_NewRef(no_buffer);
    PyObject *rq = buf == NULL ? NULL : PyObject_CallNoArgs((PyObject *)deque_type);
    PyObject *sq = rq == NULL ? NULL : PyObject_CallNoArgs((PyObject *)deque_type);
    if (sq == NULL) {
        Py_XDECREF(lock);
        Py_XDECREF(buf);
        Py_XDECREF(rq);
        return NULL;
    }
    slot_set(self, c_cap, cap);
    PyObject *old;
#define TAKE(off, v) (old = SLOT(self, off), SLOT(self, off) = (v), Py_XDECREF(old))
    TAKE(c_lock, lock);
    TAKE(c_buf, buf);
    TAKE(c_recvq, rq);
    TAKE(c_sendq, sq);
#undef TAKE
    slot_set(self, c_closed, Py_False);
    slot_set(self, c_timer, Py_None);
    Py_RETURN_NONE;
python:
    return PyObject_Vectorcall(py_chan_init, args, nargs, NULL);
}

/* Pop waiters off q (a channel's queue, its lock held) until one whose park
   token this caller wins, and mark it completed (ok, done): a new reference,
   and the caller now owns its wake-up. NULL without an error if no waiter
   was live (the stale ones are dropped), NULL with an error. Reads what the
   Python twin's `w = q.popleft(); w.token.acquire(False)` reads, and fails
   as it does: a waiter without a token raises its AttributeError; so does
   any object in the queue that has no token, and one that has but is not a
   Waiter (whose slots C cannot read) is a RuntimeFault. */
static PyObject *
pop_partner(PyObject *q)
{
    for (;;) {
        Py_ssize_t n = dq_len(q);
        if (n <= 0)
            return NULL; /* -1: the error is set */
        PyObject *w = dq_popleft(q);
        if (w == NULL)
            return NULL;
        if (!Py_IS_TYPE(w, gwaiter_type) && !PyObject_TypeCheck(w, waiter_type)) {
            PyObject *tok = PyObject_GetAttr(w, str_token);
            if (tok != NULL) {
                Py_DECREF(tok);
                fault("chan: a channel queue holds %R, not a Waiter", w);
            }
            Py_DECREF(w);
            return NULL;
        }
        PyObject *tok = slot_get(w, w_token, "token");
        int won = tok == NULL ? -1 : token_win(tok);
        if (won > 0) {
            slot_set(w, w_ok, Py_True);
            slot_set(w, w_done, Py_True);
            return w;
        }
        Py_DECREF(w);
        if (won < 0)
            return NULL;
    }
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

/* The blocking half of send and recv: queue g's waiter on q, a queue of
   chan whose lock is held (elem: the value a sender offers, or NULL),
   unlock, and park until a partner or close wakes it. g is the goroutine
   running on p, this thread's P (running_g). A new reference to the waiter,
   whose result fields are the caller's to read; or NULL with an error, the
   waiter off the queue (Chan._abandon). */
static PyObject *
park_on(PyObject *chan, LockObject *lock, PyObject *q, PyObject *elem, PyObject *reason,
        PyObject *p, PyObject *g)
{
    Py_INCREF(p);
    Py_INCREF(g);
    PyObject *token;
    PyObject *w = goroutine_waiter(g, &token);
    if (w == NULL) {
        lock_release_held(lock);
    } else {
        Py_INCREF(w);
        Py_INCREF(token);
        Py_INCREF(q);
        if (elem != NULL)
            slot_set(w, w_elem, elem);
        int r = dq_append(q, w);
        lock_release_held(lock);
        if (r == 0) {
            r = park_g_impl(p, g, reason, token);
            if (r < 0)
                abandon(chan, w, q);
        }
        if (elem != NULL)
            slot_set(w, w_elem, Py_None);
        Py_DECREF(q);
        Py_DECREF(token);
        if (r < 0)
            Py_CLEAR(w);
    }
    Py_DECREF(g);
    Py_DECREF(p);
    return w;
}

/* Twin: Chan.send. Leaves to Python: a self that is not a plain Chan
   (chan_is_plain), a pending panic or signal, a caller without a goroutine
   (no P, or a P running none), arity errors. */
static PyObject *
sp_chan_send(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !Py_IS_TYPE(args[0], chan_type) || !chan_is_plain(args[0]) ||
        is_attention())
        return PyObject_Vectorcall(py_send, args, nargs, NULL);
    PyObject *self = args[0], *value = args[1];
    PyObject *p = tls_p;
    PyObject *g = p == NULL ? NULL : running_g(p);
    if (p != NULL && g == NULL)
        return PyObject_Vectorcall(py_send, args, nargs, NULL);
    if (p == NULL && note_use() < 0)
        return NULL;
    LockObject *lock = chan_lock(self);
    if (lock == NULL)
        return NULL;
    if (SLOT(self, c_closed) == Py_True) {
        lock_release_held(lock);
        PyErr_SetString(closed_error, "send on closed channel");
        return NULL;
    }
    PyObject *partner = pop_partner(SLOT(self, c_recvq));
    if (partner != NULL) {
        lock_release_held(lock);
        slot_set(partner, w_value, value);
        int r = wake(partner);
        Py_DECREF(partner);
        if (r < 0)
            return NULL;
        Py_RETURN_NONE;
    }
    if (PyErr_Occurred()) {
        lock_release_held(lock);
        return NULL;
    }
    PyObject *buf = SLOT(self, c_buf);
    Py_ssize_t nbuf = dq_len(buf);
    if (nbuf < 0) {
        lock_release_held(lock);
        return NULL;
    }
    if (nbuf < chan_cap(self)) {
        int r = dq_append(buf, value);
        lock_release_held(lock);
        if (r < 0)
            return NULL;
        Py_RETURN_NONE;
    }
    if (p == NULL) {
        /* A caller without a P: Python's foreign path, from the start. */
        lock_release_held(lock);
        return PyObject_Vectorcall(py_send, args, nargs, NULL);
    }
    PyObject *w = park_on(self, lock, SLOT(self, c_sendq), value, s_chan_send, p, g);
    if (w == NULL)
        return NULL;
    int ok = SLOT(w, w_ok) == Py_True;
    Py_DECREF(w);
    if (!ok) {
        PyErr_SetString(closed_error, "send on closed channel");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* A new reference to the value a sender's waiter offers (its elem). */
static inline PyObject *
offered(PyObject *sender)
{
    PyObject *v = slot_get(sender, w_elem, "elem");
    return v == NULL ? NULL : Py_NewRef(v);
}

/* Twin: the receive shared by Chan.recv and recv_ok: 1 with *value (new
   ref) and *ok set, 0 if Python must do it (a self that is not a plain Chan,
   attention, a timer channel, a caller without a goroutine: nothing was
   changed), -1 on error. */
static int
chan_recv_impl(PyObject *self, PyObject **value, int *ok)
{
    if (!chan_is_plain(self) || is_attention())
        return 0;
    PyObject *timer = SLOT(self, c_timer);
    if (timer != Py_None)
        return 0;
    PyObject *p = tls_p;
    PyObject *g = p == NULL ? NULL : running_g(p);
    if (p != NULL && g == NULL)
        return 0;
    if (p == NULL && note_use() < 0)
        return -1;
    LockObject *lock = chan_lock(self);
    if (lock == NULL)
        return -1;
    PyObject *buf = SLOT(self, c_buf);
    PyObject *sq = SLOT(self, c_sendq);
    Py_ssize_t nbuf = dq_len(buf);
    if (nbuf < 0) {
        lock_release_held(lock);
        return -1;
    }
    if (nbuf > 0) {
        PyObject *v = dq_popleft(buf);
        if (v == NULL) {
            lock_release_held(lock);
            return -1;
        }
        /* Chan._refill: move the first blocked sender's value into the buffer. */
        PyObject *sender = pop_partner(sq);
        int r = PyErr_Occurred() ? -1 : 0;
        if (sender != NULL) {
            PyObject *elem = offered(sender);
            r = elem == NULL ? -1 : dq_append(buf, elem);
            Py_XDECREF(elem);
        }
        lock_release_held(lock);
        if (sender != NULL) {
            if (r == 0)
                r = wake(sender);
            Py_DECREF(sender);
        }
        if (r < 0) {
            Py_DECREF(v);
            return -1;
        }
        *value = v;
        *ok = 1;
        return 1;
    }
    PyObject *sender = pop_partner(sq);
    if (sender != NULL) {
        lock_release_held(lock);
        PyObject *v = offered(sender);
        int r = v == NULL ? -1 : wake(sender);
        Py_DECREF(sender);
        if (r < 0) {
            Py_XDECREF(v);
            return -1;
        }
        *value = v;
        *ok = 1;
        return 1;
    }
    if (PyErr_Occurred()) {
        lock_release_held(lock);
        return -1;
    }
    if (SLOT(self, c_closed) == Py_True) {
        lock_release_held(lock);
        Py_INCREF(Py_None);
        *value = Py_None;
        *ok = 0;
        return 1;
    }
    if (p == NULL) {
        lock_release_held(lock);
        return 0;
    }
    /* Chan._recv_block (no timer here). */
    PyObject *w = park_on(self, lock, SLOT(self, c_recvq), NULL, s_chan_receive, p, g);
    if (w == NULL)
        return -1;
    PyObject *v = slot_get(w, w_value, "value");
    if (v == NULL) {
        Py_DECREF(w);
        return -1;
    }
    *value = Py_NewRef(v);
    slot_set(w, w_value, Py_None);
    *ok = SLOT(w, w_ok) == Py_True;
    Py_DECREF(w);
    return 1;
}

/* (value, ok), what recv_ok returns; steals value. */
static PyObject *
value_ok(PyObject *value, int ok)
{
    PyObject *t = PyTuple_New(2);
    if (t == NULL) {
        Py_DECREF(value);
        return NULL;
    }
    PyTuple_SET_ITEM(t, 0, value);
    PyTuple_SET_ITEM(t, 1, Py_NewRef(ok ? Py_True : Py_False));
    return t;
}

/* The receive shared by recv and recv_ok: 1 with *v and *ok from C, 2 with
   *v the Python twin's whole result, -1 on error. The twin takes every call
   the port does not (arity, a self that is not a Chan...). */
static int
recv_entry(PyObject *const *args, Py_ssize_t nargs, PyObject *twin, PyObject **v, int *ok)
{
    int r = nargs == 1 && Py_IS_TYPE(args[0], chan_type) ? chan_recv_impl(args[0], v, ok) : 0;
    if (r != 0)
        return r;
    *v = PyObject_Vectorcall(twin, args, nargs, NULL);
    return *v == NULL ? -1 : 2;
}

static PyObject *
sp_chan_recv(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *v;
    int ok;
    return recv_entry(args, nargs, py_recv, &v, &ok) < 0 ? NULL : v;
}

static PyObject *
sp_chan_recv_ok(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *v;
    int ok;
    int r = recv_entry(args, nargs, py_recv_ok, &v, &ok);
    if (r < 0)
        return NULL;
    return r == 2 ? v : value_ok(v, ok);
}


/* Chan.__iter__: receive until closed and drained. The Python twin is a
   generator; this iterator receives without one, so a goroutine parked in
   `for v in ch` has no generator's interpreter frame on its saved C stack. */
typedef struct {
    PyObject_HEAD
    PyObject *chan; /* NULL once the channel was found closed and drained */
} ChanIterObject;

static PyTypeObject ChanIter_Type;

static PyObject *
ChanIter_next(ChanIterObject *it)
{
    PyObject *chan = it->chan;
    if (chan == NULL)
        return NULL;
    PyObject *v;
    int ok;
    Py_INCREF(chan);
    int r = chan_recv_impl(chan, &v, &ok);
    if (r == 0) {
        PyObject *t = PyObject_CallOneArg(py_recv_ok, chan);
        if (t == NULL) {
            r = -1;
        } else if (!PyTuple_CheckExact(t) || PyTuple_GET_SIZE(t) != 2) {
            fault("chan: recv_ok() returned %R, not (value, ok)", t);
            Py_DECREF(t);
            r = -1;
        } else {
            v = PyTuple_GET_ITEM(t, 0);
            Py_INCREF(v);
            ok = PyTuple_GET_ITEM(t, 1) == Py_True;
            Py_DECREF(t);
            r = 1;
        }
    }
    Py_DECREF(chan);
    if (r < 0)
        return NULL;
    if (!ok) {
        Py_DECREF(v);
        Py_CLEAR(it->chan);
        return NULL; /* StopIteration */
    }
    return v;
}

static void
ChanIter_dealloc(ChanIterObject *it)
{
    PyObject_GC_UnTrack(it);
    Py_CLEAR(it->chan);
    PyObject_GC_Del(it);
}

static int
ChanIter_traverse(ChanIterObject *it, visitproc visit, void *arg)
{
    Py_VISIT(it->chan);
    return 0;
}

static PyTypeObject ChanIter_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "goroutines._runtime._speedups.ChanIterator",
    .tp_basicsize = sizeof(ChanIterObject),
    .tp_dealloc = (destructor)ChanIter_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Iterator over a channel's values until it is closed and drained.",
    .tp_traverse = (traverseproc)ChanIter_traverse,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)ChanIter_next,
};

static PyObject *py_chan_iter; /* the Python twin, a generator function */

/* Twin: Chan.__iter__ (each step is chan_recv_impl, or the twin's recv_ok). */
static PyObject *
sp_chan_iter(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 1 || !Py_IS_TYPE(args[0], chan_type))
        return PyObject_Vectorcall(py_chan_iter, args, nargs, NULL);
    ChanIterObject *it = PyObject_GC_New(ChanIterObject, &ChanIter_Type);
    if (it == NULL)
        return NULL;
    Py_INCREF(args[0]);
    it->chan = args[0];
    PyObject_GC_Track(it);
    return (PyObject *)it;
}

/* ------------------------------------------------------------------------ */
/* select                                                                   */
/*
 * _select.select for a goroutine whose cases are all on plain channels (no
 * timer channel): the same three passes, the same lock order (by address,
 * each channel once), the same pooled waiters (_select._spare). Everything
 * else - a caller without a P, a timer channel among the cases, a pending
 * panic or signal, no channel at all, malformed cases, more than MAX_CASES -
 * goes to the Python twin, before anything was locked or changed.
 */

#define MAX_CASES 64
#define SPARE_MAX 64

static PyObject *kind_recv, *kind_recv_ok, *kind_send; /* _select's case markers */
static PyObject *select_spare;                          /* _select._spare */
static PyObject *py_select;                             /* the Python twin */
static PyObject *s_select;                              /* wait reason "select" */
static PyObject *str_remove;

static __thread uint64_t rng_state;

/* xorshift64*: a uniform choice among ready cases needs no more. */
static inline uint64_t
rng_next(void)
{
    uint64_t x = rng_state;
    if (x == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        x = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&rng_state;
        x |= 1;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static inline Py_ssize_t
rng_below(Py_ssize_t n)
{
    return (Py_ssize_t)(rng_next() % (uint64_t)n);
}

/* Release the locks taken in pass 1 (held references, in case a channel's
   _lock were replaced meanwhile) and drop them. */
static void
unlock_all(LockObject **locks, Py_ssize_t n)
{
    for (Py_ssize_t k = n - 1; k >= 0; k--) {
        lock_release_held(locks[k]);
        Py_DECREF(locks[k]);
    }
}

/* lock.acquire() / lock.release() for pass 3, which reads each channel's
   _lock afresh, as the Python twin does: the accelerator's Lock directly,
   anything else by its methods. 0, or -1 with an error. */
static int
any_lock_acquire(PyObject *lock)
{
    if (Py_IS_TYPE(lock, &Lock_Type))
        return lock_acquire_blocking((LockObject *)lock) < 0 ? -1 : 0;
    return call_method0(lock, str_acquire);
}

static int
any_lock_release(PyObject *lock)
{
    if (Py_IS_TYPE(lock, &Lock_Type)) {
        if (!((LockObject *)lock)->locked) {
            PyErr_SetString(PyExc_RuntimeError, "release unlocked lock");
            return -1;
        }
        lock_release_held((LockObject *)lock);
        return 0;
    }
    return call_method0(lock, str_release);
}

/* Remove w from q if it is there (a dequeuer may have dropped it already). */
static int
dq_discard(PyObject *q, PyObject *w)
{
    int has = PySequence_Contains(q, w);
    if (has <= 0)
        return has;
    PyObject *r = PyObject_CallMethodOneArg(q, str_remove, w);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 1;
}

static PyObject *
select_result(PyObject *kind, PyObject *value, int ok)
{
    /* (i, result) is built by the caller; this is result. value is stolen. */
    if (kind == kind_send) {
        Py_XDECREF(value);
        Py_RETURN_NONE;
    }
    if (value == NULL) {
        Py_INCREF(Py_None);
        value = Py_None;
    }
    return kind == kind_recv_ok ? value_ok(value, ok) : value;
}

static PyObject *
pair(Py_ssize_t i, PyObject *result)
{
    if (result == NULL)
        return NULL;
    PyObject *n = PyLong_FromSsize_t(i);
    if (n == NULL) {
        Py_DECREF(result);
        return NULL;
    }
    PyObject *t = PyTuple_New(2);
    if (t == NULL) {
        Py_DECREF(n);
        Py_DECREF(result);
        return NULL;
    }
    PyTuple_SET_ITEM(t, 0, n);
    PyTuple_SET_ITEM(t, 1, result);
    return t;
}

static int
addr_less(PyObject *a, PyObject *b)
{
    return (uintptr_t)a < (uintptr_t)b;
}

/* Pass 3 of select: take every waiter but the winner's off its channel's
   queue, each channel's lock taken in turn. Returns the winner (borrowed;
   NULL if none), or sets *failed with an error: taking a lock failed (a
   signal handler raised in its slow path) or so did removing a waiter. Then,
   as in the Python twin, whose pass 3 is a finally clause, that error is
   the one raised (with the park's error, if any, as its __context__, set by
   the caller), the remaining waiters are left where they are, and none is
   pooled: a waiter still queued has its token won, so every dequeuer drops
   it as stale - but a pooled one gets a new token, and a partner of its old
   channel could complete a later select with the wrong case and value. */
static PyObject *
select_pass3(PyObject **waiters, Py_ssize_t nw, int *failed)
{
    PyObject *winner = NULL;
    for (Py_ssize_t k = 0; k < nw; k++) {
        PyObject *w = waiters[k];
        PyObject *ch = SLOT(w, w_chan);
        if (SLOT(w, w_done) == Py_True) {
            winner = w;
        } else if (ch != NULL && Py_IS_TYPE(ch, chan_type)) {
            Py_INCREF(ch);
            PyObject *lock = SLOT(ch, c_lock);
            PyObject *rq = SLOT(ch, c_recvq), *sq = SLOT(ch, c_sendq);
            int r = -1;
            if (lock == NULL || rq == NULL || sq == NULL) {
                fault("selectgo: channel %R lost its fields while a select waited on it", ch);
            } else {
                Py_INCREF(lock);
                Py_INCREF(rq);
                Py_INCREF(sq);
                r = any_lock_acquire(lock);
                if (r == 0) {
                    /* A dequeuer may have dropped it as stale already. */
                    r = dq_discard(rq, w);
                    if (r == 0)
                        r = dq_discard(sq, w);
                    PyObject *exc = err_take();
                    if (any_lock_release(lock) < 0)
                        r = -1;
                    err_chain_context(exc);
                }
                Py_DECREF(lock);
                Py_DECREF(rq);
                Py_DECREF(sq);
            }
            Py_DECREF(ch);
            if (r < 0) {
                *failed = 1;
                return NULL;
            }
        }
        slot_set(w, w_elem, Py_None);
        slot_set(w, w_chan, Py_None);
    }
    return winner;
}

/* Twin: _select.select, passes 1-3, for a goroutine whose cases are all on
   plain channels. Leaves to Python (before anything was locked or changed):
   a caller without a running goroutine, a timer channel or a channel not
   made by Chan.__init__ among the cases, a pending panic or signal, no
   channel at all, malformed cases, more than MAX_CASES. */
static PyObject *
sp_select(PyObject *mod, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t ncases = PyVectorcall_NARGS(nargsf);
    int dflt = 0;
    if (kwnames != NULL) {
        if (PyTuple_GET_SIZE(kwnames) != 1 ||
            PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "default") != 0)
            goto python;
        if (!PyBool_Check(args[ncases]))
            goto python; /* the twin's TypeError */
        dflt = args[ncases] == Py_True;
    }
    if (ncases == 0 || ncases > MAX_CASES || is_attention())
        goto python;
    PyObject *p = tls_p;
    if (p == NULL || running_g(p) == NULL)
        goto python;

    PyObject *chan_of[MAX_CASES], *kind_of[MAX_CASES], *value_of[MAX_CASES];
    PyObject *lockorder[MAX_CASES];
    LockObject *locks[MAX_CASES];
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < ncases; i++) {
        PyObject *c = args[i];
        if (!PyTuple_CheckExact(c) || PyTuple_GET_SIZE(c) != 3)
            goto python;
        PyObject *ch = PyTuple_GET_ITEM(c, 0), *kind = PyTuple_GET_ITEM(c, 1);
        if (kind != kind_recv && kind != kind_recv_ok && kind != kind_send)
            goto python;
        if (ch != Py_None) {
            if (!Py_IS_TYPE(ch, chan_type) || !chan_is_plain(ch) || SLOT(ch, c_timer) != Py_None)
                goto python;
            /* insertion into lockorder, by address */
            Py_ssize_t k = n++;
            while (k > 0 && addr_less(ch, lockorder[k - 1])) {
                lockorder[k] = lockorder[k - 1];
                k--;
            }
            lockorder[k] = ch;
        }
        chan_of[i] = ch;
        kind_of[i] = kind;
        value_of[i] = PyTuple_GET_ITEM(c, 2);
    }
    if (n == 0)
        goto python;
    Py_ssize_t nlock = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        if (nlock == 0 || lockorder[k] != lockorder[nlock - 1])
            lockorder[nlock++] = lockorder[k];
    }
    /* The cases tuple (args) keeps every channel and value alive throughout. */
    for (Py_ssize_t k = 0; k < nlock; k++) {
        LockObject *lk = (LockObject *)SLOT(lockorder[k], c_lock);
        if (lock_owned(lk)) {
            /* This thread is inside an operation on that channel: the twin's
               _select_busy decides without touching it. */
            unlock_all(locks, k);
            goto python;
        }
        locks[k] = (LockObject *)Py_NewRef(lk);
        if (lock_acquire_blocking(locks[k]) < 0) {
            Py_DECREF(locks[k]);
            unlock_all(locks, k);
            return NULL;
        }
    }

    Py_ssize_t ready[MAX_CASES];
    Py_ssize_t nready;
    PyObject *partner = NULL; /* a waiter whose token we won: wake once unlocked */
    PyObject *result = NULL;  /* owned */
    int ok = 1;
    Py_ssize_t i;
    for (;;) {
        /* Pass 1: which cases can proceed now? */
        nready = 0;
        for (i = 0; i < ncases; i++) {
            PyObject *ch = chan_of[i];
            if (ch == Py_None)
                continue;
            int can;
            if (kind_of[i] == kind_send) {
                Py_ssize_t nrq = dq_len(SLOT(ch, c_recvq)), nbuf = 0;
                if (nrq < 0 || (nrq == 0 && (nbuf = dq_len(SLOT(ch, c_buf))) < 0))
                    goto fail_locked;
                can = nrq > 0 || SLOT(ch, c_closed) == Py_True || nbuf < chan_cap(ch);
            } else {
                Py_ssize_t nbuf = dq_len(SLOT(ch, c_buf)), nsq = 0;
                if (nbuf < 0 || (nbuf == 0 && (nsq = dq_len(SLOT(ch, c_sendq))) < 0))
                    goto fail_locked;
                can = nbuf > 0 || nsq > 0 || SLOT(ch, c_closed) == Py_True;
            }
            if (can)
                ready[nready++] = i;
        }
        if (nready == 0)
            break;
        i = nready == 1 ? ready[0] : ready[rng_below(nready)];
        PyObject *ch = chan_of[i], *kind = kind_of[i];
        if (kind == kind_send) {
            if (SLOT(ch, c_closed) == Py_True) {
                unlock_all(locks, nlock);
                PyErr_SetString(closed_error, "send on closed channel");
                return NULL;
            }
            partner = pop_partner(SLOT(ch, c_recvq));
            if (partner != NULL)
                slot_set(partner, w_value, value_of[i]);
            else if (PyErr_Occurred())
                goto fail_locked;
            else {
                PyObject *buf = SLOT(ch, c_buf);
                Py_ssize_t nbuf = dq_len(buf);
                if (nbuf < 0)
                    goto fail_locked;
                if (nbuf < chan_cap(ch)) {
                    if (dq_append(buf, value_of[i]) < 0)
                        goto fail_locked;
                } else {
                    continue; /* the receivers we saw were stale: poll again */
                }
            }
            break;
        }
        PyObject *buf = SLOT(ch, c_buf), *sq = SLOT(ch, c_sendq);
        Py_ssize_t nbuf = dq_len(buf);
        if (nbuf < 0)
            goto fail_locked;
        if (nbuf > 0) {
            result = dq_popleft(buf);
            if (result == NULL)
                goto fail_locked;
            partner = pop_partner(sq);
            if (partner != NULL) {
                PyObject *elem = offered(partner);
                int r = elem == NULL ? -1 : dq_append(buf, elem);
                Py_XDECREF(elem);
                if (r < 0)
                    goto fail_locked;
            } else if (PyErr_Occurred()) {
                goto fail_locked;
            }
            break;
        }
        partner = pop_partner(sq);
        if (partner != NULL) {
            result = offered(partner);
            if (result == NULL)
                goto fail_locked;
        } else if (PyErr_Occurred()) {
            goto fail_locked;
        } else {
            if (SLOT(ch, c_closed) != Py_True)
                continue; /* the senders we saw were stale: poll again */
            ok = 0;
        }
        break;
    }
    if (nready > 0) {
        unlock_all(locks, nlock);
        if (partner != NULL) {
            int r = wake(partner);
            Py_DECREF(partner);
            if (r < 0) {
                Py_XDECREF(result);
                return NULL;
            }
        }
        return pair(i, select_result(kind_of[i], result, ok));
    }
    if (dflt) {
        unlock_all(locks, nlock);
        return pair(-1, (Py_INCREF(Py_None), Py_None));
    }

    /* Pass 2: queue a waiter on every channel, sharing one token. */
    /* Checked on entry, again here: pass 1 may have run Python code (a
       queue's own methods, a token that is not a Lock). */
    PyObject *g = running_g(p);
    if (g == NULL) {
        unlock_all(locks, nlock);
        fault("selectgo: no goroutine running on this thread's P");
        return NULL;
    }
    PyObject *token = lock_new_fast();
    PyObject *waiters[MAX_CASES];
    Py_ssize_t nw = 0;
    if (token == NULL) {
        unlock_all(locks, nlock);
        return NULL;
    }
    Py_INCREF(p);
    Py_INCREF(g);
    Py_ssize_t order[MAX_CASES];
    for (i = 0; i < ncases; i++)
        order[i] = i;
    if (nlock < n) {
        /* Cases on one channel queue in random order, as Go's (its lockorder
           comes from a random pollorder): a partner arriving later must not
           always pick the first of them. */
        for (i = ncases - 1; i > 0; i--) {
            Py_ssize_t j = rng_below(i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }
    int err = 0;
    for (Py_ssize_t k = 0; k < ncases && !err; k++) {
        i = order[k];
        PyObject *ch = chan_of[i];
        if (ch == Py_None)
            continue;
        PyObject *w = NULL;
        Py_ssize_t nspare = PyList_GET_SIZE(select_spare);
        if (nspare > 0) {
            w = PyList_GET_ITEM(select_spare, nspare - 1);
            Py_INCREF(w);
            if (PyList_SetSlice(select_spare, nspare - 1, nspare, NULL) < 0) {
                Py_DECREF(w);
                err = 1;
                break;
            }
            slot_set(w, w_g, g);
            slot_set(w, w_token, token);
            slot_set(w, w_done, Py_False);
        } else {
            PyObject *a[2] = {g, token};
            w = PyObject_Vectorcall((PyObject *)gwaiter_type, a, 2, NULL);
            if (w == NULL) {
                err = 1;
                break;
            }
        }
        PyObject *idx = PyLong_FromSsize_t(i);
        if (idx == NULL) {
            Py_DECREF(w);
            err = 1;
            break;
        }
        PyObject *old = SLOT(w, w_case);
        SLOT(w, w_case) = idx;
        Py_XDECREF(old);
        slot_set(w, w_chan, ch);
        if (kind_of[i] == kind_send) {
            slot_set(w, w_elem, value_of[i]);
            err = dq_append(SLOT(ch, c_sendq), w) < 0;
        } else {
            err = dq_append(SLOT(ch, c_recvq), w) < 0;
        }
        waiters[nw++] = w; /* owned */
    }
    unlock_all(locks, nlock);
    if (!err)
        err = park_g_impl(p, g, s_select, token) < 0;
    /* Pass 3: dequeue from every channel but the winner's (keeping any error). */
    PyObject *park_err = err ? err_take() : NULL;
    ((LockObject *)token)->locked = 1;
    int failed = 0;
    PyObject *winner = select_pass3(waiters, nw, &failed);
    PyObject *ret = NULL;
    if (failed) {
        err_chain_context(park_err);
    } else if (err) {
        err_restore(park_err);
    } else if (winner == NULL) {
        fault("selectgo: woken without a winning case");
    } else {
        i = PyLong_AsSsize_t(SLOT(winner, w_case));
        PyObject *value = SLOT(winner, w_value);
        Py_INCREF(value);
        int wok = SLOT(winner, w_ok) == Py_True;
        slot_set(winner, w_value, Py_None);
        if (PyList_GET_SIZE(select_spare) < SPARE_MAX) {
            for (Py_ssize_t k = 0; k < nw; k++) {
                slot_set(waiters[k], w_g, Py_None); /* keep no G alive */
                if (PyList_Append(select_spare, waiters[k]) < 0)
                    PyErr_Clear();
            }
        }
        if (kind_of[i] == kind_send && !wok) {
            Py_DECREF(value);
            PyErr_SetString(closed_error, "send on closed channel");
        } else {
            ret = pair(i, select_result(kind_of[i], value, wok));
        }
    }
    for (Py_ssize_t k = 0; k < nw; k++)
        Py_DECREF(waiters[k]);
    Py_DECREF(token);
    Py_DECREF(g);
    Py_DECREF(p);
    return ret;

fail_locked:
    unlock_all(locks, nlock);
    Py_XDECREF(partner);
    Py_XDECREF(result);
    return NULL;

python:
    return PyObject_Vectorcall(py_select, args, nargsf, kwnames);
}

/* The case constructors recv(ch), recv_ok(ch), send(ch, value) for a Chan
   or None; views and errors are the Python twins'. */
static PyObject *py_case_recv, *py_case_recv_ok, *py_case_send;

static inline PyObject *
make_case(PyObject *ch, PyObject *kind, PyObject *value)
{
    PyObject *t = PyTuple_New(3);
    if (t == NULL)
        return NULL;
    PyTuple_SET_ITEM(t, 0, Py_NewRef(ch));
    PyTuple_SET_ITEM(t, 1, Py_NewRef(kind));
    PyTuple_SET_ITEM(t, 2, Py_NewRef(value));
    return t;
}

static PyObject *
sp_case_recv(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs == 1 && (Py_IS_TYPE(args[0], chan_type) || args[0] == Py_None))
        return make_case(args[0], kind_recv, Py_None);
    return PyObject_Vectorcall(py_case_recv, args, nargs, NULL);
}

static PyObject *
sp_case_recv_ok(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs == 1 && (Py_IS_TYPE(args[0], chan_type) || args[0] == Py_None))
        return make_case(args[0], kind_recv_ok, Py_None);
    return PyObject_Vectorcall(py_case_recv_ok, args, nargs, NULL);
}

static PyObject *
sp_case_send(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs == 2 && (Py_IS_TYPE(args[0], chan_type) || args[0] == Py_None))
        return make_case(args[0], kind_send, args[1]);
    return PyObject_Vectorcall(py_case_send, args, nargs, NULL);
}

static PyObject *
sp_setup_cases(PyObject *mod, PyObject *args)
{
    PyObject *r, *rok, *snd;
    if (!PyArg_ParseTuple(args, "OOO:setup_cases", &r, &rok, &snd))
        return NULL;
    if (kind_recv == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "setup_select() first");
        return NULL;
    }
    Py_XSETREF(py_case_recv, Py_NewRef(r));
    Py_XSETREF(py_case_recv_ok, Py_NewRef(rok));
    Py_XSETREF(py_case_send, Py_NewRef(snd));
    Py_RETURN_NONE;
}

static PyObject *
sp_setup_select(PyObject *mod, PyObject *args)
{
    PyObject *recv, *recv_ok, *send, *spare, *pyselect, *reason;
    if (!PyArg_ParseTuple(args, "OOOO!OO:setup_select", &recv, &recv_ok, &send, &PyList_Type,
                          &spare, &pyselect, &reason))
        return NULL;
    if (chan_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "setup_chan() first");
        return NULL;
    }
    Py_INCREF(recv);
    Py_XSETREF(kind_recv, recv);
    Py_INCREF(recv_ok);
    Py_XSETREF(kind_recv_ok, recv_ok);
    Py_INCREF(send);
    Py_XSETREF(kind_send, send);
    Py_INCREF(spare);
    Py_XSETREF(select_spare, spare);
    Py_INCREF(pyselect);
    Py_XSETREF(py_select, pyselect);
    Py_INCREF(reason);
    Py_XSETREF(s_select, reason);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------------ */
/* Frame-stack chunks                                                       */
/*
 * Each greenlet gets its own chunk of the interpreter's frame stack when it
 * starts (16 KiB, CPython 3.11-3.13's DATA_STACK_CHUNK_SIZE), allocated with
 * the object arena allocator: an mmap on start, a munmap on exit, and a page
 * fault on first touch. Measured here, that is most of what a goroutine's
 * start and exit cost (strace: one mmap and one munmap per greenlet; system
 * time twice the user time). Go keeps a cache of free stacks for the same
 * reason. This allocator serves 16 KiB requests from 1 MiB regions and keeps
 * every freed chunk for reuse: up to CHUNK_CACHE of them with their pages (a
 * reused chunk faults no more), the rest with their pages given back
 * (madvise), so what stays resident is bounded while the address space kept
 * is that of the most goroutines ever alive at once. Other sizes (pymalloc's
 * arenas, deeper frame stacks) go to the allocator it replaced. Linux only.
 *
 * The arena allocator is process-wide, so:
 *   * It is installed only from the main interpreter (cache_frame_stacks),
 *     once, and never removed. GOROUTINES_ARENA=0 keeps it out (sched.py).
 *   * Its state is guarded by chunk_mutex, not by a GIL: with a
 *     per-interpreter GIL (3.12+), threads of other interpreters allocate
 *     and free through it at the same time. A fork in the middle is handled
 *     by pthread_atfork.
 *   * No chunk of its regions is ever handed to the allocator it replaced
 *     (a piece of a region is not something that allocator made); a 16 KiB
 *     chunk that allocator made and that is freed here is kept for reuse
 *     like ours (it is 16 KiB of valid memory either way).
 *   * It relies on two things it does not control, checked before it is
 *     installed (probe_frame_stacks) by watching a greenlet start and end
 *     through a forwarding allocator: that a new greenlet's first frame
 *     takes a chunk of CHUNK_SIZE bytes from the arena allocator, and that
 *     greenlet gives it back to the arena allocator, with that size, when
 *     it ends (greenlet's PythonState::did_finish frees the chunks CPython
 *     never pops itself). If either fails, the cache is not installed and
 *     goroutines run with the interpreter's own allocator: slower starts,
 *     nothing else.
 */
#if defined(__linux__) && defined(MAP_ANONYMOUS)
#include <pthread.h>

#define CHUNK_SIZE (16 * 1024)
#define REGION_SIZE (64 * CHUNK_SIZE)
#define CHUNK_CACHE 4096
#ifdef MADV_FREE
#define MADV_FREE_OR_DONTNEED MADV_FREE
#else
#define MADV_FREE_OR_DONTNEED MADV_DONTNEED
#endif

static PyObjectArenaAllocator base_arena; /* the allocator replaced; set before any use */
/* chunk_mutex guards free_chunks, n_free_chunks, free_chunks_cap,
   region_next, region_end, and the probe's record. Nothing is done under it
   but its own bookkeeping, an mmap/madvise and PyMem_RawRealloc (malloc). */
static pthread_mutex_t chunk_mutex = PTHREAD_MUTEX_INITIALIZER;
/* The free chunks: a stack of pointers kept outside the chunks, so a chunk
   whose pages were given back is not touched again until it is reused. */
static void **free_chunks;
static size_t n_free_chunks, free_chunks_cap;
static char *region_next, *region_end;
static int arena_installed;
static char arena_status[200] = "not installed";

static void
chunk_lock_for_fork(void)
{
    pthread_mutex_lock(&chunk_mutex);
}

static void
chunk_unlock_after_fork(void)
{
    pthread_mutex_unlock(&chunk_mutex);
}

static void *
chunk_alloc(void *ctx, size_t size)
{
    if (size != CHUNK_SIZE)
        return base_arena.alloc(base_arena.ctx, size);
    void *p = NULL;
    pthread_mutex_lock(&chunk_mutex);
    if (n_free_chunks > 0) {
        p = free_chunks[--n_free_chunks];
    } else {
        if (region_next == region_end) {
            void *r = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                           -1, 0);
            if (r != MAP_FAILED) {
                region_next = r;
                region_end = (char *)r + REGION_SIZE;
            }
        }
        if (region_next != region_end) {
            p = region_next;
            region_next += CHUNK_SIZE;
        }
    }
    pthread_mutex_unlock(&chunk_mutex);
    /* Out of address space for a region: the old allocator may still find
       16 KiB; such a chunk is kept for reuse here once freed. */
    return p != NULL ? p : base_arena.alloc(base_arena.ctx, size);
}

static void
chunk_free(void *ctx, void *ptr, size_t size)
{
    if (size != CHUNK_SIZE) {
        base_arena.free(base_arena.ctx, ptr, size);
        return;
    }
    pthread_mutex_lock(&chunk_mutex);
    if (n_free_chunks == free_chunks_cap) {
        size_t cap = free_chunks_cap ? 2 * free_chunks_cap : 1024;
        void **arr = PyMem_RawRealloc(free_chunks, cap * sizeof(void *));
        if (arr == NULL) {
            /* No room to remember it: give its pages back and let its
               address range go unused (it may be part of a region, which
               no other allocator may be handed). */
            pthread_mutex_unlock(&chunk_mutex);
            madvise(ptr, CHUNK_SIZE, MADV_DONTNEED);
            return;
        }
        free_chunks = arr;
        free_chunks_cap = cap;
    }
    if (n_free_chunks >= CHUNK_CACHE) {
        /* Keep the address range (unmapping a piece of a region splits it,
           which costs more), give the pages back. */
        madvise(ptr, CHUNK_SIZE, MADV_FREE_OR_DONTNEED);
    }
    free_chunks[n_free_chunks++] = ptr;
    pthread_mutex_unlock(&chunk_mutex);
}

/* The probe: a forwarding allocator that records the chunks of one thread. */
#define PROBE_MAX 8
static struct {
    unsigned long thread;
    size_t expect;        /* the chunk size that must be seen */
    int nalloc;           /* chunks of size `expect` allocated by `thread` */
    int nfreed;           /* ...of which freed back with that size */
    int bad_free;         /* one of them freed with another size */
    void *chunk[PROBE_MAX];
} probe;

static void *
probe_alloc(void *ctx, size_t size)
{
    void *p = base_arena.alloc(base_arena.ctx, size);
    if (p != NULL && size == probe.expect && PyThread_get_thread_ident() == probe.thread) {
        pthread_mutex_lock(&chunk_mutex);
        if (probe.nalloc < PROBE_MAX)
            probe.chunk[probe.nalloc] = p;
        probe.nalloc++;
        pthread_mutex_unlock(&chunk_mutex);
    }
    return p;
}

static void
probe_free(void *ctx, void *ptr, size_t size)
{
    pthread_mutex_lock(&chunk_mutex);
    for (int k = 0; k < probe.nalloc && k < PROBE_MAX; k++) {
        if (probe.chunk[k] == ptr) {
            probe.chunk[k] = NULL;
            if (size == probe.expect)
                probe.nfreed++;
            else
                probe.bad_free = 1;
        }
    }
    pthread_mutex_unlock(&chunk_mutex);
    base_arena.free(base_arena.ctx, ptr, size);
}

/* Start and finish a greenlet whose run is a Python function, through the
   probe allocator; NULL if chunks of `expect` bytes behave as the cache
   needs, else why not (a static string). Called with base_arena current. */
static const char *
probe_frame_stacks(size_t expect)
{
    static char why[160];
    PyObject *globals = PyDict_New();
    if (globals == NULL || PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0) {
        Py_XDECREF(globals);
        PyErr_Clear();
        return "the probe could not be set up";
    }
    PyObject *code = Py_CompileString("lambda: None", "<goroutines frame-stack probe>",
                                      Py_eval_input);
    PyObject *fn = code == NULL ? NULL : PyEval_EvalCode(code, globals, globals);
    Py_XDECREF(code);
    Py_DECREF(globals);
    if (fn == NULL) {
        PyErr_Clear();
        return "the probe could not be set up";
    }
    PyGreenlet *gr = PyGreenlet_New(fn, NULL);
    Py_DECREF(fn);
    if (gr == NULL) {
        PyErr_Clear();
        return "the probe greenlet could not be made";
    }
    PyObjectArenaAllocator watch = {NULL, probe_alloc, probe_free};
    memset(&probe, 0, sizeof probe);
    probe.thread = PyThread_get_thread_ident();
    probe.expect = expect;
    PyObject_SetArenaAllocator(&watch);
    PyObject *r = PyGreenlet_Switch(gr, NULL, NULL);
    PyObject_SetArenaAllocator(&base_arena);
    int finished = r != NULL && PyGreenlet_ACTIVE(gr) == 0;
    Py_XDECREF(r);
    Py_DECREF(gr);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return "the probe greenlet failed";
    }
    if (!finished)
        return "the probe greenlet did not finish";
    if (probe.nalloc == 0) {
        PyOS_snprintf(why, sizeof why,
                      "a new greenlet's frame stack was not a %zu-byte chunk from the arena "
                      "allocator", expect);
        return why;
    }
    if (probe.nalloc > PROBE_MAX || probe.bad_free || probe.nfreed != probe.nalloc)
        return "greenlet did not give its frame-stack chunk back to the arena allocator "
               "with its size when it ended";
    return NULL;
}

/* Install the cache (main interpreter only, once): True if it is in place,
   False if not, with frame_stack_cache() saying why. expect: the chunk size
   the probe must see (CHUNK_SIZE; another value is for tests of the check). */
static PyObject *
sp_cache_frame_stacks(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    size_t expect = CHUNK_SIZE;
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "cache_frame_stacks(expect_chunk_size=16384)");
        return NULL;
    }
    if (nargs == 1) {
        expect = PyLong_AsSize_t(args[0]);
        if (expect == (size_t)-1 && PyErr_Occurred())
            return NULL;
    }
    if (arena_installed)
        Py_RETURN_TRUE;
    if (PyInterpreterState_Get() != PyInterpreterState_Main()) {
        PyOS_snprintf(arena_status, sizeof arena_status,
                      "not installed: not the main interpreter");
        Py_RETURN_FALSE;
    }
    PyObject_GetArenaAllocator(&base_arena);
    if (base_arena.alloc == NULL || base_arena.free == NULL) {
        PyOS_snprintf(arena_status, sizeof arena_status, "not installed: no arena allocator");
        Py_RETURN_FALSE;
    }
    const char *why = probe_frame_stacks(expect);
    if (why == NULL && expect != CHUNK_SIZE)
        why = "the chunk size seen is not the one this cache serves";
    if (why != NULL) {
        PyOS_snprintf(arena_status, sizeof arena_status, "not installed: %s", why);
        Py_RETURN_FALSE;
    }
    static int atfork_done;
    if (!atfork_done) {
        if (pthread_atfork(chunk_lock_for_fork, chunk_unlock_after_fork,
                           chunk_unlock_after_fork) != 0) {
            PyOS_snprintf(arena_status, sizeof arena_status,
                          "not installed: pthread_atfork failed");
            Py_RETURN_FALSE;
        }
        atfork_done = 1;
    }
    PyObjectArenaAllocator mine = {NULL, chunk_alloc, chunk_free};
    PyObject_SetArenaAllocator(&mine);
    arena_installed = 1;
    PyOS_snprintf(arena_status, sizeof arena_status, "installed");
    Py_RETURN_TRUE;
}
#else
static const char arena_status[] = "not installed: Linux only";

static PyObject *
sp_cache_frame_stacks(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    Py_RETURN_FALSE;
}
#endif

static PyObject *
sp_frame_stack_cache(PyObject *mod, PyObject *Py_UNUSED(ignored))
{
    return PyUnicode_FromString(arena_status);
}

/* ------------------------------------------------------------------------ */
/* setup                                                                    */

static int
get_attr(PyObject *o, const char *name, PyObject **out)
{
    PyObject *v = PyObject_GetAttrString(o, name);
    if (v == NULL)
        return -1;
    Py_XSETREF(*out, v);
    return 0;
}

static PyObject *
sp_setup_sched(PyObject *mod, PyObject *args)
{
    PyObject *sched, *gmod, *waiter_mod;
    if (!PyArg_ParseTuple(args, "OOO:setup_sched", &sched, &gmod, &waiter_mod))
        return NULL;
    PyObject *W = NULL, *GW = NULL, *G = NULL, *P = NULL;
    if (get_attr(waiter_mod, "Waiter", &W) || get_attr(waiter_mod, "GWaiter", &GW) ||
        get_attr(gmod, "G", &G) || get_attr(sched, "P", &P)) {
        Py_XDECREF(W);
        Py_XDECREF(GW);
        Py_XDECREF(G);
        Py_XDECREF(P);
        return NULL;
    }
    Py_XSETREF(waiter_type, (PyTypeObject *)W);
    Py_XSETREF(gwaiter_type, (PyTypeObject *)GW);
    Py_XSETREF(g_type, (PyTypeObject *)G);
    Py_XSETREF(p_type, (PyTypeObject *)P);
    if (slot_offset(W, "token", &w_token) || slot_offset(W, "elem", &w_elem) ||
        slot_offset(W, "value", &w_value) || slot_offset(W, "ok", &w_ok) ||
        slot_offset(W, "done", &w_done) || slot_offset(GW, "g", &w_g) ||
        slot_offset(W, "case", &w_case) || slot_offset(W, "chan", &w_chan) ||
        slot_offset(G, "state", &g_state) || slot_offset(G, "wait_reason", &g_wait_reason) ||
        slot_offset(G, "token", &g_token) || slot_offset(G, "greenlet", &g_greenlet) ||
        slot_offset(G, "throw_exc", &g_throw_exc) || slot_offset(G, "p", &g_p) ||
        slot_offset(G, "waiter", &g_waiter) || slot_offset(G, "id", &g_id) ||
        slot_offset(P, "g1", &p_g1) ||
        slot_offset(P, "ident", &p_ident) || slot_offset(P, "runnext", &p_runnext) ||
        slot_offset(P, "runq", &p_runq) || slot_offset(P, "inbound", &p_inbound) ||
        slot_offset(P, "sleeping", &p_sleeping) || slot_offset(P, "schedtick", &p_schedtick) ||
        slot_offset(P, "streak", &p_streak) || slot_offset(P, "killing", &p_killing) ||
        slot_offset(P, "curg", &p_curg) || slot_offset(P, "free_workers", &p_free_workers) ||
        slot_offset(P, "g0", &p_g0) || slot_offset(P, "timerq", &p_timerq))
        return NULL;
    PyObject *d = PyModule_GetDict(sched);
    Py_INCREF(d);
    Py_XSETREF(sched_dict, d);
    PyObject *mask = NULL, *streak = NULL;
    if (get_attr(sched, "_find_runnable", &find_runnable) || get_attr(sched, "throw", &py_throw) ||
        get_attr(sched, "note_use", &py_note_use) || get_attr(GW, "wake", &py_gwaiter_wake) ||
        get_attr(gmod, "RUNNABLE", &s_runnable) ||
        get_attr(gmod, "RUNNING", &s_running) || get_attr(gmod, "WAITING", &s_waiting) ||
        get_attr(gmod, "WAIT_CHAN_SEND", &s_chan_send) ||
        get_attr(gmod, "WAIT_CHAN_RECEIVE", &s_chan_receive) ||
        get_attr(sched, "TIMER_CHECK_MASK", &mask) || get_attr(sched, "RUNNEXT_STREAK", &streak)) {
        Py_XDECREF(mask);
        Py_XDECREF(streak);
        return NULL;
    }
    timer_check_mask = PyLong_AsLong(mask);
    runnext_streak = PyLong_AsLong(streak);
    Py_DECREF(mask);
    Py_DECREF(streak);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
sp_setup_chan(PyObject *mod, PyObject *args)
{
    PyObject *C, *errors, *no_buf;
    if (!PyArg_ParseTuple(args, "OOO:setup_chan", &C, &errors, &no_buf))
        return NULL;
    if (g_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "setup_sched() first");
        return NULL;
    }
    if (!PyType_Check(C)) {
        PyErr_SetString(PyExc_TypeError, "setup_chan() needs the Chan class");
        return NULL;
    }
    Py_INCREF(C);
    Py_XSETREF(chan_type, (PyTypeObject *)C);
    if (slot_offset(C, "_lock", &c_lock) || slot_offset(C, "_buf", &c_buf) ||
        slot_offset(C, "_cap", &c_cap) || slot_offset(C, "_closed", &c_closed) ||
        slot_offset(C, "_recvq", &c_recvq) || slot_offset(C, "_sendq", &c_sendq) ||
        slot_offset(C, "_timer", &c_timer))
        return NULL;
    if (get_attr(errors, "ChannelClosedError", &closed_error) ||
        get_attr(C, "send", &py_send) || get_attr(C, "recv", &py_recv) ||
        get_attr(C, "recv_ok", &py_recv_ok) || get_attr(C, "__init__", &py_chan_init) ||
        get_attr(C, "__iter__", &py_chan_iter))
        return NULL;
    if (deque_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "collections.deque has an unexpected layout");
        return NULL;
    }
    Py_XSETREF(no_buffer, Py_NewRef(no_buf));
    Py_RETURN_NONE;
}

static PyObject *
sp_in_main_interpreter(PyObject *mod, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(PyInterpreterState_Get() == PyInterpreterState_Main());
}

static PyMethodDef module_methods[] = {
    {"setup_sched", (PyCFunction)sp_setup_sched, METH_VARARGS,
     "setup_sched(sched, g_module, waiter_module): learn the scheduler's classes."},
    {"setup_chan", (PyCFunction)sp_setup_chan, METH_VARARGS,
     "setup_chan(Chan, errors, no_buffer): learn the channel class; its Python methods become the fallbacks."},
    {"cache_frame_stacks", (PyCFunction)(void (*)(void))sp_cache_frame_stacks, METH_FASTCALL,
     "Serve greenlets' frame-stack chunks from a cache (True if it is in place)."},
    {"frame_stack_cache", (PyCFunction)sp_frame_stack_cache, METH_NOARGS,
     "'installed', 'not installed', or 'not installed: <why>'."},
    {"set_attention", (PyCFunction)sp_set_attention, METH_O,
     "set_attention(value): sched.attention = value, and the accelerator's hint."},
    {"in_main_interpreter", (PyCFunction)sp_in_main_interpreter, METH_NOARGS,
     "Whether this is the main interpreter (the only one the accelerator serves)."},
    {"set_p", (PyCFunction)sp_set_p, METH_O, "set_p(p): this thread's P (or None)."},
    {"ready", (PyCFunction)sp_ready, METH_O, "sched.ready(g) in C."},
    {"park_g", (PyCFunction)(void (*)(void))sp_park_g, METH_FASTCALL,
     "sched.park_g(p, g, reason, token) in C."},
    {"gwaiter_wake", (PyCFunction)(void (*)(void))sp_gwaiter_wake, METH_FASTCALL,
     "GWaiter.wake(self) in C."},
    {"chan_send", (PyCFunction)(void (*)(void))sp_chan_send, METH_FASTCALL,
     "Chan.send(self, value) in C."},
    {"chan_recv", (PyCFunction)(void (*)(void))sp_chan_recv, METH_FASTCALL,
     "Chan.recv(self) in C."},
    {"chan_recv_ok", (PyCFunction)(void (*)(void))sp_chan_recv_ok, METH_FASTCALL,
     "Chan.recv_ok(self) in C."},
    {"chan_init", (PyCFunction)(void (*)(void))sp_chan_init, METH_FASTCALL,
     "Chan.__init__(self, capacity=0) in C."},
    {"chan_iter", (PyCFunction)(void (*)(void))sp_chan_iter, METH_FASTCALL,
     "Chan.__iter__(self) in C."},
    {"select", (PyCFunction)(void (*)(void))sp_select, METH_FASTCALL | METH_KEYWORDS,
     "_select.select(*cases, default=False) in C."},
    {"sched_go", (PyCFunction)(void (*)(void))sp_sched_go, METH_FASTCALL,
     "sched.go(fn, args, kwargs, depth) in C."},
    {"go", (PyCFunction)(void (*)(void))sp_go, METH_FASTCALL | METH_KEYWORDS,
     "go(fn, *args, **kwargs) in C."},
    {"setup_go", (PyCFunction)sp_setup_go, METH_VARARGS,
     "setup_go(sched.go, g_module): the Python twin of sched_go."},
    {"setup_public_go", (PyCFunction)sp_setup_public_go, METH_O,
     "setup_public_go(go): the Python twin of go."},
    {"wg_add", (PyCFunction)(void (*)(void))sp_wg_add, METH_FASTCALL,
     "WaitGroup.add(self, delta) in C."},
    {"wg_done", (PyCFunction)(void (*)(void))sp_wg_done, METH_FASTCALL,
     "WaitGroup.done(self) in C."},
    {"setup_waitgroup", (PyCFunction)sp_setup_waitgroup, METH_O,
     "setup_waitgroup(WaitGroup): its Python add and done become the fallbacks."},
    {"case_recv", (PyCFunction)(void (*)(void))sp_case_recv, METH_FASTCALL,
     "_select.recv(ch) in C."},
    {"case_recv_ok", (PyCFunction)(void (*)(void))sp_case_recv_ok, METH_FASTCALL,
     "_select.recv_ok(ch) in C."},
    {"case_send", (PyCFunction)(void (*)(void))sp_case_send, METH_FASTCALL,
     "_select.send(ch, value) in C."},
    {"setup_cases", (PyCFunction)sp_setup_cases, METH_VARARGS,
     "setup_cases(recv, recv_ok, send): the Python twins of the case constructors."},
    {"setup_select", (PyCFunction)sp_setup_select, METH_VARARGS,
     "setup_select(RECV, RECV_OK, SEND, spare, select, WAIT_SELECT)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "goroutines._runtime._speedups",
    .m_doc = "The runtime's hot paths in C (optional; see sched.py for the reference).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    /* The module's state is C statics shared by the whole process (a
       single-phase module), and the objects in them belong to one
       interpreter: only the main one may have it. Elsewhere goroutines runs
       its pure-Python runtime (accel.py). */
    if (PyInterpreterState_Get() != PyInterpreterState_Main()) {
        PyErr_SetString(PyExc_ImportError,
                        "goroutines._runtime._speedups serves the main interpreter only");
        return NULL;
    }
    PyGreenlet_Import();
    if (_PyGreenlet_API == NULL)
        return NULL;
    if (PyType_Ready(&Lock_Type) < 0 || PyType_Ready(&Method_Type) < 0 ||
        PyType_Ready(&ChanIter_Type) < 0 || PyType_Ready(&PRelease_Type) < 0)
        return NULL;
    PyObject *thread_mod = PyImport_ImportModule("_thread");
    if (thread_mod == NULL)
        return NULL;
    timeout_judge = PyObject_CallMethod(thread_mod, "allocate_lock", NULL);
    Py_DECREF(thread_mod);
    if (timeout_judge == NULL)
        return NULL;
    PyObject *dq = PyImport_ImportModule("collections");
    if (dq == NULL)
        return NULL;
    PyObject *deque = PyObject_GetAttrString(dq, "deque");
    Py_DECREF(dq);
    if (deque == NULL)
        return NULL;
    PyObject *popleft = PyObject_GetAttrString(deque, "popleft");
    PyObject *append = PyObject_GetAttrString(deque, "append");
    if (popleft == NULL || append == NULL || !PyType_Check(deque)) {
        Py_XDECREF(popleft);
        Py_XDECREF(append);
        Py_DECREF(deque);
        return NULL;
    }
    deque_type = (PyTypeObject *)deque; /* kept: the module holds it for good */
    if (Py_IS_TYPE(popleft, &PyMethodDescr_Type) && Py_IS_TYPE(append, &PyMethodDescr_Type)) {
        PyMethodDef *pl = ((PyMethodDescrObject *)popleft)->d_method;
        PyMethodDef *ap = ((PyMethodDescrObject *)append)->d_method;
        if ((pl->ml_flags & 0xff) == METH_NOARGS && (ap->ml_flags & 0xff) == METH_O) {
            deque_popleft_c = pl->ml_meth;
            deque_append_c = ap->ml_meth;
        }
    }
    Py_DECREF(popleft); /* the deque type keeps its descriptors and their C functions */
    Py_DECREF(append);
    if (deque_popleft_c == NULL)
        deque_type = NULL; /* unexpected layout: always the generic calls */
    str_attention = PyUnicode_InternFromString("attention");
    str_wakeup = PyUnicode_InternFromString("wakeup");
    str_wake = PyUnicode_InternFromString("wake");
    str_abandon = PyUnicode_InternFromString("_abandon");
    str_acquire = PyUnicode_InternFromString("acquire");
    str_release = PyUnicode_InternFromString("release");
    str_remove = PyUnicode_InternFromString("remove");
    str_popleft = PyUnicode_InternFromString("popleft");
    str_append = PyUnicode_InternFromString("append");
    str_token = PyUnicode_InternFromString("token");
    str_p_release = PyUnicode_InternFromString("goroutines._runtime._speedups.PRelease");
    str_ids = PyUnicode_InternFromString("_ids");
    str_asyncio_events = PyUnicode_InternFromString("asyncio.events");
    str_gr_context = PyUnicode_InternFromString("gr_context");
    s_empty = PyUnicode_InternFromString("");
    zero = PyLong_FromLong(0);
    minus_one = PyLong_FromLong(-1);
    if (!str_ids || !str_asyncio_events || !str_gr_context || !s_empty || !zero || !minus_one)
        return NULL;
    if (!str_remove || !str_attention || !str_wakeup || !str_wake || !str_abandon ||
        !str_acquire || !str_release || !str_popleft || !str_append || !str_token ||
        !str_p_release)
        return NULL;
    PyObject *m = PyModule_Create(&speedups_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&Lock_Type);
    Py_INCREF(&Method_Type);
    if (PyModule_AddObject(m, "Lock", (PyObject *)&Lock_Type) < 0 ||
        PyModule_AddObject(m, "method", (PyObject *)&Method_Type) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
