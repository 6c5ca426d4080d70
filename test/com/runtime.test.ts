// The COM library calls without Windows: class objects in a table of this process, activation
// through their IClassFactory vtables (what the portable host runs on). Under Wine and on
// Windows the real ole32 is used instead (test/windows/class-object.test.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CO_E_OBJISREG, ComError, createInstance, createInstanceSync, Guid, initializeCom, isWindows, registerClassObject, REGCLS_MULTIPLEUSE, REGCLS_SUSPENDED, REGDB_E_CLASSNOTREG, resumeClassObjects,
} from '../../lib/com/index.js';
import { liveComObjects } from '../../lib/diagnostics/index.js';
import { ICalculator, type Calculator } from '../support/interfaces.js';

class Adder {
  static interfaces = [ICalculator];
  Add(a: number, b: number): number {
    return a + b;
  }
}

const CLSID = Guid.parse('3b1f0c5e-7d2a-4c66-9a11-2f6e8d0c4b01');
const test = suite('COM library off Windows');

if (isWindows) {
  test.skip('runs off Windows only');
} else {
  test('initializeCom is a no-op; a registered class is activated through its factory', async () => {
    assert.is(initializeCom('mta'), false);
    const before = liveComObjects();
    const created: object[] = [];
    const registration = registerClassObject(CLSID, { create: () => new Adder(), interfaces: [ICalculator], onCreate: (o) => created.push(o) });
    const calc = await createInstance<Calculator>(CLSID, ICalculator);
    assert.is(calc.Add(2, 3), 5);
    using calc2 = createInstanceSync<Calculator>(CLSID.toString(), ICalculator);
    assert.is(calc2.Add(1, 1), 2);
    assert.is(created.length, 2, 'one object per activation (REGCLS_MULTIPLEUSE)');
    calc.dispose();
    registration.revoke();
    registration.revoke();
    calc2.dispose();
    assert.is(liveComObjects(), before, 'factory and objects released');
  });

  test('an unregistered, revoked or suspended class is REGDB_E_CLASSNOTREG', async () => {
    await createInstance(CLSID, ICalculator).then(() => assert.unreachable(), (e: ComError) => assert.is(e.hresult, REGDB_E_CLASSNOTREG));
    using registration = registerClassObject(CLSID, { create: () => new Adder(), interfaces: [ICalculator] }, { flags: REGCLS_MULTIPLEUSE | REGCLS_SUSPENDED });
    try {
      createInstanceSync(CLSID, ICalculator);
      assert.unreachable();
    } catch (error) {
      assert.is((error as ComError).hresult, REGDB_E_CLASSNOTREG);
      assert.match((error as ComError).message, /suspended until resumeClassObjects/);
    }
    resumeClassObjects();
    using calc = createInstanceSync<Calculator>(CLSID, ICalculator);
    assert.is(calc.Add(20, 22), 42);
    assert.ok(registration.clsid.equals(CLSID));
  });

  test('registering the same CLSID twice is CO_E_OBJISREG', () => {
    using first = registerClassObject(CLSID, { create: () => new Adder(), interfaces: [ICalculator] });
    assert.throws(() => registerClassObject(CLSID, { create: () => new Adder(), interfaces: [ICalculator] }), (e: unknown) => e instanceof ComError && e.hresult === CO_E_OBJISREG);
    assert.ok(first.clsid.equals(CLSID));
  });
}

test.run();
