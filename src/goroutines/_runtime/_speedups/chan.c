#include "_speedups.h"

/* Python twins, for the paths left to Python (attention, timers, foreign callers). */
static PyObject *py_send, *py_recv, *py_recv_ok;

/* ------------------------------------------------------------------------ */
/* synctest bubbles                                                         */

static PyObject *bubble_var; /* clock.bubble, the ContextVar of the caller's bubble */
/* clock._nbubbles, the bubbles that exist (set by chan_bubbles, which
   clock.watch_bubbles calls at each change): read by Chan.__init__ alone. */
static Py_ssize_t nbubbles;

/* chan_bubbles(n): clock._nbubbles is n now. */
static PyObject *
sp_chan_bubbles(PyObject *mod, PyObject *n)
{
    Py_ssize_t v = PyLong_AsSsize_t(n);
    if (v == -1 && PyErr_Occurred())
        return NULL;
    nbubbles = v;
    Py_RETURN_NONE;
}

/* Twin: _chan.check_bubble, for a channel whose _bubble slot holds b, a
   bubble (not None, not unset): 0 if the caller runs in b, else -1 with
   ChannelClosedError(msg), Go's words. Callers test the slot against None
   first, one pointer compare, so a channel made outside every bubble pays
   nothing more. */
int
bubble_check(PyObject *b, const char *msg)
{
    PyObject *cur;
    if (PyContextVar_Get(bubble_var, NULL, &cur) < 0)
        return -1;
    int inside = cur == b;
    Py_XDECREF(cur);
    if (inside)
        return 0;
    PyErr_SetString(closed_error, msg);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Chan.send / recv / recv_ok                                               */

/* Lock a channel that chan_is_plain accepted. */
static inline LockObject *
chan_lock(PyObject *c)
{
    LockObject *l = (LockObject *)SLOT(c, c_lock);
    if (lock_acquire_blocking(l) < 0)
        return NULL;
    return l;
}

/* GWaiter(g, token): its __init__'s stores without the call (waiter.py).
   Shared with netpoll.c. */
PyObject *
new_gwaiter(PyObject *g, PyObject *token)
{
    PyObject *w = gwaiter_type->tp_alloc(gwaiter_type, 0);
    if (w == NULL)
        return NULL;
    slot_set(w, w_token, token);
    slot_set(w, w_elem, Py_None);
    slot_set(w, w_value, Py_None);
    slot_set(w, w_ok, Py_False);
    slot_set(w, w_done, Py_False);
    slot_set(w, w_case, minus_one);
    slot_set(w, w_chan, Py_None);
    slot_set(w, w_g, g);
    return w;
}

/* Twin: GWaiter.__init__'s stores (waiter.py), for the goroutine's reusable
   GWaiter, with a fresh token; NULL on error. Leaves nothing to Python. */
static PyObject *
goroutine_waiter(PyObject *g, PyObject **token_out)
{
    PyObject *w = SLOT(g, g_waiter);
    if (w == NULL || !Py_IS_TYPE(w, gwaiter_type)) {
        w = new_gwaiter(g, Py_None);
        if (w == NULL)
            return NULL;
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

/* Twin: Chan.__init__. Leaves to Python: a subclass, a capacity that is not
   an int from 0 to sys.maxsize given by position (its ValueError or
   TypeError), keyword arguments. */
static PyObject *
sp_chan_init(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2 || !Py_IS_TYPE(args[0], chan_type) ||
        (nargs == 2 && !PyLong_CheckExact(args[1])))
        goto python;
    /* While some synctest bubble exists (clock._nbubbles is not 0), the twin
       looks the creator's bubble up; else the channel's bubble is None. */
    if (nbubbles != 0)
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
    slot_set(self, c_bubble, Py_None);
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
PyObject *
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
        PyObject *tok = slot_get(w, w_token);
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
    PyObject *bubble = SLOT(self, c_bubble);
    if (bubble != Py_None) {
        if (bubble == NULL) /* never initialised: the twin's AttributeError */
            return PyObject_Vectorcall(py_send, args, nargs, NULL);
        if (bubble_check(bubble, "send on synctest channel from outside bubble") < 0)
            return NULL;
    }
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

/* Twin: the receive shared by Chan.recv and Chan.recv_ok, with
   Chan._refill (a buffered slot refilled from a parked sender) and
   Chan._recv_block (park_on): 1 with *value (new
   ref) and *ok set, 0 if Python must do it (a self that is not a plain Chan,
   attention, a timer channel, a caller without a goroutine: nothing was
   changed), -1 on error (a receive from outside the channel's synctest
   bubble among them: bubble_check). */
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
    PyObject *bubble = SLOT(self, c_bubble);
    if (bubble != Py_None) {
        if (bubble == NULL) /* never initialised: the twin's AttributeError */
            return 0;
        if (bubble_check(bubble, "receive on synctest channel from outside bubble") < 0)
            return -1;
    }
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
    PyObject *v = slot_get(w, w_value);
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
PyObject *
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

/* Twin: Chan.recv (chan_recv_impl). Leaves to Python what recv_entry does. */
static PyObject *
sp_chan_recv(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *v;
    int ok;
    return recv_entry(args, nargs, py_recv, &v, &ok) < 0 ? NULL : v;
}

/* Twin: Chan.recv_ok (chan_recv_impl). Leaves to Python what recv_entry does. */
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


/* Twin: one step of Chan.__iter__ (chan_recv_impl, or the twin's recv_ok
   for what that leaves to Python). */
static PyObject *
ChanIter_next(ChanIterObject *it)
{
    PyObject *chan = it->chan;
    if (chan == NULL)
        return NULL;
    PyObject *v;
    int ok;
    Py_INCREF(chan);
    accel_depth++; /* a port call, as method.c counts them */
    int r = chan_recv_impl(chan, &v, &ok);
    accel_depth--;
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

PyTypeObject ChanIter_Type = {
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
/* setup                                                                    */

/* The slots this port reads, in the order accel.py's registry lists them
   (PORTS["chan"].slots). */
static const SlotTarget chan_slots[] = {
    {&c_lock, &chan_type},   /* Chan._lock */
    {&c_buf, &chan_type},    /* Chan._buf */
    {&c_cap, &chan_type},    /* Chan._cap */
    {&c_closed, &chan_type}, /* Chan._closed */
    {&c_recvq, &chan_type},  /* Chan._recvq */
    {&c_sendq, &chan_type},  /* Chan._sendq */
    {&c_timer, &chan_type},  /* Chan._timer */
    {&c_bubble, &chan_type}, /* Chan._bubble */
};

/* setup_chan(slots, cls=, closed_error=, no_buffer=, py_init=, py_send=,
   py_recv=, py_recv_ok=, py_iter=, bubble=): the channel class, the error
   a send on a closed channel raises, the unbuffered channel's buffer, the
   Python methods the ports fall back to, and the ContextVar of the caller's
   synctest bubble. */
static PyObject *
sp_setup_chan(PyObject *mod, PyObject *args, PyObject *kw)
{
    static const char *const names[] = {
        "cls", "closed_error", "no_buffer", "py_init", "py_send", "py_recv", "py_recv_ok",
        "py_iter", "bubble",
    };
    enum { N = sizeof(names) / sizeof(names[0]) };
    PyObject *o[N], *slots;
    if (setup_args("chan", args, kw, names, o, N, &slots) < 0)
        return NULL;
    if (g_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "setup_sched() first");
        return NULL;
    }
    if (deque_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "collections.deque has an unexpected layout");
        return NULL;
    }
    if (keep_type("chan", "cls", &chan_type, o[0]) < 0 ||
        slot_offsets("chan", slots, chan_slots, sizeof(chan_slots) / sizeof(chan_slots[0])) < 0)
        return NULL;
    keep(&closed_error, o[1]);
    keep(&no_buffer, o[2]);
    keep(&py_chan_init, o[3]);
    keep(&py_send, o[4]);
    keep(&py_recv, o[5]);
    keep(&py_recv_ok, o[6]);
    keep(&py_chan_iter, o[7]);
    if (!PyContextVar_CheckExact(o[8])) {
        PyErr_SetString(PyExc_TypeError, "setup_chan(): bubble must be a ContextVar");
        return NULL;
    }
    keep(&bubble_var, o[8]);
    Py_RETURN_NONE;
}

PyMethodDef chan_methods[] = {
    {"setup_chan", (PyCFunction)(void (*)(void))sp_setup_chan, METH_VARARGS | METH_KEYWORDS,
     "setup_chan(slots, **objects): the channel class; its Python methods become the fallbacks."},
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
    {"chan_bubbles", (PyCFunction)sp_chan_bubbles, METH_O,
     "chan_bubbles(n): the number of synctest bubbles that exist (clock.watch_bubbles)."},
    {NULL, NULL, 0, NULL},
};
