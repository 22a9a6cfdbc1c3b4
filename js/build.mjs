// Bundle the panels into kfp_nb/static/ (one ESM file + one CSS file for anywidget).
import * as esbuild from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.join(here, "..", "kfp_nb", "static");
const watch = process.argv.includes("--watch");

const options = {
  entryPoints: { widget: path.join(here, "src", "index.ts") },
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: !watch,
  sourcemap: watch ? "inline" : false,
  outdir,
  loader: { ".css": "css" },
  logLevel: "info",
};

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}
