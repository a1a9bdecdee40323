import { readFileSync } from 'node:fs';
import { build, defineConfig, type Plugin, type UserConfig } from 'vite';

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

/** What both bundles share: production Lit, the version, fully minified ES2022. */
const common = {
  mode: 'production',
  // Lit picks its build through export conditions: never resolve 'development'.
  resolve: { conditions: ['module', 'browser', 'production'] },
  define: { __SAMTYKKE_VERSION__: JSON.stringify(pkg.version) },
} satisfies UserConfig;

/**
 * dist/widget/samtykke-forms.js: `<consent-signup>` and `<consent-preferences>` in an ES module
 * of their own (with its own copy of Lit), so the banner's script-tag bundle stays within its
 * budget. samtykke.js imports it next to itself when a page uses one of them. Built after the
 * main bundle, into the same folder, by a second Vite build (lib mode cannot mix an IIFE with
 * a second entry).
 */
function buildFormsBundle(): Plugin {
  let done = false;
  return {
    name: 'samtykke:forms-bundle',
    apply: 'build',
    async closeBundle() {
      if (done) return;
      done = true;
      await build({
        ...common,
        configFile: false,
        logLevel: 'warn',
        plugins: [forbidLitDevMode()],
        build: {
          outDir: 'dist/widget',
          emptyOutDir: false,
          target: 'es2022',
          minify: 'oxc',
          sourcemap: true,
          rolldownOptions: { output: { minify: true, comments: { annotation: false } } },
          lib: { entry: 'widget/forms.ts', formats: ['es'], fileName: () => 'samtykke-forms.js' },
        },
      });
    },
  };
}

/** Production build of the widget (`npx vite build`): samtykke.js, samtykke.iife.js, samtykke-forms.js. */
export default defineConfig({
  ...common,
  plugins: [forbidLitDevMode(), buildFormsBundle()],
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
