// Type-check and compile a TypeScript solution with the pinned compiler (inside the
// sandbox; Node's own modules and the compiler only). See docs/architecture.md,
// "Languages": strict mode, ES2022 and nothing of the DOM, lib files parsed once.
'use strict';

const path = require('path');

const FILE = 'solution.ts';
const MAX_DIAGNOSTICS = 5;
// What the learner's code may use beyond ES2022: console (their stdout/stderr).
const ENV_FILE = 'skillmap-env.d.ts';
const ENV_TEXT = [
  'interface Console {',
  '  log(...data: unknown[]): void; error(...data: unknown[]): void;',
  '  warn(...data: unknown[]): void; info(...data: unknown[]): void;',
  '  debug(...data: unknown[]): void; dir(item?: unknown): void;',
  '  table(data: unknown): void; trace(...data: unknown[]): void;',
  '}',
  'declare var console: Console;',
  '',
].join('\n');

function options(ts) {
  return {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    lib: ['lib.es2022.d.ts'],
    types: [],
    skipLibCheck: true,
    noEmitOnError: true,
    esModuleInterop: false,
    newLine: ts.NewLineKind.LineFeed,
    sourceMap: false,
  };
}

// Lib files are parsed once per process (or once per snapshot, see snapshot.js).
function libCache(ts, libDir) {
  const cache = new Map();
  return {
    libDir,
    get(fileName) {
      let file = cache.get(fileName);
      if (file === undefined) {
        const text = ts.sys.readFile(path.join(libDir, fileName));
        file = text === undefined ? null : ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, false);
        cache.set(fileName, file);
      }
      return file === null ? undefined : file;
    },
    warm(compilerOptions) {
      // Parse every lib file a compile with these options reads.
      const host = makeHost(ts, this, '', new Map());
      ts.createProgram([ENV_FILE], compilerOptions, host).getGlobalDiagnostics();
    },
  };
}

function makeHost(ts, libs, source, emitted) {
  const solution = ts.createSourceFile(FILE, source, ts.ScriptTarget.ES2022, false);
  const env = ts.createSourceFile(ENV_FILE, ENV_TEXT, ts.ScriptTarget.ES2022, false);
  return {
    getSourceFile(fileName) {
      if (fileName === FILE) return solution;
      if (fileName === ENV_FILE) return env;
      return libs.get(path.basename(fileName));
    },
    getDefaultLibFileName: () => 'lib.es2022.d.ts',
    getDefaultLibLocation: () => libs.libDir,
    writeFile: (fileName, text) => emitted.set(path.basename(fileName), text),
    getCurrentDirectory: () => '',
    getDirectories: () => [],
    getCanonicalFileName: (fileName) => fileName,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => '\n',
    fileExists: (fileName) => fileName === FILE || fileName === ENV_FILE || libs.get(path.basename(fileName)) !== undefined,
    readFile: () => undefined,
    directoryExists: () => true,
  };
}

function describe(ts, diagnostic) {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
  let line = null;
  if (diagnostic.file && diagnostic.file.fileName === FILE && diagnostic.start !== undefined) {
    line = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1;
  }
  return { line, code: diagnostic.code, message };
}

// {js} or {error: {type, line, msg}}: msg lists up to five diagnostics, one per line,
// each as "line N: TS1234: text" (lines of the learner's own file).
function compileWith(ts, libs, source) {
  const emitted = new Map();
  const compilerOptions = options(ts);
  const program = ts.createProgram([FILE, ENV_FILE], compilerOptions, makeHost(ts, libs, source, emitted));
  const solution = program.getSourceFile(FILE);
  let diagnostics = program.getSyntacticDiagnostics(solution);
  if (!diagnostics.length) {
    diagnostics = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics(),
      ...program.getSemanticDiagnostics(solution)];
  }
  const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length) {
    const described = errors.slice(0, MAX_DIAGNOSTICS).map((d) => describe(ts, d));
    const lines = described.map((d) => (d.line ? 'line ' + d.line + ': ' : '') + 'TS' + d.code + ': ' + d.message);
    if (errors.length > MAX_DIAGNOSTICS) lines.push('(' + (errors.length - MAX_DIAGNOSTICS) + ' more)');
    const first = described[0];
    return { error: { type: 'TS' + first.code, line: first.line, msg: lines.join('\n') } };
  }
  program.emit(solution);
  const js = emitted.get('solution.js');
  if (js === undefined) return { error: { type: 'TS', line: null, msg: 'the compiler emitted nothing' } };
  return { js };
}

module.exports = { compileWith, libCache, options };
