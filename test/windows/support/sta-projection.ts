// A process whose JS thread is made a single-threaded apartment before winbg is loaded, as
// Electron's main process is, then uses the projection against WinRT classes Wine implements:
// statics, a collection, an asynchronous operation awaited, a JS delegate called from a pool
// thread. What happened goes to a JSON file (argv[2]): a Windows process's stdout may be a pipe
// that node.exe under Wine cannot write to.
import { writeFileSync } from 'node:fs';
import koffi from 'koffi';

const resultFile = process.argv[2]!;
const result: Record<string, unknown> = {};
try {
  const CoInitializeEx = koffi.load('ole32.dll').func('int32 __stdcall CoInitializeEx(void *reserved, uint32 flags)');
  result.sta = CoInitializeEx(null, 0x2) as number; // COINIT_APARTMENTTHREADED
  const { Windows_System_Threading: Threading, Windows_System_UserProfile: UserProfile, Windows_Media_SpeechSynthesis: Speech } = await import('../../../lib/generated/index.js');
  result.languages = [...UserProfile.GlobalizationPreferences.Languages].length;
  const synthesizer = Speech.SpeechSynthesizer.create();
  const stream = await synthesizer.SynthesizeSsmlToStreamAsync('<speak>hello</speak>');
  result.stream = stream.winrtType;
  stream.dispose();
  synthesizer.dispose();
  // The timer also keeps the event loop alive: a delegate's call reaches JS through koffi's
  // queue, which does not.
  result.workItem = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the work item did not run in 10 s')), 10_000);
    Threading.ThreadPool.RunAsync(() => {
      clearTimeout(timer);
      resolve('ran');
    });
  });
  const { serve, defineBackgroundTask } = await import('../../../lib/tasks/index.js');
  try {
    serve(defineBackgroundTask({ clsid: crypto.randomUUID(), run() {} }), { inProcess: true });
    result.serve = 'accepted';
  } catch (error) {
    result.serve = String(error);
  }
} catch (error) {
  result.error = String(error);
}
writeFileSync(resultFile, JSON.stringify(result));
process.exit(0);
