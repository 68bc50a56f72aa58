// A promise with its settling functions, as ES2024's Promise.withResolvers
// (which Node 20 does not have, so it is not offered to handlers).
export function withResolvers() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
