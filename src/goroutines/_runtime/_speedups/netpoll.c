#include "_speedups.h"

/* ------------------------------------------------------------------------ */
/* netpoll.wait / netpoll._dispatch (_runtime/netpoll.py)                   */
/*
 * The netpoller's two per-operation steps: a goroutine's wait for an owned
 * fd (wait, through _g_wait without a raw deadline), and the wake-up of the
 * waiters of one epoll event (_dispatch, called by poll_shared for each).
 * The common case of each runs here: a PollDesc whose lock is a Lock of this
 * module, a caller with a P (wait) and no attention pending, the waiter
 * lists exact lists. Everything else (a thread without a P, attention, a
 * wrong type) is the Python twin's, called before anything was changed. The
 * cold steps inside stay Python calls: arming and deleting a deadline's
 * timer (timers.add / timers.delete with an RTimer of _deadline_fired), the
 * clock (clock.read), waking threads through their pipes (_poke).
 */

static PyTypeObject *polldesc_type, *np_p_type; /* PollDesc, sched.P */
static Py_ssize_t pd_lock, pd_closing, pd_rready, pd_wready, pd_rhup, pd_rwaiters, pd_wwaiters,
    pd_rthreads, pd_wthreads, pd_rdeadline, pd_wdeadline, p_nio;
static PyObject *py_wait, *py_dispatch;  /* the twins */
static PyObject *pds;                    /* netpoll._pds: fd -> PollDesc */
static PyObject *timers_module, *clock_module, *rtimer, *deadline_fired, *poke;
static PyObject *net_closed, *deadline_exceeded, *recheck, *wait_io;
static PyObject *str_add, *str_delete, *str_read;
static long ep_in, ep_out, ep_hup;

/* Raise cls() (NetClosedError, DeadlineExceeded). Always -1. */
static int
raise_new(PyObject *cls)
{
    PyObject *e = PyObject_CallNoArgs(cls);
    if (e != NULL) {
        PyErr_SetObject(cls, e);
        Py_DECREF(e);
    }
    return -1;
}

/* Take w out of lst if it is there (identity: a GWaiter compares so). */
static int
list_discard(PyObject *lst, PyObject *w)
{
    if (!PyList_CheckExact(lst)) {
        PyObject *r = PyObject_CallMethod(lst, "remove", "O", w);
        if (r == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_ValueError))
                return -1;
            PyErr_Clear();
        }
        Py_XDECREF(r);
        return 0;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lst); i++)
        if (PyList_GET_ITEM(lst, i) == w)
            return PySequence_DelItem(lst, i);
    return 0;
}

static int
nio_add(PyObject *p, long d)
{
    long n = long_slot(p, p_nio);
    if (n == -1 && PyErr_Occurred())
        return -1;
    return set_long_slot(p, p_nio, n + d);
}

/* Twin: wait and _g_wait (raw False, deadline None): the goroutine's wait.
   The loop's steps in the twin's order; the fallback before any of them. */
static PyObject *
sp_np_wait(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !Py_IS_TYPE(args[0], polldesc_type) || !PyLong_CheckExact(args[1]) ||
        tls_p == NULL || gwaiter_type == NULL || is_attention())
        return PyObject_Vectorcall(py_wait, args, nargs, NULL);
    PyObject *pd = args[0], *p = tls_p;
    PyObject *g = SLOT(p, p_curg), *lockobj = SLOT(pd, pd_lock);
    PyObject *rw = SLOT(pd, pd_rwaiters), *ww = SLOT(pd, pd_wwaiters);
    if (g == NULL || g == Py_None || lockobj == NULL || !Py_IS_TYPE(lockobj, &Lock_Type) ||
        rw == NULL || !PyList_CheckExact(rw) || ww == NULL || !PyList_CheckExact(ww) ||
        SLOT(p, p_nio) == NULL)
        return PyObject_Vectorcall(py_wait, args, nargs, NULL);
    long mode = PyLong_AsLong(args[1]);
    if (mode == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return PyObject_Vectorcall(py_wait, args, nargs, NULL);
    }
    int reading = mode == 1; /* READ */
    Py_ssize_t off_dl = reading ? pd_rdeadline : pd_wdeadline;
    Py_ssize_t off_ready = reading ? pd_rready : pd_wready;
    Py_ssize_t off_ws = reading ? pd_rwaiters : pd_wwaiters;
    Py_INCREF(pd);
    Py_INCREF(p);
    Py_INCREF(g);
    Py_INCREF(lockobj);
    LockObject *lock = (LockObject *)lockobj;
    PyObject *result = NULL;
    for (;;) {
        if (lock_acquire_blocking(lock) < 0)
            goto out;
        if (SLOT(pd, pd_closing) == Py_True) {
            lock_release_held(lock);
            raise_new(net_closed);
            goto out;
        }
        PyObject *dlo = SLOT(pd, off_dl);
        double dl = dlo == NULL ? 0.0 : PyFloat_AsDouble(dlo);
        if (dl == -1.0 && PyErr_Occurred()) {
            lock_release_held(lock);
            goto out;
        }
        if (dl != 0.0) {
            PyObject *now = PyObject_CallMethodNoArgs(clock_module, str_read);
            double t = now == NULL ? -1.0 : PyFloat_AsDouble(now);
            Py_XDECREF(now);
            if (t == -1.0 && PyErr_Occurred()) {
                lock_release_held(lock);
                goto out;
            }
            if (dl <= t) {
                lock_release_held(lock);
                raise_new(deadline_exceeded);
                goto out;
            }
        }
        if (SLOT(pd, off_ready) == Py_True) {
            slot_set(pd, off_ready, Py_False);
            lock_release_held(lock);
            result = Py_NewRef(Py_None);
            goto out;
        }
        PyObject *waiters = SLOT(pd, off_ws);
        PyObject *token = lock_new_fast();
        PyObject *w = token == NULL ? NULL : new_gwaiter(g, token);
        if (w == NULL || waiters == NULL || PyList_Append(waiters, w) < 0) {
            lock_release_held(lock);
            Py_XDECREF(token);
            Py_XDECREF(w);
            if (!PyErr_Occurred())
                slot_unset(pd, off_ws);
            goto out;
        }
        lock_release_held(lock);
        PyObject *rt = NULL;
        int r = 0;
        if (dl != 0.0) {
            rt = PyObject_CallFunctionObjArgs(rtimer, deadline_fired, w, NULL);
            PyObject *v = NULL;
            if (rt != NULL) {
                PyObject *dlf = PyFloat_FromDouble(dl);
                v = dlf == NULL ? NULL
                                : PyObject_CallMethodObjArgs(timers_module, str_add, p, rt, dlf, NULL);
                Py_XDECREF(dlf);
            }
            if (v == NULL) {
                /* the twin's raise before its try: the waiter stays listed
                   until an edge or a close drops it */
                Py_XDECREF(rt);
                Py_DECREF(token);
                Py_DECREF(w);
                goto out;
            }
            Py_DECREF(v);
        }
        if (nio_add(p, 1) < 0)
            r = -1;
        else
            r = park_g_impl(p, g, wait_io, token);
        /* the twin's finally */
        PyObject *exc = r < 0 ? err_take() : NULL;
        int fr = nio_add(p, -1);
        if (fr == 0 && rt != NULL) {
            PyObject *v = PyObject_CallMethodObjArgs(timers_module, str_delete, rt, NULL);
            if (v == NULL)
                fr = -1;
            Py_XDECREF(v);
        }
        if (fr == 0) {
            if (lock_acquire_blocking(lock) < 0)
                fr = -1;
            else {
                PyObject *lst = SLOT(pd, off_ws);
                if (lst != NULL && list_discard(lst, w) < 0)
                    fr = -1;
                lock_release_held(lock);
            }
        }
        Py_XDECREF(rt);
        Py_DECREF(token);
        if (fr < 0 || exc != NULL) {
            if (fr < 0)
                err_chain_context(exc);
            else
                err_restore(exc);
            Py_DECREF(w);
            goto out;
        }
        PyObject *v = SLOT(w, w_value);
        if (v == NULL || v == Py_None) {
            Py_DECREF(w);
            result = Py_NewRef(Py_None);
            goto out;
        }
        if (v == recheck) {
            Py_DECREF(w);
            continue;
        }
        Py_INCREF(v);
        Py_DECREF(w);
        if (PyExceptionInstance_Check(v))
            PyErr_SetObject((PyObject *)Py_TYPE(v), v);
        else
            PyErr_SetString(PyExc_TypeError, "exceptions must derive from BaseException");
        Py_DECREF(v);
        goto out;
    }
out:
    Py_DECREF(lockobj);
    Py_DECREF(g);
    Py_DECREF(p);
    Py_DECREF(pd);
    return result;
}

/* Twin: _wake_all. 1 if it woke any, 0 if none, -1 error. */
static int
wake_all(PyObject *ws)
{
    int woke = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(ws); i++) {
        PyObject *w = PyList_GET_ITEM(ws, i);
        Py_INCREF(w);
        /* every waiter is a Waiter (its token and value slots) */
        int isw = waiter_type != NULL && PyObject_TypeCheck(w, waiter_type);
        PyObject *tok = isw ? Py_XNewRef(SLOT(w, w_token)) : PyObject_GetAttr(w, str_token);
        int won = tok == NULL ? (isw ? (slot_unset(w, w_token), -1) : -1) : token_win(tok);
        Py_XDECREF(tok);
        if (won > 0) {
            if (isw)
                slot_set(w, w_value, Py_None);
            else {
                PyErr_Format(PyExc_TypeError, "netpoll: %R is not a Waiter", w);
                won = -1;
            }
            if (won > 0 && wake(w) < 0)
                won = -1;
            else
                woke = 1;
        }
        Py_DECREF(w);
        if (won < 0)
            return -1;
    }
    return woke;
}

/* One direction of an event, under pd's lock: take the waiters (a new
   reference, NULL when there are none) or set the ready flag; poke the
   threads. 0 or -1. */
static int
take_direction(PyObject *pd, Py_ssize_t off_ws, Py_ssize_t off_ready, Py_ssize_t off_threads,
               PyObject **taken)
{
    PyObject *ws = SLOT(pd, off_ws);
    *taken = NULL;
    if (ws != NULL && PyList_GET_SIZE(ws) > 0) {
        PyObject *fresh = PyList_New(0);
        if (fresh == NULL)
            return -1;
        *taken = Py_NewRef(ws);
        slot_set(pd, off_ws, fresh);
        Py_DECREF(fresh);
    } else
        slot_set(pd, off_ready, Py_True);
    PyObject *th = SLOT(pd, off_threads);
    if (th != NULL && PyObject_IsTrue(th) == 1) {
        PyObject *r = PyObject_CallOneArg(poke, th);
        if (r == NULL)
            return -1;
        Py_DECREF(r);
    }
    return 0;
}

/* After the lock: wake the taken waiters; if none could be woken (each was
   woken otherwise), keep the edge (the ready flag). 0 or -1. */
static int
wake_direction(PyObject *pd, LockObject *lock, PyObject *taken, Py_ssize_t off_ready)
{
    if (taken == NULL)
        return 0;
    int r = wake_all(taken);
    if (r == 0) {
        if (lock_acquire_blocking(lock) < 0)
            return -1;
        slot_set(pd, off_ready, Py_True);
        lock_release_held(lock);
    }
    return r < 0 ? -1 : 0;
}

/* Twin: _dispatch (fd, ev): an edge of fd. */
static PyObject *
sp_np_dispatch(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyLong_CheckExact(args[1]))
        return PyObject_Vectorcall(py_dispatch, args, nargs, NULL);
    PyObject *pd = PyDict_GetItemWithError(pds, args[0]);
    if (pd == NULL) {
        if (PyErr_Occurred())
            return NULL;
        Py_RETURN_NONE;
    }
    PyObject *lockobj = SLOT(pd, pd_lock);
    PyObject *rw = SLOT(pd, pd_rwaiters), *ww = SLOT(pd, pd_wwaiters);
    if (!Py_IS_TYPE(pd, polldesc_type) || lockobj == NULL || !Py_IS_TYPE(lockobj, &Lock_Type) ||
        rw == NULL || !PyList_CheckExact(rw) || ww == NULL || !PyList_CheckExact(ww))
        return PyObject_Vectorcall(py_dispatch, args, nargs, NULL);
    long ev = PyLong_AsLong(args[1]);
    if (ev == -1 && PyErr_Occurred())
        return NULL;
    long r = ev & ep_in, wr = ev & ep_out;
    Py_INCREF(pd);
    Py_INCREF(lockobj);
    LockObject *lock = (LockObject *)lockobj;
    PyObject *rws = NULL, *wws = NULL;
    int err = 0;
    if (lock_acquire_blocking(lock) < 0)
        err = -1;
    else {
        if (r) {
            if (ev & ep_hup)
                slot_set(pd, pd_rhup, Py_True);
            err = take_direction(pd, pd_rwaiters, pd_rready, pd_rthreads, &rws);
        }
        if (wr && err == 0)
            err = take_direction(pd, pd_wwaiters, pd_wready, pd_wthreads, &wws);
        lock_release_held(lock);
    }
    if (err == 0)
        err = wake_direction(pd, lock, rws, pd_rready);
    if (err == 0)
        err = wake_direction(pd, lock, wws, pd_wready);
    Py_XDECREF(rws);
    Py_XDECREF(wws);
    Py_DECREF(lockobj);
    Py_DECREF(pd);
    if (err < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* The slots this port reads, in the order accel.py's registry lists them
   (PORTS["netpoll"].slots). */
static const SlotTarget netpoll_slots[] = {
    {&pd_lock, &polldesc_type},      /* PollDesc.lock */
    {&pd_closing, &polldesc_type},   /* PollDesc.closing */
    {&pd_rready, &polldesc_type},    /* PollDesc.rready */
    {&pd_wready, &polldesc_type},    /* PollDesc.wready */
    {&pd_rhup, &polldesc_type},      /* PollDesc.rhup */
    {&pd_rwaiters, &polldesc_type},  /* PollDesc.rwaiters */
    {&pd_wwaiters, &polldesc_type},  /* PollDesc.wwaiters */
    {&pd_rthreads, &polldesc_type},  /* PollDesc.rthreads */
    {&pd_wthreads, &polldesc_type},  /* PollDesc.wthreads */
    {&pd_rdeadline, &polldesc_type}, /* PollDesc.rdeadline */
    {&pd_wdeadline, &polldesc_type}, /* PollDesc.wdeadline */
    {&p_nio, &np_p_type},            /* P.nio */
};

/* setup_netpoll(slots, polldesc=, py_wait=, py_dispatch=, pds=, timers=,
   clock=, rtimer=, deadline_fired=, poke=, net_closed=, deadline_exceeded=,
   recheck=, wait_io=, ep_in=, ep_out=, ep_hup=, pcls=). Set up while sched.py's
   port may not be yet (proc imports this module first): the GWaiter type is
   read at each wait, which falls back to the twin until it is there. */
static PyObject *
sp_setup_netpoll(PyObject *mod, PyObject *args, PyObject *kw)
{
    static const char *const names[] = {
        "polldesc", "py_wait",  "py_dispatch", "pds",     "timers",     "clock",
        "rtimer",   "deadline_fired", "poke",  "net_closed", "deadline_exceeded",
        "recheck",  "wait_io",  "ep_in",       "ep_out",  "ep_hup", "pcls"};
    enum { N = sizeof(names) / sizeof(names[0]) };
    PyObject *o[N], *slots;
    if (setup_args("netpoll", args, kw, names, o, N, &slots) < 0)
        return NULL;
    if (keep_type("netpoll", "polldesc", &polldesc_type, o[0]) < 0 ||
        keep_type("netpoll", "pcls", &np_p_type, o[16]) < 0 ||
        slot_offsets("netpoll", slots, netpoll_slots,
                     sizeof(netpoll_slots) / sizeof(netpoll_slots[0])) < 0)
        return NULL;
    if (!PyDict_CheckExact(o[3])) {
        PyErr_SetString(PyExc_TypeError, "setup_netpoll(): pds must be a dict");
        return NULL;
    }
    long e[3];
    for (int i = 0; i < 3; i++) {
        e[i] = PyLong_AsLong(o[13 + i]);
        if (e[i] == -1 && PyErr_Occurred())
            return NULL;
    }
    if (str_add == NULL) {
        str_add = PyUnicode_InternFromString("add");
        str_delete = PyUnicode_InternFromString("delete");
        str_read = PyUnicode_InternFromString("read");
        if (!str_add || !str_delete || !str_read)
            return NULL;
    }
    ep_in = e[0];
    ep_out = e[1];
    ep_hup = e[2];
    keep(&py_wait, o[1]);
    keep(&py_dispatch, o[2]);
    keep(&pds, o[3]);
    keep(&timers_module, o[4]);
    keep(&clock_module, o[5]);
    keep(&rtimer, o[6]);
    keep(&deadline_fired, o[7]);
    keep(&poke, o[8]);
    keep(&net_closed, o[9]);
    keep(&deadline_exceeded, o[10]);
    keep(&recheck, o[11]);
    keep(&wait_io, o[12]);
    Py_RETURN_NONE;
}

PyMethodDef netpoll_methods[] = {
    {"np_wait", (PyCFunction)(void (*)(void))sp_np_wait, METH_FASTCALL,
     "netpoll.wait(pd, mode) in C."},
    {"np_dispatch", (PyCFunction)(void (*)(void))sp_np_dispatch, METH_FASTCALL,
     "netpoll._dispatch(fd, ev) in C."},
    {"setup_netpoll", (PyCFunction)(void (*)(void))sp_setup_netpoll, METH_VARARGS | METH_KEYWORDS,
     "setup_netpoll(slots, polldesc=, py_wait=, py_dispatch=, pds=, timers=, clock=, rtimer=, "
     "deadline_fired=, poke=, net_closed=, deadline_exceeded=, recheck=, wait_io=, ep_in=, "
     "ep_out=, ep_hup=, pcls=): its Python wait and _dispatch become the fallbacks."},
    {NULL, NULL, 0, NULL},
};
