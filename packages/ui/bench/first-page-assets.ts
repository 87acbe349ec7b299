/** What the first page loads before the app can start, as `index.html` declares it. */
export interface FirstPageAsset {
  /** `script` (a `<script src>`), `modulepreload` or `stylesheet` (`<link rel>`). */
  readonly kind: 'script' | 'modulepreload' | 'stylesheet';
  /** The URL path as written in the HTML, e.g. `/assets/index-abc.js`. */
  readonly href: string;
}

/** The attributes of one start tag, names lower-cased; a bare attribute maps to `''`. */
function attributes(tag: string): Map<string, string> {
  const found = new Map<string, string>();
  const pattern = /([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
  // Skip the tag name itself.
  const body = tag.replace(/^<\s*[a-z]+/i, '');
  for (const match of body.matchAll(pattern)) {
    const name = match[1];
    if (name === undefined) continue;
    found.set(name.toLowerCase(), match[2] ?? match[3] ?? match[4] ?? '');
  }
  return found;
}

/**
 * The scripts, module preloads and stylesheets an HTML page loads, in document order. Inline
 * scripts (no `src`) are ignored: the app's CSP forbids them and Vite emits none.
 */
export function firstPageAssets(html: string): FirstPageAsset[] {
  const assets: FirstPageAsset[] = [];
  for (const [tag] of html.matchAll(/<(?:script|link)\b[^>]*>/gi)) {
    const attrs = attributes(tag);
    if (/^<\s*script/i.test(tag)) {
      const src = attrs.get('src');
      if (src !== undefined && src !== '') assets.push({ kind: 'script', href: src });
      continue;
    }
    const rel = (attrs.get('rel') ?? '').toLowerCase().split(/\s+/);
    const href = attrs.get('href');
    if (href === undefined || href === '') continue;
    if (rel.includes('modulepreload')) assets.push({ kind: 'modulepreload', href });
    else if (rel.includes('stylesheet')) assets.push({ kind: 'stylesheet', href });
  }
  return assets;
}
