// Type-check and compile a TypeScript solution with the pinned compiler (inside the
// sandbox; Node's own modules and the compiler only). See docs/architecture.md,
// "Languages": strict mode, ES2022 and the part of Node's API in node-subset.d.ts, no
// DOM. Every file the compiler reads besides the solution (lib files, the subset) is
// read and parsed once, when the startup snapshot is built (snapshot.js); inside the
// sandbox the compiler sees those files only, from memory.
'use strict';

const path = require('path');

const FILE = '/sandbox/solution.ts';
const MAX_DIAGNOSTICS = 5;

function options(ts) {
  return {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    lib: ['lib.es2022.d.ts'],
    types: [],
    skipLibCheck: true,
    noEmitOnError: true,
    esModuleInterop: true,
    newLine: ts.NewLineKind.LineFeed,
    sourceMap: false,
    noResolve: false,
  };
}

// The files the compiler reads, recorded while the snapshot is built (`live`), then
// frozen: a sandboxed compile finds exactly what the build found, and nothing else.
function fileCache(ts, packageDir, roots) {
  const libDir = path.join(packageDir, 'typescript', 'lib');
  const sourceFiles = new Map();
  const texts = new Map();
  const exists = new Map();
  const directories = new Map();
  const cache = {
    live: true,
    libDir,
    roots,
    sourceFile(fileName) {
      if (!sourceFiles.has(fileName)) {
        const text = cache.live ? ts.sys.readFile(fileName) : undefined;
        sourceFiles.set(fileName, text === undefined ? undefined
          : ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, false));
      }
      return sourceFiles.get(fileName);
    },
    readFile: (fileName) => remember(texts, fileName, () => ts.sys.readFile(fileName)),
    fileExists: (fileName) => remember(exists, fileName, () => ts.sys.fileExists(fileName)) || false,
    directoryExists: (name) => remember(directories, name, () => ts.sys.directoryExists(name)) || false,
    freeze() {
      cache.live = false;
    },
  };
  function remember(map, key, read) {
    if (!map.has(key)) {
      if (!cache.live) return undefined;
      map.set(key, read());
    }
    return map.get(key);
  }
  return cache;
}

function makeHost(ts, files, source, emitted) {
  const solution = ts.createSourceFile(FILE, source, ts.ScriptTarget.ES2022, false);
  return {
    getSourceFile: (fileName) => (fileName === FILE ? solution : files.sourceFile(fileName)),
    getDefaultLibFileName: (compilerOptions) => path.join(files.libDir, ts.getDefaultLibFileName(compilerOptions)),
    getDefaultLibLocation: () => files.libDir,
    writeFile: (fileName, text) => emitted.set(path.basename(fileName), text),
    getCurrentDirectory: () => '/sandbox',
    getDirectories: () => [],
    getCanonicalFileName: (fileName) => fileName,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => '\n',
    fileExists: (fileName) => fileName === FILE || files.fileExists(fileName),
    readFile: (fileName) => (fileName === FILE ? source : files.readFile(fileName)),
    directoryExists: (name) => name === '/sandbox' || files.directoryExists(name),
    realpath: (name) => name,
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
// each as "line N: TS1234: text" (lines of the learner's own file: nothing is added to
// it before it is compiled).
function compileWith(ts, files, source) {
  const emitted = new Map();
  const program = ts.createProgram([...files.roots, FILE], options(ts), makeHost(ts, files, source, emitted));
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

module.exports = { compileWith, fileCache, options };
