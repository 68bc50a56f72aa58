// Parity scenario: timers, immediates, microtasks and their interleaving.
// handle() runs in an I/O callback (a new connection), as in Node, which makes
// the orderings below deterministic. Writes a transcript that must be
// byte-identical under Node and under portbroker.
export function handle(conn, ctx) {
  void ctx;
  const lines = [];
  const log = (text) => lines.push(text);
  const steps = [];
  const step = (fn) => steps.push(fn);
  const next = () => {
    const fn = steps.shift();
    if (fn) fn();
    else finish();
  };
  const finish = () => {
    conn.write(`${lines.join("\n")}\n`);
    conn.end();
  };

  // 1. From an I/O callback: microtasks, then the immediate, then the timer.
  step(() => {
    setTimeout(() => {
      log("1 timeout 0");
      next();
    }, 0);
    setImmediate(() => log("1 immediate"));
    Promise.resolve().then(() => log("1 promise"));
    queueMicrotask(() => log("1 queueMicrotask"));
    log("1 sync");
  });

  // 2. Timers fire by delay, then by creation order; promise jobs run
  //    between two timer callbacks.
  step(() => {
    setTimeout(() => log("2 timeout 40"), 40);
    setTimeout(() => {
      log("2 timeout 15 a");
      Promise.resolve().then(() => log("2 promise after a"));
      queueMicrotask(() => log("2 microtask after a"));
    }, 15);
    setTimeout(() => log("2 timeout 15 b"), 15);
    setTimeout(() => log("2 timeout 1"), 1);
    setTimeout(() => {
      log("2 timeout 60");
      next();
    }, 60);
  });

  // 3. Inside a timer callback an immediate runs before a new 0 ms timer.
  step(() => {
    setTimeout(() => {
      setTimeout(() => {
        log("3 inner timeout");
        next();
      }, 0);
      setImmediate(() => log("3 inner immediate"));
      log("3 outer timeout");
    }, 2);
  });

  // 4. Immediates queued by immediates wait for the next loop iteration;
  //    promise jobs run between immediates.
  step(() => {
    setImmediate(() => {
      log("4 immediate A");
      setImmediate(() => {
        log("4 immediate C (queued by A)");
        next();
      });
      Promise.resolve().then(() => log("4 promise from A"));
    });
    setImmediate((x, y) => log(`4 immediate B args ${x} ${y}`), "x", "y");
    const cancelled = setImmediate(() => log("4 never"));
    clearImmediate(cancelled);
  });

  // 5. Intervals, arguments, clearing, refresh and the Timeout object.
  step(() => {
    let count = 0;
    const interval = setInterval((tag) => {
      count++;
      log(`5 interval ${tag} ${count}`);
      if (count === 3) {
        clearInterval(interval);
        setTimeout(() => next(), 15);
      }
    }, 25, "tick");
    const cleared = setTimeout(() => log("5 never"), 1);
    clearTimeout(cleared);
    setTimeout((a, b) => log(`5 timeout args ${a} ${b}`), 1, "a", 2);
    const timer = setTimeout(() => log("5 refreshed timer"), 5);
    log(`5 timer api ${typeof timer.ref} ${typeof timer.unref} ${timer.hasRef()} ${typeof timer.refresh}`);
    timer.unref();
    log(`5 after unref ${timer.hasRef()}`);
    timer.ref();
    timer.refresh();
    log(`5 toPrimitive ${typeof +timer}`);
    const byId = setTimeout(() => log("5 never by id"), 2);
    clearTimeout(+byId);
    const nullTimer = setTimeout(() => log("5 delay coerced"), -10);
    void nullTimer;
  });

  // 6. Errors for bad callbacks.
  step(() => {
    for (const fn of [() => setTimeout("code", 1), () => setInterval(null), () => setImmediate(5)]) {
      try {
        fn();
      } catch (error) {
        log(`6 ${error.name} ${error.code} ${error.message}`);
      }
    }
    setTimeout(next, 0);
  });

  // 7. Async functions and awaits interleave with timers as in Node.
  step(async () => {
    const order = [];
    const wait = (ms, tag) => new Promise((resolve) => setTimeout(() => {
      order.push(tag);
      resolve();
    }, ms));
    await Promise.all([wait(50, "slow"), wait(5, "fast"), wait(25, "medium")]);
    log(`7 ${order.join(" ")}`);
    await null;
    log("7 after await");
    next();
  });

  next();
}
