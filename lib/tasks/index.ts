// winbg/tasks: background tasks written in TypeScript — author, serve, register.
export { defineBackgroundTask, BackgroundTask, BackgroundTaskCanceledError, cancellationReasons, type BackgroundTaskOptions, type TaskClass, type TaskInstance, type RunFunction, type RunRecord } from './task.js';
export { packageIdentity } from './identity.js';
export { serve, isActivation, DEFAULT_ACTIVATION_ARGUMENT, type ServeOptions, type TaskServer, type ServerEvent, type StopReason } from './server.js';
export { serveInWorker, type WorkerServeOptions, type WorkerTaskServer, type WorkerStopReason } from './worker.js';
export { triggerBackgroundTask, IPackageDebugSettings, PACKAGE_DEBUG_SETTINGS_CLSID, type TriggeredTask } from './trigger.js';
export {
  registerBackgroundTask, unregisterBackgroundTask, listBackgroundTasks, requestBackgroundAccess, backgroundAccessStatus, explain,
  timeTrigger, maintenanceTrigger, systemTrigger, applicationTrigger,
  type RegisterOptions as RegisterTaskOptions, type TaskRegistration, type Trigger, type ApplicationTrigger, type SystemTriggerName, type ConditionName,
} from './registration.js';
export type { Subscription } from '../winrt/subscription.js';
