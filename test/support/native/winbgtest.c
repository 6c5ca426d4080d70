/*
 * winbgtest: a small native library for winbg's tests and benchmarks (test tooling, never shipped).
 * Built on demand by scripts/native.mjs for linux-x64, linux-arm64 (.so) and win32-x64 (.dll),
 * from this one source; loaded with koffi.
 *
 * What it offers:
 *   - wt_hammer_start / wt_hammer_join: native threads that call IUnknown on a COM object through
 *     its vtable, as C does (p->lpVtbl->AddRef(p)), concurrently, and check each answer against
 *     the rules of IUnknown. wt_hammer_start returns at once, so that the caller's event loop keeps
 *     running while the threads work (koffi runs a JS callback called from another thread on the
 *     loop of the thread that registered it, and blocks the calling thread until it has run).
 *   - wt_native_object_create: a minimal free-threaded COM object written in C (IUnknown only, an
 *     atomic reference count), the baseline to compare JS COM objects with.
 *   - wt_addref_release_pairs: AddRef+Release pairs in a tight C loop, timed, so that a benchmark
 *     can measure a call through a vtable without FFI overhead.
 *
 * The vtable calls use the platform's default convention: on x64 (Windows and Linux) and ARM64
 * there is only one, and __stdcall (WINAPI, STDMETHODCALLTYPE) means the same as __cdecl there.
 * WT_STDCALL spells it out for the one target where it would differ, 32-bit x86 Windows.
 */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthreads and sched_yield under -std=c11 */
#endif
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#define WT_EXPORT __declspec(dllexport)
#define WT_STDCALL __stdcall
#else
#include <pthread.h>
#include <sched.h>
#include <time.h>
#define WT_EXPORT __attribute__((visibility("default")))
#define WT_STDCALL
#endif

/* ---- COM basics, under our own names so as not to meet windows.h's ---------------------------- */

typedef struct wt_guid {
  uint32_t data1;
  uint16_t data2;
  uint16_t data3;
  uint8_t data4[8];
} wt_guid;

typedef struct wt_unknown wt_unknown;
typedef struct wt_unknown_vtbl {
  int32_t(WT_STDCALL *QueryInterface)(wt_unknown *self, const wt_guid *iid, void **ppv);
  uint32_t(WT_STDCALL *AddRef)(wt_unknown *self);
  uint32_t(WT_STDCALL *Release)(wt_unknown *self);
} wt_unknown_vtbl;
struct wt_unknown {
  const wt_unknown_vtbl *vtbl;
};

#define WT_S_OK ((int32_t)0)
#define WT_E_NOINTERFACE ((int32_t)0x80004002u)
#define WT_E_POINTER ((int32_t)0x80004003u)

/* {00000000-0000-0000-C000-000000000046} */
static const wt_guid wt_iid_iunknown = {0x00000000, 0x0000, 0x0000, {0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}};
/* {01234567-89AB-CDEF-0123-456789ABCDEF}: an IID nobody implements. */
static const wt_guid wt_iid_nobody = {0x01234567, 0x89AB, 0xCDEF, {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF}};

static int wt_guid_equal(const wt_guid *a, const wt_guid *b) { return memcmp(a, b, sizeof(wt_guid)) == 0; }

/* ---- Atomics and clocks: Interlocked* on Windows, GCC's __atomic builtins elsewhere ------------- */

#ifdef _WIN32
static int64_t wt_add64(volatile int64_t *p, int64_t v) { return InterlockedExchangeAdd64((volatile LONG64 *)p, v) + v; }
static int64_t wt_load64(volatile int64_t *p) { return InterlockedCompareExchange64((volatile LONG64 *)p, 0, 0); }
static void wt_store64(volatile int64_t *p, int64_t v) { InterlockedExchange64((volatile LONG64 *)p, v); }
/* Returns nonzero when *p was `expected` and is now `desired`. */
static int wt_cas64(volatile int64_t *p, int64_t expected, int64_t desired) {
  return InterlockedCompareExchange64((volatile LONG64 *)p, desired, expected) == expected;
}
static int32_t wt_inc32(volatile int32_t *p) { return InterlockedIncrement((volatile LONG *)p); }
static int32_t wt_dec32(volatile int32_t *p) { return InterlockedDecrement((volatile LONG *)p); }
static void *wt_cas_ptr(void *volatile *p, void *expected, void *desired) {
  return InterlockedCompareExchangePointer(p, desired, expected);
}
static void *wt_load_ptr(void *volatile *p) { return InterlockedCompareExchangePointer(p, NULL, NULL); }
static void wt_yield(void) { SwitchToThread(); }
static int64_t wt_now_ns(void) {
  static LARGE_INTEGER frequency; /* constant after boot; a race here writes the same value twice */
  LARGE_INTEGER now;
  if (frequency.QuadPart == 0) QueryPerformanceFrequency(&frequency);
  QueryPerformanceCounter(&now);
  /* Split to avoid overflowing: seconds, then the remainder. */
  return (int64_t)(now.QuadPart / frequency.QuadPart) * 1000000000 +
         (int64_t)(now.QuadPart % frequency.QuadPart) * 1000000000 / frequency.QuadPart;
}
#else
static int64_t wt_add64(volatile int64_t *p, int64_t v) { return __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST); }
static int64_t wt_load64(volatile int64_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static void wt_store64(volatile int64_t *p, int64_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static int wt_cas64(volatile int64_t *p, int64_t expected, int64_t desired) {
  return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
static int32_t wt_inc32(volatile int32_t *p) { return __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST); }
static int32_t wt_dec32(volatile int32_t *p) { return __atomic_sub_fetch(p, 1, __ATOMIC_SEQ_CST); }
static void *wt_cas_ptr(void *volatile *p, void *expected, void *desired) {
  __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return expected; /* the value found, as InterlockedCompareExchangePointer returns */
}
static void *wt_load_ptr(void *volatile *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static void wt_yield(void) { sched_yield(); }
static int64_t wt_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
#endif

static void wt_max64(volatile int64_t *p, int64_t v) {
  for (;;) {
    int64_t seen = wt_load64(p);
    if (v <= seen || wt_cas64(p, seen, v)) return;
  }
}

/* ---- A native COM object: IUnknown only, free-threaded ---------------------------------------- */

typedef struct wt_native_object {
  wt_unknown base; /* first, so that the object's address is its IUnknown* */
  volatile int32_t refs;
} wt_native_object;

static volatile int64_t wt_native_live = 0;

static int32_t WT_STDCALL wt_native_qi(wt_unknown *self, const wt_guid *iid, void **ppv) {
  if (ppv == NULL) return WT_E_POINTER;
  if (iid != NULL && wt_guid_equal(iid, &wt_iid_iunknown)) {
    wt_inc32(&((wt_native_object *)self)->refs);
    *ppv = self;
    return WT_S_OK;
  }
  *ppv = NULL;
  return WT_E_NOINTERFACE;
}

static uint32_t WT_STDCALL wt_native_addref(wt_unknown *self) {
  return (uint32_t)wt_inc32(&((wt_native_object *)self)->refs);
}

static uint32_t WT_STDCALL wt_native_release(wt_unknown *self) {
  int32_t refs = wt_dec32(&((wt_native_object *)self)->refs);
  if (refs == 0) {
    free(self);
    wt_add64(&wt_native_live, -1);
  }
  return (uint32_t)refs;
}

static const wt_unknown_vtbl wt_native_vtbl = {wt_native_qi, wt_native_addref, wt_native_release};

/** A new native object holding one reference (the caller's); NULL when out of memory. */
WT_EXPORT void *wt_native_object_create(void) {
  wt_native_object *object = (wt_native_object *)malloc(sizeof(wt_native_object));
  if (object == NULL) return NULL;
  object->base.vtbl = &wt_native_vtbl;
  object->refs = 1;
  wt_add64(&wt_native_live, 1);
  return object;
}

/** How many native objects are alive (created and not yet released to zero). */
WT_EXPORT int64_t wt_native_object_count(void) { return wt_load64(&wt_native_live); }

/* ---- AddRef/Release pairs, timed ---------------------------------------------------------------- */

/**
 * n AddRef+Release pairs on `object` through its vtable; returns the elapsed nanoseconds
 * (monotonic clock). The caller must hold a reference for the duration. -1 for a NULL object.
 */
WT_EXPORT double wt_addref_release_pairs(void *object, int64_t n) {
  wt_unknown *unknown = (wt_unknown *)object;
  int64_t started, ended, i;
  if (unknown == NULL) return -1.0;
  started = wt_now_ns();
  for (i = 0; i < n; i++) {
    unknown->vtbl->AddRef(unknown);
    unknown->vtbl->Release(unknown);
  }
  ended = wt_now_ns();
  return (double)(ended - started);
}

/* ---- The hammer -------------------------------------------------------------------------------- */

/*
 * results[] slots (int64, caller-allocated, at least WT_RESULT_SLOTS), written atomically:
 *   [0] threads finished, incremented by each thread as its very last access to results[]: once
 *       it equals the number of threads started, the threads no longer touch results[] or the
 *       object, and the caller may call wt_hammer_join (and then free results[]).
 *   [1] rounds done, all threads together
 *   [2] checks that failed
 *   [3] the first failure, one of the WT_ERR_* codes below (0: none); wt_error_name describes it
 *   [4] the largest value AddRef returned
 *   [5] threads started
 *   [6] the value seen at the first failure (an HRESULT, a reference count, or 0)
 *   [7] nanoseconds from wt_hammer_start until the last thread finished
 */
#define WT_RESULT_SLOTS 8
#define WT_MAX_THREADS 64

enum {
  WT_ERR_NONE = 0,
  WT_ERR_ADDREF_ZERO = 1,          /* AddRef returned 0 */
  WT_ERR_RELEASE_ZERO = 2,         /* a Release returned 0 while the hammer still held a reference */
  WT_ERR_QI_KNOWN_FAILED = 3,      /* QueryInterface(known IID) did not return S_OK */
  WT_ERR_QI_KNOWN_NULL = 4,        /* QueryInterface(known IID) returned S_OK and a NULL pointer */
  WT_ERR_QI_UNKNOWN_FAILED = 5,    /* QueryInterface(IID_IUnknown) did not return S_OK */
  WT_ERR_QI_UNKNOWN_NULL = 6,      /* QueryInterface(IID_IUnknown) returned S_OK and a NULL pointer */
  WT_ERR_IDENTITY = 7,             /* QueryInterface(IID_IUnknown) returned another pointer than before */
  WT_ERR_NOINTERFACE_HRESULT = 8,  /* QueryInterface(unimplemented IID) did not return E_NOINTERFACE */
  WT_ERR_NOINTERFACE_PPV = 9,      /* QueryInterface(unimplemented IID) left *ppv other than NULL */
  WT_ERR_NULL_PPV_HRESULT = 10,    /* QueryInterface(known IID, NULL) did not return E_POINTER */
  WT_ERR_COUNT
};

static const char *const wt_error_names[WT_ERR_COUNT] = {
    "no error",
    "AddRef returned 0",
    "Release returned 0 while the caller still held a reference",
    "QueryInterface(known IID) did not return S_OK",
    "QueryInterface(known IID) returned S_OK with a NULL pointer",
    "QueryInterface(IID_IUnknown) did not return S_OK",
    "QueryInterface(IID_IUnknown) returned S_OK with a NULL pointer",
    "QueryInterface(IID_IUnknown) returned a different pointer than before (identity)",
    "QueryInterface(unimplemented IID) did not return E_NOINTERFACE",
    "QueryInterface(unimplemented IID) did not set *ppv to NULL",
    "QueryInterface(known IID, NULL) did not return E_POINTER",
};

/** What a WT_ERR_* code (results[3]) means; "unknown error code" for anything else. */
WT_EXPORT const char *wt_error_name(int code) {
  return code >= 0 && code < WT_ERR_COUNT ? wt_error_names[code] : "unknown error code";
}

/** Number of int64 slots results[] must have. */
WT_EXPORT int wt_result_slots(void) { return WT_RESULT_SLOTS; }

/* State of the current run. Only one run at a time: wt_hammer_start refuses while one is going. */
static struct {
  wt_unknown *object;
  wt_guid known_iid;
  int iterations;
  int threads;                 /* threads created */
  volatile int64_t *results;
  volatile int64_t go;         /* the threads spin until it is 1, so that they all start together */
  volatile int64_t finished;   /* threads that ended (our own count; results[] may be gone after) */
  volatile int64_t started_ns;
  void *volatile identity;     /* the IUnknown* the first QueryInterface(IID_IUnknown) gave */
#ifdef _WIN32
  HANDLE handles[WT_MAX_THREADS];
#else
  pthread_t handles[WT_MAX_THREADS];
#endif
  int joinable;                /* handles[0..threads) are to be joined */
} wt_run;

static void wt_fail(int code, int64_t value) {
  volatile int64_t *results = wt_run.results;
  wt_add64(&results[2], 1);
  if (wt_cas64(&results[3], 0, code)) wt_store64(&results[6], value);
}

/* A garbage value for *ppv, so that an implementation that forgets to set it is seen. */
#define WT_GARBAGE ((void *)(uintptr_t)0x5A5A5A5A5A5A5A5Aull)

static void wt_release_checked(wt_unknown *p) {
  uint32_t refs = p->vtbl->Release(p);
  if (refs == 0) wt_fail(WT_ERR_RELEASE_ZERO, 0);
}

static void wt_round(wt_unknown *object, const wt_guid *known) {
  volatile int64_t *results = wt_run.results;
  void *ppv;
  int32_t hr;
  uint32_t refs;

  /* AddRef */
  refs = object->vtbl->AddRef(object);
  if (refs == 0) wt_fail(WT_ERR_ADDREF_ZERO, 0);
  wt_max64(&results[4], (int64_t)refs);

  /* QueryInterface(known IID): S_OK and a pointer, which we release */
  ppv = WT_GARBAGE;
  hr = object->vtbl->QueryInterface(object, known, &ppv);
  if (hr != WT_S_OK) {
    wt_fail(WT_ERR_QI_KNOWN_FAILED, hr);
    if (hr >= 0 && ppv != NULL && ppv != WT_GARBAGE) wt_release_checked((wt_unknown *)ppv);
  } else if (ppv == NULL || ppv == WT_GARBAGE) {
    wt_fail(WT_ERR_QI_KNOWN_NULL, hr);
  } else {
    wt_release_checked((wt_unknown *)ppv);
  }

  /* QueryInterface(IID_IUnknown): the identity pointer, the same every time */
  ppv = WT_GARBAGE;
  hr = object->vtbl->QueryInterface(object, &wt_iid_iunknown, &ppv);
  if (hr != WT_S_OK) {
    wt_fail(WT_ERR_QI_UNKNOWN_FAILED, hr);
    if (hr >= 0 && ppv != NULL && ppv != WT_GARBAGE) wt_release_checked((wt_unknown *)ppv);
  } else if (ppv == NULL || ppv == WT_GARBAGE) {
    wt_fail(WT_ERR_QI_UNKNOWN_NULL, hr);
  } else {
    void *first = wt_cas_ptr(&wt_run.identity, NULL, ppv);
    if (first != NULL && first != ppv) wt_fail(WT_ERR_IDENTITY, (int64_t)(uintptr_t)ppv);
    wt_release_checked((wt_unknown *)ppv);
  }

  /* QueryInterface(an IID nobody implements): E_NOINTERFACE, *ppv = NULL */
  ppv = WT_GARBAGE;
  hr = object->vtbl->QueryInterface(object, &wt_iid_nobody, &ppv);
  if (hr != WT_E_NOINTERFACE) wt_fail(WT_ERR_NOINTERFACE_HRESULT, hr);
  if (ppv != NULL) wt_fail(WT_ERR_NOINTERFACE_PPV, hr);
  if (hr >= 0 && ppv != NULL && ppv != WT_GARBAGE) wt_release_checked((wt_unknown *)ppv);

  /* QueryInterface with no ppv: E_POINTER */
  hr = object->vtbl->QueryInterface(object, known, NULL);
  if (hr != WT_E_POINTER) wt_fail(WT_ERR_NULL_PPV_HRESULT, hr);

  /* Release (the AddRef above) */
  wt_release_checked(object);

  wt_add64(&results[1], 1);
}

static void wt_thread_body(void) {
  volatile int64_t *results = wt_run.results;
  int i;
  while (wt_load64(&wt_run.go) == 0) wt_yield();
  for (i = 0; i < wt_run.iterations; i++) wt_round(wt_run.object, &wt_run.known_iid);
  /* The last thread to end writes the elapsed time, before its results[0]++; every thread's
     results[0]++ is its last access to results[]. */
  if (wt_add64(&wt_run.finished, 1) == wt_run.threads) wt_store64(&results[7], wt_now_ns() - wt_load64(&wt_run.started_ns));
  wt_add64(&results[0], 1);
}

#ifdef _WIN32
static DWORD WINAPI wt_thread_main(LPVOID unused) {
  (void)unused;
  wt_thread_body();
  return 0;
}
#else
static void *wt_thread_main(void *unused) {
  (void)unused;
  wt_thread_body();
  return NULL;
}
#endif

/**
 * Joins the threads of the last run; blocks until they have ended. Harmless when there are none.
 * Call it once results[0] says every thread has ended: on an object whose methods are koffi
 * callbacks, the threads wait for the JS thread to run each call, so joining earlier from the JS
 * thread deadlocks.
 */
WT_EXPORT void wt_hammer_join(void) {
  int i;
  if (!wt_run.joinable) return;
  for (i = 0; i < wt_run.threads; i++) {
#ifdef _WIN32
    WaitForSingleObject(wt_run.handles[i], INFINITE);
    CloseHandle(wt_run.handles[i]);
#else
    pthread_join(wt_run.handles[i], NULL);
#endif
  }
  wt_run.joinable = 0;
  wt_run.threads = 0;
}

/**
 * Starts `threads` (1 to 64) native threads that each do `iterations` rounds of IUnknown calls on
 * `object` (an interface pointer) and returns at once, with the number of threads started (which
 * can be fewer than asked if the system refuses some), or:
 *   -1  invalid arguments (NULL object or results, threads outside 1..64, iterations < 0)
 *   -2  the previous run is still going (wait for its results[0], then wt_hammer_join)
 *   -3  no thread could be started
 * A round: AddRef; QueryInterface(known_iid) (NULL: IID_IUnknown) then Release; QueryInterface
 * (IID_IUnknown), the same pointer every time, then Release; QueryInterface of an unimplemented
 * IID, E_NOINTERFACE and *ppv NULL; QueryInterface with ppv NULL, E_POINTER; Release.
 * The caller holds a reference to `object` until the run has ended, and keeps `results` (zeroed
 * here) alive until results[0] equals the number returned. A previous run that has ended but was
 * not joined is joined here.
 */
WT_EXPORT int wt_hammer_start(void *object, const void *known_iid, int threads, int iterations, int64_t *results) {
  int i, created = 0;
  if (object == NULL || results == NULL || threads < 1 || threads > WT_MAX_THREADS || iterations < 0) return -1;
  if (wt_run.joinable) {
    if (wt_load64(&wt_run.finished) < wt_run.threads) return -2;
    wt_hammer_join();
  }
  for (i = 0; i < WT_RESULT_SLOTS; i++) wt_store64(&results[i], 0);
  wt_run.object = (wt_unknown *)object;
  wt_run.known_iid = known_iid != NULL ? *(const wt_guid *)known_iid : wt_iid_iunknown;
  wt_run.iterations = iterations;
  wt_run.results = results;
  wt_run.identity = NULL;
  wt_store64(&wt_run.go, 0);
  wt_store64(&wt_run.finished, 0);
  /* wt_run.threads is read by the threads only after `go`, which is set once it is final. */
  for (i = 0; i < threads; i++) {
#ifdef _WIN32
    HANDLE handle = CreateThread(NULL, 0, wt_thread_main, NULL, 0, NULL);
    if (handle == NULL) break;
    wt_run.handles[created] = handle;
#else
    if (pthread_create(&wt_run.handles[created], NULL, wt_thread_main, NULL) != 0) break;
#endif
    created++;
    wt_add64(&results[5], 1);
  }
  wt_run.threads = created;
  wt_run.joinable = created > 0;
  if (created == 0) return -3;
  wt_store64(&wt_run.started_ns, wt_now_ns());
  wt_store64(&wt_run.go, 1);
  return created;
}

/** The identity pointer (IUnknown*) the last run's QueryInterface(IID_IUnknown) gave; NULL if none. */
WT_EXPORT void *wt_hammer_identity(void) { return wt_load_ptr(&wt_run.identity); }

/* ---- A native callee for outgoing calls: out-parameters of every kind ------------------------- */

/*
 * wt_values_create gives a COM object whose vtable the caller lays out: it passes the slots, and
 * fills them with the functions below (wt_values_function), each of which writes one kind of
 * out-parameter as a native WinRT getter does. So one object serves any interface a test or a
 * benchmark declares (slot 3 GetInt32, slot 19 of IPropertyValue GetString…); its QueryInterface
 * answers every IID with itself, and IInspectable's three slots are there for WinRT interfaces.
 *
 * HSTRINGs: the object holds one (given at creation, owned by the object after) and returns a
 * duplicate, as a getter of a stored string does. On Windows that is combase's
 * WindowsDuplicateString; elsewhere winbg's portable HSTRING (lib/com/hstring.ts: a header
 * { uint32 flags, length, refs, pad; char16_t *buffer }), whose duplicate of a heap string is a
 * reference count increment at offset 8. Arrays come from CoTaskMemAlloc on Windows and malloc
 * elsewhere, which is what winbg frees them with (lib/ffi/task-memory.ts).
 */
typedef struct wt_values {
  void *const *vtbl;
  volatile int32_t refs;
  void *string;                         /* HSTRING */
  wt_unknown *object;                   /* returned, AddRef'd, by GetObject */
  int32_t (*reenter)(void *self, int32_t depth); /* called by Reenter; may call back into the object */
  int32_t counter;
  int32_t depth;
} wt_values;

typedef struct wt_rect { float x, y, width, height; } wt_rect;

#ifdef _WIN32
typedef int32_t(WINAPI *wt_duplicate_fn)(void *string, void **out);
typedef void *(WINAPI *wt_alloc_fn)(size_t size);
static wt_duplicate_fn wt_duplicate_string;
static wt_alloc_fn wt_task_alloc;
static void wt_bind_combase(void) {
  if (wt_duplicate_string == NULL) {
    HMODULE combase = LoadLibraryA("combase.dll");
    HMODULE ole32 = LoadLibraryA("ole32.dll");
    wt_duplicate_string = (wt_duplicate_fn)(void *)GetProcAddress(combase, "WindowsDuplicateString");
    wt_task_alloc = (wt_alloc_fn)(void *)GetProcAddress(ole32, "CoTaskMemAlloc");
  }
}
static void *wt_duplicate(void *string) {
  void *copy = NULL;
  wt_bind_combase();
  return wt_duplicate_string(string, &copy) < 0 ? NULL : copy;
}
static void *wt_array_alloc(size_t size) { wt_bind_combase(); return wt_task_alloc(size); }
#else
static void *wt_duplicate(void *string) {
  if (string != NULL) ((volatile uint32_t *)string)[2] += 1; /* the portable heap string's refs */
  return string;
}
static void *wt_array_alloc(size_t size) { return malloc(size); }
#endif

static int32_t WT_STDCALL wt_values_qi(wt_values *self, const wt_guid *iid, void **ppv) {
  (void)iid;
  if (ppv == NULL) return WT_E_POINTER;
  wt_inc32(&self->refs);
  *ppv = self;
  return WT_S_OK;
}
static uint32_t WT_STDCALL wt_values_addref(wt_values *self) { return (uint32_t)wt_inc32(&self->refs); }
static uint32_t WT_STDCALL wt_values_release(wt_values *self) {
  int32_t refs = wt_dec32(&self->refs);
  if (refs == 0) {
    if (self->object != NULL) self->object->vtbl->Release(self->object);
    free(self);
    wt_add64(&wt_native_live, -1);
  }
  return (uint32_t)refs;
}
static int32_t WT_STDCALL wt_values_get_iids(wt_values *self, uint32_t *count, void **iids) { (void)self; *count = 0; *iids = NULL; return WT_S_OK; }
static int32_t WT_STDCALL wt_values_get_name(wt_values *self, void **name) { (void)self; *name = NULL; return WT_S_OK; }
static int32_t WT_STDCALL wt_values_get_trust(wt_values *self, int32_t *level) { (void)self; *level = 0; return WT_S_OK; }
static int32_t WT_STDCALL wt_values_get_int32(wt_values *self, int32_t *out) { *out = ++self->counter; return WT_S_OK; }
static int32_t WT_STDCALL wt_values_add(wt_values *self, int32_t a, int32_t b, int32_t *out) { (void)self; *out = a + b; return WT_S_OK; }
static int32_t WT_STDCALL wt_values_get_double(wt_values *self, double *out) { *out = self->counter + 0.5; return WT_S_OK; }
static int32_t WT_STDCALL wt_values_get_guid(wt_values *self, wt_guid *out) {
  static const wt_guid value = {0x14C5882B, 0x35D3, 0x41BE, {0x86, 0xB2, 0x55, 0x06, 0x26, 0x9B, 0x97, 0xE6}};
  (void)self;
  *out = value;
  return WT_S_OK;
}
static int32_t WT_STDCALL wt_values_get_rect(wt_values *self, wt_rect *out) {
  out->x = 1.0f; out->y = 2.0f; out->width = (float)self->counter; out->height = 4.0f;
  return WT_S_OK;
}
static int32_t WT_STDCALL wt_values_get_string(wt_values *self, void **out) { *out = wt_duplicate(self->string); return WT_S_OK; }
static int32_t WT_STDCALL wt_values_get_object(wt_values *self, void **out) {
  if (self->object == NULL) { *out = NULL; return WT_E_POINTER; }
  self->object->vtbl->AddRef(self->object);
  *out = self->object;
  return WT_S_OK;
}
static int32_t WT_STDCALL wt_values_get_array(wt_values *self, uint32_t *length, int32_t **out) {
  int32_t *array = (int32_t *)wt_array_alloc(4 * sizeof(int32_t));
  int i;
  if (array == NULL) { *length = 0; *out = NULL; return (int32_t)0x8007000Eu; /* E_OUTOFMEMORY */ }
  for (i = 0; i < 4; i++) array[i] = self->counter + i;
  *length = 4;
  *out = array;
  return WT_S_OK;
}
/* A setter that takes an HSTRING in-parameter and keeps nothing of it (the caller's to delete). */
static int32_t WT_STDCALL wt_values_set_string(wt_values *self, void *string) {
  (void)self;
  (void)string;
  return WT_S_OK;
}
/*
 * Writes its out-parameter first, then calls the reenter callback (which may call this method
 * again, on this thread), then returns: a caller whose out-memory a nested call could overwrite
 * reads the nested call's value instead of its own.
 */
static int32_t WT_STDCALL wt_values_reenter(wt_values *self, int32_t *out) {
  int32_t depth = ++self->depth;
  int32_t hr = WT_S_OK;
  *out = depth * 100;
  if (self->reenter != NULL) hr = self->reenter(self, depth);
  self->depth--;
  return hr;
}
/* Fails with E_FAIL after setting its interface out-parameter anyway (a callee that breaks the rule). */
static int32_t WT_STDCALL wt_values_fail_with_object(wt_values *self, void **out) {
  wt_values_get_object(self, out);
  return (int32_t)0x80004005u;
}

/** The function for slot kind `name` ("int32", "add", "double", "guid", "rect", "string", "object", "array", "set_string", "reenter", "fail_object"), or NULL. */
WT_EXPORT void *wt_values_function(const char *name) {
  static const struct { const char *name; void *fn; } table[] = {
      {"query", (void *)wt_values_qi}, {"addref", (void *)wt_values_addref}, {"release", (void *)wt_values_release},
      {"iids", (void *)wt_values_get_iids}, {"class_name", (void *)wt_values_get_name}, {"trust", (void *)wt_values_get_trust},
      {"int32", (void *)wt_values_get_int32}, {"add", (void *)wt_values_add}, {"double", (void *)wt_values_get_double},
      {"guid", (void *)wt_values_get_guid}, {"rect", (void *)wt_values_get_rect}, {"string", (void *)wt_values_get_string},
      {"object", (void *)wt_values_get_object}, {"array", (void *)wt_values_get_array}, {"set_string", (void *)wt_values_set_string},
      {"reenter", (void *)wt_values_reenter}, {"fail_object", (void *)wt_values_fail_with_object},
  };
  size_t i;
  for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) if (strcmp(table[i].name, name) == 0) return table[i].fn;
  return NULL;
}

/**
 * A values object with the caller's vtable (which must outlive it), holding one reference (the
 * caller's). It takes over `string` (an HSTRING, may be NULL) and a reference to `object`
 * (AddRef'd here, may be NULL); `reenter` may be NULL.
 */
WT_EXPORT void *wt_values_create(void *const *vtbl, void *string, void *object, void *reenter) {
  wt_values *self = (wt_values *)calloc(1, sizeof(wt_values));
  if (self == NULL) return NULL;
  self->vtbl = vtbl;
  self->refs = 1;
  self->string = string;
  self->object = (wt_unknown *)object;
  if (self->object != NULL) self->object->vtbl->AddRef(self->object);
  self->reenter = (int32_t(*)(void *, int32_t))reenter;
  wt_add64(&wt_native_live, 1);
  return self;
}

/** Gives the object's HSTRING back to the caller (to delete), leaving it none. */
WT_EXPORT void *wt_values_take_string(void *object) {
  wt_values *self = (wt_values *)object;
  void *string = self->string;
  self->string = NULL;
  return string;
}
