// Type declarations for portbroker handler modules.
//
// A handler file (`<name>.tcp.<port>.port.js` or `<name>.udp.<port>.port.js`)
// is an ES module. Reference this file from a handler to get completion and
// checking in editors:
//
//   /// <reference path="/usr/share/portbroker/types/portbroker.d.ts" />
//   /** @type {import("portbroker").TcpHandler} */
//   export function handle(conn, ctx) { conn.write("hello\n"); }
//
// or, in TypeScript checked JavaScript (`// @ts-check`), annotate with
// `@param {import("portbroker").Connection} conn`. The runtime API is described
// in docs/handlers.md (portbroker-handlers(7)); the manifest in docs/manifest.md.
// The globals handlers use (`Buffer`, timers, `AbortController`) come from
// @types/node when a project has it, otherwise from portbroker-globals.d.ts.

declare module "portbroker" {
  /** A CIDR block ("10.0.0.0/8", "2001:db8::/32") or a bare address (a /32 or /128). */
  export type Cidr = string;

  /** The access manifest, `<name>.<proto>.<port>.port.json`. Unknown fields are errors. */
  export interface Manifest {
    /** If present, only these sources may connect or send. */
    allow?: Cidr[];
    /** These sources are refused; evaluated after `allow`, wins on overlap. */
    deny?: Cidr[];
    /** TCP only: concurrent connections held for the handler (1-1000000). */
    maxConnections?: number;
    /** TCP only: concurrent connections per source (1-1000000). */
    maxConnectionsPerIp?: number;
    /** New TCP connections or UDP datagrams per source per window (seconds). */
    rateLimit?: { perIp: number; window: number };
    /** Seconds without traffic after which a TCP connection is closed (UDP: the session is forgotten). */
    idleTimeout?: number;
    /** TCP only: TLS termination (docs/manifest.md#tls). */
    tls?: {
      enabled: boolean;
      cert?: string;
      key?: string;
      certs?: { cert: string; key: string }[];
      names?: string[];
      minVersion?: "1.2" | "1.3";
      alpn?: string[];
      clientCa?: string;
      clientAuth?: "required" | "optional";
      handshakeTimeout?: number;
    };
    /**
     * TCP only: connections from `trusted` load balancers start with a PROXY
     * protocol header (v1 or v2) naming the client, which is then screened and
     * shown in their place (docs/manifest.md#proxy-protocol).
     */
    proxyProtocol?: {
      /** The balancers (1-256 CIDRs): a header is believed from these only, and they must send one. */
      trusted: Cidr[];
      /** Serve other sources as direct clients, under their own address (default false: refuse them). */
      allowDirect?: boolean;
      /** Seconds a trusted connection may take to send its header (default 3, at most 60). */
      headerTimeout?: number;
    };
  }

  /**
   * The module's optional `access` export: the manifest's fields except
   * `tls` and `proxyProtocol`. It can only tighten the manifest; the
   * supervisor enforces it.
   */
  export type Access = Omit<Manifest, "tls" | "proxyProtocol">;

  /** `conn.proxy`: what a trusted balancer's PROXY protocol header said. */
  export interface ProxyInfo {
    readonly version: 1 | 2;
    /** The trusted balancer the connection came through (its socket's peer). */
    readonly balancerAddress: string;
    readonly balancerPort: number;
    readonly balancerFamily: "IPv4" | "IPv6";
    /** Where the client connected, as declared; absent when the header named no addresses. */
    readonly destinationAddress?: string;
    readonly destinationPort?: number;
    readonly destinationFamily?: "IPv4" | "IPv6";
    /** v2 PP2_TYPE_AUTHORITY: the host name the client asked for (SNI). */
    readonly authority?: string;
    /** v2 PP2_TYPE_ALPN: the application protocol negotiated with the client. */
    readonly alpn?: string;
    /** v2 PP2_TYPE_UNIQUE_ID: the balancer's opaque connection ID (up to 128 bytes). */
    readonly uniqueId?: Buffer;
    /** v2 PP2_TYPE_SSL, when the client spoke TLS to the balancer. */
    readonly ssl?: {
      readonly version?: string;
      /** Common name of the client certificate. */
      readonly cn?: string;
      readonly clientCertificate: boolean;
      readonly verified: boolean;
    };
  }

  type Encoding = "utf8" | "utf-8" | "hex" | "base64" | "base64url" | "latin1" | "binary" | "ascii" | "utf16le";
  type Chunk = string | Uint8Array | ArrayBufferView;

  /** Node's `Buffer`: a `Uint8Array` with encodings (declared here so that no @types/node is needed). */
  export interface Buffer extends Uint8Array {
    toString(encoding?: Encoding, start?: number, end?: number): string;
    equals(other: Uint8Array): boolean;
    toJSON(): { type: "Buffer"; data: number[] };
  }

  /** `ctx.signal`: behaves like Node's `AbortSignal`. */
  export interface AbortSignal {
    readonly aborted: boolean;
    readonly reason: unknown;
    onabort: ((event: { type: "abort" }) => void) | null;
    throwIfAborted(): void;
    addEventListener(type: "abort", listener: (event: { type: "abort" }) => void, options?: { once?: boolean }): void;
    removeEventListener(type: "abort", listener: (event: { type: "abort" }) => void): void;
  }

  /** JSON-representable values: what `ctx.shared` stores. */
  export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

  /**
   * The shared store, common to every handler of the broker (and, with a
   * Redis/Valkey backend, of every broker sharing it). While the store
   * cannot answer, calls reject with an Error whose `code` is
   * `"ERR_STORE_UNAVAILABLE"`.
   */
  export interface SharedStore {
    /** The value, or `undefined` if the key is missing. */
    get<T extends Json = Json>(key: string): Promise<T | undefined>;
    /** Stores `value` (as JSON text); a value JSON cannot hold is a TypeError. */
    set(key: string, value: Json): Promise<void>;
    /** `true` if the key existed. */
    delete(key: string): Promise<boolean>;
    /** How many subscribed handlers received `message`. */
    publish(channel: string, message: Json): Promise<number>;
    /** Calls `callback` for each message on `channel`; returns the unsubscribe function. */
    subscribe(channel: string, callback: (message: Json, channel: string) => void): Unsubscribe;
  }

  export interface Unsubscribe {
    (): void;
    /** Resolves once the store confirmed the subscription. */
    readonly ready: Promise<void>;
  }

  interface ContextBase {
    /** The `<name>` part of the file name. */
    readonly name: string;
    readonly port: number;
    readonly shared: SharedStore;
    /** Aborted when this version retires: reloaded, removed, or the broker stops. */
    readonly signal: AbortSignal;
  }

  export interface TcpContext extends ContextBase {
    readonly protocol: "tcp";
  }

  export interface UdpContext extends ContextBase {
    readonly protocol: "udp";
    /** Sends `data` to the source in `rinfo`, from the handler's port. */
    reply(data: string | Uint8Array | ArrayBufferView, rinfo: RemoteInfo): void;
  }

  export type Context = TcpContext | UdpContext;

  /** Where a datagram came from. An IPv4 source appears as plain IPv4 (`127.0.0.1`, family `IPv4`). */
  export interface RemoteInfo {
    address: string;
    family: "IPv4" | "IPv6";
    port: number;
    size: number;
  }

  /** Negotiated TLS parameters, on connections to a handler whose manifest enables TLS. */
  export interface TlsInfo {
    protocol: string;
    cipher: string;
    servername: string | null;
    alpnProtocol: string | null;
    /** A client certificate was presented and verified against the manifest's clientCa. */
    authorized: boolean;
    peerCertificate: { subject: string; issuer: string; fingerprint256: string } | null;
  }

  /** The accepted connection: behaves like Node's `net.Socket`. */
  export interface Connection extends AsyncIterable<Buffer | string> {
    write(data: Chunk, callback?: (error?: Error | null) => void): boolean;
    write(data: Chunk, encoding?: Encoding, callback?: (error?: Error | null) => void): boolean;
    end(callback?: () => void): this;
    end(data: Chunk, callback?: () => void): this;
    end(data: Chunk, encoding?: Encoding, callback?: () => void): this;
    destroy(error?: Error): this;
    destroySoon(): void;
    setEncoding(encoding: Encoding): this;
    pause(): this;
    resume(): this;
    isPaused(): boolean;
    read(size?: number): Buffer | string | null;
    pipe<T extends { write(chunk: any): any; end(): any }>(destination: T, options?: { end?: boolean }): T;
    setNoDelay(noDelay?: boolean): this;
    setKeepAlive(enable?: boolean, initialDelay?: number): this;
    setTimeout(timeout: number, callback?: () => void): this;
    cork(): void;
    uncork(): void;
    address(): { address: string; family: string; port: number } | {};

    on(event: "data", listener: (chunk: Buffer | string) => void): this;
    on(event: "end" | "finish" | "drain" | "timeout" | "readable" | "pause" | "resume", listener: () => void): this;
    on(event: "close", listener: (hadError: boolean) => void): this;
    on(event: "error", listener: (error: Error) => void): this;
    once(event: string, listener: (...args: any[]) => void): this;
    off(event: string, listener: (...args: any[]) => void): this;
    addListener(event: string, listener: (...args: any[]) => void): this;
    removeListener(event: string, listener: (...args: any[]) => void): this;
    removeAllListeners(event?: string): this;
    emit(event: string, ...args: any[]): boolean;
    listenerCount(event: string): number;

    readonly destroyed: boolean;
    readonly remoteAddress: string;
    readonly remotePort: number;
    readonly remoteFamily: "IPv4" | "IPv6";
    /** Read from the socket when first asked; undefined after a close if never read before (as in Node). */
    readonly localAddress?: string;
    readonly localPort?: number;
    readonly localFamily?: "IPv4" | "IPv6";
    readonly bytesRead: number;
    readonly bytesWritten: number;
    readonly readyState: "open" | "readOnly" | "writeOnly" | "closed";
    readonly readable: boolean;
    readonly writable: boolean;
    readonly readableEnded: boolean;
    readonly writableEnded: boolean;
    readonly writableFinished: boolean;
    readonly writableLength: number;
    readonly writableNeedDrain: boolean;
    readonly readableLength: number;
    readonly readableFlowing: boolean | null;
    /** Present when a trusted balancer relayed the connection (manifest `proxyProtocol`). */
    readonly proxy?: ProxyInfo;
    /** Present when the manifest enables TLS. */
    readonly tls?: TlsInfo;
    readonly encrypted?: true;
    readonly authorized?: boolean;
    readonly alpnProtocol?: string | false;
    readonly servername?: string | false;
  }

  /** The exports of a TCP handler module. */
  export interface TcpHandlerModule {
    handle(conn: Connection, ctx: TcpContext): void | Promise<void>;
    open?(ctx: TcpContext): void | Promise<void>;
    close?(ctx: TcpContext): void | Promise<void>;
    access?: Access;
  }

  /** The exports of a UDP handler module. */
  export interface UdpHandlerModule {
    message(msg: Buffer, rinfo: RemoteInfo, ctx: UdpContext): void | Promise<void>;
    open?(ctx: UdpContext): void | Promise<void>;
    close?(ctx: UdpContext): void | Promise<void>;
    access?: Access;
  }

  export type TcpHandler = TcpHandlerModule["handle"];
  export type UdpHandler = UdpHandlerModule["message"];
}
