// Builds Skillmap's committed vendor assets. Run: npm ci && npm run build
import { build } from "esbuild";
import { copyFileSync, mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const vendor = resolve(here, "../quizzes/static/quizzes/vendor");
const browserVendor = resolve(here, "../tests/browser/vendor");
mkdirSync(vendor, { recursive: true });
mkdirSync(browserVendor, { recursive: true });

const editorOut = resolve(vendor, "editor.min.js");
await build({
  entryPoints: [resolve(here, "src/editor.js")],
  outfile: editorOut,
  bundle: true,
  format: "iife",
  minify: true,
  target: "es2020",
  platform: "browser",
  legalComments: "eof",
  sourcemap: false,
  logLevel: "warning",
});

const copies = [
  [resolve(here, "node_modules/htmx.org/dist/htmx.min.js"), resolve(vendor, "htmx.min.js")],
  [resolve(here, "node_modules/axe-core/axe.min.js"), resolve(browserVendor, "axe.min.js")],
];
for (const [from, to] of copies) copyFileSync(from, to);

for (const file of [editorOut, ...copies.map(([, to]) => to)]) {
  console.log(`${file}  ${statSync(file).size} bytes`);
}
