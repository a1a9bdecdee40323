import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Fails the build if Lit's development build slipped into a bundle. */
function forbidLitDevMode(): Plugin {
  return {
    name: 'samtykke:forbid-lit-dev-mode',
    generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type === 'chunk' && chunk.code.includes('Lit is in dev mode')) {
          this.error(`${chunk.fileName} contains Lit's development build`);
        }
      }
    },
  };
}

/** Production build of the widget (`npx vite build`). */
export default defineConfig({
  mode: 'production',
  // Lit picks its build through export conditions: never resolve 'development'.
  resolve: { conditions: ['module', 'browser', 'production'] },
  define: { __SAMTYKKE_VERSION__: JSON.stringify(pkg.version) },
  plugins: [forbidLitDevMode()],
  build: {
    outDir: 'dist/widget',
    emptyOutDir: true,
    target: 'es2022',
    minify: 'oxc',
    sourcemap: true,
    rolldownOptions: {
      // api-base.ts reads import.meta.url only after document.currentScript, which is what
      // the IIFE relies on; rolldown's `{}` stand-in there is intended.
      checks: { emptyImportMeta: false },
      output: {
        // Vite keeps whitespace and /*@__PURE__*/ marks in ES library builds for re-bundling;
        // samtykke.js is loaded by browsers directly, so minify it fully like the IIFE.
        minify: true,
        comments: { annotation: false },
      },
    },
    lib: {
      entry: 'widget/index.ts',
      name: 'Samtykke',
      formats: ['es', 'iife'],
      fileName: (format) => (format === 'es' ? 'samtykke.js' : 'samtykke.iife.js'),
    },
  },
});
