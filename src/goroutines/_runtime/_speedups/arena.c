#include "_speedups.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

/* ------------------------------------------------------------------------ */
/* Frame-stack chunks                                                       */
/*
 * Each greenlet gets its own chunk of the interpreter's frame stack when it
 * starts (16 KiB, CPython 3.11-3.13's DATA_STACK_CHUNK_SIZE), allocated with
 * the object arena allocator: an mmap on start, a munmap on exit, and a page
 * fault on first touch. Measured here, that is most of what a goroutine's
 * start and exit cost (strace: one mmap and one munmap per greenlet; system
 * time twice the user time). Go keeps a cache of free stacks for the same
 * reason. This allocator serves 16 KiB requests from 1 MiB regions and keeps
 * every freed chunk for reuse: up to CHUNK_CACHE of them with their pages (a
 * reused chunk faults no more), the rest with their pages given back
 * (madvise), so what stays resident is bounded while the address space kept
 * is that of the most goroutines ever alive at once. Other sizes (pymalloc's
 * arenas, deeper frame stacks) go to the allocator it replaced. Linux only.
 *
 * The arena allocator is process-wide, so:
 *   * It is installed only from the main interpreter (cache_frame_stacks),
 *     once, and never removed. GOROUTINES_ARENA=0 keeps it out (proc.py).
 *   * Its state is guarded by chunk_mutex, not by a GIL: with a
 *     per-interpreter GIL (3.12+), threads of other interpreters allocate
 *     and free through it at the same time. A fork in the middle is handled
 *     by pthread_atfork.
 *   * No chunk of its regions is ever handed to the allocator it replaced
 *     (a piece of a region is not something that allocator made); a 16 KiB
 *     chunk that allocator made and that is freed here is kept for reuse
 *     like ours (it is 16 KiB of valid memory either way).
 *   * It relies on two things it does not control, checked before it is
 *     installed (probe_frame_stacks) by watching a greenlet start and end
 *     through a forwarding allocator: that a new greenlet's first frame
 *     takes a chunk of CHUNK_SIZE bytes from the arena allocator, and that
 *     greenlet gives it back to the arena allocator, with that size, when
 *     it ends (greenlet's PythonState::did_finish frees the chunks CPython
 *     never pops itself). If either fails, the cache is not installed and
 *     goroutines run with the interpreter's own allocator: slower starts,
 *     nothing else.
 */
#if defined(__linux__) && defined(MAP_ANONYMOUS)
#include <pthread.h>

#define CHUNK_SIZE (16 * 1024)
#define REGION_SIZE (64 * CHUNK_SIZE)
#define CHUNK_CACHE 4096
#ifdef MADV_FREE
#define MADV_FREE_OR_DONTNEED MADV_FREE
#else
#define MADV_FREE_OR_DONTNEED MADV_DONTNEED
#endif

static PyObjectArenaAllocator base_arena; /* the allocator replaced; set before any use */
/* chunk_mutex guards free_chunks, n_free_chunks, free_chunks_cap,
   region_next, region_end, and the probe's record. Nothing is done under it
   but its own bookkeeping, an mmap/madvise and PyMem_RawRealloc (malloc). */
static pthread_mutex_t chunk_mutex = PTHREAD_MUTEX_INITIALIZER;
/* The free chunks: a stack of pointers kept outside the chunks, so a chunk
   whose pages were given back is not touched again until it is reused. */
static void **free_chunks;
static size_t n_free_chunks, free_chunks_cap;
static char *region_next, *region_end;
static int arena_installed;
static char arena_status[200] = "not installed";

static void
chunk_lock_for_fork(void)
{
    pthread_mutex_lock(&chunk_mutex);
}

static void
chunk_unlock_after_fork(void)
{
    pthread_mutex_unlock(&chunk_mutex);
}

static void *
chunk_alloc(void *ctx, size_t size)
{
    if (size != CHUNK_SIZE)
        return base_arena.alloc(base_arena.ctx, size);
    void *p = NULL;
    pthread_mutex_lock(&chunk_mutex);
    if (n_free_chunks > 0) {
        p = free_chunks[--n_free_chunks];
    } else {
        if (region_next == region_end) {
            void *r = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                           -1, 0);
            if (r != MAP_FAILED) {
                region_next = r;
                region_end = (char *)r + REGION_SIZE;
            }
        }
        if (region_next != region_end) {
            p = region_next;
            region_next += CHUNK_SIZE;
        }
    }
    pthread_mutex_unlock(&chunk_mutex);
    /* Out of address space for a region: the old allocator may still find
       16 KiB; such a chunk is kept for reuse here once freed. */
    return p != NULL ? p : base_arena.alloc(base_arena.ctx, size);
}

static void
chunk_free(void *ctx, void *ptr, size_t size)
{
    if (size != CHUNK_SIZE) {
        base_arena.free(base_arena.ctx, ptr, size);
        return;
    }
    pthread_mutex_lock(&chunk_mutex);
    if (n_free_chunks == free_chunks_cap) {
        size_t cap = free_chunks_cap ? 2 * free_chunks_cap : 1024;
        void **arr = PyMem_RawRealloc(free_chunks, cap * sizeof(void *));
        if (arr == NULL) {
            /* No room to remember it: give its pages back and let its
               address range go unused (it may be part of a region, which
               no other allocator may be handed). */
            pthread_mutex_unlock(&chunk_mutex);
            madvise(ptr, CHUNK_SIZE, MADV_DONTNEED);
            return;
        }
        free_chunks = arr;
        free_chunks_cap = cap;
    }
    if (n_free_chunks >= CHUNK_CACHE) {
        /* Keep the address range (unmapping a piece of a region splits it,
           which costs more), give the pages back. */
        madvise(ptr, CHUNK_SIZE, MADV_FREE_OR_DONTNEED);
    }
    free_chunks[n_free_chunks++] = ptr;
    pthread_mutex_unlock(&chunk_mutex);
}

/* The probe: a forwarding allocator that records the chunks of one thread. */
#define PROBE_MAX 8
static struct {
    unsigned long thread;
    size_t expect;        /* the chunk size that must be seen */
    int nalloc;           /* chunks of size `expect` allocated by `thread` */
    int nfreed;           /* ...of which freed back with that size */
    int bad_free;         /* one of them freed with another size */
    void *chunk[PROBE_MAX];
} probe;

static void *
probe_alloc(void *ctx, size_t size)
{
    void *p = base_arena.alloc(base_arena.ctx, size);
    if (p != NULL && size == probe.expect && PyThread_get_thread_ident() == probe.thread) {
        pthread_mutex_lock(&chunk_mutex);
        if (probe.nalloc < PROBE_MAX)
            probe.chunk[probe.nalloc] = p;
        probe.nalloc++;
        pthread_mutex_unlock(&chunk_mutex);
    }
    return p;
}

static void
probe_free(void *ctx, void *ptr, size_t size)
{
    pthread_mutex_lock(&chunk_mutex);
    for (int k = 0; k < probe.nalloc && k < PROBE_MAX; k++) {
        if (probe.chunk[k] == ptr) {
            probe.chunk[k] = NULL;
            if (size == probe.expect)
                probe.nfreed++;
            else
                probe.bad_free = 1;
        }
    }
    pthread_mutex_unlock(&chunk_mutex);
    base_arena.free(base_arena.ctx, ptr, size);
}

/* Start and finish a greenlet whose run is a Python function, through the
   probe allocator; NULL if chunks of `expect` bytes behave as the cache
   needs, else why not (a static string). Called with base_arena current. */
static const char *
probe_frame_stacks(size_t expect)
{
    static char why[160];
    PyObject *globals = PyDict_New();
    if (globals == NULL || PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0) {
        Py_XDECREF(globals);
        PyErr_Clear();
        return "the probe could not be set up";
    }
    PyObject *code = Py_CompileString("lambda: None", "<goroutines frame-stack probe>",
                                      Py_eval_input);
    PyObject *fn = code == NULL ? NULL : PyEval_EvalCode(code, globals, globals);
    Py_XDECREF(code);
    Py_DECREF(globals);
    if (fn == NULL) {
        PyErr_Clear();
        return "the probe could not be set up";
    }
    PyGreenlet *gr = PyGreenlet_New(fn, NULL);
    Py_DECREF(fn);
    if (gr == NULL) {
        PyErr_Clear();
        return "the probe greenlet could not be made";
    }
    PyObjectArenaAllocator watch = {NULL, probe_alloc, probe_free};
    memset(&probe, 0, sizeof probe);
    probe.thread = PyThread_get_thread_ident();
    probe.expect = expect;
    PyObject_SetArenaAllocator(&watch);
    PyObject *r = PyGreenlet_Switch(gr, NULL, NULL);
    PyObject_SetArenaAllocator(&base_arena);
    int finished = r != NULL && PyGreenlet_ACTIVE(gr) == 0;
    Py_XDECREF(r);
    Py_DECREF(gr);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return "the probe greenlet failed";
    }
    if (!finished)
        return "the probe greenlet did not finish";
    if (probe.nalloc == 0) {
        PyOS_snprintf(why, sizeof why,
                      "a new greenlet's frame stack was not a %zu-byte chunk from the arena "
                      "allocator", expect);
        return why;
    }
    if (probe.nalloc > PROBE_MAX || probe.bad_free || probe.nfreed != probe.nalloc)
        return "greenlet did not give its frame-stack chunk back to the arena allocator "
               "with its size when it ended";
    return NULL;
}

/* Install the cache (main interpreter only, once): True if it is in place,
   False if not, with frame_stack_cache() saying why. expect: the chunk size
   the probe must see (CHUNK_SIZE; another value is for tests of the check). */
static PyObject *
sp_cache_frame_stacks(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    size_t expect = CHUNK_SIZE;
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "cache_frame_stacks(expect_chunk_size=16384)");
        return NULL;
    }
    if (nargs == 1) {
        expect = PyLong_AsSize_t(args[0]);
        if (expect == (size_t)-1 && PyErr_Occurred())
            return NULL;
    }
    if (arena_installed)
        Py_RETURN_TRUE;
    if (PyInterpreterState_Get() != PyInterpreterState_Main()) {
        PyOS_snprintf(arena_status, sizeof arena_status,
                      "not installed: not the main interpreter");
        Py_RETURN_FALSE;
    }
    PyObject_GetArenaAllocator(&base_arena);
    if (base_arena.alloc == NULL || base_arena.free == NULL) {
        PyOS_snprintf(arena_status, sizeof arena_status, "not installed: no arena allocator");
        Py_RETURN_FALSE;
    }
    const char *why = probe_frame_stacks(expect);
    if (why == NULL && expect != CHUNK_SIZE)
        why = "the chunk size seen is not the one this cache serves";
    if (why != NULL) {
        PyOS_snprintf(arena_status, sizeof arena_status, "not installed: %s", why);
        Py_RETURN_FALSE;
    }
    static int atfork_done;
    if (!atfork_done) {
        if (pthread_atfork(chunk_lock_for_fork, chunk_unlock_after_fork,
                           chunk_unlock_after_fork) != 0) {
            PyOS_snprintf(arena_status, sizeof arena_status,
                          "not installed: pthread_atfork failed");
            Py_RETURN_FALSE;
        }
        atfork_done = 1;
    }
    PyObjectArenaAllocator mine = {NULL, chunk_alloc, chunk_free};
    PyObject_SetArenaAllocator(&mine);
    arena_installed = 1;
    PyOS_snprintf(arena_status, sizeof arena_status, "installed");
    Py_RETURN_TRUE;
}
#else
static const char arena_status[] = "not installed: Linux only";

static PyObject *
sp_cache_frame_stacks(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    Py_RETURN_FALSE;
}
#endif

static PyObject *
sp_frame_stack_cache(PyObject *mod, PyObject *Py_UNUSED(ignored))
{
    return PyUnicode_FromString(arena_status);
}


PyMethodDef arena_methods[] = {
    {"cache_frame_stacks", (PyCFunction)(void (*)(void))sp_cache_frame_stacks, METH_FASTCALL,
     "Serve greenlets' frame-stack chunks from a cache (True if it is in place)."},
    {"frame_stack_cache", (PyCFunction)sp_frame_stack_cache, METH_NOARGS,
     "'installed', 'not installed', or 'not installed: <why>'."},
    {NULL, NULL, 0, NULL},
};
