// A browser for Go tests: reads one JSON command a line on stdin, drives
// Debian's chromium through playwright-core, and answers one JSON line a
// command on stdout: {"id", "ok", "value"} or {"id", "ok": false, "error"}.
// The page's console messages and errors go to stderr, for the test's log.
// console/browser_test.go is its user; the commands are those of `ops`.
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
];

let context = null;
let page = null;
let tracing = null;

const ops = {
  // launch starts chromium with a fresh profile directory.
  async launch({ executablePath, userDataDir, width, height }) {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath, args: ARGS, headless: true, viewport: { width, height }, deviceScaleFactor: 1,
      bypassCSP: true, // the tests' waitFor evaluates strings; the pages themselves need no eval
    });
    page = context.pages()[0] || await context.newPage();
    watch(page);
  },
  // newPage closes the page and opens another: sessionStorage (the
  // console's login) starts empty.
  async newPage() {
    await page.close();
    page = await context.newPage();
    watch(page);
  },
  async viewport({ width, height }) { await page.setViewportSize({ width, height }); },
  async goto({ url }) { await page.goto(url); },
  async waitFor({ js, timeout }) { await page.waitForFunction(js, undefined, { timeout, polling: 100 }); },
  async eval({ js }) { return page.evaluate(js); },
  async click({ selector }) { await page.click(selector); },
  async clickAt({ x, y }) { await page.mouse.click(x, y); },
  async fill({ selector, value }) { await page.fill(selector, value); },
  async press({ selector, key }) { await page.press(selector, key); },
  async select({ selector, value }) { await page.selectOption(selector, value); },
  async text({ selector }) { return page.textContent(selector); },
  async screenshot({ path }) {
    const b = await page.screenshot({ path: path || undefined, type: 'png' });
    return path ? null : b.toString('base64');
  },
  // startTrace records chromium's trace, the page's and its workers' CPU
  // samples included, until stopTrace writes it to path (open it in
  // chromium's DevTools, Performance, or summarize it with
  // test/profile.mjs).
  async startTrace() {
    tracing = await context.newCDPSession(page);
    await tracing.send('Tracing.start', {
      transferMode: 'ReturnAsStream',
      traceConfig: { includedCategories: ['devtools.timeline', 'v8.execute', 'disabled-by-default-devtools.timeline', 'disabled-by-default-v8.cpu_profiler'] },
    });
  },
  async stopTrace({ path }) {
    const done = new Promise((resolve) => tracing.once('Tracing.tracingComplete', resolve));
    await tracing.send('Tracing.end');
    const { stream } = await done;
    const chunks = [];
    for (;;) {
      const { data, eof, base64Encoded } = await tracing.send('IO.read', { handle: stream });
      chunks.push(Buffer.from(data, base64Encoded ? 'base64' : 'utf8'));
      if (eof) break;
    }
    await tracing.send('IO.close', { handle: stream });
    writeFileSync(path, Buffer.concat(chunks));
    await tracing.detach();
    tracing = null;
  },
  async close() { if (context) await context.close(); context = null; },
};

function watch(p) {
  p.on('console', (m) => process.stderr.write(`console.${m.type()}: ${m.text()}\n`));
  p.on('pageerror', (e) => process.stderr.write(`pageerror: ${e.message}\n`));
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const cmd = JSON.parse(line);
  let reply;
  try {
    const value = await ops[cmd.op](cmd);
    reply = { id: cmd.id, ok: true, value: value ?? null };
  } catch (err) {
    reply = { id: cmd.id, ok: false, error: String(err && err.message || err) };
  }
  let out;
  try {
    out = JSON.stringify(reply);
  } catch (err) {
    out = JSON.stringify({ id: cmd.id, ok: false, error: `the value cannot be sent: ${err.message}` });
  }
  process.stdout.write(`${out}\n`);
}
await ops.close();
