import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { it } from 'vitest';
import { startPagesFixture } from './pages-fixture.ts';
it('shots', async () => {
  const f = await startPagesFixture();
  const server = await new Promise<import('node:http').Server>((r) => { const s = f.app.listen(0, '127.0.0.1', () => r(s)); });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  const pages = (process.env.SHOTS ?? '/,/signatories/acme.test').split(',');
  const scheme = (process.env.SCHEME ?? 'light') as 'light' | 'dark';
  for (const p of pages) {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 800 }, colorScheme: scheme });
    const page = await ctx.newPage();
    await page.goto(base + p);
    await page.waitForTimeout(1500);
    const h = await page.evaluate(() => document.documentElement.scrollHeight);
    for (let y = 0, i = 0; y < h; y += 800, i++) {
      await page.screenshot({ path: `/tmp/shot-${p.replace(/\W+/g, '_')}-${i}.png`, clip: { x: 0, y, width: 390, height: Math.min(800, h - y) }, fullPage: true });
    }
    await ctx.close();
  }
  await browser.close(); server.close(); await f.close();
});
