// The part of Node's API a TypeScript solution may use, as types (the harness gives the
// learner's module these globals and Node's own modules; see docs/architecture.md,
// "Languages"). A curated subset instead of @types/node: challenges work on JSON values,
// and a compile must stay fast (all of @types/node doubles the compile's cost).

type BufferEncoding =
  | "ascii" | "utf8" | "utf-8" | "utf16le" | "ucs2" | "ucs-2" | "base64" | "base64url"
  | "latin1" | "binary" | "hex";

interface Buffer extends Uint8Array<ArrayBuffer> {
  toString(encoding?: BufferEncoding, start?: number, end?: number): string;
  equals(other: Uint8Array): boolean;
  compare(other: Uint8Array): number;
  subarray(start?: number, end?: number): Buffer;
  slice(start?: number, end?: number): Buffer;
  readUInt32BE(offset?: number): number;
  writeUInt32BE(value: number, offset?: number): number;
  toJSON(): { type: "Buffer"; data: number[] };
}

interface BufferConstructor {
  from(text: string, encoding?: BufferEncoding): Buffer;
  from(data: Uint8Array | readonly number[] | ArrayBuffer): Buffer;
  alloc(size: number, fill?: string | number, encoding?: BufferEncoding): Buffer;
  byteLength(text: string | Uint8Array, encoding?: BufferEncoding): number;
  concat(list: readonly Uint8Array[], totalLength?: number): Buffer;
  isBuffer(value: unknown): value is Buffer;
  compare(a: Uint8Array, b: Uint8Array): number;
  isEncoding(encoding: string): encoding is BufferEncoding;
}
declare var Buffer: BufferConstructor;

interface Console {
  log(...data: unknown[]): void;
  error(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  info(...data: unknown[]): void;
  debug(...data: unknown[]): void;
  table(data: unknown): void;
  trace(...data: unknown[]): void;
  dir(item?: unknown): void;
}
declare var console: Console;

declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}
declare class URLSearchParams implements Iterable<[string, string]> {
  constructor(init?: string | Record<string, string> | Iterable<[string, string]>);
  get(name: string): string | null;
  getAll(name: string): string[];
  has(name: string): boolean;
  set(name: string, value: string): void;
  append(name: string, value: string): void;
  delete(name: string): void;
  sort(): void;
  toString(): string;
  entries(): IterableIterator<[string, string]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
  forEach(callback: (value: string, key: string) => void): void;
  [Symbol.iterator](): IterableIterator<[string, string]>;
}
declare class URL {
  constructor(input: string, base?: string | URL);
  hash: string; host: string; hostname: string; href: string; origin: string;
  password: string; pathname: string; port: string; protocol: string; search: string;
  readonly searchParams: URLSearchParams; username: string;
  toString(): string;
  toJSON(): string;
}
declare function atob(data: string): string;
declare function btoa(data: string): string;
declare function structuredClone<T>(value: T): T;
declare function queueMicrotask(callback: () => void): void;
declare function setTimeout(callback: (...args: unknown[]) => void, ms?: number): unknown;
declare function clearTimeout(handle: unknown): void;

declare var require: (name: string) => any;
declare var module: { exports: any };
declare var exports: any;

declare module "crypto" {
  type BinaryLike = string | Uint8Array;
  interface Hash {
    update(data: BinaryLike, inputEncoding?: BufferEncoding): Hash;
    digest(): Buffer;
    digest(encoding: BufferEncoding): string;
  }
  interface Hmac {
    update(data: BinaryLike, inputEncoding?: BufferEncoding): Hmac;
    digest(): Buffer;
    digest(encoding: BufferEncoding): string;
  }
  function createHash(algorithm: string): Hash;
  function createHmac(algorithm: string, key: BinaryLike): Hmac;
  function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
  function randomUUID(): string;
  function randomInt(min: number, max?: number): number;
  function getHashes(): string[];
}
declare module "node:crypto" {
  export * from "crypto";
}
