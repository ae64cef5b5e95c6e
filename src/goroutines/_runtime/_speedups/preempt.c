#include "_speedups.h"

/* ------------------------------------------------------------------------ */
/* preempt: the sys.monitoring callback that switches a goroutine out        */
/*
 * preempt.py arms sys.monitoring events (LINE, JUMP) on the program's own
 * code objects only while a preemption of some P is requested, and registers
 * preempt_event as their callback. Events fire on every thread that runs
 * that code; the callback acts only on a thread whose P has a request
 * (requested[], written by preempt_arm / preempt_disarm under the GIL) and
 * that is not inside a port of this accelerator (accel_depth), then asks the
 * Python twin's safe-point check (preempt._point) and, if it says so, runs
 * preempt._switch_out with the thread's tracing counter left.
 *
 * Why C: CPython raises the thread state's tracing counter while a monitoring
 * callback runs, and skips every monitoring callback and trace function
 * while it is raised. A greenlet switch does not save that counter: switched
 * from inside the callback, the next goroutine would run with it raised (no
 * preemption, no debugger, no coverage) until the preempted one resumed.
 * PyThreadState_LeaveTracing / EnterTracing around the switch keep the
 * counter at zero for everything that runs meanwhile; the callback's own
 * frame gets it back when it resumes. Python code cannot do this, so the
 * pure path never arms the events (preempt.supported()).
 */

#define MAX_REQUESTED 256

/* The threads (idents) whose P has a preemption requested. */
static unsigned long requested[MAX_REQUESTED];
static int nrequested;

/* This thread's depth of calls into the accelerator's ports (method.c,
   ChanIter_next): a collection or a finalizer run from inside one may hold a
   channel's lock, and must never be switched out. Saved and zeroed around
   every switch to another goroutine (switch_to_impl). */
__thread int accel_depth;

static PyObject *py_point;  /* preempt._point(): the P to switch, or None */
static PyObject *py_switch; /* preempt._switch_out(p) */

static int
is_requested(unsigned long ident)
{
    for (int i = 0; i < nrequested; i++)
        if (requested[i] == ident)
            return 1;
    return 0;
}

/* Twin: preempt._event. The callback of the armed events (any arguments,
   always returns None, never DISABLE). Leaves to Python: whether this is a
   safe point (preempt._point) and the switch itself (preempt._switch_out),
   which runs with this thread's tracing counter left. */
static PyObject *
sp_preempt_event(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nrequested == 0 || accel_depth != 0 || py_point == NULL)
        Py_RETURN_NONE;
    if (!is_requested(PyThread_get_thread_ident()))
        Py_RETURN_NONE;
    PyObject *p = PyObject_CallNoArgs(py_point);
    if (p == NULL)
        return NULL;
    if (p == Py_None) {
        Py_DECREF(p);
        Py_RETURN_NONE;
    }
    PyThreadState *ts = PyThreadState_Get();
    PyThreadState_LeaveTracing(ts);
    PyObject *r = PyObject_CallOneArg(py_switch, p);
    PyThreadState_EnterTracing(ts);
    Py_DECREF(p);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_NONE;
}

static int
ident_arg(PyObject *arg, unsigned long *out)
{
    *out = PyLong_AsUnsignedLong(arg);
    return *out == (unsigned long)-1 && PyErr_Occurred() ? -1 : 0;
}

/* Twin: preempt._arm_thread. Returns whether the thread is (now) requested:
   False only when MAX_REQUESTED threads already are. */
static PyObject *
sp_preempt_arm(PyObject *mod, PyObject *arg)
{
    unsigned long ident;
    if (ident_arg(arg, &ident) < 0)
        return NULL;
    if (is_requested(ident))
        Py_RETURN_TRUE;
    if (nrequested == MAX_REQUESTED)
        Py_RETURN_FALSE;
    requested[nrequested++] = ident;
    Py_RETURN_TRUE;
}

/* Twin: preempt._disarm_thread. */
static PyObject *
sp_preempt_disarm(PyObject *mod, PyObject *arg)
{
    unsigned long ident;
    if (ident_arg(arg, &ident) < 0)
        return NULL;
    for (int i = 0; i < nrequested; i++) {
        if (requested[i] == ident) {
            requested[i] = requested[--nrequested];
            break;
        }
    }
    Py_RETURN_NONE;
}

/* accel_depth(): this thread's depth of calls into the ports (for tests). */
static PyObject *
sp_accel_depth(PyObject *mod, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromLong(accel_depth);
}

/* setup_preempt(slots, point=, switch=): the Python halves of the callback. */
static PyObject *
sp_setup_preempt(PyObject *mod, PyObject *args, PyObject *kw)
{
    static const char *const names[] = {"point", "switch"};
    enum { N = sizeof(names) / sizeof(names[0]) };
    PyObject *o[N], *slots;
    if (setup_args("preempt", args, kw, names, o, N, &slots) < 0)
        return NULL;
    if (!PyTuple_Check(slots) || PyTuple_GET_SIZE(slots) != 0) {
        PyErr_Format(PyExc_TypeError, "setup_preempt(): the port has no slots, got %R", slots);
        return NULL;
    }
    if (!PyCallable_Check(o[0]) || !PyCallable_Check(o[1])) {
        PyErr_SetString(PyExc_TypeError, "setup_preempt(): point and switch must be callable");
        return NULL;
    }
    keep(&py_point, o[0]);
    keep(&py_switch, o[1]);
    Py_RETURN_NONE;
}

PyMethodDef preempt_methods[] = {
    {"preempt_event", (PyCFunction)(void (*)(void))sp_preempt_event, METH_FASTCALL,
     "The sys.monitoring callback of a requested preemption."},
    {"preempt_arm", (PyCFunction)sp_preempt_arm, METH_O,
     "preempt_arm(ident): events on thread ident may switch its goroutine out."},
    {"preempt_disarm", (PyCFunction)sp_preempt_disarm, METH_O,
     "preempt_disarm(ident): no more preemption on thread ident."},
    {"accel_depth", (PyCFunction)sp_accel_depth, METH_NOARGS,
     "This thread's depth of calls into the accelerator's ports."},
    {"setup_preempt", (PyCFunction)(void (*)(void))sp_setup_preempt,
     METH_VARARGS | METH_KEYWORDS,
     "setup_preempt(slots, point=, switch=): the Python halves of preempt_event."},
    {NULL, NULL, 0, NULL},
};
