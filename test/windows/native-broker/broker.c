/* A native test broker: plays the part of Windows' background infrastructure against a winbg app,
 * the way Windows' own broker (native code, free-threaded objects) does, to find what a JS
 * broker cannot: native event sources that call the app's delegate back inside the app's own
 * call, calls arriving on other threads, a broker that goes away. Test tooling only, built by
 * scripts/wine-broker.mjs with mingw-w64 and run under Wine by test/windows/native-broker.test.ts.
 *
 *   broker.exe <clsid> <scenario> <result.json> [options]
 *
 * It activates the class out of process, CoCreateInstance(clsid, CLSCTX_LOCAL_SERVER,
 * IID_IBackgroundTask) (COM starts the app from LocalServer32), calls IBackgroundTask::Run with
 * an IBackgroundTaskInstance of its own, cancels the run from another thread (the Canceled
 * handler's Invoke), waits for the deferral's Complete, and writes what it saw as JSON.
 *
 * Scenarios (each one a set of the flags below; see SCENARIOS):
 *   cooperative          never calls the app back inside a call the app is making to it
 *   qi-in-add            add_Canceled QueryInterfaces the handler (IAgileObject, then IUnknown)
 *                        and releases both before it returns
 *   release-in-remove    remove_Canceled releases the handler before it returns
 *   release-in-complete  the broker keeps its reference to the handler after remove_Canceled and
 *                        releases it inside Complete (the run is over: Canceled is dropped then)
 *   cancel-during-call   Invoke from the cancel thread while the app is inside a call to the
 *                        instance (the first one after add_Canceled: put_Progress or GetDeferral,
 *                        depending on the app), which the broker holds open for --delay-ms
 *   exit-after-run       ExitProcess right after Run returned with a deferral held, as a crash
 *   strict               qi-in-add + cancel-during-call + (release-in-remove on even runs,
 *                        release-in-complete on odd ones); with --runs N for a soak
 * Options:
 *   --runs N               activations back to back against one server (default 1)
 *   --cancel-after-ms N    cancel N ms after add_Canceled (default 1000; -1: only by other rules)
 *   --cancel-at-progress P cancel once put_Progress(value >= P)
 *   --cancel-reason N      the BackgroundTaskCancellationReason passed to Invoke (default 0, Abort)
 *   --delay-ms N           how long cancel-during-call holds the app's call open (default 300)
 *   --run-timeout-ms N     longest wait for one run's Complete, and longest time any one call in
 *                          either direction may take (default 20000)
 *   --timeout-ms N         the whole broker's time limit (default 30000 + 10000 per run)
 *   --settle-ms N          how long to wait for the app's remove_Canceled and Releases after a run
 *                          (default 3000; less than --run-timeout-ms)
 *
 * The result file gets one JSON object (written to <result>.tmp, then renamed over <result>):
 * scenario, runHr, completed, completeMs, progress, instanceRefsOutstanding,
 * deferralRefsOutstanding, handlerAdded, handlerRemoved, handlerReleased, errors, timings, and
 * perRun with the same for every run. On a hang the watchdog writes it with timedOut and stuck
 * (what each thread was doing, and since when) and ends the process: this never hangs forever.
 * Exit code: 0 no errors, 1 errors, 3 stuck (timed out); exit-after-run exits with 0 after Run.
 *
 * COM rules followed (learn.microsoft.com/windows/win32/com/rules-for-managing-reference-counts,
 * .../com/the-rules-of-the-component-object-model, .../api/unknwn/nf-unknwn-iunknown-queryinterface(q_)):
 * QueryInterface for IUnknown gives the same pointer every time, an unknown IID gives
 * E_NOINTERFACE with *ppv = NULL; every pointer handed out is AddRef'd for the receiver; an [in]
 * parameter is borrowed for the call (the callee AddRefs what it keeps); whoever calls through a
 * pointer holds a reference for the duration of the call. The objects are free-threaded (MTA,
 * every method may run on any RPC thread at once) and say so with IAgileObject
 * (learn.microsoft.com/windows/win32/api/objidl/nn-objidl-iagileobject). The broker never holds
 * its lock while it makes a call that can reach the app (an AddRef on a proxy stays in the proxy;
 * a QueryInterface, a last Release or a method call goes to the app).
 *
 * Reference counting for leak reports: the broker keeps one reference of its own on each object
 * it creates (the instance of a run, each deferral) until it has measured; "refs outstanding" is
 * the count minus that one. The others are COM's: its stub for the object holds references for
 * as long as the app holds any proxy to it, so a count above 0 once the app has had --settle-ms
 * means the app did not release everything (the number is COM's, not the app's). Objects are never
 * freed: an app that over-releases or calls late then meets a live object, and the broker reports
 * it instead of crashing. References the broker takes on the app's handler are counted too
 * (handlerReleased: all of them given back).
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <objbase.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "background.h"

/* ------------------------------------------------------------------------------------------ */
/* Scenarios and options                                                                      */

enum {
  F_QI_IN_ADD = 1 << 0,
  F_RELEASE_IN_REMOVE = 1 << 1,
  F_RELEASE_IN_COMPLETE = 1 << 2,
  F_CANCEL_DURING_CALL = 1 << 3,
  F_EXIT_AFTER_RUN = 1 << 4,
  /* strict: release-in-remove on even runs, release-in-complete on odd ones (both cannot apply
     to one run: the first to release leaves nothing for the other). */
  F_ALTERNATE_RELEASE = 1 << 5,
};

static const struct {
  const char *name;
  unsigned flags;
} SCENARIOS[] = {
    {"cooperative", 0},
    {"qi-in-add", F_QI_IN_ADD},
    {"release-in-remove", F_RELEASE_IN_REMOVE},
    {"release-in-complete", F_RELEASE_IN_COMPLETE},
    {"cancel-during-call", F_CANCEL_DURING_CALL},
    {"exit-after-run", F_EXIT_AFTER_RUN},
    {"strict", F_QI_IN_ADD | F_CANCEL_DURING_CALL | F_ALTERNATE_RELEASE},
};

static struct {
  CLSID clsid;
  const char *clsidText;
  const char *scenario;
  const char *resultPath;
  unsigned flags;
  int runs;
  int cancelAfterMs;
  int cancelAtProgress; /* -1: not */
  int cancelReason;
  int delayMs;
  int runTimeoutMs;
  int timeoutMs;
  int settleMs;
} opt = {.runs = 1, .cancelAfterMs = 1000, .cancelAtProgress = -1, .delayMs = 300, .runTimeoutMs = 20000, .timeoutMs = -1, .settleMs = 3000};

/* ------------------------------------------------------------------------------------------ */
/* Shared state: a lock, a clock, errors, and what each thread is doing (for the watchdog)     */

static CRITICAL_SECTION lock;
static LARGE_INTEGER qpcFrequency, qpcStart;

/* Milliseconds since the broker started, from QueryPerformanceCounter. */
static double now_ms(void) {
  LARGE_INTEGER t;
  QueryPerformanceCounter(&t);
  return (double)(t.QuadPart - qpcStart.QuadPart) * 1000.0 / (double)qpcFrequency.QuadPart;
}

#define MAX_ERRORS 64
static char *errors[MAX_ERRORS];
static int errorCount;

static void add_error(const char *format, ...) {
  char text[512];
  va_list args;
  va_start(args, format);
  vsnprintf(text, sizeof text, format, args);
  va_end(args);
  EnterCriticalSection(&lock);
  if (errorCount < MAX_ERRORS) errors[errorCount++] = _strdup(text);
  LeaveCriticalSection(&lock);
}

/* What a party is doing; an empty text is idle. The main thread, the cancel thread, and each
   call the app is making into the broker (on COM's RPC threads) have one. */
typedef struct Activity {
  BOOL used;
  char who[48];
  char text[200];
  double since;
} Activity;
#define MAX_ACTIVITIES 24
static Activity activities[MAX_ACTIVITIES];
enum { ACT_MAIN, ACT_CANCEL, ACT_FIRST_CALL };

static void set_activity(int slot, const char *format, ...) {
  char text[200];
  va_list args;
  va_start(args, format);
  vsnprintf(text, sizeof text, format, args);
  va_end(args);
  EnterCriticalSection(&lock);
  activities[slot].used = text[0] != 0;
  strcpy(activities[slot].text, text);
  activities[slot].since = now_ms();
  LeaveCriticalSection(&lock);
}

/* ------------------------------------------------------------------------------------------ */
/* A run: the objects the broker hands the app, and what happened to them                      */

typedef struct Run Run;

typedef struct Instance {
  IBackgroundTaskInstance iface;
  volatile LONG refs;
  Run *run;
} Instance;

typedef struct Deferral {
  IBackgroundTaskDeferral iface;
  volatile LONG refs;
  Run *run;
  int completeCalls;
} Deferral;

#define MAX_HANDLERS 4
#define MAX_DEFERRALS 4
#define MAX_PROGRESS 64
#define MAX_UNKNOWN_IIDS 8

struct Run {
  int index;
  unsigned flags;
  GUID instanceId;
  Instance instance;
  Deferral *deferrals[MAX_DEFERRALS];
  int deferralCount, deferralsCompleted;
  /* The Canceled event: registered handlers, and removed ones the main thread releases later. */
  struct {
    BackgroundTaskCanceledEventHandler *handler;
    INT64 token;
  } handlers[MAX_HANDLERS];
  int handlerCount;
  BackgroundTaskCanceledEventHandler *removed[MAX_HANDLERS]; /* for the main thread, after the run */
  int removedCount;
  BackgroundTaskCanceledEventHandler *kept[MAX_HANDLERS]; /* release-in-complete: for Complete */
  int keptCount;
  INT64 nextToken;
  volatile LONG handlerRefs; /* references the broker holds on the app's handler(s) */
  int handlerAdded, handlerRemoved, removeUnknownToken;
  HRESULT qiAgileHr, qiUnknownHr; /* qi-in-add's answers */
  BOOL qiDone;
  UINT32 progress;
  UINT32 progressValues[MAX_PROGRESS];
  int progressCount;
  char unknownIids[MAX_UNKNOWN_IIDS][40];
  int unknownIidCount;
  /* Events (manual-reset unless said otherwise). */
  HANDLE done;          /* Run returned and every deferral taken was completed, or the run failed */
  HANDLE handlerAddedEv;
  HANDLE cancelNow;     /* a rule says: cancel now */
  HANDLE invokeIssued;  /* the cancel thread is calling Invoke */
  HANDLE invokeDone;    /* no Invoke in flight (initially set) */
  BOOL cancelTriggered, canceled, runReturned, completed;
  char cancelDuringCall[32]; /* the app's call in progress when Invoke was issued */
  char handlerReleasedIn[64]; /* where release-in-remove/-complete released the handler */
  HRESULT activationHr, runHr, invokeHr;
  int completeCalls, callsAfterComplete;
  double tActivate, tActivated, tRun, tFirstCall, tRunReturned, tInvoke, tInvokeReturned, tComplete;
  BOOL measured;
  LONG instanceRefsOutstanding, deferralRefsOutstanding;
};

#define MAX_RUNS 10000
static Run *runs[MAX_RUNS];
static int runCount;

static void guid_text(const GUID *guid, char *out, size_t size) {
  WCHAR wide[40];
  StringFromGUID2(guid, wide, 40);
  WideCharToMultiByte(CP_ACP, 0, wide, -1, out, (int)size, NULL, NULL);
}

/* Marks the run done once Run has returned and every deferral taken has been completed. Under the lock. */
static void check_done(Run *run) {
  if (run->runReturned && run->deferralsCompleted == run->deferralCount) SetEvent(run->done);
}

/* Where the broker releases the Canceled handler: inside remove_Canceled, inside Complete, or
   (neither) on the main thread after the run. strict alternates by run. */
static BOOL release_in_remove(const Run *run) {
  return (run->flags & F_RELEASE_IN_REMOVE) || ((run->flags & F_ALTERNATE_RELEASE) && run->index % 2 == 0);
}

static BOOL release_in_complete(const Run *run) {
  return (run->flags & F_RELEASE_IN_COMPLETE) || ((run->flags & F_ALTERNATE_RELEASE) && run->index % 2 == 1);
}

/* Registers an incoming call from the app (on an RPC thread); returns its activity slot. */
static int enter_call(Run *run, const char *method) {
  int slot = -1;
  EnterCriticalSection(&lock);
  if (run->tFirstCall == 0) run->tFirstCall = now_ms();
  for (int i = ACT_FIRST_CALL; i < MAX_ACTIVITIES; i++) {
    if (!activities[i].used) {
      slot = i;
      activities[i].used = TRUE;
      snprintf(activities[i].who, sizeof activities[i].who, "app's call %s (run %d)", method, run->index);
      snprintf(activities[i].text, sizeof activities[i].text, "in %s", method);
      activities[i].since = now_ms();
      break;
    }
  }
  LeaveCriticalSection(&lock);
  return slot;
}

static void leave_call(int slot) {
  if (slot < 0) return;
  EnterCriticalSection(&lock);
  activities[slot].used = FALSE;
  LeaveCriticalSection(&lock);
}

static void call_doing(int slot, const char *text) {
  if (slot < 0) return;
  EnterCriticalSection(&lock);
  snprintf(activities[slot].text, sizeof activities[slot].text, "%s", text);
  activities[slot].since = now_ms();
  LeaveCriticalSection(&lock);
}

/* The method name of an incoming call of this run in progress now, or "" (under the lock). */
static void call_in_progress(Run *run, char *out, size_t size) {
  char prefix[24];
  out[0] = 0;
  snprintf(prefix, sizeof prefix, "(run %d)", run->index);
  for (int i = ACT_FIRST_CALL; i < MAX_ACTIVITIES; i++) {
    if (activities[i].used && strstr(activities[i].who, prefix)) {
      const char *name = activities[i].who + strlen("app's call ");
      size_t n = strcspn(name, " ");
      if (n >= size) n = size - 1;
      memcpy(out, name, n);
      out[n] = 0;
      return;
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* The Canceled handler: invoking it, releasing it                                             */

/* Releases one of the broker's references on an app handler, from inside the app's call `slot`
   (release-in-remove, release-in-complete). An Invoke in flight on the cancel thread holds a
   reference of its own until it returns; waiting for it (bounded) makes this Release the last one,
   as it is whenever no invocation overlaps, so that the scenario tests what it means to. */
static void release_handler_in_call(Run *run, BackgroundTaskCanceledEventHandler *handler, int slot, const char *where) {
  char text[160];
  if (WaitForSingleObject(run->invokeDone, 5000) == WAIT_TIMEOUT) add_error("run %d: %s: an Invoke on the cancel thread had not returned after 5 s", run->index, where);
  snprintf(text, sizeof text, "%s: Release(handler), the broker's last reference", where);
  call_doing(slot, text);
  ULONG left = handler->lpVtbl->Release(handler);
  InterlockedDecrement(&run->handlerRefs);
  EnterCriticalSection(&lock);
  snprintf(run->handlerReleasedIn, sizeof run->handlerReleasedIn, "%s (Release returned %lu)", where, (unsigned long)left);
  LeaveCriticalSection(&lock);
  call_doing(slot, where);
}

/* Invokes the Canceled handler(s) from the cancel thread, as Windows raises Canceled on a thread
   of its own. Like WRL's EventSource and C++/WinRT's winrt::event, it takes its own reference on
   each delegate (a copy of the list) for the call, under the lock, and calls outside it. */
static void invoke_canceled(Run *run) {
  BackgroundTaskCanceledEventHandler *targets[MAX_HANDLERS];
  int count;
  EnterCriticalSection(&lock);
  count = run->handlerCount;
  for (int i = 0; i < count; i++) {
    targets[i] = run->handlers[i].handler;
    targets[i]->lpVtbl->AddRef(targets[i]); /* a proxy's AddRef is local: never calls the app */
    InterlockedIncrement(&run->handlerRefs);
  }
  if (count > 0) {
    run->canceled = TRUE;
    run->tInvoke = now_ms();
    call_in_progress(run, run->cancelDuringCall, sizeof run->cancelDuringCall);
    ResetEvent(run->invokeDone);
    SetEvent(run->invokeIssued);
  }
  LeaveCriticalSection(&lock);
  if (count == 0) {
    add_error("run %d: the broker canceled, but no Canceled handler was registered", run->index);
    return;
  }
  HRESULT result = S_OK;
  for (int i = 0; i < count; i++) {
    set_activity(ACT_CANCEL, "run %d: Invoke(instance, reason %d) on the app's Canceled handler", run->index, opt.cancelReason);
    HRESULT hr = targets[i]->lpVtbl->Invoke(targets[i], &run->instance.iface, opt.cancelReason);
    if (FAILED(hr) && SUCCEEDED(result)) result = hr;
    set_activity(ACT_CANCEL, "run %d: Release(handler) after Invoke", run->index);
    targets[i]->lpVtbl->Release(targets[i]);
    InterlockedDecrement(&run->handlerRefs);
  }
  set_activity(ACT_CANCEL, "");
  EnterCriticalSection(&lock);
  run->invokeHr = result;
  run->tInvokeReturned = now_ms();
  LeaveCriticalSection(&lock);
  SetEvent(run->invokeDone);
  if (FAILED(result)) add_error("run %d: the Canceled handler's Invoke returned 0x%08lX", run->index, (unsigned long)result);
}

/* The cancel thread of a run: once a handler is registered, cancels after --cancel-after-ms, or
   at once when a rule sets cancelNow (cancel-during-call, --cancel-at-progress). */
static DWORD WINAPI cancel_thread(void *param) {
  Run *run = param;
  CoInitializeEx(NULL, COINIT_MULTITHREADED);
  HANDLE added[2] = {run->handlerAddedEv, run->done};
  if (WaitForMultipleObjects(2, added, FALSE, opt.runTimeoutMs) == WAIT_OBJECT_0) {
    HANDLE when[2] = {run->cancelNow, run->done};
    DWORD timeout = opt.cancelAfterMs < 0 ? (DWORD)opt.runTimeoutMs : (DWORD)opt.cancelAfterMs;
    DWORD waited = WaitForMultipleObjects(2, when, FALSE, timeout);
    if (waited == WAIT_OBJECT_0 || (waited == WAIT_TIMEOUT && opt.cancelAfterMs >= 0)) invoke_canceled(run);
  }
  set_activity(ACT_CANCEL, "");
  CoUninitialize();
  return 0;
}

/* cancel-during-call: the first call the app makes into the instance once a handler is
   registered is held open while the cancel thread invokes Canceled. */
static void maybe_cancel_during_call(Run *run, int slot, const char *method) {
  BOOL now = FALSE;
  if (!(run->flags & F_CANCEL_DURING_CALL)) return;
  EnterCriticalSection(&lock);
  if (!run->cancelTriggered && run->handlerCount > 0) now = run->cancelTriggered = TRUE;
  LeaveCriticalSection(&lock);
  if (!now) return;
  char text[160];
  snprintf(text, sizeof text, "%s: waiting for the cancel thread to call Invoke", method);
  call_doing(slot, text);
  SetEvent(run->cancelNow);
  if (WaitForSingleObject(run->invokeIssued, 5000) == WAIT_TIMEOUT) add_error("run %d: cancel-during-call: the cancel thread did not invoke within 5 s", run->index);
  snprintf(text, sizeof text, "%s: Sleep(%d) while the cancel thread invokes Canceled", method, opt.delayMs);
  call_doing(slot, text);
  Sleep(opt.delayMs);
}

/* ------------------------------------------------------------------------------------------ */
/* IInspectable, shared by the instance and the deferral                                        */

typedef HRESULT(WINAPI *WindowsCreateStringFn)(LPCWSTR, UINT32, HSTRING *);

static HRESULT inspectable_iids(const IID *iid, ULONG *count, IID **iids) {
  if (!count || !iids) return E_POINTER;
  *count = 0;
  *iids = CoTaskMemAlloc(sizeof(IID));
  if (!*iids) return E_OUTOFMEMORY;
  (*iids)[0] = *iid;
  *count = 1;
  return S_OK;
}

/* The runtime class name, as an HSTRING from combase (looked up at run time, so the exe loads
   whether or not the WinRT string API set is there; an empty name is NULL and also valid). */
static HRESULT inspectable_class_name(const WCHAR *name, HSTRING *out) {
  static WindowsCreateStringFn create;
  if (!out) return E_POINTER;
  *out = NULL;
  if (!create) {
    HMODULE combase = LoadLibraryW(L"combase.dll");
    if (combase) create = (WindowsCreateStringFn)(void *)GetProcAddress(combase, "WindowsCreateString");
  }
  return create ? create(name, (UINT32)wcslen(name), out) : S_OK;
}

static void note_unknown_iid(Run *run, REFIID riid) {
  char text[40];
  guid_text(riid, text, sizeof text);
  EnterCriticalSection(&lock);
  int known = 0;
  for (int i = 0; i < run->unknownIidCount; i++) known |= strcmp(run->unknownIids[i], text) == 0;
  if (!known && run->unknownIidCount < MAX_UNKNOWN_IIDS) strcpy(run->unknownIids[run->unknownIidCount++], text);
  LeaveCriticalSection(&lock);
}

/* What the broker's two objects (Instance, Deferral) share: each has one vtable, so the same
 * pointer answers IUnknown every time (COM's identity rule), and a count that must never go below
 * zero. `object` is the object's first member, its interface; `refs` and `run` follow it. */
typedef struct Counted {
  void *iface;
  volatile LONG refs;
  Run *run;
} Counted;
_Static_assert(offsetof(Instance, refs) == offsetof(Counted, refs) && offsetof(Instance, run) == offsetof(Counted, run), "Instance starts as Counted");
_Static_assert(offsetof(Deferral, refs) == offsetof(Counted, refs) && offsetof(Deferral, run) == offsetof(Counted, run), "Deferral starts as Counted");

static HRESULT counted_query(void *object, const IID *own, REFIID riid, void **ppv) {
  if (!ppv) return E_POINTER;
  *ppv = NULL;
  if (IsEqualIID(riid, &BROKER_IID_IUnknown) || IsEqualIID(riid, &BROKER_IID_IInspectable) || IsEqualIID(riid, &BROKER_IID_IAgileObject) || IsEqualIID(riid, own)) {
    *ppv = object;
    InterlockedIncrement(&((Counted *)object)->refs);
    return S_OK;
  }
  note_unknown_iid(((Counted *)object)->run, riid);
  return E_NOINTERFACE;
}

static ULONG counted_add_ref(void *object) {
  return (ULONG)InterlockedIncrement(&((Counted *)object)->refs);
}

static ULONG counted_release(void *object, const char *what) {
  Counted *counted = object;
  LONG refs = InterlockedDecrement(&counted->refs);
  if (refs < 0) add_error("run %d: %s was released more times than it was referenced", counted->run->index, what);
  return (ULONG)(refs < 0 ? 0 : refs);
}

static HRESULT base_trust(TrustLevel *level) {
  if (!level) return E_POINTER;
  *level = BaseTrust;
  return S_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* IBackgroundTaskInstance                                                                      */

#define INSTANCE(This) ((Instance *)(This))

static HRESULT STDMETHODCALLTYPE instance_QueryInterface(IBackgroundTaskInstance *This, REFIID riid, void **ppv) {
  return counted_query(This, &BROKER_IID_IBackgroundTaskInstance, riid, ppv);
}

static ULONG STDMETHODCALLTYPE instance_AddRef(IBackgroundTaskInstance *This) {
  return counted_add_ref(This);
}

static ULONG STDMETHODCALLTYPE instance_Release(IBackgroundTaskInstance *This) {
  return counted_release(This, "the instance");
}

static HRESULT STDMETHODCALLTYPE instance_GetIids(IBackgroundTaskInstance *This, ULONG *count, IID **iids) {
  (void)This;
  return inspectable_iids(&BROKER_IID_IBackgroundTaskInstance, count, iids);
}

static HRESULT STDMETHODCALLTYPE instance_GetRuntimeClassName(IBackgroundTaskInstance *This, HSTRING *name) {
  (void)This;
  return inspectable_class_name(L"Windows.ApplicationModel.Background.BackgroundTaskInstance", name);
}

static HRESULT STDMETHODCALLTYPE instance_GetTrustLevel(IBackgroundTaskInstance *This, TrustLevel *level) {
  (void)This;
  return base_trust(level);
}

/* The calls after which the run is over: put_Progress or GetDeferral then is the app's mistake. */
static void check_not_after_complete(Run *run, const char *method) {
  EnterCriticalSection(&lock);
  BOOL late = run->completed;
  if (late) run->callsAfterComplete++;
  LeaveCriticalSection(&lock);
  if (late) add_error("run %d: %s after the deferral was completed", run->index, method);
}

static HRESULT STDMETHODCALLTYPE instance_get_InstanceId(IBackgroundTaskInstance *This, GUID *result) {
  Run *run = INSTANCE(This)->run;
  int slot = enter_call(run, "get_InstanceId");
  if (result) {
    maybe_cancel_during_call(run, slot, "get_InstanceId");
    *result = run->instanceId;
  }
  leave_call(slot);
  return result ? S_OK : E_POINTER;
}

/* No registration object and no trigger details: WinRT lets a property return null (S_OK). */
static HRESULT STDMETHODCALLTYPE instance_get_Task(IBackgroundTaskInstance *This, IInspectable **result) {
  Run *run = INSTANCE(This)->run;
  int slot = enter_call(run, "get_Task");
  if (result) *result = NULL;
  maybe_cancel_during_call(run, slot, "get_Task");
  leave_call(slot);
  return result ? S_OK : E_POINTER;
}

static HRESULT STDMETHODCALLTYPE instance_get_TriggerDetails(IBackgroundTaskInstance *This, IInspectable **result) {
  Run *run = INSTANCE(This)->run;
  int slot = enter_call(run, "get_TriggerDetails");
  if (result) *result = NULL;
  maybe_cancel_during_call(run, slot, "get_TriggerDetails");
  leave_call(slot);
  return result ? S_OK : E_POINTER;
}

static HRESULT STDMETHODCALLTYPE instance_get_Progress(IBackgroundTaskInstance *This, UINT32 *result) {
  Run *run = INSTANCE(This)->run;
  int slot = enter_call(run, "get_Progress");
  if (result) {
    maybe_cancel_during_call(run, slot, "get_Progress");
    EnterCriticalSection(&lock);
    *result = run->progress;
    LeaveCriticalSection(&lock);
  }
  leave_call(slot);
  return result ? S_OK : E_POINTER;
}

static HRESULT STDMETHODCALLTYPE instance_put_Progress(IBackgroundTaskInstance *This, UINT32 value) {
  Run *run = INSTANCE(This)->run;
  int slot = enter_call(run, "put_Progress");
  check_not_after_complete(run, "put_Progress");
  EnterCriticalSection(&lock);
  run->progress = value;
  if (run->progressCount < MAX_PROGRESS) run->progressValues[run->progressCount++] = value;
  LeaveCriticalSection(&lock);
  maybe_cancel_during_call(run, slot, "put_Progress");
  if (opt.cancelAtProgress >= 0 && value >= (UINT32)opt.cancelAtProgress) SetEvent(run->cancelNow);
  leave_call(slot);
  return S_OK;
}

static HRESULT STDMETHODCALLTYPE instance_get_SuspendedCount(IBackgroundTaskInstance *This, UINT32 *result) {
  Run *run = INSTANCE(This)->run;
  int slot = enter_call(run, "get_SuspendedCount");
  if (result) *result = 0;
  maybe_cancel_during_call(run, slot, "get_SuspendedCount");
  leave_call(slot);
  return result ? S_OK : E_POINTER;
}

static HRESULT STDMETHODCALLTYPE instance_add_Canceled(IBackgroundTaskInstance *This, BackgroundTaskCanceledEventHandler *handler, EventRegistrationToken *token) {
  Run *run = INSTANCE(This)->run;
  int slot = enter_call(run, "add_Canceled");
  HRESULT hr = S_OK;
  if (!token) hr = E_POINTER;
  else if (!handler) hr = E_INVALIDARG;
  if (FAILED(hr)) {
    if (token) token->value = 0;
    leave_call(slot);
    return hr;
  }
  if (run->flags & F_QI_IN_ADD) {
    /* As C++/WinRT's winrt::event does when it adds a delegate (make_agile_delegate in
       winrt/base.h), and WRL's AgileEventSource (wrl/event.h): ask it whether it is agile
       (IAgileObject; if not, they take an agile reference with RoGetAgileReference), then for its
       identity (IUnknown), and release both. On a proxy a QueryInterface goes to the app
       (IRemUnknown::RemQueryInterface queries the object itself: MS-DCOM 3.1.1.5.6.1.1), inside
       the app's own add_Canceled. */
    static const struct {
      const IID *iid;
      const char *name;
    } asked[2] = {{&BROKER_IID_IAgileObject, "IAgileObject"}, {&BROKER_IID_IUnknown, "IUnknown"}};
    IUnknown *got[2] = {NULL, NULL};
    HRESULT hrs[2];
    char text[160];
    for (int i = 0; i < 2; i++) {
      snprintf(text, sizeof text, "add_Canceled: QueryInterface(handler, IID_%s)", asked[i].name);
      call_doing(slot, text);
      hrs[i] = handler->lpVtbl->QueryInterface(handler, asked[i].iid, (void **)&got[i]);
      if (SUCCEEDED(hrs[i]) && got[i]) InterlockedIncrement(&run->handlerRefs);
      else got[i] = NULL;
    }
    for (int i = 0; i < 2; i++) {
      if (!got[i]) continue;
      snprintf(text, sizeof text, "add_Canceled: Release(handler's %s)", asked[i].name);
      call_doing(slot, text);
      got[i]->lpVtbl->Release(got[i]);
      InterlockedDecrement(&run->handlerRefs);
    }
    call_doing(slot, "add_Canceled");
    EnterCriticalSection(&lock);
    run->qiAgileHr = hrs[0];
    run->qiUnknownHr = hrs[1];
    run->qiDone = TRUE;
    LeaveCriticalSection(&lock);
    if (FAILED(hrs[1])) add_error("run %d: QueryInterface(handler, IID_IUnknown) failed with 0x%08lX", run->index, (unsigned long)hrs[1]);
  }
  /* The event keeps the delegate: an [in] pointer kept past the call is AddRef'd. */
  EnterCriticalSection(&lock);
  run->handlerAdded++;
  if (run->handlerCount < MAX_HANDLERS) {
    handler->lpVtbl->AddRef(handler); /* a proxy's AddRef is local: never calls the app */
    InterlockedIncrement(&run->handlerRefs);
    run->handlers[run->handlerCount].handler = handler;
    token->value = run->handlers[run->handlerCount].token = ++run->nextToken;
    run->handlerCount++;
  } else {
    token->value = 0;
    hr = E_OUTOFMEMORY;
  }
  LeaveCriticalSection(&lock);
  if (FAILED(hr)) add_error("run %d: more than %d Canceled handlers", run->index, MAX_HANDLERS);
  else SetEvent(run->handlerAddedEv);
  leave_call(slot);
  return hr;
}

static HRESULT STDMETHODCALLTYPE instance_remove_Canceled(IBackgroundTaskInstance *This, EventRegistrationToken token) {
  Run *run = INSTANCE(This)->run;
  int slot = enter_call(run, "remove_Canceled");
  BackgroundTaskCanceledEventHandler *handler = NULL;
  EnterCriticalSection(&lock);
  for (int i = 0; i < run->handlerCount; i++) {
    if (run->handlers[i].token == token.value) {
      handler = run->handlers[i].handler;
      memmove(&run->handlers[i], &run->handlers[i + 1], (size_t)(run->handlerCount - i - 1) * sizeof run->handlers[0]);
      run->handlerCount--;
      run->handlerRemoved++;
      break;
    }
  }
  /* An unknown token (or one Complete already dropped) is not an error for a WinRT event. */
  if (!handler) run->removeUnknownToken++;
  LeaveCriticalSection(&lock);
  if (handler) {
    if (release_in_remove(run)) {
      /* As C++/WinRT's winrt::event::remove and WRL's EventSource::Remove do: the removed
         delegate's last reference goes before remove returns, inside the app's call. */
      release_handler_in_call(run, handler, slot, "remove_Canceled");
    } else {
      /* Kept: released inside Complete (release-in-complete; when the app unsubscribes first),
         or by the main thread once the run is over, never inside a call of the app's. */
      EnterCriticalSection(&lock);
      if (release_in_complete(run) && !run->completed) run->kept[run->keptCount++] = handler;
      else run->removed[run->removedCount++] = handler;
      LeaveCriticalSection(&lock);
    }
  }
  leave_call(slot);
  return S_OK;
}

/* IBackgroundTaskDeferral, one per GetDeferral. */
static const IBackgroundTaskDeferralVtbl deferralVtbl;

static HRESULT STDMETHODCALLTYPE instance_GetDeferral(IBackgroundTaskInstance *This, IBackgroundTaskDeferral **result) {
  Run *run = INSTANCE(This)->run;
  int slot = enter_call(run, "GetDeferral");
  HRESULT hr = S_OK;
  if (!result) {
    leave_call(slot);
    return E_POINTER;
  }
  *result = NULL;
  check_not_after_complete(run, "GetDeferral");
  maybe_cancel_during_call(run, slot, "GetDeferral");
  Deferral *deferral = calloc(1, sizeof *deferral);
  deferral->iface.lpVtbl = &deferralVtbl;
  deferral->refs = 2; /* the broker's own, and the one handed out through *result */
  deferral->run = run;
  EnterCriticalSection(&lock);
  if (run->deferralCount < MAX_DEFERRALS) run->deferrals[run->deferralCount++] = deferral;
  else hr = E_OUTOFMEMORY;
  LeaveCriticalSection(&lock);
  if (SUCCEEDED(hr)) *result = &deferral->iface;
  else add_error("run %d: more than %d deferrals", run->index, MAX_DEFERRALS);
  leave_call(slot);
  return hr;
}

static const IBackgroundTaskInstanceVtbl instanceVtbl = {
    instance_QueryInterface, instance_AddRef,       instance_Release,           instance_GetIids,
    instance_GetRuntimeClassName, instance_GetTrustLevel, instance_get_InstanceId, instance_get_Task,
    instance_get_Progress,   instance_put_Progress, instance_get_TriggerDetails, instance_add_Canceled,
    instance_remove_Canceled, instance_get_SuspendedCount, instance_GetDeferral,
};

/* ------------------------------------------------------------------------------------------ */
/* IBackgroundTaskDeferral                                                                      */

#define DEFERRAL(This) ((Deferral *)(This))

static HRESULT STDMETHODCALLTYPE deferral_QueryInterface(IBackgroundTaskDeferral *This, REFIID riid, void **ppv) {
  return counted_query(This, &BROKER_IID_IBackgroundTaskDeferral, riid, ppv);
}

static ULONG STDMETHODCALLTYPE deferral_AddRef(IBackgroundTaskDeferral *This) {
  return counted_add_ref(This);
}

static ULONG STDMETHODCALLTYPE deferral_Release(IBackgroundTaskDeferral *This) {
  return counted_release(This, "a deferral");
}

static HRESULT STDMETHODCALLTYPE deferral_GetIids(IBackgroundTaskDeferral *This, ULONG *count, IID **iids) {
  (void)This;
  return inspectable_iids(&BROKER_IID_IBackgroundTaskDeferral, count, iids);
}

static HRESULT STDMETHODCALLTYPE deferral_GetRuntimeClassName(IBackgroundTaskDeferral *This, HSTRING *name) {
  (void)This;
  return inspectable_class_name(L"Windows.ApplicationModel.Background.BackgroundTaskDeferral", name);
}

static HRESULT STDMETHODCALLTYPE deferral_GetTrustLevel(IBackgroundTaskDeferral *This, TrustLevel *level) {
  (void)This;
  return base_trust(level);
}

/* The run is over once every deferral taken is completed. A second Complete of the same deferral
   changes nothing (Windows ignores it too); it is counted. */
static HRESULT STDMETHODCALLTYPE deferral_Complete(IBackgroundTaskDeferral *This) {
  Deferral *self = DEFERRAL(This);
  Run *run = self->run;
  int slot = enter_call(run, "Complete");
  BackgroundTaskCanceledEventHandler *drop[2 * MAX_HANDLERS];
  int dropCount = 0;
  BOOL first;
  EnterCriticalSection(&lock);
  run->completeCalls++;
  first = ++self->completeCalls == 1;
  if (first && run->tComplete == 0) run->tComplete = now_ms();
  BOOL last = first && run->deferralsCompleted + 1 == run->deferralCount;
  if (last && release_in_complete(run)) {
    /* The run is over: no more Canceled. Its handlers, still registered or removed and kept, go
       now, inside the app's Complete. */
    for (int i = 0; i < run->handlerCount; i++) drop[dropCount++] = run->handlers[i].handler;
    for (int i = 0; i < run->keptCount; i++) drop[dropCount++] = run->kept[i];
    run->handlerCount = run->keptCount = 0;
  }
  LeaveCriticalSection(&lock);
  for (int i = 0; i < dropCount; i++) release_handler_in_call(run, drop[i], slot, "Complete");
  if (first) {
    EnterCriticalSection(&lock);
    run->deferralsCompleted++;
    run->completed = run->deferralsCompleted == run->deferralCount;
    check_done(run);
    LeaveCriticalSection(&lock);
  }
  leave_call(slot);
  return S_OK;
}

static const IBackgroundTaskDeferralVtbl deferralVtbl = {
    deferral_QueryInterface, deferral_AddRef, deferral_Release, deferral_GetIids, deferral_GetRuntimeClassName, deferral_GetTrustLevel, deferral_Complete,
};

/* ------------------------------------------------------------------------------------------ */
/* The result file                                                                              */

typedef struct Buffer {
  char *data;
  size_t length, capacity;
} Buffer;

static void put(Buffer *b, const char *format, ...) {
  va_list args;
  for (;;) {
    size_t room = b->capacity - b->length;
    va_start(args, format);
    int n = vsnprintf(b->data ? b->data + b->length : NULL, room, format, args);
    va_end(args);
    if (n >= 0 && (size_t)n < room) {
      b->length += (size_t)n;
      return;
    }
    b->capacity = b->capacity * 2 + (n > 0 ? (size_t)n : 0) + 4096;
    b->data = realloc(b->data, b->capacity);
  }
}

static void put_string(Buffer *b, const char *text) {
  put(b, "\"");
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if (*p == '"' || *p == '\\') put(b, "\\%c", *p);
    else if (*p < 0x20 || *p >= 0x7f) put(b, "\\u%04x", *p);
    else put(b, "%c", *p);
  }
  put(b, "\"");
}

static void put_ms(Buffer *b, const char *name, double from, double to) {
  if (from > 0 && to > 0) put(b, ",\"%s\":%.1f", name, to - from);
  else put(b, ",\"%s\":null", name);
}

static const char *bool_text(BOOL value) { return value ? "true" : "false"; }

/* One run's fields (under the lock). */
static void put_run(Buffer *b, Run *run) {
  LONG handlerRefs = run->handlerRefs;
  put(b, "{\"index\":%d,\"flags\":%u,\"activationHr\":%ld,\"runHr\":%ld,\"completed\":%s", run->index, run->flags, (long)run->activationHr, (long)run->runHr, bool_text(run->completed));
  put(b, ",\"runReturned\":%s,\"deferrals\":%d,\"completeCalls\":%d,\"callsAfterComplete\":%d", bool_text(run->runReturned), run->deferralCount, run->completeCalls, run->callsAfterComplete);
  put(b, ",\"canceled\":%s,\"cancelReason\":%d,\"invokeHr\":%ld,\"cancelDuringCall\":", bool_text(run->canceled), opt.cancelReason, (long)run->invokeHr);
  if (run->cancelDuringCall[0]) put_string(b, run->cancelDuringCall);
  else put(b, "null");
  put(b, ",\"progress\":[");
  for (int i = 0; i < run->progressCount; i++) put(b, "%s%u", i ? "," : "", run->progressValues[i]);
  put(b, "],\"handlerAdded\":%d,\"handlerRemoved\":%d,\"removeUnknownToken\":%d", run->handlerAdded, run->handlerRemoved, run->removeUnknownToken);
  put(b, ",\"handlerReleasedIn\":");
  if (run->handlerReleasedIn[0]) put_string(b, run->handlerReleasedIn);
  else put(b, "null");
  put(b, ",\"handlerRefsHeld\":%ld,\"handlerReleased\":%s", (long)handlerRefs, bool_text(run->handlerAdded > 0 && handlerRefs == 0 && run->handlerCount == 0 && run->removedCount == 0 && run->keptCount == 0));
  if (run->qiDone) put(b, ",\"qiAgileHr\":%ld,\"qiUnknownHr\":%ld", (long)run->qiAgileHr, (long)run->qiUnknownHr);
  if (run->measured) put(b, ",\"instanceRefsOutstanding\":%ld,\"deferralRefsOutstanding\":%ld", (long)run->instanceRefsOutstanding, (long)run->deferralRefsOutstanding);
  else put(b, ",\"instanceRefsOutstanding\":null,\"deferralRefsOutstanding\":null");
  put(b, ",\"instanceRefsNow\":%ld", (long)run->instance.refs);
  put(b, ",\"unknownIids\":[");
  for (int i = 0; i < run->unknownIidCount; i++) {
    if (i) put(b, ",");
    put_string(b, run->unknownIids[i]);
  }
  put(b, "]");
  /* Timings, in ms: activation (CoCreateInstance), Run called → the app's first call into the
     instance ("Run entered"), Run's duration, Run called → first Complete, Invoke issued → first
     Complete, Invoke's duration. */
  put_ms(b, "activationMs", run->tActivate, run->tActivated);
  put_ms(b, "runEnteredMs", run->tRun, run->tFirstCall);
  put_ms(b, "runReturnedMs", run->tRun, run->tRunReturned);
  put_ms(b, "completeMs", run->tRun, run->tComplete);
  put_ms(b, "cancelToCompleteMs", run->tInvoke, run->tComplete);
  put_ms(b, "invokeMs", run->tInvoke, run->tInvokeReturned);
  put(b, "}");
}

static volatile LONG resultWritten;

/* Writes the result file once (the first caller wins: the main thread or the watchdog). */
static void write_result(BOOL timedOut, BOOL exitedAfterRun) {
  if (InterlockedCompareExchange(&resultWritten, 1, 0) != 0) return;
  Buffer b = {0};
  EnterCriticalSection(&lock);
  Run *first = runCount > 0 ? runs[0] : NULL;
  HRESULT runHr = S_OK;
  BOOL completed = runCount == opt.runs, released = runCount == opt.runs, measured = runCount > 0;
  LONG instanceOut = 0, deferralOut = 0;
  int added = 0, removed = 0, done = 0;
  for (int i = 0; i < runCount; i++) {
    Run *run = runs[i];
    if (SUCCEEDED(runHr) && FAILED(run->activationHr)) runHr = run->activationHr;
    if (SUCCEEDED(runHr) && FAILED(run->runHr)) runHr = run->runHr;
    completed &= run->completed;
    done += run->completed;
    released &= run->handlerAdded > 0 && run->handlerRefs == 0 && run->handlerCount == 0 && run->removedCount == 0 && run->keptCount == 0;
    measured &= run->measured;
    instanceOut += run->instanceRefsOutstanding;
    deferralOut += run->deferralRefsOutstanding;
    added += run->handlerAdded;
    removed += run->handlerRemoved;
  }
  put(&b, "{\"scenario\":");
  put_string(&b, opt.scenario);
  put(&b, ",\"clsid\":");
  put_string(&b, opt.clsidText);
  put(&b, ",\"options\":{\"runs\":%d,\"cancelAfterMs\":%d,\"cancelAtProgress\":%d,\"cancelReason\":%d,\"delayMs\":%d,\"runTimeoutMs\":%d,\"timeoutMs\":%d,\"settleMs\":%d}",
      opt.runs, opt.cancelAfterMs, opt.cancelAtProgress, opt.cancelReason, opt.delayMs, opt.runTimeoutMs, opt.timeoutMs, opt.settleMs);
  put(&b, ",\"runsStarted\":%d,\"runsCompleted\":%d,\"runHr\":%ld,\"completed\":%s", runCount, done, (long)runHr, bool_text(completed));
  put(&b, ",\"canceled\":%s,\"cancelReason\":%d", bool_text(first && first->canceled), opt.cancelReason);
  if (first && first->tComplete > 0) put(&b, ",\"completeMs\":%.1f", first->tComplete - first->tRun);
  else put(&b, ",\"completeMs\":null");
  put(&b, ",\"progress\":[");
  for (int i = 0; first && i < first->progressCount; i++) put(&b, "%s%u", i ? "," : "", first->progressValues[i]);
  put(&b, "]");
  if (measured) put(&b, ",\"instanceRefsOutstanding\":%ld,\"deferralRefsOutstanding\":%ld", (long)instanceOut, (long)deferralOut);
  else put(&b, ",\"instanceRefsOutstanding\":null,\"deferralRefsOutstanding\":null");
  put(&b, ",\"handlerAdded\":%d,\"handlerRemoved\":%d,\"handlerReleased\":%s", added, removed, bool_text(released));
  put(&b, ",\"timedOut\":%s,\"exitedAfterRun\":%s,\"elapsedMs\":%.1f", bool_text(timedOut), bool_text(exitedAfterRun), now_ms());
  put(&b, ",\"timings\":");
  if (first) {
    put(&b, "{\"run\":0");
    put_ms(&b, "activationMs", first->tActivate, first->tActivated);
    put_ms(&b, "runEnteredMs", first->tRun, first->tFirstCall);
    put_ms(&b, "runReturnedMs", first->tRun, first->tRunReturned);
    put_ms(&b, "cancelToCompleteMs", first->tInvoke, first->tComplete);
    put(&b, "}");
  } else {
    put(&b, "null");
  }
  put(&b, ",\"errors\":[");
  for (int i = 0; i < errorCount; i++) {
    if (i) put(&b, ",");
    put_string(&b, errors[i]);
  }
  put(&b, "],\"stuck\":[");
  double now = now_ms();
  int n = 0;
  for (int k = 0; k < MAX_ACTIVITIES; k++) {
    int i = (k + ACT_FIRST_CALL) % MAX_ACTIVITIES; /* the app's calls first, as in watchdog() */
    if (!activities[i].used) continue;
    char text[320];
    const char *who = i == ACT_MAIN ? "main thread" : i == ACT_CANCEL ? "cancel thread" : activities[i].who;
    snprintf(text, sizeof text, "%s: %s (for %.0f ms)", who, activities[i].text, now - activities[i].since);
    if (n++) put(&b, ",");
    put_string(&b, text);
  }
  put(&b, "],\"perRun\":[");
  for (int i = 0; i < runCount; i++) {
    if (i) put(&b, ",");
    put_run(&b, runs[i]);
  }
  put(&b, "]}\n");
  LeaveCriticalSection(&lock);

  char partial[MAX_PATH + 8];
  snprintf(partial, sizeof partial, "%s.tmp", opt.resultPath);
  HANDLE file = CreateFileA(partial, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
  DWORD written = 0;
  BOOL ok = file != INVALID_HANDLE_VALUE && WriteFile(file, b.data, (DWORD)b.length, &written, NULL) && written == b.length;
  if (file != INVALID_HANDLE_VALUE) CloseHandle(file);
  ok = ok && MoveFileExA(partial, opt.resultPath, MOVEFILE_REPLACE_EXISTING);
  fprintf(stderr, ok ? "broker: result in %s\n" : "broker: could not write %s\n", opt.resultPath);
  free(b.data);
}

/* The broker's time limits: --timeout-ms for everything, and --run-timeout-ms (plus a second, so
   that a bounded wait reports first) for any one step of any party: a call out that does not
   return (Run, a QueryInterface or Release of the app's handler, Invoke), an incoming call that
   does not finish. Whatever is stuck, the result is written with what each party was doing, and
   the process ends: a hang never outlives these limits. */
static DWORD WINAPI watchdog(void *param) {
  (void)param;
  for (;;) {
    Sleep(100);
    char stuck[300] = "";
    double now = now_ms();
    EnterCriticalSection(&lock);
    /* The app's calls first: when one is stuck, the main thread waits on it, not the reverse. */
    for (int k = 0; k < MAX_ACTIVITIES && !stuck[0]; k++) {
      int i = (k + ACT_FIRST_CALL) % MAX_ACTIVITIES;
      if (activities[i].used && now - activities[i].since > opt.runTimeoutMs + 1000.0) {
        const char *who = i == ACT_MAIN ? "main thread" : i == ACT_CANCEL ? "cancel thread" : activities[i].who;
        snprintf(stuck, sizeof stuck, "%s: %s", who, activities[i].text);
      }
    }
    LeaveCriticalSection(&lock);
    if (stuck[0]) add_error("stuck for more than --run-timeout-ms (%d ms): %s", opt.runTimeoutMs, stuck);
    else if (now > opt.timeoutMs) add_error("the broker's time limit of %d ms passed: something is stuck (see stuck)", opt.timeoutMs);
    else continue;
    write_result(TRUE, FALSE);
    ExitProcess(3);
  }
  return 0;
}

/* A wait that must not time out: when it does, the run is stuck and so is whatever would follow
   (releasing proxies of an app that does not answer), so the broker reports and ends here. */
static void wait_or_give_up(HANDLE handle, Run *run, const char *what) {
  if (WaitForSingleObject(handle, (DWORD)opt.runTimeoutMs) != WAIT_TIMEOUT) return;
  add_error("run %d: %s did not happen within %d ms", run->index, what, opt.runTimeoutMs);
  write_result(TRUE, FALSE);
  ExitProcess(3);
}

/* ------------------------------------------------------------------------------------------ */
/* One activation                                                                               */

static BOOL refs_settled(Run *run) {
  if (run->instance.refs != 1) return FALSE;
  for (int i = 0; i < run->deferralCount; i++)
    if (run->deferrals[i]->refs != 1) return FALSE;
  return TRUE;
}

/* Waits (up to --settle-ms) for the app's Releases, which follow its Complete, to arrive; then
   counts what is still held besides the broker's own reference. */
static void measure(Run *run) {
  double until = now_ms() + opt.settleMs;
  while (!refs_settled(run) && now_ms() < until) Sleep(10);
  EnterCriticalSection(&lock);
  run->instanceRefsOutstanding = run->instance.refs - 1;
  run->deferralRefsOutstanding = 0;
  for (int i = 0; i < run->deferralCount; i++) run->deferralRefsOutstanding += run->deferrals[i]->refs - 1;
  run->measured = TRUE;
  LeaveCriticalSection(&lock);
  if (run->instanceRefsOutstanding != 0) add_error("run %d: %ld reference(s) to the instance outstanding %d ms after the run", run->index, (long)run->instanceRefsOutstanding, opt.settleMs);
  if (run->deferralRefsOutstanding != 0) add_error("run %d: %ld reference(s) to the deferral(s) outstanding %d ms after the run", run->index, (long)run->deferralRefsOutstanding, opt.settleMs);
}

static void do_run(int index) {
  Run *run = calloc(1, sizeof *run);
  run->index = index;
  run->flags = opt.flags;
  run->instance.iface.lpVtbl = &instanceVtbl;
  run->instance.refs = 1; /* the broker's own */
  run->instance.run = run;
  CoCreateGuid(&run->instanceId);
  run->done = CreateEventW(NULL, TRUE, FALSE, NULL);
  run->handlerAddedEv = CreateEventW(NULL, TRUE, FALSE, NULL);
  run->cancelNow = CreateEventW(NULL, TRUE, FALSE, NULL);
  run->invokeIssued = CreateEventW(NULL, TRUE, FALSE, NULL);
  run->invokeDone = CreateEventW(NULL, TRUE, TRUE, NULL);
  EnterCriticalSection(&lock);
  runs[runCount++] = run;
  LeaveCriticalSection(&lock);

  IBackgroundTask *task = NULL;
  set_activity(ACT_MAIN, "run %d: CoCreateInstance(CLSCTX_LOCAL_SERVER, IID_IBackgroundTask)", index);
  run->tActivate = now_ms();
  HRESULT hr = CoCreateInstance(&opt.clsid, NULL, CLSCTX_LOCAL_SERVER, &BROKER_IID_IBackgroundTask, (void **)&task);
  run->tActivated = now_ms();
  run->activationHr = hr;
  if (FAILED(hr) || !task) {
    add_error("run %d: CoCreateInstance failed with 0x%08lX", index, (unsigned long)hr);
    return;
  }

  HANDLE canceler = CreateThread(NULL, 0, cancel_thread, run, 0, NULL);
  set_activity(ACT_MAIN, "run %d: IBackgroundTask::Run (waiting for the app to return)", index);
  run->tRun = now_ms();
  /* Native code may call Run synchronously on its own thread: the app's calls back into the
     instance arrive on COM's RPC threads meanwhile. */
  hr = task->lpVtbl->Run(task, &run->instance.iface);
  EnterCriticalSection(&lock);
  run->tRunReturned = now_ms();
  run->runHr = hr;
  run->runReturned = TRUE;
  if (FAILED(hr)) SetEvent(run->done);
  else if (run->deferralCount == 0) run->completed = TRUE; /* a synchronous run ends when Run returns */
  check_done(run);
  BOOL deferred = run->deferralCount > run->deferralsCompleted;
  LeaveCriticalSection(&lock);
  if (FAILED(hr)) add_error("run %d: Run returned 0x%08lX", index, (unsigned long)hr);

  if (run->flags & F_EXIT_AFTER_RUN) {
    /* As a crash would: nothing released, no Complete awaited, no CoUninitialize. */
    if (!deferred) add_error("exit-after-run: Run returned without a deferral held; nothing is left for the app to notice");
    set_activity(ACT_MAIN, "");
    write_result(FALSE, TRUE);
    ExitProcess(0);
  }

  set_activity(ACT_MAIN, "run %d: waiting for the deferral's Complete", index);
  wait_or_give_up(run->done, run, "the deferral's Complete");
  set_activity(ACT_MAIN, "run %d: waiting for the cancel thread (Invoke) to finish", index);
  wait_or_give_up(canceler, run, "the return of the cancel thread's Invoke");
  CloseHandle(canceler);

  /* The app unsubscribes (remove_Canceled) and releases the run's objects after it completes
     the deferral; give it --settle-ms to do so before releasing anything that may call it. */
  set_activity(ACT_MAIN, "run %d: waiting up to %d ms for the app's remove_Canceled and Releases", index, opt.settleMs);
  double until = now_ms() + opt.settleMs;
  while ((run->handlerCount > 0 || !refs_settled(run)) && now_ms() < until) Sleep(10);
  /* Cooperative clean-up on this thread, outside any call of the app's: the handlers removed and
     kept for later, and those the app did not remove (the event source's end). */
  for (;;) {
    BackgroundTaskCanceledEventHandler *handler = NULL;
    EnterCriticalSection(&lock);
    if (run->removedCount > 0) handler = run->removed[--run->removedCount];
    else if (run->keptCount > 0) handler = run->kept[--run->keptCount];
    else if (run->handlerCount > 0) handler = run->handlers[--run->handlerCount].handler;
    LeaveCriticalSection(&lock);
    if (!handler) break;
    set_activity(ACT_MAIN, "run %d: Release(handler) after the run", index);
    handler->lpVtbl->Release(handler);
    InterlockedDecrement(&run->handlerRefs);
  }
  set_activity(ACT_MAIN, "run %d: Release(IBackgroundTask)", index);
  task->lpVtbl->Release(task);
  set_activity(ACT_MAIN, "run %d: counting references", index);
  measure(run);
  if (!run->completed) add_error("run %d: the run did not complete (Run returned 0x%08lX; %d deferral(s), %d completed)", index, (unsigned long)run->runHr, run->deferralCount, run->deferralsCompleted);
  if (run->handlerAdded == 0) add_error("run %d: the app never added a Canceled handler", index);
  if (run->handlerRefs != 0) add_error("run %d: the broker still holds %ld reference(s) on the handler", index, (long)run->handlerRefs);
  set_activity(ACT_MAIN, "");
}

/* ------------------------------------------------------------------------------------------ */

static int usage(const char *problem) {
  fprintf(stderr, "broker: %s\nusage: broker.exe <clsid> <scenario> <result.json> [--runs N] [--cancel-after-ms N] [--cancel-at-progress P]\n"
                  "                  [--cancel-reason N] [--delay-ms N] [--run-timeout-ms N] [--timeout-ms N] [--settle-ms N]\nscenarios:",
          problem);
  for (size_t i = 0; i < sizeof SCENARIOS / sizeof SCENARIOS[0]; i++) fprintf(stderr, " %s", SCENARIOS[i].name);
  fprintf(stderr, "\n");
  return 2;
}

int main(int argc, char **argv) {
  QueryPerformanceFrequency(&qpcFrequency);
  QueryPerformanceCounter(&qpcStart);
  InitializeCriticalSection(&lock);
  if (argc < 4) return usage("missing arguments");
  opt.clsidText = argv[1];
  opt.scenario = argv[2];
  opt.resultPath = argv[3];
  BOOL known = FALSE;
  for (size_t i = 0; i < sizeof SCENARIOS / sizeof SCENARIOS[0]; i++) {
    if (strcmp(SCENARIOS[i].name, opt.scenario) == 0) {
      opt.flags = SCENARIOS[i].flags;
      known = TRUE;
    }
  }
  if (!known) return usage("unknown scenario");
  for (int i = 4; i < argc; i++) {
    static const struct {
      const char *name;
      int *value;
    } numeric[] = {
        {"--runs", &opt.runs}, {"--cancel-after-ms", &opt.cancelAfterMs}, {"--cancel-at-progress", &opt.cancelAtProgress}, {"--cancel-reason", &opt.cancelReason},
        {"--delay-ms", &opt.delayMs}, {"--run-timeout-ms", &opt.runTimeoutMs}, {"--timeout-ms", &opt.timeoutMs}, {"--settle-ms", &opt.settleMs},
    };
    BOOL matched = FALSE;
    for (size_t k = 0; k < sizeof numeric / sizeof numeric[0]; k++) {
      if (strcmp(argv[i], numeric[k].name) == 0 && i + 1 < argc) {
        *numeric[k].value = atoi(argv[++i]);
        matched = TRUE;
      }
    }
    if (!matched) return usage(argv[i]);
  }
  if (opt.runs < 1 || opt.runs > MAX_RUNS) return usage("--runs must be from 1 to 10000");
  if ((opt.flags & F_EXIT_AFTER_RUN) && opt.runs != 1) return usage("exit-after-run takes one run");
  if (opt.settleMs < 0 || opt.settleMs >= opt.runTimeoutMs) return usage("--settle-ms must be from 0 to less than --run-timeout-ms");
  if (opt.timeoutMs < 0) opt.timeoutMs = 30000 + 10000 * opt.runs;

  /* CLSIDFromString wants the braces. */
  WCHAR wide[64];
  char braced[48];
  snprintf(braced, sizeof braced, opt.clsidText[0] == '{' ? "%s" : "{%s}", opt.clsidText);
  MultiByteToWideChar(CP_ACP, 0, braced, -1, wide, 64);
  if (FAILED(CLSIDFromString(wide, &opt.clsid))) return usage("the CLSID is not a GUID");

  HRESULT hr = CoInitializeEx(NULL, COINIT_MULTITHREADED);
  if (FAILED(hr)) {
    add_error("CoInitializeEx(COINIT_MULTITHREADED) failed with 0x%08lX", (unsigned long)hr);
    write_result(FALSE, FALSE);
    return 1;
  }
  CloseHandle(CreateThread(NULL, 0, watchdog, NULL, 0, NULL));
  for (int i = 0; i < opt.runs; i++) {
    do_run(i);
    if (FAILED(runs[i]->activationHr)) break;
  }
  /* The broker's own references go last, after measuring. */
  for (int i = 0; i < runCount; i++) {
    runs[i]->instance.iface.lpVtbl->Release(&runs[i]->instance.iface);
    for (int k = 0; k < runs[i]->deferralCount; k++) runs[i]->deferrals[k]->iface.lpVtbl->Release(&runs[i]->deferrals[k]->iface);
  }
  write_result(FALSE, FALSE);
  int code = errorCount > 0 ? 1 : 0;
  fprintf(stderr, "broker: %s, %d run(s), %d error(s)\n", opt.scenario, runCount, errorCount);
  /* Not CoUninitialize: with a misbehaving app it can block on proxies being disconnected, and
     the result is written; the process ends and takes COM with it. */
  ExitProcess((UINT)code);
  return code;
}
