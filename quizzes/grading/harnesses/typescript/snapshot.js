// Builds the V8 startup snapshot TypeScript challenges run from (on the worker's host,
// with trusted input only: the pinned compiler and compile.js; no learner code):
//
//     SKILLMAP_TYPESCRIPT=<toolchains/typescript/node_modules> \
//       node --snapshot-blob typescript.blob --build-snapshot snapshot.js
//
// The snapshot holds the compiler already loaded, every lib file it reads already
// parsed and bound, and the checker's code warm, so a run starts type-checking at once
// instead of spending a second loading typescript.js and the lib files. Run as
// `node --snapshot-blob typescript.blob`, it runs /sandbox/harness.js, which finds the
// compiler in globalThis.__skillmapTypeScript.
'use strict';

const fs = require('fs');
const path = require('path');
const vm = require('vm');
const v8 = require('v8');

function load(file, extra) {
  const module = { exports: {} };
  const factory = vm.compileFunction(
    fs.readFileSync(file, 'utf8'),
    ['module', 'exports', 'require', '__filename', '__dirname'],
    { filename: file },
  );
  factory(module, module.exports, require, file, path.dirname(file));
  return module.exports;
}

const packageDir = process.env.SKILLMAP_TYPESCRIPT;
if (!packageDir) throw new Error('SKILLMAP_TYPESCRIPT must name the node_modules folder');
const ts = load(path.join(packageDir, 'typescript', 'lib', 'typescript.js'));
const driver = load(path.join(__dirname, 'compile.js'));
const files = driver.fileCache(ts, packageDir, [path.join(__dirname, 'node-subset.d.ts')]);
// Compile a little of everything once: every file the compiler reads is recorded (and
// parsed) now, and the checker's code is compiled too.
const warm = driver.compileWith(ts, files, [
  'import { createHash, createHmac, timingSafeEqual } from "node:crypto";',
  'import * as crypto from "crypto";',
  'const sum = (text: string): string => createHash("sha256").update(text).digest("hex");',
  'export const mac = (key: string, text: string): boolean =>',
  '  timingSafeEqual(createHmac("sha256", key).update(text).digest(), Buffer.from(sum(text)));',
  'export const id = crypto.randomUUID();',

  'export type Row = { id: string; tags: string[]; score?: number | null };',
  'export function total(rows: Row[], by: Record<string, number> = {}): Map<string, number> {',
  '  const out = new Map<string, number>();',
  '  for (const { id, score } of rows) out.set(id, (out.get(id) ?? 0) + (score ?? by[id] ?? 0));',
  '  return out;',
  '}',
  'export class Cache<T> {',
  '  private readonly items = new Map<string, T>();',
  '  constructor(private readonly capacity: number) {}',
  '  get(key: string): T | null { return this.items.get(key) ?? null; }',
  '  put(key: string, value: T): void {',
  '    if (this.items.size >= this.capacity) throw new RangeError("full");',
  '    this.items.set(key, value);',
  '  }',
  '}',
  '',
].join('\n'));
if (warm.error) throw new Error('the warm-up compile failed: ' + warm.error.msg);
files.freeze();

globalThis.__skillmapTypeScript = {
  version: ts.version,
  compile: (source) => driver.compileWith(ts, files, source),
};

v8.startupSnapshot.setDeserializeMainFunction(() => {
  const file = '/sandbox/harness.js';
  load(file);
});
