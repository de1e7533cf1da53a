import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Runs one full garbage collection now. Opening the embedded database leaves hundreds of MB of
 * garbage outside the JavaScript heap (PGlite's initdb instance, its file-system bundle, the
 * WebAssembly module bytes), and a node at rest allocates too little for V8 to ever collect it:
 * measured, the primary stayed at 895 MiB RSS until something forced a collection. Called once,
 * after start-up; a full collection of a small heap takes a few milliseconds.
 */
export async function releaseStartupGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  if (!gc) return;
  // WebAssembly memories and array buffers are freed by finalizers that run after a collection,
  // so a few rounds with a turn of the event loop between them.
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
