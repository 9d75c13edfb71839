import { ISOLATED, serve } from './scripts/serve.mjs';
import { launch } from './tests/e2e/browser.mjs';
const server = await serve('build/web', 0, () => {}, {}, ISOLATED);
const context = await launch();
let hung = 0;
for (let i = 0; i < 12; i++) {
  const page = await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  await page.goto(`${server.url}?backend=cpu&task=image&testHooks=1`);
  const ok = await page.waitForFunction(() => document.getElementById('backend-status')?.dataset.kind, null, { timeout: 20_000 }).then(() => true, () => false);
  if (!ok) { hung++; console.log('HUNG', i, logs.join(' | ').slice(0, 500)); }
  await page.close();
}
console.log('hung', hung, 'of 12');
await context.close(); await server.close();
