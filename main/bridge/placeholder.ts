/** The page served at `/` until the renderer is built (dist/renderer/index.html): no script, no inline style. */
export const PLACEHOLDER_HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>MemScope</title></head>
<body>
<main>
<h1>MemScope</h1>
<p>The renderer is not built: run <code>npm run build</code>, then start <code>memscope serve</code> again.</p>
</main>
</body>
</html>
`;
