// Drives authprobe serve's dashboard in a real Chromium, as a person would: create the
// first account, add the lab as a target with its credentials, scan it, let the lab
// change (another lab, other flaws: the API the target points at moves), scan again, read
// the diff and the trend. Run by tests/dashboard_ui.rs, which starts the labs and the
// server and passes them in the environment. Screenshots go to $SHOTS.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`missing ${k}`);
  return v;
};
const BASE = env('BASE');
const KEY = env('KEY');
const SHOTS = env('SHOTS');
const A = JSON.parse(env('LAB_A'));
const B = JSON.parse(env('LAB_B'));
const CHECKS = env('CHECKS');
mkdirSync(SHOTS, { recursive: true });

const problems = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const step = (m) => process.stderr.write(`ui: ${m}\n`);
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  let expect404 = false;
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (expect404 && m.text().includes('status of 404')) return;
    problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const shot = (name) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

  step('login page');
  await page.goto(`${BASE}/`);
  if (!page.url().endsWith('/login')) throw new Error(`not sent to /login: ${page.url()}`);
  await shot('login');

  step('first account');
  await page.goto(`${BASE}/setup`);
  await shot('setup');
  await page.fill('[name=admin_key]', KEY);
  await page.fill('[name=username]', 'alice');
  await page.fill('[name=password]', 'correct horse battery');
  await page.fill('[name=password2]', 'correct horse battery');
  await Promise.all([page.waitForNavigation(), page.locator('form[action="/setup"] [type=submit]').click()]);
  if (new URL(page.url()).pathname !== '/') throw new Error(`after setup: ${page.url()}`);
  await shot('targets-empty');

  // Sign out and in again: the session cookie must work in a real browser.
  await Promise.all([page.waitForNavigation(), page.locator('form[action="/logout"] [type=submit]').click()]);
  await page.fill('[name=username]', 'alice');
  await page.fill('[name=password]', 'correct horse battery');
  await Promise.all([page.waitForNavigation(), page.locator('form[action="/login"] [type=submit]').click()]);
  if (new URL(page.url()).pathname !== '/') throw new Error(`login failed: ${page.url()}`);

  step('add the lab');
  await page.goto(`${BASE}/targets/new`);
  await page.fill('[name=name]', 'Lab API');
  await page.fill('[name=url]', A.url);
  await page.fill('[name=checks]', CHECKS);
  // Before any secret is typed: the screenshot goes into the docs.
  await shot('new-target');
  await page.fill('[name=bearer]', A.bearer);
  // The certificate fields sit in a collapsed section: open it as a person would.
  const tlsBox = page.locator('details:has([name=client_cert_pem])');
  if (await tlsBox.count() && !(await tlsBox.evaluate((d) => d.open))) await tlsBox.locator('summary').click();
  await page.fill('[name=client_cert_pem]', A.client_cert_pem);
  await page.fill('[name=client_key_pem]', A.client_key_pem);
  await page.fill('[name=server_ca_pem]', A.server_ca_pem);
  const scanNow = page.locator('[name=scan_now]');
  if (await scanNow.count() && !(await scanNow.isChecked())) await scanNow.check();
  await Promise.all([page.waitForNavigation(), page.locator('form[action="/targets"] [type=submit]').click()]);
  const first = new URL(page.url()).pathname;
  if (!/^\/scans\/\d+$/.test(first)) throw new Error(`not on the scan page: ${page.url()}`);
  const firstId = Number(first.split('/')[2]);

  // The page follows the scan live (SSE) and reloads itself when it ends.
  step(`scan ${firstId}`);
  await page.waitForFunction(() => document.body.innerText.includes('jwt.alg_none'), null, { timeout: 120000 });
  await shot('scan');
  const targetId = await (await fetch(`${BASE}/api/v1/scans/${firstId}`, { headers: { authorization: `Bearer ${KEY}` } })).json()
    .then((s) => s.target_id);

  step('the lab changes');
  const patch = await fetch(`${BASE}/api/v1/targets/${targetId}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: B.url, credentials: { bearer: B.bearer, client_cert_pem: B.client_cert_pem, client_key_pem: B.client_key_pem, server_ca_pem: B.server_ca_pem } }),
  });
  if (patch.status !== 200) throw new Error(`PATCH ${patch.status}`);

  step('scan again from the target page');
  await page.goto(`${BASE}/targets/${targetId}`);
  await Promise.all([page.waitForNavigation(), page.locator(`form[action="/targets/${targetId}/scans"] [type=submit]`).first().click()]);
  const second = new URL(page.url()).pathname;
  if (!/^\/scans\/\d+$/.test(second)) throw new Error(`not on the second scan page: ${page.url()}`);
  const secondId = Number(second.split('/')[2]);
  if (secondId === firstId) throw new Error('no new scan');
  await page.waitForFunction(() => document.body.innerText.includes('jwt.missing_exp'), null, { timeout: 120000 });

  step('history and trend');
  await page.goto(`${BASE}/targets/${targetId}`);
  const text = await page.locator('body').innerText();
  for (const id of [firstId, secondId]) {
    if (!(await page.locator(`a[href="/scans/${id}"]`).count())) throw new Error(`history lacks scan ${id}`);
  }
  if (!(await page.locator('svg').count())) throw new Error('no chart on the target page');
  await shot('target');

  step('diff');
  await page.goto(`${BASE}/targets/${targetId}/diff?from=${firstId}&to=${secondId}`);
  const diff = await page.locator('body').innerText();
  for (const want of ['jwt.missing_exp', 'jwt.alg_none', 'tls.hsts_missing']) {
    if (!diff.includes(want)) throw new Error(`diff lacks ${want}`);
  }
  // New findings come before fixed ones, as the page promises.
  if (diff.indexOf('jwt.missing_exp') > diff.indexOf('jwt.alg_none')) throw new Error('new is not above fixed');
  await shot('diff');

  step('targets list');
  await page.goto(`${BASE}/`);
  if (!(await page.locator('body').innerText()).includes('Lab API')) throw new Error('target not listed');
  await shot('targets');

  // An error page a person understands (and no stack trace).
  expect404 = true;
  const missing = await page.goto(`${BASE}/scans/999999`);
  expect404 = false;
  if (missing.status() !== 404) throw new Error(`missing scan: ${missing.status()}`);
  if (!(await page.locator('body').innerText()).includes('No such scan')) throw new Error('404 page unclear');
  await shot('not-found');

  // Readable without JavaScript.
  const plain = await browser.newContext({ javaScriptEnabled: false, storageState: await context.storageState() });
  const p2 = await plain.newPage();
  await p2.goto(`${BASE}/scans/${secondId}`);
  if (!(await p2.locator('body').innerText()).includes('jwt.missing_exp')) throw new Error('scan page needs JavaScript');
  await plain.close();

  console.log(JSON.stringify({ ok: problems.length === 0, problems, target: targetId, scans: [firstId, secondId], history_text: text.length }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, problems: [...problems, String(e && e.stack || e)] }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
