import { SCRIPT } from './assets/script.js';
import { STYLE } from './assets/style.js';
import { footer, groups, totals } from './render.js';
import { slowCalls } from './render-timeline.js';
import type { DashboardView } from './view-model.js';

/** One static resource of the page. */
export interface Asset {
  readonly contentType: string;
  readonly body: string;
}

/**
 * The page: the current snapshot rendered in (so it is never blank, and the host rows are in the
 * first HTML), or a placeholder when the source has no view yet. The script then keeps it live from
 * `/events`. Relative URLs keep it working behind a path prefix.
 */
export function pageHtml(view: DashboardView | undefined): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rxhttp dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="app.css">
<script src="app.js" defer></script>
</head>
<body>
<header>
<h1>rxhttp<small>live health</small></h1>
<span id="status" class="status">connecting</span>
<div id="totals" class="totals">${view ? totals(view) : ''}</div>
</header>
<main id="groups" class="groups">${view ? groups(view) : ''}</main>
<section id="slow" class="slow">${view ? slowCalls(view) : ''}</section>
<footer id="updated">${view ? footer(view) : 'waiting for the first update'}</footer>
</body>
</html>
`;
}

/** The static resources: the script and the stylesheet (the page itself is {@link pageHtml}). */
export const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ['/app.css', { contentType: 'text/css; charset=utf-8', body: STYLE }],
  ['/app.js', { contentType: 'text/javascript; charset=utf-8', body: SCRIPT }],
]);

/**
 * Headers on every response: a strict Content-Security-Policy (same-origin script, style and
 * connections only, so even injected markup could not run), no MIME sniffing, no framing.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};
