// Code compiled at run time for one shape (a method's arguments, a struct's fields): straight-line
// JS that V8 optimizes for that shape alone, where a loop over a description would pay for the
// description on every call. The text is made by winbg alone: names it chooses (a0, v1…), numbers,
// and names from definitions only as JSON string literals (JSON.stringify, which JS parses as the
// same string), never as code; the one exception is a caller's function name, `call_` and a
// method's name with every character but [A-Za-z0-9_$] replaced (pointer.ts, methodCaller). Where
// the runtime forbids compiling code (Node's --disallow-code-generation-from-strings, a content
// security policy: both throw EvalError), `compile` returns null and the caller keeps its general
// path, which does the same work. Any other error is winbg's own text at fault, and is thrown.

let enabled = true;

// Every text is made unique by a serial number in a comment at its end. V8 caches what
// `new Function` compiles by its text, and the functions made from a cached text share their type
// feedback (all but the first, which compiled it): the callers compiled for GetInt32 of twelve
// interfaces, or the members of every projected class, had one feedback between them, and their
// reads of the state, written to see one class, went megamorphic (seen with --log-ic; six
// functions from one text reading `o[S]` of six shapes: the five that shared went 1, P, P, P, N,
// against monomorphic sites with a serial each).
let serial = 0;

/** @internal Tests: whether code is compiled (false: every caller takes its general path). */
export function setCompiling(on: boolean): void {
  enabled = on;
}

/** `new Function(...names, body)(...values)`, or null where compiling is off or refused. */
export function compile<T>(names: readonly string[], body: string, values: readonly unknown[]): T | null {
  if (!enabled) return null;
  try {
    // eslint-disable-next-line no-new-func -- the text is winbg's own, see above
    return new Function(...names, `${body}\n// winbg #${++serial}`)(...values) as T;
  } catch (error) {
    if (error instanceof EvalError) return null; // code generation refused
    throw error;
  }
}

/**
 * {@link compile} of a class expression `classText`, named `name` by the literal key it is made
 * under (ECMA-262 §13.2.5.5, PropertyDefinitionEvaluation: an anonymous class defined as a
 * property takes the key as its name), so that the name comes with the class; null as `compile`
 * gives it, and for the name `__proto__`, which as a literal key sets the object literal's
 * prototype instead. Named afterwards (defineProperty, or a computed key, which V8 sets at run
 * time), a class function got a map V8's optimizing compiler depended on, and the callers that
 * inlined `new` of it (a method caller making its result's ComPtr, wrapState making a projected
 * object) had their optimization aborted again and again ("StableMapDependency", with
 * --trace-compilation-dependencies): First().dispose() through the projection ran at about 400 ns
 * in most processes, and at 280-313 in all of eight since (bench.mjs, projectedCall). The callers'
 * general paths, where this gives null, use a computed key: that slower case.
 */
export function compileClass<T>(name: string, names: readonly string[], classText: string, values: readonly unknown[]): T | null {
  if (name === '__proto__') return null;
  const key = JSON.stringify(name);
  return compile<T>(names, `'use strict';\nreturn { ${key}: ${classText} }[${key}];`, values);
}
