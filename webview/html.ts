// The listeners view's HTML, shared by the extension (which fills in webview URIs) and the
// webview tests (which serve dist/webview themselves). The CSP comes first in <head>: nothing but
// our nonce'd module script runs, and styles, fonts and images load only from the webview folder.

export interface ListenersHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  /** Base URI of dist/webview, without a trailing slash. */
  baseUri: string;
  /** A fresh random nonce per page (crypto.randomBytes). */
  nonce: string;
}

function attr(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

export function listenersHtml({ cspSource, baseUri, nonce }: ListenersHtmlOptions): string {
  if (!/^[A-Za-z0-9+/=_-]{16,}$/.test(nonce)) throw new Error('the nonce must be 16+ base64 characters');
  const csp = [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  const base = attr(baseUri);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" id="vscode-codicon-stylesheet" href="${base}/codicon.css">
<link rel="stylesheet" href="${base}/main.css">
<title>Listeners</title>
</head>
<body>
<main id="app" aria-live="polite" aria-busy="true"></main>
<script type="module" nonce="${attr(nonce)}" src="${base}/main.js"></script>
</body>
</html>
`;
}
