// ctx.shared: the broker's shared store, seen by every connection and every
// handler. Values are anything JSON can hold and are stored as JSON text, so
// `redis-cli -s <run-dir>/store.sock GET key` shows them. A missing key reads
// as undefined. Subscriptions deliver parsed messages to callbacks, each run in
// the context of the code that subscribed.
import { native } from "./native.js";
import { callInContext, currentContext } from "./async_context.js";
import { ERR_INVALID_ARG_TYPE, makeNativeError } from "./errors.js";

const subscriptions = new Map();  // channel → Map(callback → context)
const confirmations = new Map();  // channel → resolvers waiting for the store's "subscribe"
let storeFailure = null;

function checkName(value, name) {
  if (typeof value !== "string") throw ERR_INVALID_ARG_TYPE(name, ["string"], value);
}

function toJson(value, what) {
  const text = JSON.stringify(value);
  if (text === undefined) {
    throw new TypeError(`ctx.shared: ${what} must be a value JSON can hold (got ${typeof value})`);
  }
  return text;
}

// The store's promise itself, not one wrapped by an async function (which
// would cost extra jobs per await); called only from async functions, so the
// throw still reaches the handler as a rejection. While the store cannot
// answer (restarting, or its Redis/Valkey backend down) every call rejects
// with err.code === "ERR_STORE_UNAVAILABLE".
function command(args) {
  if (storeFailure !== null) {
    throw makeNativeError(Error, "ERR_STORE_UNAVAILABLE", `ctx.shared: the shared store is unavailable (${storeFailure})`);
  }
  return native.storeCommand(args);
}

export const shared = Object.freeze({
  async get(key) {
    checkName(key, "key");
    const text = await command(["GET", key]);
    return text === null ? undefined : JSON.parse(text);
  },
  async set(key, value) {
    checkName(key, "key");
    await command(["SET", key, toJson(value, "a value")]);
  },
  // Resolves to whether the key existed, like Map.prototype.delete.
  async delete(key) {
    checkName(key, "key");
    return (await command(["DEL", key])) > 0;
  },
  // Resolves to the number of subscribers that received the message.
  async publish(channel, message) {
    checkName(channel, "channel");
    return await command(["PUBLISH", channel, toJson(message, "a message")]);
  },
  // Returns the unsubscribe function at once; its `ready` promise resolves
  // when the store confirmed the subscription (messages published after that
  // are certain to arrive).
  subscribe(channel, callback) {
    checkName(channel, "channel");
    if (typeof callback !== "function") throw ERR_INVALID_ARG_TYPE("callback", ["function"], callback);
    let callbacks = subscriptions.get(channel);
    let ready;
    if (callbacks === undefined) {
      callbacks = new Map();
      subscriptions.set(channel, callbacks);
      ready = new Promise((resolve, reject) => {
        const waiting = confirmations.get(channel) ?? [];
        waiting.push({ resolve, reject });
        confirmations.set(channel, waiting);
      });
      if (storeFailure !== null || !native.storeSubscribe(channel)) {
        failConfirmations(storeFailure ?? "the shared store is unavailable");
      }
    } else {
      ready = confirmedChannels.has(channel) ? Promise.resolve() : waitForConfirmation(channel);
    }
    // A rejected `ready` nobody awaits is not an error of the handler's.
    ready.catch(() => {});
    // Subscribing the same function twice delivers once, as with addEventListener.
    callbacks.set(callback, currentContext());
    let active = true;
    unsubscribe.ready = ready;
    return unsubscribe;
    function unsubscribe() {
      if (!active) return;
      active = false;
      const current = subscriptions.get(channel);
      if (current === undefined) return;
      current.delete(callback);
      if (current.size === 0) {
        subscriptions.delete(channel);
        confirmedChannels.delete(channel);
        native.storeUnsubscribe(channel);
      }
    }
  },
});

const confirmedChannels = new Set();

function waitForConfirmation(channel) {
  return new Promise((resolve, reject) => {
    const waiting = confirmations.get(channel) ?? [];
    waiting.push({ resolve, reject });
    confirmations.set(channel, waiting);
  });
}

function failConfirmations(reason) {
  for (const waiting of confirmations.values()) {
    for (const { reject } of waiting) reject(new Error(`ctx.shared: subscribe failed (${reason})`));
  }
  confirmations.clear();
}

export function onStoreMessage(kind, channel, text) {
  if (kind === "refused") {
    // The store refused the subscription (a cap, its memory): every caller
    // waiting on it hears why, and no callback stays behind for messages that
    // will never come. Subscribing again tries again.
    subscriptions.delete(channel);
    confirmedChannels.delete(channel);
    const waiting = confirmations.get(channel);
    confirmations.delete(channel);
    for (const { reject } of waiting ?? []) reject(new Error(`ctx.shared: subscribe failed (${text})`));
    return;
  }
  if (kind === "subscribe") {
    if (subscriptions.has(channel)) confirmedChannels.add(channel);
    const waiting = confirmations.get(channel);
    confirmations.delete(channel);
    for (const { resolve } of waiting ?? []) resolve();
    return;
  }
  if (kind !== "message") return;
  const callbacks = subscriptions.get(channel);
  if (callbacks === undefined) return;
  const message = JSON.parse(text);
  for (const [callback, context] of [...callbacks]) callInContext(context, callback, undefined, [message, channel]);
}

export function storeFailed(reason) {
  storeFailure = reason;
  confirmedChannels.clear();
  failConfirmations(reason);
}

// The store restarted (empty: it keeps no data across restarts). Commands
// work again, and every channel with subscribers is subscribed anew; messages
// published while it was gone are lost, as with any pub/sub outage.
export function storeRestored() {
  storeFailure = null;
  for (const channel of subscriptions.keys()) native.storeSubscribe(channel);
}
