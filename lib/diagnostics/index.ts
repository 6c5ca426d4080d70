// winbg/diagnostics: what is alive, for tests and leak hunts — JS COM objects, ComPtr wrappers,
// winbg's native memory and koffi's registered callbacks — and whether IUnknown runs as native
// code here. Not needed to write or serve a task.
// All of the COM runtime it reports on, so that the bundle keeps it in one chunk (a chunk per set of
// entries that load a module: fewer modules for a served task to load).
import '../com/index.js';
export { liveComObjects } from '../com/object.js';
export { liveComPtrs } from '../com/pointer.js';
export { registeredCallbacks } from '../ffi/koffi.js';
export { nativeMemoryInUse } from '../ffi/memory.js';
export { nativeUnknownUnavailable } from '../ffi/native-unknown.js';
import '../tasks/index.js'; // the whole runtime of a served task, so that the bundle keeps it in one chunk (README, Start-up)
