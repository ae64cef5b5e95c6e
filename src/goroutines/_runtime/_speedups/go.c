#include "_speedups.h"

/* ------------------------------------------------------------------------ */
/* go                                                                       */
/*
 * proc.go, and the public go() that calls it, for a goroutine started by a
 * goroutine of this thread's P: the same G, filled the same way, queued the
 * same way. The Python twins take every other case (no P, a thread running an
 * asyncio loop, a pending panic, keyword arguments, a callable that is not a
 * plain function or method), before anything was done.
 */

static PyObject *gmod_dict;          /* goroutines._runtime.g's globals (_ids is replaced by run) */
static PyObject *allgs_dict;         /* g.allgs */
static PyObject *get_running_loop;   /* asyncio.events._get_running_loop, once imported */
static PyObject *py_sched_go, *py_go;
static Py_ssize_t g_fn, g_args, g_context, g_parent_id, g_created_code, g_created_lasti;

/* This thread's P if go() may put the new G on it; NULL (no error) if the
   Python twin must decide. */
static PyObject *
go_p(void)
{
    PyObject *p = tls_p;
    /* Traced (a hook, or the recorder): the twin, which emits the G's
       creation; go() is not the hot path tracing would make slow. */
    if (p == NULL || TRACING() || is_attention())
        return NULL;
    PyObject *ev = PyDict_GetItemWithError(PyImport_GetModuleDict(), str_asyncio_events);
    if (ev != NULL) {
        /* A thread running an asyncio loop: proc.go's rules decide. */
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

/* Twin: the body of proc.go, with G.__init__'s stores. A new G running fn(*args) on p, queued, in
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
    /* A copy of the caller's context, or None for an empty one (proc.go). */
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

/* Twin: proc.go. Leaves to Python: keyword arguments, a caller without a
   P or on an asyncio loop's thread, a pending panic or signal (go_p). */
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
    /* sys._getframe(depth) as proc.go counts it: its own frame is depth 0,
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

/* Twin: _go.py go (and G.__init__'s stores, in new_g). Leaves to Python:
   keyword arguments, callables that are not plain functions or methods,
   async functions (its TypeError), whatever go_p leaves. */
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

/* The slots this port reads besides the scheduler's, in the order
   accel.py's registry lists them (PORTS["go"].slots). */
static const SlotTarget go_slots[] = {
    {&g_fn, &g_type},             /* G.fn */
    {&g_args, &g_type},           /* G.args */
    {&g_context, &g_type},        /* G.context */
    {&g_parent_id, &g_type},      /* G.parent_id */
    {&g_created_code, &g_type},   /* G.created_code */
    {&g_created_lasti, &g_type},  /* G.created_lasti */
};

/* setup_go(slots, py_sched_go=, g_globals=, allgs=): proc.go (the twin of
   sched_go), the globals of the module whose _ids numbers goroutines, and
   allgs. */
static PyObject *
sp_setup_go(PyObject *mod, PyObject *args, PyObject *kw)
{
    static const char *const names[] = {"py_sched_go", "g_globals", "allgs"};
    enum { N = sizeof(names) / sizeof(names[0]) };
    PyObject *o[N], *slots;
    if (setup_args("go", args, kw, names, o, N, &slots) < 0)
        return NULL;
    if (g_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "setup_sched() first");
        return NULL;
    }
    if (!PyDict_Check(o[1]) || !PyDict_CheckExact(o[2])) {
        PyErr_SetString(PyExc_TypeError, "setup_go(): g_globals and allgs must be dicts");
        return NULL;
    }
    if (slot_offsets("go", slots, go_slots, sizeof(go_slots) / sizeof(go_slots[0])) < 0)
        return NULL;
    keep(&py_sched_go, o[0]);
    keep(&gmod_dict, o[1]);
    keep(&allgs_dict, o[2]);
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


PyMethodDef go_methods[] = {
    {"sched_go", (PyCFunction)(void (*)(void))sp_sched_go, METH_FASTCALL,
     "proc.go(fn, args, kwargs, depth) in C."},
    {"go", (PyCFunction)(void (*)(void))sp_go, METH_FASTCALL | METH_KEYWORDS,
     "go(fn, *args, **kwargs) in C."},
    {"setup_go", (PyCFunction)(void (*)(void))sp_setup_go, METH_VARARGS | METH_KEYWORDS,
     "setup_go(slots, py_sched_go=, g_globals=, allgs=): the Python twin of sched_go and G's slots."},
    {"setup_public_go", (PyCFunction)sp_setup_public_go, METH_O,
     "setup_public_go(go): the Python twin of go."},
    {NULL, NULL, 0, NULL},
};
