// Browser tests of the intake in real headless Chromium (Debian's), driven by
// playwright-core, with axe-core for the WCAG 2.1 A/AA rules.
//
// Started by tests/browser.rs, which runs five real signaal servers:
//   SIGNAAL_URL         an ordinary server
//   SIGNAAL_STRICT_URL  one with tight limits (a burst of 1, a 2 KiB body) that
//                       treats loopback as a work network
//   SIGNAAL_BUSY_URL    one that lets an address send two things an hour, so
//                       a sender's message is stopped by the limit
//   SIGNAAL_HELD_URL    one that allows one look-up or submission a second
//                       for everyone, so a message is held back before its
//                       signal can be opened
//   SIGNAAL_PUBLISHED_URL  one with a published hardship, and
//   SIGNAAL_PART_OF_CODE   the receipt code of a signal linked to it
//   SIGNAAL_REVIEW_URL  the ordinary server's review face, and
//   SIGNAAL_REVIEW_PASSPHRASE  its demo reviewer's passphrase
// Optional: SIGNAAL_SHOTS (folder for screenshots at 320 and 1280 px),
//           SIGNAAL_REPORT (file for the axe table as JSON),
//           SIGNAAL_CHROMIUM (the browser; default /usr/bin/chromium).
//
// Prints one line per check and closes with "N passed, N failed".

import { chromium } from 'playwright-core';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const BASE = process.env.SIGNAAL_URL;
const STRICT = process.env.SIGNAAL_STRICT_URL;
const BUSY = process.env.SIGNAAL_BUSY_URL;
const HELD = process.env.SIGNAAL_HELD_URL;
const PUBLISHED = process.env.SIGNAAL_PUBLISHED_URL;
const PART_OF_CODE = process.env.SIGNAAL_PART_OF_CODE;
const SHOTS = process.env.SIGNAAL_SHOTS;
const REPORT = process.env.SIGNAAL_REPORT;
const REVIEW = process.env.SIGNAAL_REVIEW_URL;
const REVIEW_PASSPHRASE = process.env.SIGNAAL_REVIEW_PASSPHRASE;
const DB = process.env.SIGNAAL_DB;
if (!BASE || !STRICT || !BUSY || !HELD || !PUBLISHED || !PART_OF_CODE || !REVIEW || !REVIEW_PASSPHRASE || !DB) {
  console.error('SIGNAAL_URL, SIGNAAL_STRICT_URL, SIGNAAL_BUSY_URL, SIGNAAL_HELD_URL, SIGNAAL_PUBLISHED_URL, SIGNAAL_PART_OF_CODE, SIGNAAL_REVIEW_URL, SIGNAAL_REVIEW_PASSPHRASE and SIGNAAL_DB must be set (tests/browser.rs sets them)');
  process.exit(2);
}
const ORIGINS = new Set([BASE, STRICT, BUSY, HELD, PUBLISHED].map((u) => new URL(u).origin));
const RECEIPT = /^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$/;

// ---- a tiny harness ----

const results = [];
async function check(name, fn) {
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok - ${name}`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`not ok - ${name}\n    ${String(e && e.stack ? e.stack : e).split('\n').slice(0, 4).join('\n    ')}`);
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// ---- the browser, watched for other origins, cookies, CSP reports ----

// playwright-core gives every launch a fresh, empty --user-data-dir of its own
// and removes it afterwards.
const browser = await chromium.launch({
  executablePath: process.env.SIGNAAL_CHROMIUM || '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync',
  ],
});

const foreign = [];   // requests to another origin
const cspReports = []; // console reports of a Content-Security-Policy violation
const documents = []; // main-document responses: { url, status, headers }
const contexts = [];

// `seen` is where the watchers write: the whole run's lists, or a control's own.
async function newContext({ js = false, lang = 'nl', width = 1280, seen = { foreign, cspReports, documents }, allowed = ORIGINS } = {}) {
  const ctx = await browser.newContext({
    javaScriptEnabled: js,
    locale: lang === 'nl' ? 'nl-NL' : 'en-GB',
    viewport: { width, height: 900 },
  });
  contexts.push(ctx);
  ctx.on('request', (req) => {
    const url = new URL(req.url());
    if (!['data:', 'about:'].includes(url.protocol) && !allowed.has(url.origin)) {
      seen.foreign.push(req.url());
    }
  });
  ctx.on('response', async (res) => {
    if (res.request().resourceType() === 'document') {
      seen.documents.push({ url: res.url(), method: res.request().method(), status: res.status(), headers: await res.allHeaders() });
    }
  });
  ctx.on('page', (page) => {
    page.on('console', (msg) => {
      if (/Content.Security.Policy/i.test(msg.text())) seen.cspReports.push(msg.text());
    });
  });
  return ctx;
}

// Waits up to `ms` for `cond()`; says whether it came.
async function eventually(cond, ms = 5000) {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

async function activeId(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    return el ? (el.id || el.tagName.toLowerCase()) : null;
  });
}

// The browser applies `autofocus` at its next rendering step, which may come
// after the load event; wait up to two seconds for it rather than racing it.
async function focusLandsOn(page, id) {
  try {
    await page.waitForFunction((want) => document.activeElement && document.activeElement.id === want, id, { timeout: 2000 });
    return true;
  } catch {
    return false;
  }
}

const receipts = []; // every receipt code seen, to look for in addresses

// The signals SIGNAAL_URL's server has stored, counted in its database file.
function storedSignals() {
  const out = execFileSync('sqlite3', ['-readonly', DB, 'SELECT count(*) FROM all_signals;'], { encoding: 'utf8' });
  const n = Number(out.trim());
  assert(Number.isInteger(n), `odd signal count ${out}`);
  return n;
}

async function receiptOf(page) {
  const el = page.locator('[data-receipt]');
  assert((await el.count()) === 1, `no receipt on ${page.url()}`);
  const code = await el.getAttribute('data-receipt');
  assert(RECEIPT.test(code), `odd receipt code ${code}`);
  assert((await el.innerText()).trim() === code, 'the code shown differs from data-receipt');
  receipts.push(code);
  return code;
}

// The buttons' texts in each language.
const t = {
  nl: { submit: 'Signaal versturen', open: 'Mijn signaal tonen', send: 'Bericht versturen', withdraw: 'Signaal intrekken', confirm: 'Ja, trek mijn signaal in' },
  en: { submit: 'Send report', open: 'Show my report', send: 'Send message', withdraw: 'Withdraw report', confirm: 'Yes, withdraw my report' },
};

// WCAG's relative luminance and contrast ratio of two CSS colours (rgb or rgba).
function luminance(css) {
  const [r, g, b] = css.match(/[\d.]+/g).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

// The colours of the focus ring on the focused element, and the background
// it stands on (the first ancestor with a colour of its own).
async function focusRing(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    let bg = 'rgb(255, 255, 255)';
    for (let n = el.parentElement; n; n = n.parentElement) {
      const c = getComputedStyle(n).backgroundColor;
      if (c && c !== 'transparent' && !c.startsWith('rgba(0, 0, 0, 0')) { bg = c; break; }
    }
    const shadows = style.boxShadow.match(/rgba?\([^)]*\)/g) || [];
    return { id: el.id || el.className || `${el.tagName.toLowerCase()} ${el.textContent.trim().slice(0, 20)}`, outline: style.outlineColor, outlineWidth: style.outlineWidth, outlineStyle: style.outlineStyle, shadows, background: bg };
  }).then((ring) => {
    // Of every colour of the shadows (a ring may be several), the one that
    // stands out most against the background.
    const [shadow] = [...ring.shadows].sort((a, b) => contrast(b, ring.background) - contrast(a, ring.background));
    return { ...ring, shadow: shadow || null };
  });
}

// Gives a signal and comes back with its code typed as a person might
// (lower case, spaces), on the follow-up page reached from the receipt.
async function comeBack(page, lang, base = BASE) {
  await page.goto(`${base}/?lang=${lang}`);
  await page.fill('#situation', 'Een regel die te hard uitpakt.');
  await page.click(`button:has-text("${t[lang].submit}")`);
  await page.waitForLoadState('load');
  const code = await receiptOf(page);
  await page.click(`main a[href="/follow-up?lang=${lang}"]`);
  await page.waitForLoadState('load');
  await page.fill('#receipt', code.toLowerCase().replaceAll('-', ' '));
  await page.click(`button:has-text("${t[lang].open}")`);
  await page.waitForLoadState('load');
  return code;
}

// On the busy server (two things an hour from an address): one signal, then
// messages until the limit stops one; the page that answers it.
const STOPPED_TEXT = 'Een aanvulling die even moet wachten.';
let busyCode = null;
async function stoppedMessage(page, lang) {
  if (!busyCode) {
    await page.goto(`${BUSY}/?lang=${lang}`);
    await page.fill('#situation', 'Een regel die te hard uitpakt.');
    await page.click(`button:has-text("${t[lang].submit}")`);
    await page.waitForLoadState('load');
    busyCode = await receiptOf(page);
  }
  await page.goto(`${BUSY}/follow-up?lang=${lang}`);
  await page.fill('#receipt', busyCode);
  await page.click(`button:has-text("${t[lang].open}")`);
  await page.waitForLoadState('load');
  for (let i = 0; i < 4; i++) {
    await page.fill('#message', STOPPED_TEXT);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/follow-up/message')),
      page.click(`button:has-text("${t[lang].send}")`),
    ]);
    await page.waitForLoadState('load');
    if (res.status() === 429) return;
  }
  throw new Error('no message was stopped');
}

// On the held server (one look-up or submission a second for everyone): a
// message sent at once after its thread was opened is stopped before the
// signal can be opened, and comes back on its own with the text kept.
let heldCode = null;
async function heldMessage(page, lang) {
  if (!heldCode) {
    await page.goto(`${HELD}/?lang=${lang}`);
    await page.fill('#situation', 'Een regel die te hard uitpakt.');
    await page.click(`button:has-text("${t[lang].submit}")`);
    await page.waitForLoadState('load');
    heldCode = await receiptOf(page);
  }
  for (let i = 0; i < 4; i++) {
    await page.waitForTimeout(1100);
    await page.goto(`${HELD}/follow-up?lang=${lang}`);
    await page.fill('#receipt', heldCode);
    await page.click(`button:has-text("${t[lang].open}")`);
    await page.waitForLoadState('load');
    if ((await page.locator('#message').count()) === 0) continue;
    await page.fill('#message', STOPPED_TEXT);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/follow-up/message')),
      page.click(`button:has-text("${t[lang].send}")`),
    ]);
    await page.waitForLoadState('load');
    if (res.status() === 429 && (await page.locator('[data-held]').count()) === 1) {
      assert((await page.inputValue('#message')) === STOPPED_TEXT, 'the held message lost its text');
      return;
    }
  }
  throw new Error('no message was held back');
}

// A form sent again with its first token: `fill` types into the form that
// carries `token` (set in the hidden field, as "back" restores it).
async function sendWithToken(page, lang, token, text) {
  await page.goto(`${BASE}/?lang=${lang}`);
  await page.evaluate((v) => { document.querySelector('[name=form_token]').value = v; }, token);
  await page.fill('#situation', text);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/signal')),
    page.click(`button:has-text("${t[lang].submit}")`),
  ]);
  await page.waitForLoadState('load');
  return res;
}

// A signal given on a fresh form: its token and its code.
async function giveSignal(page, lang, text) {
  await page.goto(`${BASE}/?lang=${lang}`);
  const token = await page.inputValue('[name=form_token]');
  await page.fill('#situation', text);
  await page.click(`button:has-text("${t[lang].submit}")`);
  await page.waitForLoadState('load');
  return { token, code: await receiptOf(page) };
}

// ---- the watchers themselves: shown to fire on a page that does what no page may ----

for (const js of [false, true]) {
  await check(`the watchers see a request to another origin and a broken Content-Security-Policy (JavaScript ${js ? 'on' : 'off'})`, async () => {
    const seen = { foreign: [], cspReports: [], documents: [] };
    const ctx = await newContext({ js, seen });
    // Both answered inside the browser (route.fulfill): nothing leaves this machine.
    await ctx.route('http://foreign.invalid/**', (route) => route.fulfill({ status: 204, body: '' }));
    await ctx.route(`${BASE}/watcher-control`, (route) => route.fulfill({
      status: 200,
      contentType: 'text/html; charset=utf-8',
      headers: { 'content-security-policy': "default-src 'none'; img-src http://foreign.invalid" },
      body: '<!doctype html><html lang="en"><title>control</title><style>p { color: red }</style>'
        + '<p>control</p><img src="http://foreign.invalid/pixel.png" alt=""></html>',
    }));
    const page = await ctx.newPage();
    await page.goto(`${BASE}/watcher-control`);
    await page.waitForLoadState('load');
    assert(await eventually(() => seen.foreign.some((u) => u.startsWith('http://foreign.invalid/'))), `foreign requests seen: ${seen.foreign.join(', ')}`);
    assert(await eventually(() => seen.cspReports.length > 0), 'no CSP report for an inline style the policy forbids');
    assert(seen.documents.length === 1, `documents seen: ${seen.documents.length}`);
    await ctx.close();
    contexts.splice(contexts.indexOf(ctx), 1);
  });
}

// ---- functional checks with JavaScript off ----

for (const lang of ['nl', 'en']) {
  await check(`a professional fills in and sends the form with JavaScript off (${lang})`, async () => {
    const ctx = await newContext({ lang });
    const page = await ctx.newPage();
    const res = await page.goto(`${BASE}/`);
    assert(res.status() === 200, `status ${res.status()}`);
    assert((await page.getAttribute('html', 'lang')) === lang, 'html lang follows Accept-Language');
    await page.fill('#situation', 'Bij een kleine fout in de aanvraag vervalt de hele toeslag, ook als de fout niets uitmaakt.');
    await page.click('details.more summary');
    await page.fill('#rule', 'Artikel 3 van de regeling');
    await page.selectOption('#domain', 'benefits');
    await page.check('#origin');
    await page.click(`button:has-text("${t[lang].submit}")`);
    await page.waitForLoadState('load');
    await receiptOf(page);
    assert((await page.getAttribute('html', 'lang')) === lang, 'the receipt is in the same language');
    // On paper: the code and the advice, without the site's header, footer or links onward.
    await page.emulateMedia({ media: 'print' });
    assert(await page.locator('[data-receipt]').isVisible(), 'the code prints');
    for (const gone of ['header.site', 'footer.site', '.no-print >> nth=0']) {
      assert(!(await page.locator(gone).isVisible()), `${gone} is printed`);
    }
    await page.emulateMedia({ media: 'screen' });
  });

  await check(`a blank submit shows the error summary and moves focus to it, without JavaScript (${lang})`, async () => {
    const ctx = await newContext({ lang });
    const page = await ctx.newPage();
    await page.goto(`${BASE}/?lang=${lang}`);
    await page.click('details.more summary');
    await page.fill('#organisation', 'Gemeente Voorbeeld');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/signal')),
      page.click(`button:has-text("${t[lang].submit}")`),
    ]);
    assert(res.status() === 422, `status ${res.status()}`);
    await page.waitForLoadState('load');
    assert(await page.locator('#error-summary').isVisible(), 'no error summary');
    assert(await focusLandsOn(page, 'error-summary'), `focus is on ${await activeId(page)}`);
    assert((await page.getAttribute('#error-summary a', 'href')) === '#situation', 'the summary links to the field');
    assert((await page.getAttribute('#situation', 'aria-invalid')) === 'true', 'the field is marked invalid');
    const described = await page.getAttribute('#situation', 'aria-describedby');
    assert(described.split(' ').includes('situation-error'), `aria-describedby is ${described}`);
    assert((await page.inputValue('#organisation')) === 'Gemeente Voorbeeld', 'what was typed is kept');
    assert(await page.locator('#organisation').isVisible(), 'optional answers come back in an open group');
    assert((await page.title()).length > 0 && (await page.title()) !== (await page.locator('h1').innerText()), 'the title says there is a problem');
    // Following the summary's link puts the cursor in the field.
    await page.click('#error-summary a');
    assert(await focusLandsOn(page, 'situation'), 'the link leads to the field');
  });

  await check(`the guard holds back a BSN and lets it through after confirmation (${lang})`, async () => {
    const ctx = await newContext({ lang });
    const page = await ctx.newPage();
    await page.goto(`${BASE}/?lang=${lang}`);
    const text = 'Mevrouw met BSN 123456782 kreeg een boete omdat de regel geen uitzondering kent.';
    await page.fill('#situation', text);
    await page.click(`button:has-text("${t[lang].submit}")`);
    await page.waitForLoadState('load');
    assert(await page.locator('#guard-summary').isVisible(), 'no personal-data notice');
    assert((await page.locator('[data-receipt]').count()) === 0, 'a receipt was shown for a held-back signal');
    assert(await focusLandsOn(page, 'guard-summary'), `focus is on ${await activeId(page)}`);
    assert((await page.inputValue('#situation')) === text, 'the text is kept');
    assert(/BSN/.test(await page.locator('#guard-summary').innerText()), 'the notice names the kind');
    assert(!(await page.locator('#guard-summary').innerText()).includes('123456782'), 'the notice repeats the number');
    await page.check('#confirm_personal_data');
    await page.click(`button:has-text("${t[lang].submit}")`);
    await page.waitForLoadState('load');
    await receiptOf(page);
  });
}

await check('switching language keeps what was typed, the receipt code and an unsent message, JavaScript off', async () => {
  const ctx = await newContext({ lang: 'nl' });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/?lang=nl`);
  await page.click('details.more summary');
  await page.fill('#organisation', 'Gemeente Voorbeeld');
  await page.click(`button:has-text("${t.nl.submit}")`);
  await page.waitForLoadState('load');
  await page.fill('#situation', 'Halverwege bedenk ik dat het Engels beter is.');
  await page.click('header.site .lang');
  await page.waitForLoadState('load');
  assert((await page.getAttribute('html', 'lang')) === 'en', 'the page is in English');
  assert(page.url().endsWith('/signal?lang=en'), `the address says the language: ${page.url()}`);
  assert((await page.inputValue('#situation')) === 'Halverwege bedenk ik dat het Engels beter is.', 'the text is kept');
  assert((await page.inputValue('#organisation')) === 'Gemeente Voorbeeld', 'the optional answer is kept');
  assert((await page.locator('[data-receipt]').count()) === 0, 'a switch is not a submission');
  await page.click(`button:has-text("${t.en.submit}")`);
  await page.waitForLoadState('load');
  const code = await receiptOf(page);
  await page.click('header.site .lang');
  await page.waitForLoadState('load');
  assert((await page.getAttribute('html', 'lang')) === 'nl', 'the receipt is in Dutch');
  assert((await receiptOf(page)) === code, 'the same code is shown');
  const thread = await ctx.newPage();
  await comeBack(thread, 'nl');
  await thread.fill('#message', 'Een half bericht');
  await thread.click('header.site .lang');
  await thread.waitForLoadState('load');
  assert((await thread.getAttribute('html', 'lang')) === 'en', 'the thread is in English');
  assert((await thread.inputValue('#message')) === 'Een half bericht', 'the unsent message is kept');
  assert((await thread.locator('[data-sent]').count()) === 0, 'nothing was sent');
});

for (const lang of ['nl', 'en']) {
  await check(`a sender comes back with the code, reads the status and writes to the team, JavaScript off (${lang})`, async () => {
    const ctx = await newContext({ lang });
    const page = await ctx.newPage();
    const code = await comeBack(page, lang);
    assert((await page.locator('[data-status="new"]').count()) === 1, 'no status');
    assert((await page.locator('dl.answers').innerText()).includes('Een regel die te hard uitpakt.'), 'the signal as sent');
    await page.fill('#message', 'Het gaat om de regel over de peildatum.');
    await page.click(`button:has-text("${t[lang].send}")`);
    await page.waitForLoadState('load');
    assert((await page.locator('[data-sent]').count()) === 1, 'no confirmation');
    assert((await page.locator('article.message[data-author="sender"]').innerText()).includes('peildatum'), 'the message is in the thread');
    assert((await page.getAttribute('html', 'lang')) === lang, 'the page stays in its language');
    assert(!page.url().toUpperCase().replaceAll(/[- ]/g, '').includes(code.replaceAll('-', '')), `the code is in ${page.url()}`);
  });

  await check(`a wrong code gets the error summary with focus on it, without JavaScript (${lang})`, async () => {
    const ctx = await newContext({ lang });
    const page = await ctx.newPage();
    await page.goto(`${BASE}/follow-up?lang=${lang}`);
    await page.fill('#receipt', 'ABCD-EFGH-JKMN-PQRS-TV01');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/follow-up')),
      page.click(`button:has-text("${t[lang].open}")`),
    ]);
    assert(res.status() === 404, `status ${res.status()}`);
    await page.waitForLoadState('load');
    assert(await focusLandsOn(page, 'error-summary'), `focus is on ${await activeId(page)}`);
    assert((await page.getAttribute('#receipt', 'aria-invalid')) === 'true', 'the field is marked invalid');
    assert((await page.inputValue('#receipt')) === '', 'a refused code is not shown back');
  });
}

// ---- keyboard only ----

await check('a keyboard user reaches every part and sends a signal without a mouse', async () => {
  const ctx = await newContext({ js: true, lang: 'nl' });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/`);
  await page.keyboard.press('Tab');
  assert((await page.evaluate(() => document.activeElement.className)) === 'skip', 'the skip link comes first');
  await page.keyboard.press('Enter');
  let tabs = 0;
  while ((await activeId(page)) !== 'situation' && tabs++ < 10) await page.keyboard.press('Tab');
  assert((await activeId(page)) === 'situation', 'Tab reaches the question');
  await page.keyboard.type('Wie een dag te laat een formulier inlevert, verliest drie maanden zijn uitkering.');
  // Open the optional questions with the keyboard and answer one.
  while ((await activeId(page)) !== 'summary' && tabs++ < 20) await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  assert((await activeId(page)) === 'rule', 'the optional questions open with Enter');
  await page.keyboard.type('Sanctiebeleid');
  while ((await activeId(page)) !== 'button' && tabs++ < 40) await page.keyboard.press('Tab');
  assert((await activeId(page)) === 'button', 'Tab reaches the send button');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  await receiptOf(page);
});

// ---- focus you can see ----

await check('the focus ring is two colours with at least 3:1 against what it stands on, computed in the browser', async () => {
  const ctx = await newContext({ js: true, lang: 'nl' });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/`);
  const seen = [];
  // The skip link, the header's links on the dark band, the form's fields, buttons and links.
  for (let tabs = 0; tabs < 30; tabs++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement === document.body)) break;
    const ring = await focusRing(page);
    assert(ring.outlineStyle !== 'none' && parseFloat(ring.outlineWidth) >= 2, `no outline on ${ring.id}: ${JSON.stringify(ring)}`);
    assert(ring.shadow, `no second colour around ${ring.id}`);
    const best = Math.max(contrast(ring.outline, ring.background), contrast(ring.shadow, ring.background));
    assert(best >= 3, `${ring.id}: ring ${ring.outline}/${ring.shadow} on ${ring.background} is ${best.toFixed(2)}:1`);
    assert(contrast(ring.outline, ring.shadow) >= 3, `${ring.id}: the two colours of the ring are ${contrast(ring.outline, ring.shadow).toFixed(2)}:1`);
    seen.push(`${ring.id} ${best.toFixed(1)}:1`);
  }
  console.log(`    focus contrast: ${seen.slice(0, 8).join(', ')} …`);
});

// ---- one receipt, however often the form is sent ----

for (const lang of ['nl', 'en']) {
  await check(`reloading the receipt sends the form again but stores nothing and shows the same code (${lang})`, async () => {
    const ctx = await newContext({ lang });
    const page = await ctx.newPage();
    await page.goto(`${BASE}/?lang=${lang}`);
    await page.fill('#situation', `Een regel die te hard uitpakt, en de pagina wordt herladen (${lang}).`);
    await page.click(`button:has-text("${t[lang].submit}")`);
    await page.waitForLoadState('load');
    const code = await receiptOf(page);
    const stored = storedSignals();
    const posts = [];
    page.on('request', (r) => { if (r.method() === 'POST' && r.url().includes('/signal')) posts.push(r.url()); });
    for (let i = 0; i < 2; i++) {
      await page.reload();
      await page.waitForLoadState('load');
      assert((await receiptOf(page)) === code, 'a reload shows another code');
    }
    assert(posts.length === 2, `the reloads sent the form ${posts.length} times`);
    assert(storedSignals() === stored, `the reloads stored ${storedSignals() - stored} more signals`);
    // Back to the form and sent again unchanged, as a restored tab would.
    await page.goBack();
    await page.waitForLoadState('load');
    assert((await page.locator('#situation').count()) === 1, `going back did not bring the form back: ${page.url()}`);
    await page.click(`button:has-text("${t[lang].submit}")`);
    await page.waitForLoadState('load');
    assert((await receiptOf(page)) === code, 'the form sent again shows another code');
    assert(posts.length === 3, `going back and sending sent the form ${posts.length - 2} times`);
    assert(storedSignals() === stored, `sending the form again stored ${storedSignals() - stored} more signals`);
    // The receipt holds the address to come back to, on screen and on paper.
    const address = page.locator('[data-follow-up-address]');
    assert((await address.innerText()).endsWith('/follow-up'), 'no follow-up address');
    await page.emulateMedia({ media: 'print' });
    assert(await address.isVisible(), 'the follow-up address is not printed');
    assert(await page.locator('[data-receipt]').isVisible(), 'the code is not printed');
    await page.emulateMedia({ media: 'screen' });
  });
}

await check('the language switch keeps what was typed on the first visit too, JavaScript off', async () => {
  const ctx = await newContext({ lang: 'nl' });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/`);
  await page.fill('#situation', 'Ik begin in het Nederlands.');
  await page.click('header.site .lang');
  await page.waitForLoadState('load');
  assert((await page.getAttribute('html', 'lang')) === 'en', 'the page is in English');
  assert((await page.inputValue('#situation')) === 'Ik begin in het Nederlands.', 'the text is kept');
  assert((await page.locator('#error-summary').count()) === 0, 'a switch shows no error');
  assert((await page.locator('[data-receipt]').count()) === 0, 'a switch is not a submission');
});

await check('the guard\'s confirm link puts the focus on the checkbox', async () => {
  const ctx = await newContext({ js: true, lang: 'nl' });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/`);
  await page.fill('#situation', 'Mevrouw met BSN 123456782 kreeg een boete.');
  await page.click(`button:has-text("${t.nl.submit}")`);
  await page.waitForLoadState('load');
  await page.click('#guard-summary a[href="#confirm_personal_data"]');
  assert(await focusLandsOn(page, 'confirm_personal_data'), `focus is on ${await activeId(page)}`);
  await page.keyboard.press('Space');
  assert(await page.isChecked('#confirm_personal_data'), 'the space bar ticks it');
});

await check('a sender withdraws a signal: asked first, then it is gone and the code opens nothing', async () => {
  const ctx = await newContext({ lang: 'en' });
  const page = await ctx.newPage();
  const code = await comeBack(page, 'en');
  await page.click(`button:has-text("${t.en.withdraw}")`);
  await page.waitForLoadState('load');
  assert((await page.locator('h1').innerText()) === 'Withdraw this report?', 'the question');
  await page.click(`button:has-text("${t.en.confirm}")`);
  await page.waitForLoadState('load');
  assert((await page.locator('[data-withdrawn]').count()) === 1, 'not withdrawn');
  await page.goto(`${BASE}/follow-up?lang=en`);
  await page.fill('#receipt', code);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/follow-up')),
    page.click(`button:has-text("${t.en.open}")`),
  ]);
  assert(res.status() === 404, `the withdrawn code got ${res.status()}`);
});

await check('a message the limit stops comes back with its text and "not sent yet", JavaScript off', async () => {
  const ctx = await newContext({ lang: 'nl' });
  const page = await ctx.newPage();
  await stoppedMessage(page, 'nl');
  assert((await page.inputValue('#message')) === STOPPED_TEXT, 'the text is kept');
  assert((await page.locator('[data-sent]').count()) === 0, 'it says sent');
  assert(/nog niet verstuurd/.test(await page.locator('#error-summary').innerText()), 'no "not sent yet"');
});

// ---- the work-network notice ----

await check('a visitor on a work network sees a calm notice with the QR code', async () => {
  const ctx = await newContext({ js: true, lang: 'nl' });
  const page = await ctx.newPage();
  await page.goto(`${STRICT}/`);
  assert(await page.locator('.work-network').isVisible(), 'no notice');
  const width = await page.evaluate(() => document.querySelector('.work-network img.qr').naturalWidth);
  assert(width > 100, 'the QR image did not load');
  const other = await (await newContext({ js: true })).newPage();
  await other.goto(`${BASE}/`);
  assert((await other.locator('.work-network').count()) === 0, 'the notice shows off a work network');
});

// ---- axe-core on every page, both languages ----

const axeTable = [];

async function axe(page) {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  }, WCAG_TAGS);
}

async function shoot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  for (const width of [1280, 320]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

// The page is loaded in `lang`, axe-core finds no violation, and it is in the
// table (and, when asked, photographed).
async function passesAxe(page, name, lang) {
  await page.waitForLoadState('load');
  assert((await page.getAttribute('html', 'lang')) === lang, `html lang of the ${name} is not ${lang}`);
  const violations = await axe(page);
  axeTable.push({ page: name, lang, violations: violations.length, ids: violations.map((v) => v.id) });
  await shoot(page, `${name.replace(/\W+/g, '-')}-${lang}`);
  assert(violations.length === 0, JSON.stringify(violations, null, 1));
}

// Each page: how to get there in a fresh tab.
const pages = {
  'form': async (p, l) => p.goto(`${BASE}/?lang=${l}`),
  'form with errors': async (p, l) => {
    await p.goto(`${BASE}/?lang=${l}`);
    await p.click(`button:has-text("${t[l].submit}")`);
  },
  'guard notice': async (p, l) => {
    await p.goto(`${BASE}/?lang=${l}`);
    await p.fill('#situation', 'Bel 06-12345678 of mail j.jansen@example.nl over NL91ABNA0417164300.');
    await p.click(`button:has-text("${t[l].submit}")`);
  },
  'receipt': async (p, l) => {
    await p.goto(`${BASE}/?lang=${l}`);
    await p.fill('#situation', 'Een regel die te hard uitpakt.');
    await p.click(`button:has-text("${t[l].submit}")`);
  },
  'privacy': async (p, l) => p.goto(`${BASE}/privacy?lang=${l}`),
  'embed kit': async (p, l) => p.goto(`${BASE}/embed?lang=${l}`),
  'accessibility statement': async (p, l) => p.goto(`${BASE}${l === 'nl' ? '/toegankelijkheid' : '/accessibility'}`),
  'work-network notice': async (p, l) => p.goto(`${STRICT}/?lang=${l}`),
  '429 page': async (p, l) => {
    for (let i = 0; i < 3; i++) {
      await p.goto(`${STRICT}/?lang=${l}`);
      await p.fill('#situation', 'Een regel die te hard uitpakt.');
      const [res] = await Promise.all([
        p.waitForResponse((r) => r.url().includes('/signal')),
        p.click(`button:has-text("${t[l].submit}")`),
      ]);
      if (res.status() === 429) return;
    }
    throw new Error('no 429 after three submissions');
  },
  'follow-up form': async (p, l) => p.goto(`${BASE}/follow-up?lang=${l}`),
  'follow-up refusal': async (p, l) => {
    await p.goto(`${BASE}/follow-up?lang=${l}`);
    await p.fill('#receipt', 'niet de code');
    await p.click(`button:has-text("${t[l].open}")`);
  },
  'follow-up thread': async (p, l) => comeBack(p, l),
  'follow-up message sent': async (p, l) => {
    await comeBack(p, l);
    await p.fill('#message', 'Het gaat om de regel over de peildatum.');
    await p.click(`button:has-text("${t[l].send}")`);
  },
  'follow-up guard notice': async (p, l) => {
    await comeBack(p, l);
    await p.fill('#message', 'Bel mij op 06-12345678.');
    await p.click(`button:has-text("${t[l].send}")`);
  },
  'follow-up 429 page': async (p, l) => {
    for (let i = 0; i < 3; i++) {
      await p.goto(`${STRICT}/follow-up?lang=${l}`);
      await p.fill('#receipt', 'ABCD-EFGH-JKMN-PQRS-TV01');
      const [res] = await Promise.all([
        p.waitForResponse((r) => r.url().includes('/follow-up')),
        p.click(`button:has-text("${t[l].open}")`),
      ]);
      if (res.status() === 429) return;
    }
    throw new Error('no 429 after three codes');
  },
  'withdraw question': async (p, l) => {
    await comeBack(p, l);
    await p.click(`button:has-text("${t[l].withdraw}")`);
  },
  'withdrawn': async (p, l) => {
    await comeBack(p, l);
    await p.click(`button:has-text("${t[l].withdraw}")`);
    await p.waitForLoadState('load');
    await p.click(`button:has-text("${t[l].confirm}")`);
  },
  'message not sent yet': async (p, l) => stoppedMessage(p, l),
  'message held back': async (p, l) => heldMessage(p, l),
  '404 page': async (p, l) => {
    const res = await p.goto(`${BASE}/no-such-page?lang=${l}`);
    assert(res.status() === 404, `status ${res.status()}`);
  },
  'receipt again, changes not added': async (p, l) => {
    const { token, code } = await giveSignal(p, l, 'Een regel die te hard uitpakt.');
    const res = await sendWithToken(p, l, token, 'Een regel die te hard uitpakt, en meer.');
    assert(res.status() === 200, `status ${res.status()}`);
    assert((await p.getAttribute('[data-receipt]', 'data-receipt')) === code, 'another code');
    assert((await p.locator('[data-not-added]').count()) === 1, 'no notice that the changes were not added');
  },
  'form sent again after withdrawing': async (p, l) => {
    const text = 'Een regel die ik terugneem.';
    const { token, code } = await giveSignal(p, l, text);
    await p.goto(`${BASE}/follow-up?lang=${l}`);
    await p.fill('#receipt', code);
    await p.click(`button:has-text("${t[l].open}")`);
    await p.waitForLoadState('load');
    await p.click(`button:has-text("${t[l].withdraw}")`);
    await p.waitForLoadState('load');
    await p.click(`button:has-text("${t[l].confirm}")`);
    await p.waitForLoadState('load');
    const res = await sendWithToken(p, l, token, text);
    assert(res.status() === 410, `status ${res.status()}`);
    assert((await p.locator('[data-receipt]').count()) === 0, 'a receipt for a withdrawn signal');
  },
  // The annual report as `signaal report hardships` writes it: a standalone
  // document, opened as it would be from a file.
  'annual report': async (p, l) => {
    await p.setContent(readFileSync(process.env[`SIGNAAL_ANNUAL_${l.toUpperCase()}`], 'utf8'), { waitUntil: 'load' });
    assert((await p.locator('section.hardship').count()) === 1, 'the published hardship is not in the report');
    assert((await p.locator('nav.toc a[href="#hardship-1"]').count()) === 1, 'no table of contents');
  },
  'results, none published': async (p, l) => p.goto(`${BASE}${l === 'nl' ? '/resultaten' : '/results'}`),
  'results': async (p, l) => {
    await p.goto(`${PUBLISHED}${l === 'nl' ? '/resultaten' : '/results'}`);
    assert((await p.locator('article.hardship').count()) === 1, 'the published hardship is not shown');
    assert((await p.locator('[data-past-target]').count()) === 1, 'the measure past its target is not flagged');
  },
  'follow-up, part of a hardship': async (p, l) => {
    await p.goto(`${PUBLISHED}/follow-up?lang=${l}`);
    await p.fill('#receipt', PART_OF_CODE);
    await p.click(`button:has-text("${t[l].open}")`);
    await p.waitForLoadState('load');
    assert((await p.locator('[data-part-of]').count()) === 1, 'the page does not say what the signal is part of');
  },
  '413 page': async (p, l) => {
    await p.goto(`${STRICT}/?lang=${l}`);
    await p.fill('#situation', 'Te lang. '.repeat(400));
    const [res] = await Promise.all([
      p.waitForResponse((r) => r.url().includes('/signal')),
      p.click(`button:has-text("${t[l].submit}")`),
    ]);
    assert(res.status() === 413, `status ${res.status()}`);
  },
};

for (const [name, go] of Object.entries(pages)) {
  for (const lang of ['nl', 'en']) {
    await check(`axe-core finds no WCAG 2.1 A/AA violation on the ${name} (${lang})`, async () => {
      const ctx = await newContext({ js: true, lang });
      const page = await ctx.newPage();
      await go(page, lang);
      await passesAxe(page, name, lang);
      // Fits a 320 px screen: nothing wider than the viewport.
      await page.setViewportSize({ width: 320, height: 900 });
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      await page.setViewportSize({ width: 1280, height: 900 });
      assert(wide <= 320, `the page is ${wide} px wide at 320 px`);
    });
  }
}

// ---- the review face, in the reviewer's language ----

// Every element that takes the keyboard's focus, reached with Tab as a keyboard
// user reaches it, shows an indicator at least 2 px wide, one of whose colours
// (outline or ring) has 3:1 or more against what is around the element.
async function focusIndicatorsVisible(page, name) {
  await page.evaluate(() => {
    for (const e of document.querySelectorAll('[data-focus-checked]')) delete e.dataset.focusChecked;
    if (document.activeElement) document.activeElement.blur();
    window.scrollTo(0, 0);
  });
  const weak = [];
  let count = 0;
  for (let i = 0; i < 400; i++) {
    await page.keyboard.press('Tab');
    const r = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return { done: true };
      if (el.dataset.focusChecked) return { done: true };
      el.dataset.focusChecked = '1';
      const parse = (c) => {
        const m = /rgba?\(([^)]+)\)/.exec(c || '');
        if (!m) return null;
        const p = m[1].split(',').map((s) => parseFloat(s));
        return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
      };
      const lum = ({ r, g, b }) => {
        const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
      };
      const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
      let around = { r: 255, g: 255, b: 255, a: 1 };
      for (let e = el.parentElement; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c && c.a > 0) { around = c; break; }
      }
      const cs = getComputedStyle(el);
      const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2 ? parse(cs.outlineColor) : null;
      // Every colour of the ring (a two-colour ring is two shadows): the best counts.
      const rings = cs.boxShadow && cs.boxShadow !== 'none' ? (cs.boxShadow.match(/rgba?\([^)]*\)/g) || []).map(parse).filter((c) => c && c.a > 0) : [];
      const best = Math.max(outline ? ratio(outline, around) : 0, ...rings.map((c) => ratio(c, around)));
      const what = `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.getAttribute('name') ? '[name=' + el.getAttribute('name') + ']' : ''}`;
      return { done: false, what, best: Math.round(best * 100) / 100, visible: el.matches(':focus-visible') };
    });
    if (r.done) break;
    count++;
    if (!r.visible || r.best < 3) weak.push(`${r.what} (${r.visible ? r.best + ':1' : 'not :focus-visible'})`);
  }
  assert(count >= 3, `only ${count} focusable elements reached on the ${name}`);
  assert(weak.length === 0, `weak focus indicators on the ${name}: ${weak.join(', ')}`);
}

// No sideways scroll of the page itself at 1,280 px, at 200 % zoom of it
// (zoom lays the page out in half the CSS pixels: 640) and at 320 px.
async function fitsWithoutSidewaysScroll(page, name) {
  for (const [width, what] of [[1280, '1,280 px'], [640, '200 % zoom of 1,280 px'], [320, '320 px']]) {
    await page.setViewportSize({ width, height: 900 });
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(wide <= width, `the ${name} is ${wide} px wide at ${what}`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

// No form of the review face leaves a check to the browser (whose messages
// are in the browser's language and come before the server's): a form with
// a required, ranged or patterned control says novalidate.
// One page, not a page in a page: one main landmark, one h1, no id twice.
async function oneFrame(page, name) {
  const shape = await page.evaluate(() => {
    const ids = [...document.querySelectorAll('[id]')].map((e) => e.id);
    return {
      mains: document.querySelectorAll('main').length,
      h1s: document.querySelectorAll('h1').length,
      skips: document.querySelectorAll('a.skip').length,
      twice: ids.filter((id, i) => ids.indexOf(id) !== i),
    };
  });
  assert(shape.mains === 1 && shape.h1s === 1 && shape.skips === 1 && shape.twice.length === 0,
    `the ${name} is not one page: ${JSON.stringify(shape)}`);
}

async function validationLeftToServer(page, name) {
  const browserChecked = await page.evaluate(() => [...document.forms]
    .filter((f) => !f.noValidate && f.querySelector('[required], [min], [max], [pattern], input[type=number], input[type=email], input[type=url]'))
    .map((f) => f.getAttribute('action') || f.id || '(form)'));
  assert(browserChecked.length === 0, `forms on the ${name} checked by the browser: ${browserChecked.join(', ')}`);
}

// Its own contexts: the review face sets a session cookie, which the intake's
// checks below rightly forbid on the intake.
const reviewWords = {
  nl: {
    unlock: 'Ontgrendelen', queue: 'Wachtrij', search: 'Zoeken', report: 'Rapportage', answers: 'Wat de melder schreef',
    saveTriage: 'Triage opslaan', saveNext: 'Opslaan en volgende', exportSelected: 'Geselecteerde exporteren', addNote: 'Notitie toevoegen',
    send: 'Versturen', logout: 'Uitloggen', login: 'Inloggen', apply: 'Toepassen op gekozen', handled: 'Reactie verwerkt',
    acknowledge: 'Ontvangst bevestigen', changed: '3 signalen gewijzigd',
    hardships: 'Hardheden', createHardship: 'Hardheid aanmaken', addMeasure: 'Toevoegen',
  },
  en: {
    unlock: 'Unlock', queue: 'Queue', search: 'Search', report: 'Report', answers: 'What the sender wrote',
    saveTriage: 'Save triage', saveNext: 'Save and next', exportSelected: 'Export selected', addNote: 'Add note',
    send: 'Send', logout: 'Log out', login: 'Log in', apply: 'Apply to selected', handled: 'Reply handled',
    acknowledge: 'Acknowledge receipt', changed: '3 signals changed',
    hardships: 'Hardships', createHardship: 'Create the hardship', addMeasure: 'Add',
  },
};
for (const lang of ['nl', 'en']) {
  const w = reviewWords[lang];
  // The sender's side first: three signals about child care, filed under youth,
  // and one whose sender writes back after the team asked nothing yet.
  const sender = await (await newContext({ js: true, lang: 'nl' })).newPage();
  const filedCodes = [];
  for (let i = 0; i < 3; i++) {
    await sender.goto(`${BASE}/?lang=nl`);
    await sender.fill('#situation', `De kinderopvangtoeslag wordt teruggevorderd om een dag te laat (${lang} ${i}).`);
    await sender.click('details.more summary');
    await sender.selectOption('#domain', 'youth');
    await sender.click(`button:has-text("${t.nl.submit}")`);
    await sender.waitForLoadState('load');
    filedCodes.push(await receiptOf(sender));
  }
  await comeBack(sender, 'nl');
  await sender.fill('#message', `Nog een aanvulling van de melder (${lang}).`);
  await sender.click(`button:has-text("${t.nl.send}")`);
  await sender.waitForLoadState('load');

  // JavaScript on only so axe-core and the checks can run: the review face itself has none.
  // The same watchers as the intake's, which the control above shows firing:
  // requests to other origins, and CSP reports (into the run's list, checked
  // at the end). The review face's documents carry its session cookie, so
  // they are kept apart from the intake's cookie check.
  const reviewForeign = [];
  const ctx = await newContext({
    js: true,
    lang,
    seen: { foreign: reviewForeign, cspReports, documents: [] },
    allowed: new Set([...ORIGINS, new URL(REVIEW).origin]),
  });
  const page = await ctx.newPage();
  // Every page of the daily flow: axe-core, no sideways scroll, the server's
  // validation, and a focus indicator of 3:1 on everything Tab reaches.
  const reviewPage = async (name) => {
    await passesAxe(page, `review ${name}`, lang);
    await fitsWithoutSidewaysScroll(page, `review ${name}`);
    await validationLeftToServer(page, `review ${name}`);
    await oneFrame(page, `review ${name}`);
    await focusIndicatorsVisible(page, `review ${name}`);
  };
  await check(`a reviewer scans the queue, triages with lists, saves and goes on, labels, changes three at once, handles a reply, acknowledges, notes, writes, searches and reports in ${lang}; axe-core finds no violation`, async () => {
    await page.goto(`${REVIEW}/login`);
    await reviewPage('login');
    await page.fill('#name', 'demo');
    await page.fill('#passphrase', REVIEW_PASSPHRASE);
    await page.click(`button:has-text("${w.unlock}")`);
    await page.waitForLoadState('load');
    assert((await page.textContent('h1')) === w.queue, `after login: ${await page.textContent('h1')}`);
    const cookie = (await ctx.cookies()).find((c) => c.name.includes('signaal-review'));
    assert(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict');
    await reviewPage('queue');
    // From the top of the queue to the first signal in a few keys: the skip
    // link, then "go to the signals" (to the table's region), then the first
    // checkbox and the first reference: six keys.
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await page.keyboard.press('Tab');
    assert((await page.evaluate(() => document.activeElement.className)) === 'skip', 'the skip link comes first');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    assert((await page.evaluate(() => document.activeElement.getAttribute('href'))) === '#signals', 'then the way to the signals');
    await page.keyboard.press('Enter');
    for (let i = 0; i < 2; i++) await page.keyboard.press('Tab');
    assert((await page.evaluate(() => document.activeElement.className)) === 'ref', `the second Tab after it reaches ${await page.evaluate(() => document.activeElement.outerHTML.slice(0, 80))}`);
    // Every checkbox names its signal, and no two alike.
    const names = await page.locator('tr[data-signal] input[type="checkbox"]').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    assert(names.length >= 3 && new Set(names).size === names.length, `checkbox names: ${names.join(' | ')}`);
    // The sender's choice of domain filters, and the first words show what each is about.
    await page.selectOption('#f-domain', 'youth');
    await page.click('form.filters button[type="submit"]');
    await page.waitForLoadState('load');
    const youth = page.locator('tr[data-signal]');
    assert((await youth.count()) >= 3, `signals filed under youth: ${await youth.count()}`);
    assert((await page.locator('td.snippet:has-text("kinderopvangtoeslag")').count()) >= 3, 'the snippets are shown');
    assert((await page.locator('td[data-domain-by="sender"]').count()) >= 3, "the sender's domain is shown");
    await reviewPage('queue filtered by domain');
    await page.check('tr[data-signal] input[type="checkbox"]');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click(`button:has-text("${w.exportSelected}")`),
    ]);
    assert(download.suggestedFilename().endsWith('.tar'), `the export is ${download.suggestedFilename()}`);
    // Triage with lists; a value the lists do not hold is refused inline, with everything kept.
    await page.click('tr[data-signal] a.ref');
    await page.waitForLoadState('load');
    assert((await page.content()).includes(w.answers), 'the signal page');
    await reviewPage('signal');
    const first = page.url();
    await page.selectOption('#t-status', 'in_progress');
    await page.selectOption('#t-domain', 'housing');
    await page.fill('#t-labels', 'spoed');
    await page.evaluate(() => { document.querySelector('#t-assignee').add(new Option('Anna de Vries', 'Anna de Vries', true, true)); });
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/triage')),
      page.click(`button:has-text("${w.saveTriage}")`),
    ]);
    assert(refused.status() === 422, `status ${refused.status()}`);
    await page.waitForLoadState('load');
    assert(await page.locator('.error-summary').isVisible(), 'the refusal is on the page');
    assert((await page.getAttribute('#t-assignee', 'aria-invalid')) === 'true', 'the field is marked');
    assert((await page.inputValue('#t-domain')) === 'housing', 'the domain chosen is kept');
    assert((await page.inputValue('#t-labels')) === 'spoed', 'the label typed is kept');
    await reviewPage('signal with a refused triage');
    await page.selectOption('#t-assignee', 'demo');
    await page.click(`button:has-text("${w.saveNext}")`);
    await page.waitForLoadState('load');
    assert(await page.locator('[data-done="triage"]').isVisible(), 'the confirmation');
    assert(page.url() !== first && page.url().includes('from='), `save and next went to ${page.url()}`);
    // The label is the team's now: offered on the next signal.
    assert((await page.locator('input[name="label"][value="spoed"]').count()) === 1, 'the label is offered');
    // Three at once.
    await page.goto(`${REVIEW}/?sort=oldest`);
    const boxes = page.locator('tr[data-signal] input[type="checkbox"]');
    for (let i = 0; i < 3; i++) await boxes.nth(i).check();
    await page.selectOption('#b-status', 'forwarded');
    await page.click(`button:has-text("${w.apply}")`);
    await page.waitForLoadState('load');
    assert((await page.textContent('[data-done="bulk"]')).includes(w.changed), 'three changed');
    // The sender's reply, handled without writing back.
    await page.goto(`${REVIEW}/?attention=1`);
    const replied = page.locator('tr[data-signal]:has([data-flag="reply"]) a.ref').first();
    await replied.click();
    await page.waitForLoadState('load');
    await page.click(`button:has-text("${w.handled}")`);
    await page.waitForLoadState('load');
    assert(await page.locator('[data-done="handled"]').isVisible(), 'marked handled');
    assert((await page.locator('[data-flag="reply"]').count()) === 0, 'the flag is gone');
    // Acknowledged in one click with the standard text (the sender wrote in Dutch).
    await page.goto(`${REVIEW}/?status=new`);
    await page.click('tr[data-signal] a.ref');
    await page.waitForLoadState('load');
    await page.click(`button:has-text("${w.acknowledge}")`);
    await page.waitForLoadState('load');
    assert(await page.locator('[data-done="ack"]').isVisible(), 'acknowledged');
    // In the sender's language, whichever the first new signal was written in.
    assert((await page.locator('article.message[data-author="team"]', { hasText: /We hebben het ontvangen|We have received it/ }).count()) === 1, 'the standard text was sent');
    // Every form on the signal page posts as this browser posts it.
    const notes = await page.locator('article.note').count();
    const messages = await page.locator('article.message[data-author="team"]').count();
    await page.fill('#note', `Notitie uit de browser (${lang})`);
    await page.click(`button:has-text("${w.addNote}")`);
    await page.waitForLoadState('load');
    assert((await page.locator('article.note').count()) === notes + 1, 'the note was added');
    await page.fill('#message', `Een vraag uit de browser (${lang})`);
    await page.click(`button:has-text("${w.send}")`);
    await page.waitForLoadState('load');
    assert((await page.locator('article.message[data-author="team"]').count()) === messages + 1, 'the message was sent');
    await page.click(`nav a:has-text("${w.search}")`);
    await page.waitForLoadState('load');
    await page.fill('#q', 'te hard');
    await page.click(`main button:has-text("${w.search}")`);
    await page.waitForLoadState('load');
    assert(Number(await page.getAttribute('[data-scanned]', 'data-scanned')) >= 1, 'the search scanned');
    assert((await page.inputValue('#q')) === 'te hard', 'the query stays in the box');
    assert((await page.locator('li[data-signal] mark').count()) >= 1, 'the matching sentence is shown, the match marked');
    await reviewPage('search results');
    await page.click(`nav a:has-text("${w.report}")`);
    await reviewPage('report');
    // A hardship: a refused form comes back filled in and marked, then one is
    // made, a signal linked to it from its page, and a measure added.
    await page.click(`nav a:has-text("${w.hardships}")`);
    await page.waitForLoadState('load');
    await reviewPage('hardships');
    await page.fill('#h-description', `Terugvordering om een dag (${lang})`);
    const [refusedHardship] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/hardships') && r.request().method() === 'POST'),
      page.click(`button:has-text("${w.createHardship}")`),
    ]);
    assert(refusedHardship.status() === 422, `status ${refusedHardship.status()}`);
    await page.waitForLoadState('load');
    assert((await page.getAttribute('#h-title', 'aria-invalid')) === 'true', 'the title is marked');
    await reviewPage('hardships with a refused form');
    await page.fill('#h-title', `Kinderopvangtoeslag (${lang})`);
    await page.selectOption('#h-domain', 'youth');
    await page.click(`button:has-text("${w.createHardship}")`);
    await page.waitForLoadState('load');
    assert(await page.locator('[data-done="hardship"]').isVisible(), 'the hardship was made');
    const hardshipUrl = page.url().split('?')[0];
    const hardshipId = hardshipUrl.split('/').pop();
    // The sender's three signals, found by their words, linked from their pages.
    await page.click(`nav a:has-text("${w.search}")`);
    await page.waitForLoadState('load');
    await page.fill('#q', 'kinderopvangtoeslag');
    await page.click(`main button:has-text("${w.search}")`);
    await page.waitForLoadState('load');
    const filed = await page.locator(`li[data-signal]:has-text("(${lang} ")`).evaluateAll((els) => els.map((e) => e.dataset.signal));
    assert(filed.length === 3, `the sender's three signals found: ${filed.length}`);
    for (const id of filed) {
      await page.goto(`${REVIEW}/signals/${id}`);
      await page.selectOption('#link-hardship', hardshipId);
      await page.click('#hardships form[action$="/hardships"] button');
      await page.waitForLoadState('load');
      assert(await page.locator('[data-done="link"]').isVisible(), 'linked');
    }
    // A measure without its organisation comes back as typed, the field marked.
    await page.goto(hardshipUrl);
    const typedMeasure = `Een voorstel dat terugkomt (${lang})`;
    await page.selectOption('#m-kind', 'proposal');
    await page.fill('#m-text', typedMeasure);
    const [refusedMeasure] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/measures') && r.request().method() === 'POST'),
      page.click(`button:has-text("${w.addMeasure}")`),
    ]);
    assert(refusedMeasure.status() === 422, `a measure without its organisation: ${refusedMeasure.status()}`);
    await page.waitForLoadState('load');
    assert((await page.inputValue('#m-text')) === typedMeasure, 'the text typed is kept');
    assert((await page.inputValue('#m-kind')) === 'proposal', 'the kind chosen is kept');
    assert((await page.getAttribute('#m-organisation', 'aria-invalid')) === 'true', 'the organisation is marked');
    assert((await page.locator('article.measure').count()) === 0, 'nothing was added');
    await reviewPage('hardship with a refused measure');
    // A recommendation from an earlier report, and a measure it led to.
    await page.goto(hardshipUrl);
    await page.selectOption('#m-kind', 'recommendation');
    await page.selectOption('#m-lever', 'policy_rule');
    await page.fill('#m-text', `Weeg een termijn die net is gemist redelijk mee (${lang})`);
    await page.fill('#m-organisation', 'Nationale ombudsman');
    await page.fill('#m-source', 'Hardheden en oplossingen 2025');
    await page.click(`button:has-text("${w.addMeasure}")`);
    await page.waitForLoadState('load');
    await page.selectOption('#m-kind', 'measure');
    await page.selectOption('#m-lever', 'practice');
    await page.fill('#m-text', `Een dag te laat is geen reden (${lang})`);
    await page.fill('#m-organisation', 'Dienst Toeslagen');
    await page.click(`button:has-text("${w.addMeasure}")`);
    await page.waitForLoadState('load');
    assert((await page.locator('article.measure').count()) === 2, 'the recommendation and the measure were added');
    assert((await page.getAttribute('[data-linked]', 'data-linked')) === '3', 'three signals linked');
    const measureId = await page.locator('article.measure[data-kind="measure"]').getAttribute('data-measure');
    for (const status of ['agreed', 'implemented']) {
      await page.selectOption(`#m-${measureId}-status`, status);
      await page.click(`article.measure[data-measure="${measureId}"] button[type="submit"]`);
      await page.waitForLoadState('load');
      assert((await page.getAttribute(`article.measure[data-measure="${measureId}"] [data-status]`, 'data-status')) === status, `the measure is ${status}`);
    }
    await reviewPage('hardship');
    // The overview holds it, its measures counted by status.
    await page.click(`nav a:has-text("${w.hardships}")`);
    await page.waitForLoadState('load');
    assert((await page.locator(`tr[data-hardship="${hardshipId}"] [data-count-status="implemented"]`).count()) === 1, 'on the overview, implemented');
    await reviewPage('hardships overview with measures');
    // The annual report's year typed wrong: the server says so at the box,
    // in the page's language, with the focus there and the choices kept.
    await page.fill('#r-year', '26');
    await page.selectOption('#r-format', 'md');
    const [badYear] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/hardships/report')),
      page.click('#annual-report button[type="submit"]'),
    ]);
    assert(badYear.status() === 400, `a bad year: ${badYear.status()}`);
    await page.waitForLoadState('load');
    assert((await page.textContent('#r-year-error')).includes(lang === 'nl' ? 'Vul een jaar in' : 'Enter a year'), 'the year is refused in the page language');
    assert((await page.inputValue('#r-year')) === '26' && (await page.inputValue('#r-format')) === 'md', 'what was typed stays');
    assert(await focusLandsOn(page, 'r-year'), `focus is on ${await activeId(page)}`);
    await reviewPage('annual report with a refused year');
    // A signal that does not exist: the 404 keeps the navigation.
    const missing = await page.goto(`${REVIEW}/signals/aaaaaaaaaaaaaaaa`);
    assert(missing.status() === 404, `a missing signal: ${missing.status()}`);
    assert((await page.locator(`nav a:has-text("${w.hardships}")`).count()) === 1, 'the 404 has the navigation');
    await reviewPage('missing signal');
    // Published: an address in the summary is held back until it is gone or confirmed.
    await page.goto(hardshipUrl);
    const publicTitle = `Toeslag teruggevorderd om een dag (${lang})`;
    const summary = 'Ouders verliezen hun toeslag om een formulier dat een dag te laat binnenkomt.';
    await page.fill('#p-public_title', publicTitle);
    await page.fill('#p-public_summary', `${summary} Vragen: info@voorbeeld.nl`);
    const [held] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/publish')),
      page.click('form[action$="/publish"] button[type="submit"]'),
    ]);
    assert(held.status() === 422, `publishing with an address: ${held.status()}`);
    await page.waitForLoadState('load');
    assert((await page.inputValue('#p-public_title')) === publicTitle, 'the title typed is kept');
    await reviewPage('publish check');
    await page.fill('#p-public_summary', summary);
    await page.click('form[action$="/publish"] button[type="submit"]');
    await page.waitForLoadState('load');
    assert(await page.locator('[data-done="published"]').isVisible(), 'published');
    await reviewPage('hardship published');
    // The intake shows it at once, a count below five as "<5"; the sender of a linked signal sees it too.
    const visitor = await (await newContext({ js: true, lang })).newPage();
    await visitor.goto(`${BASE}/${lang === 'nl' ? 'resultaten' : 'results'}`);
    const shown = visitor.locator('article.hardship', { hasText: publicTitle });
    assert((await shown.count()) === 1, `the published hardship on the results: ${await shown.count()}`);
    assert((await shown.locator('[data-signals]').first().getAttribute('data-signals')) === '<5', 'three signals are "<5"');
    assert((await shown.innerText()).includes(lang === 'nl' ? 'Uitgevoerd' : 'Implemented'), 'the measure is implemented');
    await visitor.goto(`${BASE}/follow-up?lang=nl`);
    await visitor.fill('#receipt', filedCodes[0]);
    await visitor.click(`button:has-text("${t.nl.open}")`);
    await visitor.waitForLoadState('load');
    assert((await visitor.content()).includes('Uw signaal maakt deel uit van'), 'the sender sees what the signal is part of');
    assert((await visitor.content()).includes(publicTitle), "the sender sees the hardship's public title");
    await page.click(`button:has-text("${w.logout}")`);
    await page.waitForLoadState('load');
    assert((await page.textContent('h1')) === w.login, 'after logout: the login page');
    await page.goto(`${REVIEW}/`);
    assert((await page.textContent('h1')) === w.login, 'after logout the queue needs a login again');
    assert(reviewForeign.length === 0, `requests to other origins: ${reviewForeign.join(', ')}`);
  });
  await ctx.close();
  // A reviewer's session cookie is the review face's own: not the intake's check.
  contexts.splice(contexts.indexOf(ctx), 1);
}

// ---- what every page must (not) do ----

await check('no page loads anything from another origin', async () => {
  assert(foreign.length === 0, `requests to other origins: ${foreign.join(', ')}`);
});

await check('no page sets a cookie', async () => {
  for (const ctx of contexts) {
    const cookies = await ctx.cookies();
    assert(cookies.length === 0, `cookies: ${cookies.map((c) => c.name).join(', ')}`);
  }
  for (const d of documents) assert(!('set-cookie' in d.headers), `Set-Cookie on ${d.url}`);
});

await check('no page breaks its Content-Security-Policy (no inline style, no script)', async () => {
  assert(cspReports.length === 0, cspReports.join('\n'));
});

await check('no address the browser visited holds a receipt code', async () => {
  assert(receipts.length >= 4, `only ${receipts.length} receipts seen`);
  for (const d of documents) {
    const url = d.url.toUpperCase().replaceAll(/[- +]|%20/g, '');
    for (const code of receipts) assert(!url.includes(code.replaceAll('-', '')), `a code in ${d.url}`);
  }
});

// ---- the sender's other pages: a thread with the team's open question, focus rings ----

// The focus ring on every element Tab reaches on `page`, as on the form
// above: at least 2 px, two colours 3:1 apart, one of them 3:1 against what
// it stands on. Tab must reach each of `must` (selectors).
async function focusRingsHold(page, name, must = []) {
  const seen = [];
  const reached = new Set();
  for (let tabs = 0; tabs < 80; tabs++) {
    await page.keyboard.press('Tab');
    const state = await page.evaluate((sels) => {
      const el = document.activeElement;
      if (!el || el === document.body || el.dataset.ringChecked) return { done: true };
      el.dataset.ringChecked = '1';
      return { done: false, matches: sels.filter((s) => el.matches(s)) };
    }, must);
    if (state.done) break;
    for (const s of state.matches) reached.add(s);
    const ring = await focusRing(page);
    assert(ring.outlineStyle !== 'none' && parseFloat(ring.outlineWidth) >= 2, `${name}: no outline on ${ring.id}: ${JSON.stringify(ring)}`);
    assert(ring.shadow, `${name}: no second colour around ${ring.id}`);
    const best = Math.max(contrast(ring.outline, ring.background), contrast(ring.shadow, ring.background));
    assert(best >= 3, `${name}: ${ring.id}: ring ${ring.outline}/${ring.shadow} on ${ring.background} is ${best.toFixed(2)}:1`);
    assert(contrast(ring.outline, ring.shadow) >= 3, `${name}: ${ring.id}: the two colours of the ring are ${contrast(ring.outline, ring.shadow).toFixed(2)}:1`);
    seen.push(`${ring.id} ${best.toFixed(1)}:1`);
  }
  assert(seen.length > 3, `only ${seen.length} focusable elements reached on the ${name}`);
  for (const s of must) assert(reached.has(s), `Tab never reached ${s} on the ${name}`);
  console.log(`    focus contrast on the ${name}: ${seen.slice(0, 6).join(', ')} …`);
}

// A signal given on the intake in `lang`, found by its text in the review
// face and asked a question there; its code and the question.
async function askedSignal(lang) {
  const mark = `vraagkenmerk${lang}${Date.now()}`;
  const sender = await (await newContext({ js: true, lang })).newPage();
  await sender.goto(`${BASE}/?lang=${lang}`);
  await sender.fill('#situation', `Een regel die te hard uitpakt, ${mark}.`);
  await sender.click(`button:has-text("${t[lang].submit}")`);
  await sender.waitForLoadState('load');
  const code = await receiptOf(sender);
  const w = reviewWords[lang];
  const review = await (await newContext({
    js: true,
    lang,
    seen: { foreign: [], cspReports, documents: [] },
    allowed: new Set([...ORIGINS, new URL(REVIEW).origin]),
  })).newPage();
  await review.goto(`${REVIEW}/login`);
  await review.fill('#name', 'demo');
  await review.fill('#passphrase', REVIEW_PASSPHRASE);
  await review.click(`button:has-text("${w.unlock}")`);
  await review.waitForLoadState('load');
  await review.goto(`${REVIEW}/search`);
  await review.fill('#q', mark);
  await review.click(`main button:has-text("${w.search}")`);
  await review.waitForLoadState('load');
  const found = review.locator('li[data-signal]');
  assert((await found.count()) === 1, `the search for ${mark} found ${await found.count()} signals`);
  const id = await found.first().getAttribute('data-signal');
  await review.goto(`${REVIEW}/signals/${id}`);
  const question = `Welke peildatum gebruikt de regel (${lang})?`;
  await review.fill('#message', question);
  await review.click(`button:has-text("${w.send}")`);
  await review.waitForLoadState('load');
  assert((await review.locator('article.message[data-author="team"]', { hasText: question }).count()) === 1, 'the question was not sent');
  return { code, question };
}

for (const lang of ['nl', 'en']) {
  await check(`a thread with the team's open question passes axe-core and its focus rings hold 3:1 (${lang})`, async () => {
    const { code, question } = await askedSignal(lang);
    const ctx = await newContext({ js: true, lang });
    const page = await ctx.newPage();
    await page.goto(`${BASE}/follow-up?lang=${lang}`);
    await page.fill('#receipt', code);
    await page.click(`button:has-text("${t[lang].open}")`);
    await page.waitForLoadState('load');
    const open = page.locator('[data-open-question]');
    assert((await open.count()) === 1, 'the open question is not highlighted');
    assert((await open.innerText()).includes(question), 'the highlighted block does not hold the question');
    await passesAxe(page, 'follow-up thread with open question', lang);
    await focusRingsHold(page, `thread page (${lang})`, ['#message', 'a[href="#message"]']);
  });
}

await check('the focus rings hold 3:1 on the receipt and on the withdraw page, its red button too', async () => {
  const ctx = await newContext({ js: true, lang: 'nl' });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/?lang=nl`);
  await page.fill('#situation', 'Een regel die te hard uitpakt, en de ring moet zichtbaar zijn.');
  await page.click(`button:has-text("${t.nl.submit}")`);
  await page.waitForLoadState('load');
  const code = await receiptOf(page);
  await focusRingsHold(page, 'receipt page', ['a[href="/follow-up?lang=nl"]']);
  await page.goto(`${BASE}/follow-up?lang=nl`);
  await page.fill('#receipt', code);
  await page.click(`button:has-text("${t.nl.open}")`);
  await page.waitForLoadState('load');
  await page.click(`button:has-text("${t.nl.withdraw}")`);
  await page.waitForLoadState('load');
  assert((await page.locator('button.danger').count()) === 1, 'no withdraw button on the withdraw page');
  await focusRingsHold(page, 'withdraw page', ['button.danger']);
});

await check('every page carries the intake headers', async () => {
  assert(documents.length > 20, `only ${documents.length} pages seen`);
  for (const d of documents) {
    const h = d.headers;
    const where = `${d.status} ${d.url}`;
    assert((h['content-security-policy'] || '').startsWith("default-src 'none'"), `CSP on ${where}`);
    assert(h['referrer-policy'] === 'no-referrer', `Referrer-Policy on ${where}`);
    assert(h['x-content-type-options'] === 'nosniff', `nosniff on ${where}`);
    assert(h['x-frame-options'] === 'DENY', `X-Frame-Options on ${where}`);
    // The blank form (only its one-time token) may be kept for going back;
    // a page with anything typed or a code never.
    const blankForm = d.method === 'GET' && ['/', '/signal'].includes(new URL(d.url).pathname);
    assert(h['cache-control'] === (blankForm ? 'private, max-age=0' : 'no-store'), `Cache-Control ${h['cache-control']} on ${d.method} ${where}`);
    assert(!('server' in h), `Server header on ${where}`);
  }
});

await browser.close();

console.log('\naxe-core (WCAG 2.1 A/AA) violations per page:');
for (const row of axeTable) {
  console.log(`  ${row.page.padEnd(24)} ${row.lang}  ${row.violations}${row.ids.length ? ' ' + row.ids.join(',') : ''}`);
}
if (REPORT) writeFileSync(REPORT, JSON.stringify({ axe: axeTable, results }, null, 1));

const failed = results.filter((r) => !r.ok).length;
console.log(`\nbrowser: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
