// The projection against WinRT classes that Wine implements (no code of ours on the other side):
// statics, properties, IVectorView<String>, async operations awaited as promises, a JS delegate
// called from a Wine pool thread, and the clear error for classes Wine lacks.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import '../../lib/generated/index.js';
import { ComError, E_NOTIMPL, initializeCom, REGDB_E_CLASSNOTREG } from '../../lib/com/index.js';
import {
  Windows_ApplicationModel_Background as Background,
  Windows_Foundation_Metadata as Metadata,
  Windows_Media_SpeechSynthesis as Speech,
  Windows_System_Threading as Threading,
  Windows_System_UserProfile as UserProfile,
} from '../../lib/generated/index.js';
import { WinRTObject } from '../../lib/winrt/index.js';

const test = suite('WinRT classes of Wine');
test.before(() => {
  initializeCom('mta');
});

test('ApiInformation statics: an overloaded static method by ABI name and by metadata name', () => {
  const byAbi = Metadata.ApiInformation.IsApiContractPresentByMajor('Windows.Foundation.UniversalApiContract', 1);
  assert.type(byAbi, 'boolean');
  assert.is(Metadata.ApiInformation.IsApiContractPresent('Windows.Foundation.UniversalApiContract', 1), byAbi, 'the metadata name picks the overload by arity');
  assert.throws(() => (Metadata.ApiInformation.IsApiContractPresent as (...a: unknown[]) => unknown)('x'), /takes 2 or 3 arguments, got 1/);
});

test('a method Wine stubs reaches Wine and comes back as a ComError naming the method', () => {
  try {
    Metadata.ApiInformation.IsTypePresent('Windows.Foundation.Uri');
    assert.unreachable('Wine 8 does not implement IsTypePresent');
  } catch (error) {
    assert.instance(error, ComError);
    assert.is((error as ComError).hresult, E_NOTIMPL);
    assert.match((error as ComError).message, /IApiInformationStatics\.IsTypePresent/);
  }
});

test('GlobalizationPreferences.Languages: an IVectorView<String> as a JS iterable', () => {
  const languages = UserProfile.GlobalizationPreferences.Languages;
  assert.instance(languages, WinRTObject);
  const list = [...languages];
  assert.ok(list.length > 0);
  assert.is(languages.length, list.length);
  assert.ok(list.every((l) => typeof l === 'string' && /^[a-z]{2,3}(-[A-Za-z0-9]+)*$/.test(l)), `languages: ${JSON.stringify(list)}`);
  assert.equal(languages.toArray(), list);
  assert.is(languages.at(0), list[0]);
  assert.is(languages.at(list.length), undefined);
  assert.type(UserProfile.GlobalizationPreferences.HomeGeographicRegion, 'string');
});

test('SpeechSynthesizer: activation, a static IVectorView of voices, an IAsyncOperation awaited', async () => {
  const voices = Speech.SpeechSynthesizer.AllVoices;
  assert.ok(Array.isArray(voices.toArray()));
  const synthesizer = Speech.SpeechSynthesizer.create();
  assert.is(synthesizer.winrtType, 'Windows.Media.SpeechSynthesis.SpeechSynthesizer');
  const stream = await synthesizer.SynthesizeSsmlToStreamAsync('<speak>hello</speak>');
  assert.instance(stream, WinRTObject);
  assert.is(stream.winrtType, 'Windows.Media.SpeechSynthesis.SpeechSynthesisStream');
  stream.dispose();
  synthesizer.dispose();
});

test('ThreadPool.RunAsync: a JS WorkItemHandler runs, called from a Wine pool thread', async () => {
  // Wrapped: the operation is itself awaitable, and resolve() would await it.
  const ran = new Promise<{ operation: unknown }>((resolve) => {
    const action = Threading.ThreadPool.RunAsync((operation) => resolve({ operation }));
    assert.instance(action, WinRTObject);
  });
  const { operation } = await Promise.race([ran, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the work item did not run in 10 s')), 10_000))]);
  assert.instance(operation, WinRTObject, 'the handler receives the IAsyncAction, projected');
  assert.is((operation as WinRTObject).winrtType, 'Windows.Foundation.IAsyncAction');
});

test("awaiting Wine's ThreadPool IAsyncAction rejects with Wine's E_NOTIMPL (its Completed is a stub)", async () => {
  const action = Threading.ThreadPool.RunAsync(() => {});
  try {
    await action;
    assert.unreachable();
  } catch (error) {
    assert.instance(error, ComError);
    assert.is((error as ComError).hresult, E_NOTIMPL);
    assert.match((error as ComError).message, /IAsyncAction\.put_Completed/);
  }
});

test('a Background class Wine lacks: REGDB_E_CLASSNOTREG with the class name', () => {
  try {
    Background.BackgroundTaskBuilder.create();
    assert.unreachable();
  } catch (error) {
    assert.instance(error, ComError);
    assert.is((error as ComError).hresult, REGDB_E_CLASSNOTREG);
    assert.match((error as ComError).message, /Windows\.ApplicationModel\.Background\.BackgroundTaskBuilder is not registered/);
  }
  assert.throws(() => Background.BackgroundExecutionManager.GetAccessStatus(), (e: unknown) => e instanceof ComError && e.hresult === REGDB_E_CLASSNOTREG);
});

test.run();
