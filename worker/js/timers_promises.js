// timers/promises: promise versions of the timers, with AbortSignal support.
import { setTimeout as startTimeout, setImmediate as startImmediate, clearTimeout, clearImmediate,
  setInterval as startInterval, clearInterval } from "./timers.js";
import { AbortError } from "./errors.js";

// As Node: its AbortError (an Error with code ABORT_ERR), the signal's reason as `cause`.
function abortError(signal) {
  return new AbortError(undefined, { cause: signal.reason });
}

function delayed(start, clear, delay, value, options = {}) {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clear(handle);
      reject(abortError(signal));
    };
    const handle = start(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(value);
    }, delay);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function setTimeout(delay, value, options) {
  return delayed((fn, ms) => startTimeout(fn, ms), clearTimeout, delay, value, options);
}

export function setImmediate(value, options) {
  return delayed((fn) => startImmediate(fn), clearImmediate, 0, value, options);
}

export async function* setInterval(delay, value, options = {}) {
  const { signal } = options;
  if (signal?.aborted) throw abortError(signal);
  let pending = 0;
  let wake = null;
  const handle = startInterval(() => {
    pending++;
    if (wake) {
      wake();
      wake = null;
    }
  }, delay);
  let onAbort;
  const aborted = new Promise((_, reject) => {
    onAbort = () => reject(abortError(signal));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    for (;;) {
      if (pending === 0) await Promise.race([new Promise((resolve) => { wake = resolve; }), aborted]);
      if (pending > 0) {
        pending--;
        yield value;
      }
    }
  } finally {
    clearInterval(handle);
    signal?.removeEventListener("abort", onAbort);
  }
}

export const scheduler = {
  wait: (delay, options) => setTimeout(delay, undefined, options),
  yield: () => setImmediate(),
};
