// webpack 5, production, default settings: the app's tsc output (build-js/) bundled into
// dist-webpack/; webpack finds the package's worker and engine modules by their
// `new URL('./x', import.meta.url)` and emits them.
import { resolve } from 'node:path';

export default {
  mode: 'production',
  entry: './build-js/main.js',
  output: { path: resolve(import.meta.dirname, 'dist-webpack'), filename: 'main.js', clean: true },
  performance: { hints: false },
};
