/* The ABI of the Windows.ApplicationModel.Background interfaces the native test broker uses, in C.
 *
 * Written by hand from the IDL that winbg's generator emits from Windows' metadata (the proxy/stub
 * DLL is built from the same IDL: .cache/wine/proxy/src/winbg.idl, and widl's winbg.h beside it),
 * so that the broker does not depend on that build. Slot order is the metadata's method order;
 * WinRT interfaces derive from IInspectable (slots 0-5: QueryInterface, AddRef, Release, GetIids,
 * GetRuntimeClassName, GetTrustLevel), delegates from IUnknown (slots 0-2). Checked against
 * widl's winbg.h on 2026-12-02: same members in the same order, same parameter types except
 * get_Task's result, an IBackgroundTaskRegistration** there (the same pointer size; the broker
 * only ever returns NULL through it).
 */
#ifndef WINBG_NATIVE_BROKER_BACKGROUND_H
#define WINBG_NATIVE_BROKER_BACKGROUND_H

#include <windows.h>
#include <objbase.h>
#include <inspectable.h>
#include <eventtoken.h> /* EventRegistrationToken: struct { INT64 value; }, passed by value to remove_ */

typedef struct IBackgroundTask IBackgroundTask;
typedef struct IBackgroundTaskInstance IBackgroundTaskInstance;
typedef struct IBackgroundTaskDeferral IBackgroundTaskDeferral;
typedef struct BackgroundTaskCanceledEventHandler BackgroundTaskCanceledEventHandler;

/* Windows.ApplicationModel.Background.IBackgroundTask {7D13D534-FD12-43CE-8C22-EA1FF13C06DF} */
typedef struct IBackgroundTaskVtbl {
  HRESULT(STDMETHODCALLTYPE *QueryInterface)(IBackgroundTask *This, REFIID riid, void **ppv);
  ULONG(STDMETHODCALLTYPE *AddRef)(IBackgroundTask *This);
  ULONG(STDMETHODCALLTYPE *Release)(IBackgroundTask *This);
  HRESULT(STDMETHODCALLTYPE *GetIids)(IBackgroundTask *This, ULONG *count, IID **iids);
  HRESULT(STDMETHODCALLTYPE *GetRuntimeClassName)(IBackgroundTask *This, HSTRING *name);
  HRESULT(STDMETHODCALLTYPE *GetTrustLevel)(IBackgroundTask *This, TrustLevel *level);
  /* slot 6 */
  HRESULT(STDMETHODCALLTYPE *Run)(IBackgroundTask *This, IBackgroundTaskInstance *taskInstance);
} IBackgroundTaskVtbl;
struct IBackgroundTask { const IBackgroundTaskVtbl *lpVtbl; };

/* Windows.ApplicationModel.Background.IBackgroundTaskInstance {865BDA7A-21D8-4573-8F32-928A1B0641F6} */
typedef struct IBackgroundTaskInstanceVtbl {
  HRESULT(STDMETHODCALLTYPE *QueryInterface)(IBackgroundTaskInstance *This, REFIID riid, void **ppv);
  ULONG(STDMETHODCALLTYPE *AddRef)(IBackgroundTaskInstance *This);
  ULONG(STDMETHODCALLTYPE *Release)(IBackgroundTaskInstance *This);
  HRESULT(STDMETHODCALLTYPE *GetIids)(IBackgroundTaskInstance *This, ULONG *count, IID **iids);
  HRESULT(STDMETHODCALLTYPE *GetRuntimeClassName)(IBackgroundTaskInstance *This, HSTRING *name);
  HRESULT(STDMETHODCALLTYPE *GetTrustLevel)(IBackgroundTaskInstance *This, TrustLevel *level);
  /* slots 6-14 */
  HRESULT(STDMETHODCALLTYPE *get_InstanceId)(IBackgroundTaskInstance *This, GUID *result);
  HRESULT(STDMETHODCALLTYPE *get_Task)(IBackgroundTaskInstance *This, IInspectable **result); /* IBackgroundTaskRegistration** */
  HRESULT(STDMETHODCALLTYPE *get_Progress)(IBackgroundTaskInstance *This, UINT32 *result);
  HRESULT(STDMETHODCALLTYPE *put_Progress)(IBackgroundTaskInstance *This, UINT32 value);
  HRESULT(STDMETHODCALLTYPE *get_TriggerDetails)(IBackgroundTaskInstance *This, IInspectable **result);
  HRESULT(STDMETHODCALLTYPE *add_Canceled)(IBackgroundTaskInstance *This, BackgroundTaskCanceledEventHandler *cancelHandler, EventRegistrationToken *result);
  HRESULT(STDMETHODCALLTYPE *remove_Canceled)(IBackgroundTaskInstance *This, EventRegistrationToken cookie);
  HRESULT(STDMETHODCALLTYPE *get_SuspendedCount)(IBackgroundTaskInstance *This, UINT32 *result);
  HRESULT(STDMETHODCALLTYPE *GetDeferral)(IBackgroundTaskInstance *This, IBackgroundTaskDeferral **result);
} IBackgroundTaskInstanceVtbl;
struct IBackgroundTaskInstance { const IBackgroundTaskInstanceVtbl *lpVtbl; };

/* Windows.ApplicationModel.Background.IBackgroundTaskDeferral {93CC156D-AF27-4DD3-846E-24EE40CADD25} */
typedef struct IBackgroundTaskDeferralVtbl {
  HRESULT(STDMETHODCALLTYPE *QueryInterface)(IBackgroundTaskDeferral *This, REFIID riid, void **ppv);
  ULONG(STDMETHODCALLTYPE *AddRef)(IBackgroundTaskDeferral *This);
  ULONG(STDMETHODCALLTYPE *Release)(IBackgroundTaskDeferral *This);
  HRESULT(STDMETHODCALLTYPE *GetIids)(IBackgroundTaskDeferral *This, ULONG *count, IID **iids);
  HRESULT(STDMETHODCALLTYPE *GetRuntimeClassName)(IBackgroundTaskDeferral *This, HSTRING *name);
  HRESULT(STDMETHODCALLTYPE *GetTrustLevel)(IBackgroundTaskDeferral *This, TrustLevel *level);
  /* slot 6 */
  HRESULT(STDMETHODCALLTYPE *Complete)(IBackgroundTaskDeferral *This);
} IBackgroundTaskDeferralVtbl;
struct IBackgroundTaskDeferral { const IBackgroundTaskDeferralVtbl *lpVtbl; };

/* Windows.ApplicationModel.Background.BackgroundTaskCanceledEventHandler
 * {A6C4BAC0-51F8-4C57-AC3F-156DD1680C4F}: a delegate, so IUnknown-based. */
typedef struct BackgroundTaskCanceledEventHandlerVtbl {
  HRESULT(STDMETHODCALLTYPE *QueryInterface)(BackgroundTaskCanceledEventHandler *This, REFIID riid, void **ppv);
  ULONG(STDMETHODCALLTYPE *AddRef)(BackgroundTaskCanceledEventHandler *This);
  ULONG(STDMETHODCALLTYPE *Release)(BackgroundTaskCanceledEventHandler *This);
  /* slot 3; reason is a BackgroundTaskCancellationReason ([v1_enum]: 32 bits) */
  HRESULT(STDMETHODCALLTYPE *Invoke)(BackgroundTaskCanceledEventHandler *This, IBackgroundTaskInstance *sender, INT32 reason);
} BackgroundTaskCanceledEventHandlerVtbl;
struct BackgroundTaskCanceledEventHandler { const BackgroundTaskCanceledEventHandlerVtbl *lpVtbl; };

/* The IIDs, with names of our own so that they never clash with a library's. */
static const IID BROKER_IID_IUnknown = {0x00000000, 0x0000, 0x0000, {0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}};
static const IID BROKER_IID_IInspectable = {0xaf86e2e0, 0xb12d, 0x4c6a, {0x9c, 0x5a, 0xd7, 0xaa, 0x65, 0x10, 0x1e, 0x90}};
static const IID BROKER_IID_IAgileObject = {0x94ea2b94, 0xe9cc, 0x49e0, {0xc0, 0xff, 0xee, 0x64, 0xca, 0x8f, 0x5b, 0x90}};
static const IID BROKER_IID_IBackgroundTask = {0x7d13d534, 0xfd12, 0x43ce, {0x8c, 0x22, 0xea, 0x1f, 0xf1, 0x3c, 0x06, 0xdf}};
static const IID BROKER_IID_IBackgroundTaskInstance = {0x865bda7a, 0x21d8, 0x4573, {0x8f, 0x32, 0x92, 0x8a, 0x1b, 0x06, 0x41, 0xf6}};
static const IID BROKER_IID_IBackgroundTaskDeferral = {0x93cc156d, 0xaf27, 0x4dd3, {0x84, 0x6e, 0x24, 0xee, 0x40, 0xca, 0xdd, 0x25}};
static const IID BROKER_IID_BackgroundTaskCanceledEventHandler = {0xa6c4bac0, 0x51f8, 0x4c57, {0xac, 0x3f, 0x15, 0x6d, 0xd1, 0x68, 0x0c, 0x4f}};

#endif
