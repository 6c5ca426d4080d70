// The Background API through the generated projection, against JS stand-ins for Windows'
// classes (registered as their activation factories): a factory constructor with arguments,
// property setters, a GUID argument, a class-typed result, statics returning IMapView<Guid, …>.
// The real classes are Windows'; these fakes only prove the projection's calling conventions.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import '../../lib/generated/index.js';
import { Guid, type Com } from '../../lib/com/index.js';
import { Windows_ApplicationModel_Background as Background } from '../../lib/generated/index.js';
import { registerActivationFactory, resolveType, WinRTObject, type ResolvedInterface } from '../../lib/winrt/index.js';

const NS = 'Windows.ApplicationModel.Background';
const ifaceOf = (name: string): never => (resolveType(`${NS}.${name}`) as ResolvedInterface).iface as never;

interface FakeTrigger { freshness: number; oneShot: boolean }
interface FakeRegistration { id: Guid; name: string; trigger: FakeTrigger }
const registrations = new Map<string, FakeRegistration>();

function registrationObject(registration: FakeRegistration): object {
  return {
    interfaces: [ifaceOf('IBackgroundTaskRegistration')],
    get_TaskId: () => registration.id,
    get_Name: () => registration.name,
  };
}

let factories: Disposable[] = [];
const registerFakes = (): Disposable[] => [
  registerActivationFactory(`${NS}.TimeTrigger`, () => ({
    Create: (freshness: number, oneShot: boolean) => ({
      interfaces: [ifaceOf('ITimeTrigger'), ifaceOf('IBackgroundTrigger')],
      fake: { freshness, oneShot },
      get_FreshnessTime: () => freshness,
      get_OneShot: () => oneShot,
    }),
  })),
  registerActivationFactory(`${NS}.BackgroundTaskBuilder`, () => ({
    ActivateInstance: () => {
      const state: { name: string; clsid: Guid | null; trigger: Com | null } = { name: '', clsid: null, trigger: null };
      return {
        interfaces: ['IBackgroundTaskBuilder', 'IBackgroundTaskBuilder2', 'IBackgroundTaskBuilder3', 'IBackgroundTaskBuilder4', 'IBackgroundTaskBuilder5'].map(ifaceOf),
        put_Name: (name: string) => void (state.name = name),
        get_Name: () => state.name,
        SetTrigger: (trigger: Com) => void (state.trigger = trigger),
        SetTaskEntryPointClsid: (clsid: Guid) => void (state.clsid = clsid),
        Register: () => {
          const fake = (state.trigger!.implementation as { fake: FakeTrigger }).fake;
          const registration = { id: state.clsid!, name: state.name, trigger: fake };
          registrations.set(registration.id.toString(), registration);
          return registrationObject(registration);
        },
      };
    },
  })),
  registerActivationFactory(`${NS}.BackgroundTaskRegistration`, () => ({
    get_AllTasks: () => new Map([...registrations.values()].map((r) => [r.id, registrationObject(r)])),
  })),
];

const test = suite('Background API through the projection (JS stand-ins)');
// Registered for this suite only: other suites (under Wine, the real classes') must not see them.
test.before(() => {
  factories = registerFakes();
});

test('build and register: factory constructor, setters, a GUID argument, a class result, statics', () => {
  const trigger = Background.TimeTrigger.create(15, false);
  assert.is(trigger.FreshnessTime, 15);
  assert.is(trigger.OneShot, false);
  const builder = Background.BackgroundTaskBuilder.create();
  builder.Name = 'primes';
  assert.is(builder.Name, 'primes', 'put_Name then get_Name');
  builder.SetTrigger(trigger);
  const clsid = Guid.parse('14C5882B-35D3-41BE-86B2-5106269B97E6');
  builder.SetTaskEntryPointClsid(clsid);
  const registration = builder.Register();
  assert.instance(registration, WinRTObject);
  assert.is(registration.winrtType, `${NS}.BackgroundTaskRegistration`);
  assert.is(registration.Name, 'primes');
  assert.ok(registration.TaskId.equals(clsid));
  assert.equal(registrations.get(clsid.toString())!.trigger, { freshness: 15, oneShot: false });

  const all = Background.BackgroundTaskRegistration.AllTasks;
  assert.is(all.size, 1);
  const found = all.get(clsid);
  assert.ok(found, 'IMapView<Guid, …> looked up with a Guid');
  assert.is(found!.Name, 'primes');
  assert.equal([...all.keys()].map((k) => k.toString()), [clsid.toString()]);
  for (const object of [trigger, builder, registration, found!]) object.dispose();
});

test('a constructor of the wrong arity is a clear error', () => {
  assert.throws(() => (Background.TimeTrigger.create as (...a: unknown[]) => unknown)(15), /TimeTrigger has no constructor taking 1 argument/);
});

test.after(() => {
  for (const factory of factories) factory[Symbol.dispose]();
});

test.run();
