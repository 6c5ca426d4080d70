// A minimal IBackgroundTaskInstance in JS, for driving a task's Run through its vtable the way
// Windows does (the portable host has the complete one).
import { ComError, E_ILLEGAL_METHOD_CALL, Guid, type Com } from '../../lib/com/index.js';
import { resolveType, type ResolvedInterface } from '../../lib/winrt/index.js';
import '../../lib/generated/Windows.ApplicationModel.Background.js';

const NS = 'Windows.ApplicationModel.Background';
export const ifaceOf = (name: string): never => (resolveType(`${NS}.${name}`) as ResolvedInterface).iface as never;

export class FakeInstance {
  readonly interfaces = [ifaceOf('IBackgroundTaskInstance'), ifaceOf('IBackgroundTaskInstance2')];
  readonly id = Guid.parse(crypto.randomUUID());
  progress = 0;
  readonly progressLog: number[] = [];
  deferrals = 0;
  completions = 0;
  readonly handlers = new Map<bigint, Com<{ Invoke(sender: unknown, reason: number): void }>>();
  #next = 1n;
  get_InstanceId(): Guid { return this.id; }
  get_Task(): null { return null; }
  get_Progress(): number { return this.progress; }
  put_Progress(value: number): void {
    this.progress = value;
    this.progressLog.push(value);
  }
  get_TriggerDetails(): null { return null; }
  get_SuspendedCount(): number { return 2; }
  GetThrottleCount(counter: number): number { return 10 + counter; }
  add_Canceled(handler: Com<{ Invoke(sender: unknown, reason: number): void }>): { Value: bigint } {
    const token = this.#next++;
    this.handlers.set(token, handler);
    return { Value: token };
  }
  remove_Canceled(token: { Value: bigint }): void {
    this.handlers.get(BigInt(token.Value))?.dispose();
    this.handlers.delete(BigInt(token.Value));
  }
  GetDeferral(): object {
    this.deferrals++;
    let done = false;
    return {
      interfaces: [ifaceOf('IBackgroundTaskDeferral')],
      Complete: () => {
        if (done) throw new ComError(E_ILLEGAL_METHOD_CALL, 'completed twice');
        done = true;
        this.completions++;
      },
    };
  }
  cancel(reason: number): void {
    for (const handler of [...this.handlers.values()]) handler.Invoke(this, reason);
  }
}
