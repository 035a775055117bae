// The console in a real browser against a real Limelight: what an operator does
// with a mouse and a keyboard, checked in the E1.31 on the wire and in the page.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN_PASSWORD, Broker, Receiver, Server, browser, logIn, page, shot } from './harness.mjs';

const RED = [255, 0, 0];
const AMBER = [255, 170, 0];
const CUES = [
  [0x11, 0x22, 0x33],
  [0x44, 0x55, 0x66],
  [0x77, 0x88, 0x99],
];

let chrome;
let server;
let rx;
let admin;
let strip;
const errors = [];

before(async () => {
  chrome = await browser();
  server = await Server.start();
  rx = await Receiver.bind();
  admin = await server.admin();
  await server.solidScene(admin, 'Red', '#FF0000');
  await server.solidScene(admin, 'Amber', '#FFAA00');
  for (const [i, rgb] of CUES.entries()) {
    const hex = `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
    await server.solidScene(admin, `Cue${i + 1}`, hex);
  }
  strip = await server.canvasTo(admin, 'Test Strip', rx);
  await server.ok('POST', '/api/v1/cue-lists', admin, {
    name: 'Show',
    go_protection_ms: 0,
    cues: CUES.map((_, i) => ({ number: i + 1, scene: `Cue${i + 1}` })),
  });
});

after(async () => {
  await chrome?.close();
  await server?.stop();
  rx?.close();
});

test('the page comes with strict security headers and no inline script', async () => {
  const res = await fetch(`${server.url}/`);
  assert.equal(res.status, 200);
  const csp = res.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  const js = await fetch(`${server.url}/console/console.js`);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal((await fetch(`${server.url}/`, { method: 'POST' })).status, 405);
});

test('an attendee is refused with a clear message and a wrong password is told', async () => {
  await server.ok('POST', '/api/v1/auth/signup', null, { username: 'guest', password: 'guest-guest-password' });
  const p = await page(chrome, server, errors);
  await p.getByLabel('Username').fill('guest');
  await p.getByLabel('Password').fill('guest-guest-password');
  await p.getByRole('button', { name: 'Log in' }).click();
  await p.getByRole('alert').filter({ hasText: 'attendee accounts cannot use it' }).waitFor();
  await p.getByLabel('Password').fill('wrong');
  await p.getByLabel('Username').fill('admin');
  await p.getByRole('button', { name: 'Log in' }).click();
  await p.getByRole('alert').filter({ hasText: 'Wrong username or password' }).waitFor();
  // The token is kept in no URL.
  assert.doesNotMatch(p.url(), /token/);
  await shot(p, 'login');
  await p.context().close();
});

test('log in, trigger a scene by clicking, and see it on the wire', async () => {
  const p = await page(chrome, server, errors);
  await logIn(p, 'admin', ADMIN_PASSWORD);
  const tile = p.getByRole('region', { name: 'Test Strip', exact: true });
  await tile.waitFor();
  await shot(p, 'live');
  await p.getByRole('button', { name: 'Scenes' }).click();
  await p.getByRole('checkbox', { name: 'Test Strip' }).check();
  // Each scene has a thumbnail the server rendered: Amber's is amber all over.
  const thumb = p.getByRole('img', { name: 'Amber, over four seconds' });
  await thumb.waitFor();
  await p.waitForFunction(() => {
    const img = [...document.querySelectorAll('img.thumb')].find((i) => i.alt.startsWith('Amber,'));
    return img && img.complete && img.naturalWidth === 64 && img.naturalHeight === 16;
  });
  const corners = await thumb.evaluate((img) => {
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    return [[0, 0], [63, 15]].map(([x, y]) => [...ctx.getImageData(x, y, 1, 1).data.slice(0, 3)]);
  });
  assert.deepEqual(corners, [AMBER, AMBER]);
  await shot(p, 'scenes');
  await p.getByRole('button', { name: 'Trigger Amber' }).click();
  await rx.untilRgb(AMBER);
  assert.doesNotMatch(p.url(), /token/);
  await p.context().close();
});

test('GO through a cue list, by button and by the space bar, and see each cue on the wire', async () => {
  const p = await page(chrome, server, errors);
  await logIn(p, 'admin', ADMIN_PASSWORD);
  await p.getByRole('button', { name: 'Cues' }).click();
  await p.getByLabel('Canvas').selectOption({ label: 'Test Strip' });
  await p.getByLabel('Cue list').selectOption({ label: 'Show' });
  await p.getByRole('button', { name: 'Load list' }).click();
  await rx.untilRgb(CUES[0]);
  await p.getByRole('button', { name: 'GO', exact: true }).click();
  await rx.untilRgb(CUES[1]);
  await p.getByLabel('Cue playback').focus();
  await p.keyboard.press('Space');
  await rx.untilRgb(CUES[2]);
  await shot(p, 'cues');
  // At the end of the list a GO is refused, and the console says why.
  await p.getByRole('button', { name: 'GO', exact: true }).click();
  await p.getByText(/GO refused/).first().waitFor();
  await p.context().close();
});

test('dragging the master sets the level on the wire', async () => {
  await server.ok('POST', `/api/v1/canvases/${strip}/scene`, admin, { scene: 'Red' });
  await rx.untilRgb(RED);
  const p = await page(chrome, server, errors);
  await logIn(p, 'admin', ADMIN_PASSWORD);
  const tile = p.getByRole('region', { name: 'Test Strip', exact: true });
  const master = tile.getByRole('slider', { name: 'Master' });
  const box = await master.boundingBox();
  const y = box.y + box.height / 2;
  // From the right end to two fifths of the way along, in small steps.
  await p.mouse.move(box.x + box.width - 2, y);
  await p.mouse.down();
  for (let i = 1; i <= 20; i++) {
    await p.mouse.move(box.x + box.width - 2 - (i * (box.width * 0.6)) / 20, y);
  }
  // Held still mid-drag, the fader does not jump to a change made elsewhere.
  const held = Number(await master.inputValue());
  // Its last change has gone out (the fader sends at most 20 a second) and is
  // on the wire, so the change made elsewhere comes after it.
  await rx.until((pk) => Math.abs(pk.slots[0] - Math.round((255 * held) / 100)) <= 1);
  await server.ok('POST', `/api/v1/canvases/${strip}/master`, admin, { level: 95 });
  // The tile has heard the change (its level reads 95 %), and the fader stays.
  await tile.locator('.tile-master-value').filter({ hasText: '95 %' }).waitFor();
  assert.equal(Number(await master.inputValue()), held, 'the fader jumped while dragged');
  await p.mouse.up();
  const level = Number(await master.inputValue());
  assert.ok(level > 30 && level < 50, `the fader is at ${level}`);
  const want = Math.round((255 * level) / 100);
  const seen = await rx.until((pk) => Math.abs(pk.slots[0] - want) <= 1 && pk.slots[1] === 0);
  assert.equal(seen.slots[2], 0);
  const state = await server.ok('GET', `/api/v1/canvases/${strip}/state`, admin);
  assert.equal(Math.round(state.master), level);
  await server.ok('POST', `/api/v1/canvases/${strip}/master`, admin, { level: 100 });
  await p.context().close();
});

test('two consoles see each other, and blackout shows dark in the preview', async () => {
  const operatorPassword = await server.user(admin, 'otto', 'operator');
  const a = await page(chrome, server, errors);
  const b = await page(chrome, server, errors);
  await logIn(a, 'admin', ADMIN_PASSWORD);
  await logIn(b, 'otto', operatorPassword);
  // Each console lists who else is connected.
  await a.getByRole('button', { name: 'Status' }).click();
  await a.getByRole('listitem').filter({ hasText: 'otto (operator)' }).waitFor();
  await shot(a, 'status');
  await a.getByRole('button', { name: 'Live' }).click();
  const inA = a.getByRole('region', { name: 'Test Strip', exact: true });
  const inB = b.getByRole('region', { name: 'Test Strip', exact: true });
  await inA.getByRole('button', { name: 'Blackout' }).click();
  await inB.getByRole('button', { name: 'Blackout' }).and(b.locator('[aria-pressed="true"]')).waitFor();
  await rx.untilRgb([0, 0, 0]);
  // The preview is drawn from the binary frames: dark now.
  await b.waitForFunction((name) => {
    const tile = [...document.querySelectorAll('section.tile')].find((t) => t.getAttribute('aria-label') === name);
    return tile && tile.querySelector('canvas').dataset.first === '0,0,0';
  }, 'Test Strip');
  await shot(b, 'blackout');
  await inB.getByRole('button', { name: 'Blackout' }).click();
  await inA.getByRole('button', { name: 'Blackout' }).and(a.locator('[aria-pressed="false"]')).waitFor();
  await a.context().close();
  await b.context().close();
});

test('the status page shows each input with its live value and connection', async () => {
  const broker = await Broker.start();
  try {
    await server.ok('POST', '/api/v1/inputs', admin, {
      name: 'lobby',
      kind: 'mqtt',
      broker: broker.url,
      bindings: [{ name: 'lobby_level', topic: 'venue/lobby/presence', pointer: '/level', range: [0, 100] }],
    });
    const p = await page(chrome, server, errors);
    await logIn(p, 'admin', ADMIN_PASSWORD);
    await p.getByRole('button', { name: 'Status' }).click();
    const inputs = p.getByRole('table', { name: 'Inputs' });
    const row = inputs.getByRole('row').filter({ hasText: 'lobby · lobby_level' });
    await row.filter({ hasText: 'connected' }).waitFor();
    await broker.publish('venue/lobby/presence', '{"level": 75}');
    await row.filter({ hasText: '0.75' }).waitFor();
    assert.equal(await row.getByRole('meter', { name: 'lobby_level level' }).evaluate((m) => m.value), 0.75);
    await shot(p, 'inputs');
    await broker.stop();
    await row.filter({ hasText: 'reconnecting' }).waitFor();
    await p.context().close();
  } finally {
    await broker.close();
  }
});

test('staff fire a celebration from the status page and the canvas plays it', async () => {
  await server.ok('POST', '/api/v1/scenes', admin, { name: 'confetti', layers: [{ effect: 'solid', color: '#00FF80' }] });
  await server.ok('POST', '/api/v1/celebrations', admin, {
    name: 'goal',
    play: { scene: 'confetti' },
    canvases: [strip],
    duration_ms: 1500,
  });
  const p = await page(chrome, server, errors);
  await logIn(p, 'admin', ADMIN_PASSWORD);
  await p.getByRole('button', { name: 'Status' }).click();
  const list = p.getByRole('list', { name: 'Celebrations' });
  await list.getByRole('button', { name: 'Fire goal' }).click();
  await rx.untilRgb([0, 255, 128]);
  await p.getByText('goal: fired by admin').waitFor();
  await shot(p, 'celebration');
  // Handed back when its time is up.
  await rx.until((pkt) => pkt.slots[1] !== 255 || pkt.slots[2] !== 128);
  await p.context().close();
});

test('emergency takes a confirming second click, both ways', async () => {
  const p = await page(chrome, server, errors);
  await logIn(p, 'admin', ADMIN_PASSWORD);
  const tile = p.getByRole('region', { name: 'Test Strip', exact: true });
  const emergency = tile.getByRole('button', { name: 'Emergency', exact: true });
  await emergency.click();
  const confirmOn = tile.getByRole('button', { name: 'Confirm: switch emergency on' });
  await confirmOn.waitFor();
  // One click changes nothing.
  assert.equal((await server.ok('GET', `/api/v1/canvases/${strip}/state`, admin)).emergency, false);
  await shot(p, 'emergency-confirm');
  await confirmOn.click();
  await emergency.and(p.locator('[aria-pressed="true"]')).waitFor();
  // The canvas's emergency look (white unless configured) is on the wire.
  await rx.untilRgb([255, 255, 255]);
  await shot(p, 'emergency');
  await emergency.click();
  await tile.getByRole('button', { name: 'Confirm: switch emergency off' }).click();
  await emergency.and(p.locator('[aria-pressed="false"]')).waitFor();
  assert.equal((await server.ok('GET', `/api/v1/canvases/${strip}/state`, admin)).emergency, false);
  await p.context().close();
});

test('a critical incident is a banner that stays until acknowledged, and is listed as open', async () => {
  const p = await page(chrome, server, errors);
  await logIn(p, 'admin', ADMIN_PASSWORD);
  await server.ok('POST', '/api/v1/incidents', admin, {
    title: 'Smoke in hall B',
    status: 'open',
    priority: 'critical',
  });
  const banner = p.getByRole('alert').filter({ hasText: 'Critical incident: Smoke in hall B' });
  await banner.waitFor();
  await shot(p, 'alert');
  // Moving between views and waiting leaves it standing.
  await p.getByRole('button', { name: 'Status' }).click();
  await p.getByRole('listitem').filter({ hasText: 'Smoke in hall B (critical)' }).waitFor();
  await p.getByRole('button', { name: 'Live' }).click();
  // Later events come and go; the banner stays.
  await server.ok('POST', `/api/v1/canvases/${strip}/blackout`, admin, { on: true });
  const tile = p.getByRole('region', { name: 'Test Strip', exact: true });
  await tile.getByRole('button', { name: 'Blackout' }).and(p.locator('[aria-pressed="true"]')).waitFor();
  await server.ok('POST', `/api/v1/canvases/${strip}/blackout`, admin, { on: false });
  await tile.getByRole('button', { name: 'Blackout' }).and(p.locator('[aria-pressed="false"]')).waitFor();
  assert.equal(await banner.count(), 1);
  await banner.getByRole('button', { name: 'Acknowledge' }).click();
  await banner.waitFor({ state: 'detached' });
  await p.context().close();
});

test('the grand master sends at most 20 changes a second and reaches the wire; panic all goes dark', async () => {
  await server.ok('POST', `/api/v1/canvases/${strip}/scene`, admin, { scene: 'Red' });
  await rx.untilRgb(RED);
  const p = await page(chrome, server, errors);
  // What the page sends, timed in the page itself.
  await p.addInitScript(() => {
    window.sentGrandMaster = [];
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) {
      if (typeof data === 'string' && data.includes('"grand_master"')) {
        window.sentGrandMaster.push({ at: performance.now(), level: JSON.parse(data).level });
      }
      return send.call(this, data);
    };
  });
  await p.reload();
  await logIn(p, 'admin', ADMIN_PASSWORD);
  const sentSoFar = () => p.evaluate(() => window.sentGrandMaster.splice(0));
  const gm = p.getByRole('slider', { name: 'Grand master' });
  await gm.focus();
  await p.keyboard.press('Home');
  await rx.untilRgb([0, 0, 0]);
  // Fifty steps up as fast as the keyboard goes.
  await sentSoFar();
  for (let i = 0; i < 50; i++) {
    await p.keyboard.press('ArrowRight');
  }
  await rx.until((pk) => Math.abs(pk.slots[0] - 128) <= 1 && pk.slots[1] === 0);
  await p.waitForFunction(() => window.sentGrandMaster.at(-1)?.level === 50);
  const sent = await sentSoFar();
  const span = (sent.at(-1).at - sent[0].at) / 1000;
  assert.ok(sent.length < 50, `${sent.length} changes sent for 50 steps`);
  assert.ok(sent.length <= Math.ceil(span * 20) + 1, `${sent.length} changes in ${span.toFixed(2)} s`);
  assert.equal(sent.at(-1).level, 50, 'the last value is always sent');
  assert.equal((await server.ok('GET', '/api/v1/grand-master', admin)).level, 50);
  await p.keyboard.press('End');
  await rx.untilRgb(RED);
  await p.getByRole('button', { name: 'Panic all' }).click();
  await rx.untilRgb([0, 0, 0], 4000);
  await p.getByText('Panic: every canvas fades to black').waitFor();
  await p.context().close();
});

test('logging out forgets the token: a reload asks to log in again', async () => {
  const p = await page(chrome, server, errors);
  await logIn(p, 'admin', ADMIN_PASSWORD);
  const saved = JSON.parse(await p.evaluate(() => sessionStorage.getItem('limelight.session')));
  assert.ok(saved.token);
  await p.getByRole('button', { name: 'Log out' }).click();
  await p.getByRole('button', { name: 'Log in' }).waitFor();
  assert.equal(await p.evaluate(() => sessionStorage.getItem('limelight.session')), null);
  await p.reload();
  await p.getByRole('button', { name: 'Log in' }).waitFor();
  assert.equal(await p.getByRole('region', { name: 'Test Strip', exact: true }).count(), 0);
  // The server ended the token: a copy of it opens nothing.
  assert.equal((await server.call('GET', '/api/v1/auth/me', saved.token)).status, 401);
  await p.context().close();
});

test('an admin adds a user and changes its role in the console; an operator cannot', async () => {
  const p = await page(chrome, server, errors);
  await logIn(p, 'admin', ADMIN_PASSWORD);
  await p.getByRole('button', { name: 'Users' }).click();
  await p.getByLabel('New user').fill('nadia');
  await p.getByLabel('Initial passphrase').fill('nadia-initial-password');
  await p.getByLabel('Role', { exact: true }).selectOption('marketing');
  await p.getByRole('button', { name: 'Add user' }).click();
  const role = p.getByRole('combobox', { name: 'Role of nadia' });
  await role.waitFor();
  assert.equal(await role.inputValue(), 'marketing');
  await role.selectOption('operator');
  await p.getByText('nadia is now operator').waitFor();
  const users = await server.ok('GET', '/api/v1/users', admin);
  assert.equal((users.items || users).find((u) => u.username === 'nadia').role, 'operator');
  await shot(p, 'users');
  // Admins see the audit log's latest entries.
  await server.ok('POST', `/api/v1/canvases/${strip}/master`, admin, { level: 100 });
  await p.getByRole('button', { name: 'Status' }).click();
  await p.getByRole('table', { name: 'Audit log' }).getByRole('row').filter({ hasText: 'master' }).first().waitFor();
  await p.context().close();

  const q = await page(chrome, server, errors);
  await logIn(q, 'nadia', 'nadia-initial-password');
  assert.equal(await q.getByRole('button', { name: 'Users' }).count(), 0);
  await q.getByRole('button', { name: 'Status' }).click();
  assert.equal(await q.getByRole('heading', { name: 'Audit log' }).count(), 0);
  const token = await server.login('nadia', 'nadia-initial-password');
  const refused = await server.call('POST', '/api/v1/users', token, {
    username: 'sneaky',
    password: 'sneaky-password',
    role: 'admin',
  });
  assert.equal(refused.status, 403);
  await q.context().close();
});

test('a marketing user sees no live-control button', async () => {
  const password = await server.user(admin, 'mia', 'marketing');
  const p = await page(chrome, server, errors);
  await logIn(p, 'mia', password);
  await p.getByRole('region', { name: 'Test Strip', exact: true }).waitFor();
  for (const name of ['Blackout', 'Emergency', 'Panic all']) {
    assert.equal(await p.getByRole('button', { name }).count(), 0, `${name} is shown`);
  }
  assert.equal(await p.getByRole('slider', { name: 'Master' }).count(), 0);
  await p.getByRole('button', { name: 'Scenes' }).click();
  assert.equal(await p.getByRole('button', { name: /^Trigger/ }).count(), 0);
  await shot(p, 'marketing');
  // The server refuses all the same.
  const token = await server.login('mia', password);
  const refused = await server.call('POST', `/api/v1/canvases/${strip}/blackout`, token, { on: true });
  assert.equal(refused.status, 403);
  await p.context().close();
});

test('after the server is killed and started again the console reconnects by itself', async () => {
  const p = await page(chrome, server, errors);
  await logIn(p, 'admin', ADMIN_PASSWORD);
  await server.kill();
  await p.getByRole('status').filter({ hasText: 'Reconnecting' }).waitFor();
  await server.spawn();
  const back = Date.now();
  await p.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 5000 });
  const took = Date.now() - back;
  assert.ok(took < 2000, `reconnected ${took} ms after the server was back`);
  // And shows the true state again: a change made now reaches it.
  await server.ok('POST', `/api/v1/canvases/${strip}/blackout`, admin, { on: true });
  const tile = p.getByRole('region', { name: 'Test Strip', exact: true });
  await tile.getByRole('button', { name: 'Blackout' }).and(p.locator('[aria-pressed="true"]')).waitFor();
  await server.ok('POST', `/api/v1/canvases/${strip}/blackout`, admin, { on: false });
  await shot(p, 'reconnected');
  await p.context().close();
});


test('a fresh start is a working demo: five canvases, each with a moving look', async () => {
  const demo = await Server.start({ demo: true });
  try {
    const p = await page(chrome, demo, errors);
    await logIn(p, 'admin', ADMIN_PASSWORD);
    const names = ['Exterior Facade', 'Canopy', 'Interior Strips', 'Video Wall', 'Main Stairs'];
    for (const name of names) {
      await p.getByRole('region', { name, exact: true }).waitFor();
    }
    // Every preview changes from what it first drew: the looks move.
    await p.waitForFunction(() =>
      [...document.querySelectorAll('section.tile canvas')].every((c) => Number(c.dataset.frame) > 2),
    );
    const first = await p.evaluate(() =>
      [...document.querySelectorAll('section.tile canvas')].map((c) => c.toDataURL()),
    );
    assert.equal(first.length, 5);
    await p.waitForFunction(
      (before) =>
        [...document.querySelectorAll('section.tile canvas')].every((c, i) => c.toDataURL() !== before[i]),
      first,
      { timeout: 10_000 },
    );
    // Each canvas is drawn on its geometry: the facade's 170 x 40 matrix and the
    // video wall's 128 x 72 averaged in blocks to at most 2048 cells.
    const rasters = await p.evaluate(() =>
      Object.fromEntries(
        [...document.querySelectorAll('section.tile')].map((t) => [
          t.getAttribute('aria-label'),
          t.querySelector('canvas').dataset.raster,
        ]),
      ),
    );
    assert.equal(rasters['Exterior Facade'], '85x20');
    assert.equal(rasters['Video Wall'], '43x24');
    assert.match(rasters['Main Stairs'], /^\d+x\d+$/);
    await shot(p, 'demo-live');
    await p.getByRole('button', { name: 'Schedule' }).click();
    await p.getByRole('region', { name: 'Canopy timeline' }).waitFor();
    await shot(p, 'schedule');
    await shot(p, 'demo');
    await p.context().close();
  } finally {
    await demo.stop();
  }
});

test('the pages raised no JavaScript error', () => {
  assert.deepEqual(errors, []);
});
