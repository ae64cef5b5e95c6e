#include "_speedups.h"

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

/* Set while a channel trace runs (_select.set_traced): every select goes to
   the Python twin, where the tracer records it. */
static int select_traced = 0;

static PyObject *
sp_set_select_traced(PyObject *mod, PyObject *flag)
{
    int on = PyObject_IsTrue(flag);
    if (on < 0)
        return NULL;
    select_traced = on;
    Py_RETURN_NONE;
}

/* Twin: _select.select, passes 1-3, for a goroutine whose cases are all on
   plain channels. Leaves to Python (before anything was locked or changed):
   a caller without a running goroutine, a timer channel or a channel not
   made by Chan.__init__ among the cases, a pending panic or signal, no
   channel at all, malformed cases, more than MAX_CASES, a channel trace.
   Raises, before anything was locked or changed, for a case on a channel of
   a synctest bubble the caller is not in (bubble_check), as the twin does. */
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
    if (ncases == 0 || ncases > MAX_CASES || is_attention() || select_traced)
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
            PyObject *bubble = SLOT(ch, c_bubble);
            if (bubble != Py_None) {
                if (bubble == NULL) /* never initialised: the twin's AttributeError */
                    goto python;
                /* Nothing is locked or changed yet. */
                if (bubble_check(bubble, "select on synctest channel from outside bubble") < 0)
                    return NULL;
            }
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

/* Twin: _select.py recv, recv_ok and send (the case constructors). Leave to
   Python: a channel that is not exactly a Chan or None (views, errors). */
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

/* setup_cases(recv, recv_ok, send): the Python twins of the case
   constructors. */
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

/* setup_select(slots, recv=, recv_ok=, send=, spare=, py_select=, wait_select=):
   _select's case markers, its pool of waiters, the Python select (the
   fallback) and the wait reason. select reads the slots of the scheduler's
   and the channel's ports, none of its own (slots is empty). */
static PyObject *
sp_setup_select(PyObject *mod, PyObject *args, PyObject *kw)
{
    static const char *const names[] = {"recv", "recv_ok", "send", "spare", "py_select",
                                        "wait_select"};
    enum { N = sizeof(names) / sizeof(names[0]) };
    PyObject *o[N], *slots;
    if (setup_args("select", args, kw, names, o, N, &slots) < 0)
        return NULL;
    if (chan_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "setup_chan() first");
        return NULL;
    }
    if (!PyList_Check(o[3])) {
        PyErr_SetString(PyExc_TypeError, "setup_select(): spare must be a list");
        return NULL;
    }
    if (slot_offsets("select", slots, NULL, 0) < 0)
        return NULL;
    keep(&kind_recv, o[0]);
    keep(&kind_recv_ok, o[1]);
    keep(&kind_send, o[2]);
    keep(&select_spare, o[3]);
    keep(&py_select, o[4]);
    keep(&s_select, o[5]);
    Py_RETURN_NONE;
}

PyMethodDef select_methods[] = {
    {"select", (PyCFunction)(void (*)(void))sp_select, METH_FASTCALL | METH_KEYWORDS,
     "_select.select(*cases, default=False) in C."},
    {"case_recv", (PyCFunction)(void (*)(void))sp_case_recv, METH_FASTCALL,
     "_select.recv(ch) in C."},
    {"case_recv_ok", (PyCFunction)(void (*)(void))sp_case_recv_ok, METH_FASTCALL,
     "_select.recv_ok(ch) in C."},
    {"case_send", (PyCFunction)(void (*)(void))sp_case_send, METH_FASTCALL,
     "_select.send(ch, value) in C."},
    {"set_select_traced", (PyCFunction)sp_set_select_traced, METH_O,
     "set_select_traced(flag): every select goes to the Python twin (a channel trace)."},
    {"setup_cases", (PyCFunction)sp_setup_cases, METH_VARARGS,
     "setup_cases(recv, recv_ok, send): the Python twins of the case constructors."},
    {"setup_select", (PyCFunction)(void (*)(void))sp_setup_select, METH_VARARGS | METH_KEYWORDS,
     "setup_select(slots, recv=, recv_ok=, send=, spare=, py_select=, wait_select=)."},
    {NULL, NULL, 0, NULL},
};
