#include "_speedups.h"

#include <errno.h>
#include <sys/socket.h>

/* ------------------------------------------------------------------------ */
/* Conn.read / Conn.write (goroutines/net/_conn.py)                         */
/*
 * A stream connection's read and write: take the direction's fdMutex lock,
 * try the system call on the socket's fd, park on the netpoller on EAGAIN
 * (the twin's very call, netpoll.wait, looked up on the module as the twin
 * does), give the lock back. The common case of each runs here: an exact
 * Conn, an exact int n (read) or bytes (write), the fdMutex's lock a Lock of
 * this module, free, and the direction's lock free, the socket not closing.
 * Everything else (a contended lock, a closing socket, a subclass, a
 * bytearray or memoryview, n == 0, a huge n) is the Python twin's, called
 * before anything was changed. Giving the lock back is done here when nobody
 * queues for it; else by the twin's _FdMutex.rwunlock.
 *
 * The fd is the PollDesc's (pd.fd, the socket's own number): the reference
 * the direction's lock holds keeps the socket open while it is used, so the
 * number cannot be closed and reused under the call. The system call runs
 * with the GIL released, as socket.recv / socket.send do.
 */

static PyTypeObject *conn_type, *fdmutex_type, *polldesc_type;
static Py_ssize_t c_mu, c_pd, c_drained;
static Py_ssize_t m_lock, m_refs, m_closing, m_rlocked, m_wlocked, m_rq, m_wq;
static Py_ssize_t pd_fd, pd_rhup, pd_rdeadline, pd_wdeadline;
static PyObject *py_read, *py_write; /* the twins: Conn.read, Conn.write */
static PyObject *np_module;          /* _runtime.netpoll: its wait */
static PyObject *clock_module;       /* _runtime.clock: its read */
static PyObject *deadline_exceeded;  /* errors.DeadlineExceeded */
static PyObject *str_wait, *str_read, *str_rwunlock, *str_last, *str_written;
static PyObject *mode_read, *mode_write; /* netpoll.READ, netpoll.WRITE */
static long send_flags;

#define MAX_FAST_READ (1 << 24) /* larger reads are the twin's */

/* Twin: _FdMutex.rwlock, the case where the lock is free (no park). 1 taken
   (with a reference), 0 leave it to Python (nothing changed), -1 error. */
static int
fd_rwlock_fast(PyObject *mu, int read)
{
    PyObject *lock = SLOT(mu, m_lock);
    if (lock == NULL || !Py_IS_TYPE(lock, &Lock_Type) || ((LockObject *)lock)->locked)
        return 0;
    Py_ssize_t flag = read ? m_rlocked : m_wlocked;
    PyObject *refs = SLOT(mu, m_refs);
    if (SLOT(mu, m_closing) != Py_False || SLOT(mu, flag) != Py_False || refs == NULL ||
        !PyLong_CheckExact(refs))
        return 0;
    long n = PyLong_AsLong(refs);
    if (n == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    LockObject *l = (LockObject *)lock;
    lock_take(l);
    int r = set_long_slot(mu, m_refs, n + 1);
    if (r == 0)
        slot_set(mu, flag, Py_True);
    lock_release_held(l);
    return r < 0 ? -1 : 1;
}

/* Twin: _FdMutex.rwunlock, the case where nobody waits for the lock. 1 freed
   (close: whether the caller must close the socket now), 0 leave it to
   Python (nothing changed), -1 error. */
static int
fd_rwunlock_fast(PyObject *mu, int read, int *close)
{
    PyObject *lock = SLOT(mu, m_lock);
    if (lock == NULL || !Py_IS_TYPE(lock, &Lock_Type) || ((LockObject *)lock)->locked)
        return 0;
    PyObject *q = SLOT(mu, read ? m_rq : m_wq);
    PyObject *closing = SLOT(mu, m_closing);
    PyObject *refs = SLOT(mu, m_refs);
    if (q == NULL || closing == NULL || refs == NULL || !PyLong_CheckExact(refs))
        return 0;
    if (q != Py_None) {
        if (!PyList_CheckExact(q))
            return 0;
        if (PyList_GET_SIZE(q) > 0 && closing != Py_True)
            return 0; /* hand the lock over: the twin's */
    }
    long n = PyLong_AsLong(refs);
    if (n == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    LockObject *l = (LockObject *)lock;
    lock_take(l);
    int r = set_long_slot(mu, m_refs, n - 1);
    if (r == 0) {
        slot_set(mu, read ? m_rlocked : m_wlocked, Py_False);
        *close = closing == Py_True && n - 1 == 0;
    }
    lock_release_held(l);
    return r < 0 ? -1 : 1;
}

/* The end of an operation (the twin's finally): give the direction's lock
   back, and close the socket if this was its last reference. Keeps the
   exception set, if any (an error here is chained to it). 0 or -1. */
static int
fd_unlock(PyObject *self, PyObject *mu, int read)
{
    PyObject *exc = PyErr_Occurred() ? err_take() : NULL;
    int close = 0;
    int r = fd_rwunlock_fast(mu, read, &close);
    if (r == 0) {
        PyObject *args[2] = {mu, read ? Py_True : Py_False};
        PyObject *v = PyObject_VectorcallMethod(str_rwunlock, args,
                                                2 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
        if (v == NULL)
            r = -1;
        else {
            close = PyObject_IsTrue(v);
            Py_DECREF(v);
            r = close < 0 ? -1 : 1;
        }
    }
    if (r > 0 && close) {
        PyObject *v = PyObject_CallMethodNoArgs(self, str_last);
        if (v == NULL)
            r = -1;
        Py_XDECREF(v);
    }
    if (r < 0) {
        err_chain_context(exc);
        return -1;
    }
    err_restore(exc);
    return exc == NULL ? 0 : -1;
}

/* Twin: _expired(d) with d the direction's deadline: raise DeadlineExceeded
   when it has passed. 0, or -1 with the error. */
static int
check_deadline(PyObject *pd, Py_ssize_t off)
{
    PyObject *dl = SLOT(pd, off);
    if (dl == NULL)
        return slot_unset(pd, off) == NULL ? -1 : 0;
    double d = PyFloat_AsDouble(dl);
    if (d == -1.0 && PyErr_Occurred())
        return -1;
    if (d == 0.0)
        return 0;
    PyObject *now = PyObject_CallMethodNoArgs(clock_module, str_read);
    if (now == NULL)
        return -1;
    double t = PyFloat_AsDouble(now);
    Py_DECREF(now);
    if (t == -1.0 && PyErr_Occurred())
        return -1;
    if (d > t)
        return 0;
    PyObject *e = PyObject_CallNoArgs(deadline_exceeded);
    if (e == NULL)
        return -1;
    PyErr_SetObject(deadline_exceeded, e);
    Py_DECREF(e);
    return -1;
}

/* netpoll.wait(pd, mode): park until the fd may be ready. 0 or -1. */
static int
np_wait(PyObject *pd, PyObject *mode)
{
    PyObject *args[3] = {NULL, pd, mode};
    PyObject *wait = PyObject_GetAttr(np_module, str_wait);
    if (wait == NULL)
        return -1;
    PyObject *r = PyObject_Vectorcall(wait, args + 1, 2 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    Py_DECREF(wait);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* After a recv/send that failed with err: park until the fd is ready
   (EAGAIN), run the signal handlers (EINTR), or raise OSError. 0: try
   again; -1: an exception is set. The twin's except clauses. */
static int
io_retry(PyObject *pd, PyObject *mode, int err)
{
    if (err == EAGAIN || err == EWOULDBLOCK)
        return np_wait(pd, mode) < 0 ? -1 : 0;
    if (err == EINTR)
        return PyErr_CheckSignals() < 0 ? -1 : 0;
    errno = err;
    PyErr_SetFromErrno(PyExc_OSError);
    return -1;
}

static int
pd_fd_of(PyObject *pd, int *fd)
{
    long v = long_slot(pd, pd_fd);
    if (v == -1 && PyErr_Occurred())
        return -1;
    *fd = (int)v;
    return 0;
}

/* Both fast paths' start (twin: rwlock(_READ or _WRITE) and the fd, in
   Conn.read and Conn.write): with the Conn's fdMutex and PollDesc of the
   expected types and the direction's lock taken at once, 1 and *mu and *pd
   (new references) and *fd; 2 the same but reading the fd raised (*fd
   unset: the caller unlocks and returns NULL); 0 to leave the call to the
   twin (nothing taken); -1 on error (nothing taken). */
static int
conn_begin(PyObject *self, int read, PyObject **mu, PyObject **pd, int *fd)
{
    PyObject *m = SLOT(self, c_mu), *d = SLOT(self, c_pd);
    if (m == NULL || !Py_IS_TYPE(m, fdmutex_type) || d == NULL || !Py_IS_TYPE(d, polldesc_type))
        return 0;
    int r = fd_rwlock_fast(m, read);
    if (r <= 0)
        return r;
    Py_INCREF(m);
    Py_INCREF(d);
    *mu = m;
    *pd = d;
    return pd_fd_of(d, fd) < 0 ? 2 : 1;
}

/* Twin: Conn.read (with Conn._wait_drained), the common case (see above). */
static PyObject *
sp_conn_read(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !Py_IS_TYPE(args[0], conn_type) || !PyLong_CheckExact(args[1]))
        return PyObject_Vectorcall(py_read, args, nargs, NULL);
    PyObject *self = args[0];
    Py_ssize_t n = PyLong_AsSsize_t(args[1]);
    if (n == -1 && PyErr_Occurred())
        PyErr_Clear();
    if (n <= 0 || n > MAX_FAST_READ || SLOT(self, c_drained) == NULL)
        return PyObject_Vectorcall(py_read, args, nargs, NULL);
    PyObject *mu, *pd, *data = NULL;
    int fd;
    int r = conn_begin(self, 1, &mu, &pd, &fd);
    if (r < 0)
        return NULL;
    if (r == 0)
        return PyObject_Vectorcall(py_read, args, nargs, NULL);
    if (r == 2)
        goto done;
    if (SLOT(self, c_drained) == Py_True) {
        /* Twin: Conn._wait_drained. */
        slot_set(self, c_drained, Py_False);
        PyObject *rhup = SLOT(pd, pd_rhup);
        int hup = rhup == NULL ? 0 : PyObject_IsTrue(rhup);
        if (hup < 0)
            goto done;
        if (!hup && (check_deadline(pd, pd_rdeadline) < 0 || np_wait(pd, mode_read) < 0))
            goto done;
    }
    for (;;) {
        if (check_deadline(pd, pd_rdeadline) < 0)
            goto done;
        data = PyBytes_FromStringAndSize(NULL, n);
        if (data == NULL)
            goto done;
        ssize_t got;
        int err;
        Py_BEGIN_ALLOW_THREADS
        got = recv(fd, PyBytes_AS_STRING(data), (size_t)n, 0);
        err = errno;
        Py_END_ALLOW_THREADS
        if (got >= 0) {
            if (got != n && _PyBytes_Resize(&data, got) < 0)
                goto done; /* data is NULL */
            if (got > 0 && got < n)
                slot_set(self, c_drained, Py_True);
            break;
        }
        Py_CLEAR(data);
        if (io_retry(pd, mode_read, err) < 0)
            goto done;
    }
done:
    if (fd_unlock(self, mu, 1) < 0)
        Py_CLEAR(data);
    Py_DECREF(mu);
    Py_DECREF(pd);
    return data;
}

/* Twin: _short(e, sent) for an OSError being raised. */
static void
annotate_written(Py_ssize_t sent)
{
    if (!PyErr_ExceptionMatches(PyExc_OSError))
        return;
    PyObject *exc = err_take();
    PyObject *n = PyLong_FromSsize_t(sent);
    if (n == NULL || PyObject_SetAttr(exc, str_written, n) < 0)
        PyErr_Clear(); /* the twin lets an exception without the attribute go as it is */
    Py_XDECREF(n);
    err_restore(exc);
}

/* Twin: Conn.write, the common case (see above). */
static PyObject *
sp_conn_write(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !Py_IS_TYPE(args[0], conn_type) || !PyBytes_CheckExact(args[1]))
        return PyObject_Vectorcall(py_write, args, nargs, NULL);
    PyObject *self = args[0], *data = args[1];
    PyObject *mu, *pd;
    int fd;
    int r = conn_begin(self, 0, &mu, &pd, &fd);
    if (r < 0)
        return NULL;
    if (r == 0)
        return PyObject_Vectorcall(py_write, args, nargs, NULL);
    Py_INCREF(data);
    Py_ssize_t total = PyBytes_GET_SIZE(data), sent = 0;
    int ok = 0;
    if (r == 2)
        goto done;
    for (;;) {
        if (check_deadline(pd, pd_wdeadline) < 0)
            goto fail;
        if (total == 0) {
            ok = 1;
            break;
        }
        ssize_t n;
        int err;
        const char *buf = PyBytes_AS_STRING(data) + sent;
        Py_BEGIN_ALLOW_THREADS
        n = send(fd, buf, (size_t)(total - sent), (int)send_flags);
        err = errno;
        Py_END_ALLOW_THREADS
        if (n >= 0) {
            sent += n;
            if (sent >= total) {
                ok = 1;
                break;
            }
            continue;
        }
        if (io_retry(pd, mode_write, err) < 0)
            goto fail;
    }
    goto done;
fail:
    annotate_written(sent);
done:
    if (fd_unlock(self, mu, 0) < 0)
        ok = 0;
    Py_DECREF(mu);
    Py_DECREF(pd);
    Py_DECREF(data);
    if (!ok)
        return NULL;
    return PyLong_FromSsize_t(total);
}

/* The slots this port reads, in the order accel.py's registry lists them
   (PORTS["net"].slots); _mu and _pd are _NetFD's, read on a Conn. */
static const SlotTarget net_slots[] = {
    {&c_mu, &conn_type},           /* Conn._mu */
    {&c_pd, &conn_type},           /* Conn._pd */
    {&c_drained, &conn_type},      /* Conn._drained */
    {&m_lock, &fdmutex_type},      /* _FdMutex.lock */
    {&m_refs, &fdmutex_type},      /* _FdMutex.refs */
    {&m_closing, &fdmutex_type},   /* _FdMutex.closing */
    {&m_rlocked, &fdmutex_type},   /* _FdMutex.rlocked */
    {&m_wlocked, &fdmutex_type},   /* _FdMutex.wlocked */
    {&m_rq, &fdmutex_type},        /* _FdMutex.rq */
    {&m_wq, &fdmutex_type},        /* _FdMutex.wq */
    {&pd_fd, &polldesc_type},      /* PollDesc.fd */
    {&pd_rhup, &polldesc_type},    /* PollDesc.rhup */
    {&pd_rdeadline, &polldesc_type}, /* PollDesc.rdeadline */
    {&pd_wdeadline, &polldesc_type}, /* PollDesc.wdeadline */
};

/* setup_net(slots, cls=, fdmutex=, polldesc=, py_read=, py_write=, netpoll=,
   clock=, deadline_exceeded=, send_flags=). */
static PyObject *
sp_setup_net(PyObject *mod, PyObject *args, PyObject *kw)
{
    static const char *const names[] = {"cls",     "fdmutex", "polldesc",          "py_read",
                                        "py_write", "netpoll", "clock", "deadline_exceeded",
                                        "send_flags"};
    enum { N = sizeof(names) / sizeof(names[0]) };
    PyObject *o[N], *slots;
    if (setup_args("net", args, kw, names, o, N, &slots) < 0)
        return NULL;
    if (keep_type("net", "cls", &conn_type, o[0]) < 0 ||
        keep_type("net", "fdmutex", &fdmutex_type, o[1]) < 0 ||
        keep_type("net", "polldesc", &polldesc_type, o[2]) < 0)
        return NULL;
    /* The offset table names a class per slot; _NetFD's slots are Conn's. */
    if (slot_offsets("net", slots, net_slots, sizeof(net_slots) / sizeof(net_slots[0])) < 0)
        return NULL;
    send_flags = PyLong_AsLong(o[8]);
    if (send_flags == -1 && PyErr_Occurred())
        return NULL;
    if (str_wait == NULL) {
        str_wait = PyUnicode_InternFromString("wait");
        str_read = PyUnicode_InternFromString("read");
        str_rwunlock = PyUnicode_InternFromString("rwunlock");
        str_last = PyUnicode_InternFromString("_last");
        str_written = PyUnicode_InternFromString("written");
        if (!str_wait || !str_read || !str_rwunlock || !str_last || !str_written)
            return NULL;
    }
    keep(&py_read, o[3]);
    keep(&py_write, o[4]);
    keep(&np_module, o[5]);
    keep(&clock_module, o[6]);
    keep(&deadline_exceeded, o[7]);
    PyObject *rd = PyObject_GetAttrString(np_module, "READ");
    PyObject *wr = rd == NULL ? NULL : PyObject_GetAttrString(np_module, "WRITE");
    if (wr == NULL) {
        Py_XDECREF(rd);
        return NULL;
    }
    Py_XSETREF(mode_read, rd);
    Py_XSETREF(mode_write, wr);
    Py_RETURN_NONE;
}

PyMethodDef net_methods[] = {
    {"conn_read", (PyCFunction)(void (*)(void))sp_conn_read, METH_FASTCALL,
     "Conn.read(self, n) in C."},
    {"conn_write", (PyCFunction)(void (*)(void))sp_conn_write, METH_FASTCALL,
     "Conn.write(self, data) in C."},
    {"setup_net", (PyCFunction)(void (*)(void))sp_setup_net, METH_VARARGS | METH_KEYWORDS,
     "setup_net(slots, cls=, fdmutex=, polldesc=, py_read=, py_write=, netpoll=, clock=, "
     "deadline_exceeded=, send_flags=): its Python read and write become the fallbacks."},
    {NULL, NULL, 0, NULL},
};
