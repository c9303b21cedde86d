// Build app_pages/_live_chart/vendor/plotly-normviz.min.js: plotly.js with only the trace types
// normviz draws in live charts. The full plotly.min.js (4.8 MB, ~1.4 MB gzipped) takes ~1.7 s to
// evaluate before the first chart can draw (issue 13); most of it is traces the app never uses.
//
// Same recipe as plotly.js's own dist build (its esbuild-config.js: an IIFE that sets the global
// `Plotly`, `global` -> `window`, no AMD, regl aliased to @plotly/regl) and its documented partial
// bundles (lib/core + Plotly.register([...traces])). Run via scripts/build_plotly_bundle.sh.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

// Every trace type a live chart draws (go.X constructors and {"type": ...} dicts in normviz/ and
// app_pages/). tests/test_plotly_bundle.py fails when a figure uses a type missing here.
export const TRACES = ["bar", "box", "heatmap", "scatter", "scatter3d", "scattergl", "table"];

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const plotlyDir = dirname(require.resolve("plotly.js/package.json"));
const version = JSON.parse(readFileSync(join(plotlyDir, "package.json"), "utf8")).version;
const out = join(here, "..", "..", "app_pages", "_live_chart", "vendor", "plotly-normviz.min.js");

// plotly's licence header, copied from its own dist file, plus the list of traces in this bundle.
const full = readFileSync(join(plotlyDir, "dist", "plotly.min.js"), "utf8");
const licence = full.slice(0, full.indexOf("*/") + 2);
if (!licence.includes(`plotly.js v${version}`) || !licence.includes("MIT")) {
  throw new Error(`unexpected licence header in plotly.js ${version}'s dist/plotly.min.js`);
}
const header = licence.replace(`plotly.js v${version}`,
  `plotly.js v${version}, partial bundle for normviz\n* traces: ${TRACES.join(", ")}`);

const entry = `var Plotly = require("plotly.js/lib/core");
Plotly.register([${TRACES.map((t) => `require("plotly.js/lib/${t}")`).join(", ")}]);
module.exports = Plotly;
`;

const result = await esbuild.build({
  stdin: { contents: entry, resolveDir: here, sourcefile: "plotly-normviz.js", loader: "js" },
  format: "iife",
  globalName: "Plotly",
  bundle: true,
  minify: true,
  legalComments: "none", // the one licence header is prepended below
  write: false,
  alias: { regl: "@plotly/regl", stream: "stream-browserify" },
  define: { global: "window", "define.amd": "false", "process.env.NODE_DEBUG": "false" },
  // maplibre-gl's CSS is required only when a map subplot registers; no map trace is bundled
  loader: { ".css": "empty" },
  target: "es2016",
  logLevel: "warning",
});
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${header}\n${result.outputFiles[0].text}`);
console.log(`wrote ${out}: plotly.js ${version}, traces ${TRACES.join(",")}, ${(result.outputFiles[0].contents.length / 1024).toFixed(0)} KB`);
