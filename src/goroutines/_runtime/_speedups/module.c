#include "_speedups.h"

void **speedups_greenlet_api; /* set by PyGreenlet_Import */

/* ------------------------------------------------------------------------ */
/* Slots of the runtime's Python classes                                     */

PyTypeObject *chan_type, *waiter_type, *gwaiter_type, *g_type, *p_type;

Py_ssize_t c_lock, c_buf, c_cap, c_closed, c_recvq, c_sendq, c_timer, c_bubble;
Py_ssize_t w_token, w_elem, w_value, w_ok, w_done, w_g, w_case, w_chan;
Py_ssize_t g_id, g_state, g_wait_reason, g_token, g_greenlet, g_throw_exc, g_p, g_waiter;
Py_ssize_t p_ident, p_runnext, p_runq, p_inbound, p_sleeping, p_schedtick, p_streak, p_killing,
    p_curg, p_free_workers, p_g0, p_g1, p_timerq;

PyObject *str_attention, *str_wakeup, *str_wake, *str_abandon, *str_token, *str_remove;
PyObject *s_empty, *zero, *minus_one;
PyObject *str_p_release, *str_ids, *str_asyncio_events, *str_gr_context;

/* The __slots__ member of o's class at offset off (o's own class or a base). */
static PyMemberDef *
member_at(PyObject *o, Py_ssize_t off)
{
    PyObject *mro = Py_TYPE(o)->tp_mro;
    Py_ssize_t n = mro != NULL ? PyTuple_GET_SIZE(mro) : 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyMemberDef *m = ((PyTypeObject *)PyTuple_GET_ITEM(mro, i))->tp_members;
        for (; m != NULL && m->name != NULL; m++) {
            if (m->offset == off && m->type == T_OBJECT_EX)
                return m;
        }
    }
    return NULL;
}

PyObject *
slot_name(PyTypeObject *cls, Py_ssize_t off)
{
    PyObject *mro = cls->tp_mro;
    Py_ssize_t n = mro != NULL ? PyTuple_GET_SIZE(mro) : 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyMemberDef *m = ((PyTypeObject *)PyTuple_GET_ITEM(mro, i))->tp_members;
        for (; m != NULL && m->name != NULL; m++) {
            if (m->offset == off && m->type == T_OBJECT_EX)
                return PyUnicode_InternFromString(m->name);
        }
    }
    PyErr_Format(PyExc_RuntimeError, "%s has no slot at offset %zd", cls->tp_name, off);
    return NULL;
}

/* A slot that was never set: NULL with the AttributeError Python code
   reading it gets, raised by reading it as Python code does. */
PyObject *
slot_unset(PyObject *o, Py_ssize_t off)
{
    PyMemberDef *m = member_at(o, off);
    if (m == NULL) {
        fault("%s has no slot at offset %zd", Py_TYPE(o)->tp_name, off);
        return NULL;
    }
    PyObject *v = PyObject_GetAttrString(o, m->name); /* raises the interpreter's own error */
    if (v != NULL) {
        Py_DECREF(v);
        PyErr_Format(PyExc_AttributeError, "'%s' object has no attribute '%s'",
                     Py_TYPE(o)->tp_name, m->name);
    }
    return NULL;
}

int
slot_offsets(const char *port, PyObject *descriptors, const SlotTarget *targets, Py_ssize_t n)
{
    PyObject *seq = PySequence_Fast(descriptors, "the slot descriptors must be a sequence");
    if (seq == NULL)
        return -1;
    if (PySequence_Fast_GET_SIZE(seq) != n) {
        PyErr_Format(PyExc_RuntimeError,
                     "setup_%s(): %zd slot descriptors given, this build of the accelerator "
                     "reads %zd: accel.py's registry and the C port disagree (rebuild, or "
                     "update the port and the registry together)",
                     port, PySequence_Fast_GET_SIZE(seq), n);
        Py_DECREF(seq);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *d = PySequence_Fast_GET_ITEM(seq, i);
        PyTypeObject *cls = *targets[i].cls;
        if (!Py_IS_TYPE(d, &PyMemberDescr_Type) ||
            ((PyMemberDescrObject *)d)->d_member->type != T_OBJECT_EX) {
            PyErr_Format(PyExc_TypeError, "setup_%s(): slot descriptor %zd is %R, not a "
                         "__slots__ member", port, i, d);
            Py_DECREF(seq);
            return -1;
        }
        PyTypeObject *owner = ((PyMemberDescrObject *)d)->d_common.d_type;
        if (cls == NULL || !PyType_IsSubtype(cls, owner)) {
            PyErr_Format(PyExc_TypeError, "setup_%s(): slot descriptor %zd is %R, not a slot "
                         "of %s", port, i, d, cls != NULL ? cls->tp_name : "(no class yet)");
            Py_DECREF(seq);
            return -1;
        }
    }
    for (Py_ssize_t i = 0; i < n; i++) /* all checked: nothing changes on an error */
        *targets[i].offset =
            ((PyMemberDescrObject *)PySequence_Fast_GET_ITEM(seq, i))->d_member->offset;
    Py_DECREF(seq);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */

/* The current exception as one object (normalised, traceback attached),
   and no exception set; NULL if there was none. */
PyObject *
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
void
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
void
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

PyObject *py_throw;    /* errors.throw: builds a RuntimeFault (setup_sched) */
PyObject *py_note_use; /* sched.note_use (setup_sched) */

/* A port serves a caller without a P (a plain thread) from C: count that
   thread as a possible waker, as its Python twin's
   `if _tls.p is None and not _tls.foreign: _sched.note_use()` does (the
   call is sched.note_use itself). 0, or -1 with an error. */
int
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
int
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


int
setup_args(const char *port, PyObject *args, PyObject *kw, const char *const *names,
           PyObject **out, Py_ssize_t n, PyObject **slots)
{
    if (!PyTuple_Check(args) || PyTuple_GET_SIZE(args) != 1) {
        PyErr_Format(PyExc_TypeError, "setup_%s() takes the slot descriptors by position, "
                     "everything else by keyword", port);
        return -1;
    }
    *slots = PyTuple_GET_ITEM(args, 0);
    for (Py_ssize_t i = 0; i < n; i++) {
        out[i] = kw == NULL ? NULL : PyDict_GetItemString(kw, names[i]);
        if (out[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "setup_%s() missing keyword argument '%s'", port,
                         names[i]);
            return -1;
        }
    }
    if (kw != NULL && PyDict_GET_SIZE(kw) != n) {
        PyErr_Format(PyExc_TypeError, "setup_%s() takes %zd keyword arguments, got %zd: %R",
                     port, n, PyDict_GET_SIZE(kw), kw);
        return -1;
    }
    return 0;
}

int
keep(PyObject **out, PyObject *v)
{
    Py_XSETREF(*out, Py_NewRef(v));
    return 0;
}

int
keep_type(const char *port, const char *what, PyTypeObject **out, PyObject *v)
{
    if (!PyType_Check(v)) {
        PyErr_Format(PyExc_TypeError, "setup_%s(): %s must be a class, got %R", port, what, v);
        return -1;
    }
    Py_XSETREF(*out, (PyTypeObject *)Py_NewRef(v));
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Queues                                                                   */

PyTypeObject *deque_type;
PyCFunction deque_popleft_c, deque_append_c;
PyObject *str_popleft, *str_append;

int
dq_missing(void)
{
    return fault("a runtime queue is missing (an object not made by its __init__)");
}

/* ------------------------------------------------------------------------ */
/* The module                                                               */

static PyObject *
sp_in_main_interpreter(PyObject *mod, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(PyInterpreterState_Get() == PyInterpreterState_Main());
}

static PyMethodDef module_methods[] = {
    {"in_main_interpreter", (PyCFunction)sp_in_main_interpreter, METH_NOARGS,
     "Whether this is the main interpreter (the only one the accelerator serves)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "goroutines._runtime._speedups",
    .m_doc = "The runtime's hot paths in C (optional; the Python twins, named in accel.PORTS, are the reference).",
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
        !str_acquire || !str_release || !str_popleft || !str_append ||
        !str_p_release)
        return NULL;
    PyObject *m = PyModule_Create(&speedups_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&Lock_Type);
    Py_INCREF(&Method_Type);
    if (PyModule_AddObject(m, "Lock", (PyObject *)&Lock_Type) < 0 ||
        PyModule_AddObject(m, "method", (PyObject *)&Method_Type) < 0 ||
        PyModule_AddFunctions(m, sched_methods) < 0 || PyModule_AddFunctions(m, go_methods) < 0 ||
        PyModule_AddFunctions(m, waitgroup_methods) < 0 ||
        PyModule_AddFunctions(m, chan_methods) < 0 || PyModule_AddFunctions(m, select_methods) < 0 ||
        PyModule_AddFunctions(m, arena_methods) < 0 ||
        PyModule_AddFunctions(m, preempt_methods) < 0 ||
        PyModule_AddFunctions(m, net_methods) < 0 ||
        PyModule_AddFunctions(m, netpoll_methods) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
