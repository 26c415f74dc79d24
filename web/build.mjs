// Builds the console and the public map into ../console/dist, which the Go
// binary embeds: `npm ci && npm run build`. The output is committed, so
// `go run ./cmd/skyfence serve` needs no npm step.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';

const out = '../console/dist';
rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}/assets`, { recursive: true });

await esbuild.build({
  entryPoints: { map: 'src/map.js', console: 'src/console.js', style: 'src/style.css' },
  bundle: true,
  format: 'esm',
  splitting: true,
  minify: true,
  target: 'es2022',
  outdir: `${out}/assets`,
  chunkNames: 'chunk-[hash]',
  legalComments: 'eof',
  logLevel: 'info',
});
// MapLibre starts its web workers from this file (see setWorkerUrl in map.js).
copyFileSync('node_modules/maplibre-gl/dist/maplibre-gl-worker.mjs', `${out}/assets/maplibre-gl-worker.mjs`);
copyFileSync('node_modules/maplibre-gl/LICENSE.txt', `${out}/assets/maplibre-gl-LICENSE.txt`);
for (const page of ['map.html', 'console.html']) copyFileSync(`src/${page}`, `${out}/${page}`);
