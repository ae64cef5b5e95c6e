#include "_speedups.h"

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

/* Twin: WaitGroup.add and WaitGroup.done, the common case (see above).
   1 done, 0 leave it to Python, -1 error. */
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

/* The slots this port reads, in the order accel.py's registry lists them
   (PORTS["waitgroup"].slots). */
static const SlotTarget waitgroup_slots[] = {
    {&wg_lock, &wg_type},    /* WaitGroup._lock */
    {&wg_count, &wg_type},   /* WaitGroup._count */
    {&wg_waiters, &wg_type}, /* WaitGroup._waiters */
};

/* setup_waitgroup(slots, cls=, py_add=, py_done=): the class and its Python add and
   done, the fallbacks. */
static PyObject *
sp_setup_waitgroup(PyObject *mod, PyObject *args, PyObject *kw)
{
    static const char *const names[] = {"cls", "py_add", "py_done"};
    enum { N = sizeof(names) / sizeof(names[0]) };
    PyObject *o[N], *slots;
    if (setup_args("waitgroup", args, kw, names, o, N, &slots) < 0)
        return NULL;
    if (keep_type("waitgroup", "cls", &wg_type, o[0]) < 0 ||
        slot_offsets("waitgroup", slots, waitgroup_slots,
                     sizeof(waitgroup_slots) / sizeof(waitgroup_slots[0])) < 0)
        return NULL;
    keep(&py_wg_add, o[1]);
    keep(&py_wg_done, o[2]);
    Py_RETURN_NONE;
}

PyMethodDef waitgroup_methods[] = {
    {"wg_add", (PyCFunction)(void (*)(void))sp_wg_add, METH_FASTCALL,
     "WaitGroup.add(self, delta) in C."},
    {"wg_done", (PyCFunction)(void (*)(void))sp_wg_done, METH_FASTCALL,
     "WaitGroup.done(self) in C."},
    {"setup_waitgroup", (PyCFunction)(void (*)(void))sp_setup_waitgroup,
     METH_VARARGS | METH_KEYWORDS,
     "setup_waitgroup(slots, cls=, py_add=, py_done=): its Python add and done become the fallbacks."},
    {NULL, NULL, 0, NULL},
};
