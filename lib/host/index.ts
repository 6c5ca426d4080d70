// winbg/host: Windows' background task infrastructure, emulated in JS, so that background task
// code written against the generated projection runs, unchanged, on any OS.
// A host runs the tasks that winbg/tasks registers and serves (it implements their IWinbgRunReport):
// loaded with it, so that the bundle keeps winbg/tasks in one chunk and a served task loads one
// module fewer.
import '../tasks/index.js';

export {
  createHost, BackgroundHost, GRACE_PERIOD_EXPIRED,
  type HostOptions, type RegistrationInfo, type CancellationReasonName, type SystemTriggerName, type AccessStatusName,
} from './host.js';
export { ManualClock, systemClock, type Clock, type SystemClockOptions } from './clock.js';
export { Conditions, type ConditionName, type ConditionListener } from './conditions.js';
export { MIN_FRESHNESS_MINUTES } from './builder.js';
export type { TaskRun, RunState, HostEvent, HostEventType } from './log.js';
export { installDeploymentStandIn, publisherId, type DeploymentStandIn, type DeploymentStandInOptions, type StandInPackage } from './deployment.js';
