// build.mjs — make-time bundler for the web console (run by `make`).
// Bundles src/main.js (xterm.js, the fit addon, the protocol code and the
// @noble libraries, all from package-lock.json) with esbuild into ONE
// self-contained HTML file: the script and the style sheet are inline, and
// the page's Content-Security-Policy admits exactly those two by their
// SHA-384 hashes (the SRI hashes, also given as integrity= attributes), so
// no other script can run in the page and it loads nothing from anywhere.
// Also bundles the Node test programs (test/*.js) for `make check`.
//
// Usage: node build.mjs SRCDIR MODULES_DIR OUTDIR
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [srcdir, modules, outdir] = process.argv.slice(2).map((p) => resolve(p));
if (!outdir) { console.error('usage: node build.mjs SRCDIR MODULES_DIR OUTDIR'); process.exit(2); }
const esbuild = createRequire(join(modules, 'x.js'))('esbuild');
const common = { bundle: true, write: false, nodePaths: [modules], logLevel: 'warning', legalComments: 'inline' };

const sri = (s) => 'sha384-' + createHash('sha384').update(s).digest('base64');

// The page.
const js = (await esbuild.build({ ...common, entryPoints: [join(srcdir, 'src/main.js')],
	format: 'iife', platform: 'browser', target: ['chrome100', 'firefox100'], minify: true,
	define: { 'process.env.NODE_ENV': '"production"' } })).outputFiles[0].text
	.replace(/<\/script/gi, '<\\/script');
const css = readFileSync(join(modules, '@xterm/xterm/css/xterm.css'), 'utf8') + '\n' +
	readFileSync(join(srcdir, 'src/page.css'), 'utf8');
const cssMin = (await esbuild.transform(css, { loader: 'css', minify: true })).code.replace(/<\/style/gi, '<\\/style');
const csp = [
	"default-src 'none'", `script-src '${sri(js)}'`, `style-src '${sri(cssMin)}'`,
	"connect-src wss: ws://127.0.0.1:* ws://localhost:*", "img-src data:", "font-src 'none'",
	"base-uri 'none'", "form-action 'none'",
].join('; ');
const body = readFileSync(join(srcdir, 'src/page.html'), 'utf8');
const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SCCrypt web console</title>
<style integrity="${sri(cssMin)}">${cssMin}</style>
</head>
${body}
<script integrity="${sri(js)}">${js}</script>
</html>
`;
mkdirSync(outdir, { recursive: true });
writeFileSync(join(outdir, 'sccrypt-web.html'), html);
writeFileSync(join(outdir, 'sccrypt-web.html.sha256'),
	createHash('sha256').update(html).digest('hex') + '  sccrypt-web.html\n');

// The Node test programs.
for (const t of ['vectors', 'xrecord', 'e2e', 'browser', 'bench']) {
	const entry = join(srcdir, 'test', `${t}.js`);
	try { readFileSync(entry); } catch { continue; }
	await esbuild.build({ ...common, write: true, entryPoints: [entry], format: 'esm',
		platform: 'node', target: 'node18', outfile: join(outdir, `web-${t}.mjs`),
		external: ['puppeteer-core'],	// resolved from OUTDIR/node_modules at run time
		banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
}
