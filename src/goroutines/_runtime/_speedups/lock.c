#include "_speedups.h"

/* ------------------------------------------------------------------------ */
/* Lock                                                                     */

/* waiter.py REENTERED, word for word. */
#define LOCK_REENTERED                                                                  \
    "this thread is already inside an operation on this channel or primitive (a "      \
    "__del__, weakref callback or signal handler ran in the middle of it), so waiting " \
    "for it here would hang forever; do blocking work from such code in a goroutine of " \
    "its own: go(fn)"

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
int
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

/* _thread.lock, unlocked, that judges timeouts (see lock_check_timeout). */
PyObject *timeout_judge;
PyObject *str_acquire, *str_release;

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

/* Twin: waiter.py Lock.acquire (the pure path's Lock; _thread.lock's
   acquire for the park tokens). Leaves nothing to Python. */
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

PyTypeObject Lock_Type = {
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

