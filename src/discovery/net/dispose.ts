/**
 * Makes `Symbol.asyncDispose` (for `await using`) exist before a class uses it as a method key. Node defines
 * it from 20.4 under the registry key `nodejs.asyncDispose`; earlier 20.x releases get the same symbol here,
 * which is also the one TypeScript's downlevel `await using` helper looks up.
 */
const symbols = Symbol as unknown as { asyncDispose?: symbol };
if (symbols.asyncDispose === undefined) {
  Object.defineProperty(Symbol, 'asyncDispose', { value: Symbol.for('nodejs.asyncDispose') });
}
