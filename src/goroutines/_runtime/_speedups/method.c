#include "_speedups.h"

/* ------------------------------------------------------------------------ */
/* method: makes a C function (self, *args) usable as a Python method        */

typedef struct {
    PyObject_HEAD
    PyObject *func;    /* the C implementation: called as func(self, *args) */
    PyObject *wrapped; /* the Python reference implementation (its docs, signature) */
    vectorcallfunc vectorcall;
    int takes_keywords; /* func handles keyword arguments; else they go to wrapped */
} MethodObject;

static PyObject *
Method_vectorcall(MethodObject *m, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0 && !m->takes_keywords)
        return PyObject_Vectorcall(m->wrapped, args, nargsf, kwnames);
    /* Inside a port: no preemption (preempt.c), also of a finalizer the
       port's work runs. */
    accel_depth++;
    PyObject *r = PyObject_Vectorcall(m->func, args, nargsf, kwnames);
    accel_depth--;
    return r;
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

PyTypeObject Method_Type = {
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

