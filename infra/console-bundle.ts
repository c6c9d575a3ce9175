import { buildSync } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
export const CONSOLE_SOURCE = join(ROOT, 'console');

/**
 * Bundles the operator console (console/) into a static folder: index.html, console.css, console.js.
 * The CDK site uploads it; local mode serves it. Returns the folder.
 */
export function buildConsole(outDir: string = join(ROOT, 'out', 'console-site')): string {
  mkdirSync(outDir, { recursive: true });
  buildSync({
    entryPoints: [join(CONSOLE_SOURCE, 'src', 'main.ts')],
    outfile: join(outDir, 'console.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'error',
  });
  copyFileSync(join(CONSOLE_SOURCE, 'index.html'), join(outDir, 'index.html'));
  copyFileSync(join(CONSOLE_SOURCE, 'console.css'), join(outDir, 'console.css'));
  return outDir;
}
