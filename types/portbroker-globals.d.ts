// The Node-like globals portbroker's runtime provides, for editors of handler
// code in projects without @types/node (which declares the same names; use
// one or the other). Reference it beside portbroker.d.ts:
//
//   /// <reference path="/usr/share/portbroker/types/portbroker-globals.d.ts" />

/// <reference path="./portbroker.d.ts" />

type PortbrokerBufferEncoding = "utf8" | "utf-8" | "hex" | "base64" | "base64url" | "latin1" | "binary" | "ascii" | "utf16le";

declare var Buffer: {
  from(data: string, encoding?: PortbrokerBufferEncoding): import("portbroker").Buffer;
  from(data: ArrayLike<number> | ArrayBuffer | ArrayBufferView): import("portbroker").Buffer;
  alloc(size: number, fill?: number | string): import("portbroker").Buffer;
  allocUnsafe(size: number): import("portbroker").Buffer;
  concat(list: readonly Uint8Array[], totalLength?: number): import("portbroker").Buffer;
  byteLength(data: string | ArrayBufferView | ArrayBuffer, encoding?: PortbrokerBufferEncoding): number;
  isBuffer(value: unknown): value is import("portbroker").Buffer;
  compare(a: Uint8Array, b: Uint8Array): -1 | 0 | 1;
};

declare function setTimeout(callback: (...args: any[]) => void, ms?: number, ...args: any[]): unknown;
declare function clearTimeout(timer: unknown): void;
declare function setInterval(callback: (...args: any[]) => void, ms?: number, ...args: any[]): unknown;
declare function clearInterval(timer: unknown): void;
declare function setImmediate(callback: (...args: any[]) => void, ...args: any[]): unknown;
declare function clearImmediate(immediate: unknown): void;
declare function queueMicrotask(callback: () => void): void;
declare function structuredClone<T>(value: T, options?: { transfer?: readonly ArrayBuffer[] }): T;

declare var console: {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  debug(...data: unknown[]): void;
};

declare class AbortController {
  readonly signal: import("portbroker").AbortSignal;
  abort(reason?: unknown): void;
}

declare class TextEncoder {
  encode(input?: string): Uint8Array;
}

declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: ArrayBufferView | ArrayBuffer, options?: { stream?: boolean }): string;
}
