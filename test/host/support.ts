// Shared by the host's tests: tasks written with defineBackgroundTask and served with
// registerClassObject, registered through the generated projection only.
import '../../lib/generated/index.js';
import { Guid, initializeCom, registerClassObject, type ClassRegistration } from '../../lib/com/index.js';
import { Windows_ApplicationModel_Background as Background } from '../../lib/generated/index.js';
import { resolveType, type ResolvedInterface } from '../../lib/winrt/index.js';
import { defineBackgroundTask, type BackgroundTask, type RunFunction } from '../../lib/tasks/task.js';

export { Background };

// Serving a class (CoRegisterClassObject) needs COM on Windows; elsewhere this does nothing.
initializeCom('mta');
export const MINUTE = 60_000;

/** A COM interface of the Background namespace, by name. */
export const ifaceOf = (name: string): never => (resolveType(`Windows.ApplicationModel.Background.${name}`) as ResolvedInterface).iface as never;

/** A task with a fresh CLSID, served in this process until `dispose`. */
export interface ServedTask extends Disposable {
  readonly task: BackgroundTask;
  readonly clsid: Guid;
  readonly server: ClassRegistration;
}

export function serveTask(run: RunFunction, name = 'test task'): ServedTask {
  const clsid = Guid.parse(crypto.randomUUID());
  const task = defineBackgroundTask({ clsid, name, run });
  const server = registerClassObject(clsid, task.classDefinition);
  return { task, clsid, server, [Symbol.dispose]: () => server.revoke() };
}

export interface RegisterOptions {
  readonly name: string;
  readonly trigger: Background.IBackgroundTrigger;
  readonly clsid?: Guid;
  readonly entryPoint?: string;
  readonly conditions?: readonly number[];
  readonly cancelOnConditionLoss?: boolean;
}

/** BackgroundTaskBuilder the way an app writes it. */
export function register(options: RegisterOptions): Background.BackgroundTaskRegistration {
  const builder = Background.BackgroundTaskBuilder.create();
  try {
    builder.Name = options.name;
    builder.SetTrigger(options.trigger);
    if (options.clsid) builder.SetTaskEntryPointClsid(options.clsid);
    if (options.entryPoint) builder.TaskEntryPoint = options.entryPoint;
    for (const type of options.conditions ?? []) {
      using condition = Background.SystemCondition.create(type);
      builder.AddCondition(condition);
    }
    if (options.cancelOnConditionLoss) builder.CancelOnConditionLoss = true;
    return builder.Register();
  } finally {
    builder.dispose();
  }
}

/** Resolves after pending promise reactions (a few turns of the microtask queue). */
export async function flush(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}
