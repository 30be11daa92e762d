// The program that runs INSIDE the sandbox for JavaScript and TypeScript (Node's own
// modules only; never run by the worker itself).
//
//     /usr/bin/node [flags] /sandbox/harness.js
//
// Inputs: /sandbox/input.json (the challenge's shape and the inputs of the VISIBLE tests
// only; see docs/architecture.md, "Languages") and the learner's code, /sandbox/solution.js
// or, for TypeScript, /sandbox/solution.ts (type-checked and compiled here first by the
// pinned compiler, see compile.js). Expected values never enter the sandbox.
//
// It speaks the protocol of quizzes/grading/harness.py, one JSON object per line on the
// private result channel (the fd in SKILLMAP_RESULT_FD; stdout and stderr belong to the
// learner's code): hello, compile_error {type, line, msg}, load_error {category, ...},
// loaded, test {i, status, value {"v": json} | {"r": text}, exc [[name, trusted], ...]},
// await_hidden, done. Hidden inputs are read from stdin only after every visible result
// has been written; a hidden test's record carries only what tells pass from fail.
//
// The learner's module runs in a vm context of its own, so that what it does to its
// globals (Object.prototype, JSON, Error.prototype.name ...) does not bend the code
// here, and every call into it runs as a vm script with a timeout: V8 terminates the
// script from a watchdog thread, which no try/catch/finally in the learner's code sees.
// The context is not a security boundary (a function handed in exposes this realm): the
// worker is, as for Python. Error classes are recognised by IDENTITY of their prototypes,
// taken from both realms before any learner code runs; names are read from own data
// properties only, never through getters, toJSON, Symbol.toPrimitive or proxies.
'use strict';

const vm = require('vm');
const fs = require('fs');
const util = require('util');

const INPUT_PATH = '/sandbox/input.json';
const SOLUTION_JS = '/sandbox/solution.js';
const SOLUTION_TS = '/sandbox/solution.ts';
const FILENAME = 'solution.js';
const MAX_VALUE_CHARS = 256 * 1024;
const MAX_REPR_CHARS = 2000;
const MAX_DEPTH = 100;
const MAX_NODES = 200000;

// --------------------------------------------------------------------------- primordials
// Everything used after the learner's code has run is taken now.
const {
  apply, getPrototypeOf, ownKeys, getOwnPropertyDescriptor, defineProperty,
} = Reflect;
const { isArray } = Array;
const { isInteger, isFinite: isFiniteNumber } = Number;
const ObjectCreate = Object.create;
const stringify = JSON.stringify;
const parseJson = JSON.parse;
const StringSlice = String.prototype.slice;
const StringIndexOf = String.prototype.indexOf;
const StringMatch = String.prototype.match;
const ArrayPush = Array.prototype.push;
const ArrayJoin = Array.prototype.join;
const BigIntToString = BigInt.prototype.toString;
const NumberToString = Number.prototype.toString;
const MapForEach = Map.prototype.forEach;
const writeSync = fs.writeSync;
const readFileSync = fs.readFileSync;
const inspect = util.inspect;
const types = util.types;
const { isProxy, isMap, isDate, isRegExp, isSet, isPromise, isTypedArray, isBoxedPrimitive,
  isWeakMap, isWeakSet, isArrayBuffer, isSharedArrayBuffer, isDataView, isNativeError,
  isGeneratorObject, isMapIterator, isSetIterator, isModuleNamespaceObject } = types;
const nowMs = () => Number(process.hrtime.bigint() / 1000000n);
const hrtime = process.hrtime.bigint;
const exitNow = process.reallyExit ? process.reallyExit.bind(process) : process.exit.bind(process);
const call = (fn, self, ...args) => apply(fn, self, args);

const RESULT_FD = Number(process.env.SKILLMAP_RESULT_FD);
const NODE_GLOBALS = [
  'console', 'process', 'Buffer', 'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder',
  'atob', 'btoa', 'structuredClone', 'queueMicrotask', 'setTimeout', 'clearTimeout',
  'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'AbortController',
  'AbortSignal', 'performance',
];
const ERROR_NAMES = [
  'Error', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError',
  'URIError', 'AggregateError',
];

// --------------------------------------------------------------------------- output

function emit(record) {
  let line;
  try {
    line = encodeRecord(record) + '\n';
  } catch (error) {
    line = '{"t":"test","i":' + (isInteger(record.i) ? call(NumberToString, record.i) : 'null')
      + ',"status":"harness_error"}\n';
  }
  const data = Buffer.from(line, 'utf8');
  let offset = 0;
  while (offset < data.length) {
    try {
      offset += writeSync(RESULT_FD, data, offset, data.length - offset);
    } catch (error) {
      if (error && error.code === 'EAGAIN') continue;
      exitNow(70);
    }
  }
}

// A record is the harness's own: plain objects, arrays, strings, finite numbers,
// booleans, null, and already-encoded values (`{"v": ...}` holds a value encoded by
// `toJson`, whose numbers may be NaN/Infinity, written as Python's json reads them).
function encodeRecord(value) {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'boolean': return value ? 'true' : 'false';
    case 'string': return stringify(value);
    case 'number': return numberText(value);
    case 'bigint': return call(BigIntToString, value);
    default: break;
  }
  if (isArray(value)) {
    const parts = [];
    for (let i = 0; i < value.length; i++) call(ArrayPush, parts, encodeRecord(value[i]));
    return '[' + call(ArrayJoin, parts, ',') + ']';
  }
  const parts = [];
  const keys = ownKeys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (typeof key !== 'string') continue;
    call(ArrayPush, parts, stringify(key) + ':' + encodeRecord(value[key]));
  }
  return '{' + call(ArrayJoin, parts, ',') + '}';
}

function numberText(value) {
  if (value !== value) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (isInteger(value) && (value >= 1e21 || value <= -1e21)) {
    return call(BigIntToString, BigInt(value)); // an integer, never "1e+21"
  }
  return call(NumberToString, value);
}

// --------------------------------------------------------------------------- values

class NotJson extends Error {}

// The JSON value of what the learner's code returned, as a tree of this realm's plain
// objects; NotJson when it is not one. Reads own data properties only: a getter, a
// proxy or an exotic object is not JSON. `undefined` is null in a list or as the whole
// value (a void function), and an absent key in an object (as JSON.stringify does).
function toJson(value, depth, budget) {
  if (depth > MAX_DEPTH || ++budget.nodes > MAX_NODES) throw new NotJson();
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      return value;
    case 'bigint':
      return value; // an integer beyond 2**53, written exactly
    case 'object':
      break;
    default:
      throw new NotJson(); // functions, symbols
  }
  if (isProxy(value)) throw new NotJson();
  if (isArray(value)) {
    const length = ownValue(value, 'length');
    const out = [];
    for (let i = 0; i < length; i++) {
      const descriptor = getOwnPropertyDescriptor(value, i);
      if (descriptor === undefined || !('value' in descriptor)) throw new NotJson();
      call(ArrayPush, out, toJson(descriptor.value, depth + 1, budget));
    }
    return out;
  }
  if (isMap(value)) { // a Map with string keys is an idiomatic map<T>
    const out = ObjectCreate(null);
    call(MapForEach, value, (item, key) => {
      if (typeof key !== 'string') throw new NotJson();
      defineProperty(out, key, {
        value: toJson(item, depth + 1, budget), enumerable: true, writable: true,
        configurable: true,
      });
    });
    return out;
  }
  if (isDate(value) || isRegExp(value) || isSet(value) || isPromise(value)
      || isTypedArray(value) || isBoxedPrimitive(value) || isWeakMap(value)
      || isWeakSet(value) || isArrayBuffer(value) || isSharedArrayBuffer(value)
      || isDataView(value) || isNativeError(value) || isGeneratorObject(value)
      || isMapIterator(value) || isSetIterator(value) || isModuleNamespaceObject(value)) {
    throw new NotJson();
  }
  // A plain object or an instance of the learner's own class: its own enumerable
  // string-keyed data properties, as JSON.stringify would write them.
  const out = ObjectCreate(null);
  const keys = ownKeys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (typeof key !== 'string') continue;
    const descriptor = getOwnPropertyDescriptor(value, key);
    if (!descriptor.enumerable) continue;
    if (!('value' in descriptor)) throw new NotJson();
    if (descriptor.value === undefined || typeof descriptor.value === 'function') continue;
    defineProperty(out, key, {
      value: toJson(descriptor.value, depth + 1, budget), enumerable: true, writable: true,
      configurable: true,
    });
  }
  return out;
}

function ownValue(object, key) {
  const descriptor = getOwnPropertyDescriptor(object, key);
  return descriptor !== undefined && 'value' in descriptor ? descriptor.value : undefined;
}

// {"v": json} or {"r": text}. Runs inside the timed script: inspecting a value may run
// the learner's code (util.inspect is asked not to: no custom inspect, no getters).
function encodeValue(value) {
  let converted;
  try {
    converted = toJson(value, 0, { nodes: 0 });
  } catch (error) {
    converted = NotJson;
  }
  if (converted !== NotJson) {
    const text = encodeRecord(converted);
    if (text.length > MAX_VALUE_CHARS) {
      return { r: '<a value of ' + text.length + ' characters, too large to compare>' };
    }
    return { v: converted };
  }
  let text;
  try {
    text = inspect(value, {
      customInspect: false, getters: false, showProxy: true, depth: 4,
      maxArrayLength: 50, maxStringLength: 500, breakLength: Infinity,
    });
    if (typeof text !== 'string') text = '<unrepresentable value>';
  } catch (error) {
    text = '<unrepresentable value>';
  }
  return { r: call(StringSlice, text, 0, MAX_REPR_CHARS) };
}

// --------------------------------------------------------------------------- errors

// prototype -> [name] of the builtin error classes of this realm; the learner's realm's
// are added when its context is made, before any of its code runs.
const trusted = new Map();
const MapGet = Map.prototype.get;
const MapSet = Map.prototype.set;
function trustRealm(global) {
  for (const name of ERROR_NAMES) {
    const cls = global[name];
    if (typeof cls === 'function') call(MapSet, trusted, cls.prototype, name);
  }
}
trustRealm(globalThis);

// [[name, trusted], ...] along the thrown value's prototype chain (at most 12).
function exceptionNames(thrown) {
  const names = [];
  try {
    if (thrown === null || (typeof thrown !== 'object' && typeof thrown !== 'function')) {
      return [[typeof thrown, false]];
    }
    if (isProxy(thrown)) return [['Proxy', false]];
    let proto = getPrototypeOf(thrown);
    for (let depth = 0; proto !== null && depth < 12; depth++) {
      if (isProxy(proto)) break;
      const known = call(MapGet, trusted, proto);
      if (known !== undefined) {
        call(ArrayPush, names, [known, true]);
      } else {
        const ctor = ownValue(proto, 'constructor');
        const name = typeof ctor === 'function' && !isProxy(ctor) ? ownValue(ctor, 'name') : undefined;
        if (typeof name === 'string') {
          call(ArrayPush, names, [call(StringSlice, name, 0, 100), false]);
        } else if (ownValue(proto, 'constructor') === undefined && getPrototypeOf(proto) === null) {
          break; // Object.prototype of some realm
        } else {
          call(ArrayPush, names, ['<anonymous>', false]);
        }
      }
      proto = getPrototypeOf(proto);
    }
  } catch (error) {
    call(ArrayPush, names, ['Error', true]);
  }
  if (names.length && names[names.length - 1][0] === 'Object' && !names[names.length - 1][1]) {
    names.length -= 1; // the base of every object, not a class the code chose
  }
  return names.length ? names : [['Object', false]];
}

// The line of the learner's file an error was raised at, from a builtin error's stack.
function solutionLine(thrown) {
  try {
    if (thrown === null || typeof thrown !== 'object' || isProxy(thrown)) return null;
    const stack = ownValue(thrown, 'stack');
    if (typeof stack !== 'string') return null;
    const match = call(StringMatch, stack, /solution\.js:(\d+)/);
    return match ? Number(match[1]) : null;
  } catch (error) {
    return null;
  }
}

// --------------------------------------------------------------------------- timing

const TIMED_KEY = '__skillmap_timed_' + call(NumberToString, Math.floor(Math.random() * 2 ** 48), 36);
const TIMED_SCRIPT = new vm.Script('"use strict"; ' + TIMED_KEY + '();', { filename: 'harness' });
let pendingThunk = null;
let thunkResult = null;

// Run thunk() under a wall-clock limit as a vm script in the learner's context; returns
// ["ok", value] or ["timeout"]. The thunk catches the learner's exceptions itself.
function timed(context, seconds, thunk) {
  pendingThunk = thunk;
  thunkResult = null;
  try {
    TIMED_SCRIPT.runInContext(context, { timeout: Math.max(1, Math.round(seconds * 1000)) });
  } catch (error) {
    pendingThunk = null;
    // Node's own error when the watchdog terminated the script; anything else escaped
    // the thunk's handlers (the stack overflowed inside them, say).
    // (Made in whichever realm was running: test it by kind, not by instanceof.)
    if (isNativeError(error) && !isProxy(error) && ownValue(error, 'code') === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      return ['timeout'];
    }
    return ['error', error];
  }
  pendingThunk = null;
  return thunkResult === null ? ['timeout'] : ['ok', thunkResult[0]];
}

function runPending() {
  const thunk = pendingThunk;
  pendingThunk = null;
  if (thunk !== null) thunkResult = [thunk()];
}

// --------------------------------------------------------------------------- the learner

function makeContext() {
  const sandbox = ObjectCreate(null);
  const context = vm.createContext(sandbox, {
    name: 'solution', codeGeneration: { strings: true, wasm: true },
    microtaskMode: 'afterEvaluate',
  });
  const global = vm.runInContext('globalThis', context);
  trustRealm(global);
  defineProperty(global, TIMED_KEY, { value: runPending, configurable: false, enumerable: false, writable: false });
  // What a Node module expects to find besides the language's own builtins (console
  // writes to the learner's stdout/stderr).
  for (const name of NODE_GLOBALS) {
    if (name in globalThis) {
      defineProperty(global, name, { value: globalThis[name], configurable: true, enumerable: false, writable: true });
    }
  }
  return { context, global, parse: vm.runInContext('JSON.parse', context) };
}

function builtinRequire(name) {
  const bare = call(StringIndexOf, name, 'node:') === 0 ? call(StringSlice, name, 5) : name;
  if (!require('module').isBuiltin(bare)) {
    const error = new Error("Cannot find module '" + name + "': only Node's own modules can be required here");
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return require(bare);
}

function compileError(type, line, message) {
  emit({ t: 'compile_error', type, line, msg: call(StringSlice, String(message), 0, 1500) });
}

function loadSolution(config, realm, code) {
  let factory;
  try {
    factory = vm.compileFunction(code, ['exports', 'require', 'module', '__filename', '__dirname'], {
      filename: FILENAME, parsingContext: realm.context,
    });
  } catch (error) {
    // No learner code has run: the SyntaxError is V8's own.
    const stack = typeof error.stack === 'string' ? error.stack : '';
    const match = call(StringMatch, stack, /^solution\.js:(\d+)/);
    compileError('SyntaxError', match ? Number(match[1]) : null, error.message);
    return null;
  }
  const module = vm.runInContext('({ exports: {} })', realm.context);
  let failure = null;
  const [status, escaped] = timed(realm.context, config.per_test_seconds, () => {
    try {
      apply(factory, realm.global, [module.exports, builtinRequire, module, '/sandbox/' + FILENAME, '/sandbox']);
    } catch (error) {
      failure = error;
    }
    return null;
  });
  if (status === 'timeout') {
    emit({ t: 'load_error', category: 'timeout' });
    return null;
  }
  if (status === 'error') failure = escaped;
  if (failure !== null) {
    if (isMemoryError(failure)) {
      emit({ t: 'load_error', category: 'memory_limit' });
    } else {
      emit({ t: 'load_error', category: 'exception', exc: exceptionNames(failure), line: solutionLine(failure) });
    }
    return null;
  }
  // module.exports = {name}, module.exports = name, exports.name = ..., or (TypeScript)
  // `export function name` / `export class Name`.
  const exported = ownValue(module, 'exports');
  const name = config.kind === 'class' ? config.class || config.entry : config.entry;
  let target;
  if (typeof exported === 'function' && !isProxy(exported) && ownValue(exported, 'name') === name) {
    target = exported;
  } else if (exported !== null && typeof exported === 'object' && !isProxy(exported)) {
    target = ownValue(exported, name);
  }
  if (target === undefined) {
    emit({ t: 'load_error', category: 'missing' });
    return null;
  }
  if (typeof target !== 'function' || isProxy(target)) {
    emit({ t: 'load_error', category: config.kind === 'class' ? 'not_class' : 'not_callable' });
    return null;
  }
  return target;
}

function isMemoryError(error) {
  if (error === null || typeof error !== 'object' || isProxy(error)) return false;
  const names = exceptionNames(error);
  if (!names.length || names[0][0] !== 'RangeError' || !names[0][1]) return false;
  const message = ownValue(error, 'message');
  return typeof message === 'string' && (
    call(StringIndexOf, message, 'Array buffer allocation failed') >= 0
    || call(StringIndexOf, message, 'Invalid string length') >= 0
    || call(StringIndexOf, message, 'Invalid array length') >= 0);
}

function failureRecord(error) {
  if (isMemoryError(error)) return { status: 'memory_limit' };
  return { status: 'exception', exc: exceptionNames(error) };
}

function runFunctionTest(realm, target, test, seconds) {
  const argsText = stringify(test.args || []);
  const [status, record] = timed(realm.context, seconds, () => {
    const args = realm.parse(argsText);
    try {
      return { status: 'ok', value: encodeValue(apply(target, undefined, args)) };
    } catch (error) {
      return failureRecord(error);
    }
  });
  if (status === 'ok') return record;
  return status === 'timeout' ? { status: 'timeout' } : failureRecord(record);
}

function runClassTest(realm, cls, test, seconds) {
  const initText = stringify(test.init_args || []);
  const calls = test.calls || [];
  const callsOut = [];
  const [status, record] = timed(realm.context, seconds, () => {
    let instance;
    try {
      instance = Reflect.construct(cls, realm.parse(initText));
    } catch (error) {
      if (isMemoryError(error)) return { status: 'memory_limit' };
      return { status: 'init_exception', exc: exceptionNames(error) };
    }
    for (let i = 0; i < calls.length; i++) {
      const wanted = calls[i];
      try {
        const method = instance[wanted.method];
        if (typeof method !== 'function') {
          throw new TypeError('obj.' + wanted.method + ' is not a function');
        }
        const value = apply(method, instance, realm.parse(stringify(wanted.args || [])));
        call(ArrayPush, callsOut, { status: 'ok', value: encodeValue(value) });
      } catch (error) {
        if (isMemoryError(error)) return { status: 'memory_limit', calls: callsOut };
        call(ArrayPush, callsOut, { status: 'exception', exc: exceptionNames(error) });
      }
    }
    return { status: 'ok', calls: callsOut };
  });
  if (status === 'ok') return record;
  if (status === 'timeout') return { status: 'timeout', calls: callsOut };
  return { ...failureRecord(record), calls: callsOut };
}

function outcomeOnly(result) {
  const value = result.value;
  if (result.status === 'ok' && value && typeof value === 'object' && 'v' in value) {
    return { status: 'ok', value };
  }
  if (result.status === 'exception') return { status: 'exception', exc: result.exc };
  return { status: 'failed' };
}

function hiddenRecord(record) {
  if (!('calls' in record)) return outcomeOnly(record);
  if (record.status !== 'ok') return { status: 'failed' };
  return { status: 'ok', calls: record.calls.map(outcomeOnly) };
}

function readHidden() {
  emit({ t: 'await_hidden' });
  let text;
  try {
    text = readFileSync(0, 'utf8');
  } catch (error) {
    return [];
  }
  if (!text) return [];
  try {
    const tests = parseJson(text);
    return isArray(tests) ? tests : [];
  } catch (error) {
    return [];
  }
}

// --------------------------------------------------------------------------- main

function solutionCode(config) {
  if (config.language === 'typescript') {
    // Type-checked and compiled by the pinned compiler, loaded with its lib files in
    // the startup snapshot this process started from (typescript/snapshot.js).
    const compiler = globalThis.__skillmapTypeScript;
    if (!compiler) {
      compileError('TS', null, 'the TypeScript compiler is not loaded');
      return null;
    }
    const compiled = compiler.compile(readFileSync(SOLUTION_TS, 'utf8'));
    if (compiled.error) {
      compileError(compiled.error.type, compiled.error.line, compiled.error.msg);
      return null;
    }
    return compiled.js;
  }
  return readFileSync(SOLUTION_JS, 'utf8');
}

function main() {
  emit({ t: 'hello' });
  const config = parseJson(readFileSync(INPUT_PATH, 'utf8'));
  const code = solutionCode(config);
  if (code !== null) runSolution(config, code);
  emit({ t: 'done' });
  exitNow(0); // skip teardown, and the learner's exit hooks, timers and pending I/O
}

function runSolution(config, code) {
  const realm = makeContext();
  const target = loadSolution(config, realm, code);
  if (target === null) return;
  if (config.kind === 'class' && !isClassLike(target)) {
    emit({ t: 'load_error', category: 'not_class' });
    return;
  }
  emit({ t: 'loaded' });
  const seconds = Number(config.per_test_seconds);
  const runTests = (tests, first, hidden) => {
    for (let offset = 0; offset < tests.length; offset++) {
      const test = tests[offset];
      let record = config.kind === 'class'
        ? runClassTest(realm, target, test, seconds)
        : runFunctionTest(realm, target, test, seconds);
      if (hidden) record = hiddenRecord(record);
      record.t = 'test';
      record.i = first + offset;
      emit(record);
    }
  };
  const visible = config.tests || [];
  runTests(visible, 0, false);
  if (config.hidden_count) runTests(readHidden(), visible.length, true);
}

function isClassLike(target) {
  const prototype = ownValue(target, 'prototype');
  return prototype !== undefined && prototype !== null;
}

// A learner's unhandled rejection or stray exception in a callback must not end the
// run with Node's own exit code; it is the learner's business, like their output.
process.on('unhandledRejection', () => {});
process.on('uncaughtException', () => {});

main();
