// The content library in a real browser against a real Limelight: an upload that
// survives a dropped connection, tus-js-client (a tus client nobody here wrote)
// uploading from the page, review, a blind preview on a real canvas that never
// reaches the wire, and a scene made from a template.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ADMIN_PASSWORD, Receiver, Server, browser, logIn, page, png, root, shot } from './harness.mjs';

let chrome;
let server;
let rx;
let admin;
let wall;
const errors = [];
const passwords = {};

/** Every pixel of the 8 x 4 picture its own colour. */
const colour = (x, y) => [x * 31 + 7, y * 63 + 3, (x * y * 9 + 1) & 0xff];
/** The picture in wire order on the 8 x 4 row-by-row matrix. */
const wirePicture = Array.from({ length: 32 }, (_, i) => colour(i % 8, Math.floor(i / 8))).flat();

before(async () => {
  chrome = await browser();
  server = await Server.start();
  rx = await Receiver.bind();
  admin = await server.admin();
  passwords.mk = await server.user(admin, 'mk', 'marketing');
  passwords.rev = await server.user(admin, 'rev', 'marketing');
  const users = await server.ok('GET', '/api/v1/users', admin);
  const rev = (users.items || users).find((u) => u.username === 'rev');
  await server.ok('PATCH', `/api/v1/users/${rev.id}`, admin, { approver: true });
  const canvas = await server.ok('POST', '/api/v1/canvases', admin, {
    name: 'Art Wall',
    fps: 40,
    geometry: { kind: 'matrix', width: 8, height: 4, origin: 'top_left', order: 'rows', serpentine: false },
    output: { universe: 1, destinations: [rx.dest()] },
  });
  wall = canvas.id;
  await server.solidScene(admin, 'House', '#000000');
  await server.ok('POST', `/api/v1/canvases/${wall}/scene`, admin, { scene: 'House' });
  await server.ok('POST', '/api/v1/templates', admin, {
    name: 'Celebration',
    description: 'Two team colours',
    parameters: [
      { kind: 'color', name: 'home', label: 'Home colour', default: '#C8102E' },
      { kind: 'color', name: 'away', label: 'Away colour', default: '#1E90FF' },
    ],
    layers: [
      { effect: 'solid', color: { param: 'away' } },
      { effect: 'solid', color: { param: 'home' }, region: { start: 0, len: 16 } },
    ],
  });
});

after(async () => {
  await chrome?.close();
  await server?.stop();
  rx?.close();
});

test('an upload survives a dropped connection by resuming where the server stands', async () => {
  const p = await page(chrome, server, errors);
  await logIn(p, 'mk', passwords.mk);
  await p.getByRole('button', { name: 'Content' }).click();
  // Noise does not compress: a PNG of about 1.5 MB, more than one chunk.
  const noise = randomBytes(700 * 700 * 3);
  const big = png(700, 700, (x, y) => noise.subarray((y * 700 + x) * 3, (y * 700 + x) * 3 + 3));
  assert.ok(big.length > 1_400_000, `${big.length}`);
  // The second chunk's connection drops before it reaches the server.
  const patches = [];
  await p.route('**/api/v1/uploads/*', async (route) => {
    const r = route.request();
    if (r.method() !== 'PATCH') {
      return route.continue();
    }
    patches.push(Number(r.headers()['upload-offset']));
    if (patches.length === 2) {
      return route.abort('connectionreset');
    }
    return route.continue();
  });
  await p.getByLabel('File to upload').setInputFiles({ name: 'sponsor.png', mimeType: 'image/png', buffer: big });
  await p.getByLabel('Asset name').fill('Sponsor Wall');
  await p.getByRole('button', { name: 'Upload', exact: true }).click();
  await p.getByRole('status').filter({ hasText: 'sponsor.png is uploaded' }).waitFor({ timeout: 20_000 });
  assert.equal(await p.getByLabel('Upload progress').evaluate((e) => e.value), 1);
  // Resumed from the first chunk's end, not started again.
  assert.deepEqual(patches, [0, 1024 * 1024, 1024 * 1024]);
  const item = p.getByRole('listitem', { name: 'Sponsor Wall' });
  await item.waitFor();
  assert.equal(await item.getAttribute('data-status'), 'pending');
  const assets = await server.ok('GET', '/api/v1/assets', admin);
  const sponsor = assets.find((a) => a.name === 'Sponsor Wall');
  assert.equal(sponsor.versions[0].sha256, createHash('sha256').update(big).digest('hex'));
  assert.equal(sponsor.versions[0].uploaded_by, 'mk');
  // Marketing may upload but not approve.
  assert.equal(await p.getByRole('button', { name: 'Approve Sponsor Wall' }).count(), 0);
  await shot(p, 'content-upload');
  await p.context().close();
});

test('tus-js-client uploads from the page; an approver previews it blind, approves it, and only then it plays', async () => {
  // tus-js-client is loaded into the page by the test: the console's policy
  // allows no script but its own, so this context sets it aside.
  const p = await page(chrome, server, errors, { bypassCSP: true });
  await logIn(p, 'mk', passwords.mk);
  await p.addScriptTag({ path: path.join(root, 'tests/console/node_modules/tus-js-client/dist/tus.min.js') });
  const picture = png(8, 4, colour);
  const token = await server.login('mk', passwords.mk);
  const done = await p.evaluate(
    async ({ bytes, token }) => {
      const file = new Blob([new Uint8Array(bytes)], { type: 'image/png' });
      const url = await new Promise((resolve, reject) => {
        const upload = new window.tus.Upload(file, {
          endpoint: '/api/v1/uploads',
          headers: { Authorization: `Bearer ${token}` },
          metadata: { name: 'Art', filename: 'art.png', filetype: 'image/png' },
          chunkSize: 64,
          retryDelays: [0, 100, 500],
          onError: reject,
          onSuccess: () => resolve(upload.url),
        });
        upload.start();
      });
      const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
      return res.json();
    },
    { bytes: [...picture], token },
  );
  assert.ok(done.asset > 0, JSON.stringify(done));
  await p.context().close();
  await server.ok('POST', '/api/v1/scenes', admin, {
    name: 'Art',
    layers: [{ effect: 'image', asset: done.asset, fit: 'stretch' }],
  });

  const r = await page(chrome, server, errors);
  await logIn(r, 'rev', passwords.rev);
  await r.getByRole('button', { name: 'Content' }).click();
  const item = r.getByRole('listitem', { name: 'Art', exact: true });
  await item.waitFor();
  // The thumbnail is the picture itself.
  const thumb = r.getByRole('img', { name: 'Art, version 1' });
  await thumb.waitFor();
  await r.waitForFunction(() => {
    const img = [...document.querySelectorAll('img.asset-thumb')].find((i) => i.alt === 'Art, version 1');
    return img && img.complete && img.naturalWidth === 8;
  });
  const corner = await thumb.evaluate((img) => {
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    return [...ctx.getImageData(7, 3, 1, 1).data.slice(0, 3)];
  });
  assert.deepEqual(corner, colour(7, 3));

  // Blind: the console shows the pending picture on the wall's pixel map...
  await r.getByLabel('Where to preview').selectOption({ label: 'Art Wall' });
  await r.getByLabel('What to preview').selectOption('Art');
  await r.getByRole('button', { name: 'Preview on canvas' }).click();
  const view = r.getByLabel('Blind preview');
  const first = colour(0, 0).join(',');
  await r.waitForFunction((want) => document.getElementById('blind-view').dataset.first === want, first);
  await shot(r, 'content-blind');
  // ...and the wall keeps showing the house look.
  const black = (pkt) => pkt.slots.slice(0, 96).every((v) => v === 0);
  await rx.until(black);
  for (let i = 0; i < 20; i++) {
    const pkt = await rx.until(() => true);
    assert.ok(black(pkt), `the wire left the live look: ${pkt.slots.slice(0, 6)}`);
  }
  assert.equal(await view.getAttribute('data-raster'), '8x4');
  await r.getByRole('button', { name: 'Stop preview' }).click();

  // Not approved: it may not play.
  const refused = await server.call('POST', `/api/v1/canvases/${wall}/scene`, admin, { scene: 'Art' });
  assert.equal(refused.status, 409);
  await r.getByRole('button', { name: 'Approve Art' }).click();
  await r.waitForFunction(() => {
    const li = [...document.querySelectorAll('li.asset')].find((l) => l.getAttribute('aria-label') === 'Art');
    return li && li.dataset.status === 'approved';
  });
  await server.ok('POST', `/api/v1/canvases/${wall}/scene`, admin, { scene: 'Art' });
  await rx.until((pkt) => pkt.slots.slice(0, 96).every((v, i) => v === wirePicture[i]));

  // A second version is rejected with a reason the uploader can read.
  const mk = await server.login('mk', passwords.mk);
  await tusUpload(mk, png(8, 4, () => [0, 0, 200]), { asset: String(done.asset) });
  await r.getByRole('button', { name: 'Reject Art' }).waitFor();
  await r.getByLabel('Reason for rejecting Art').fill('Too dark for the facade');
  await r.getByRole('button', { name: 'Reject Art' }).click();
  await item.getByText('Too dark for the facade (rev)').waitFor();
  await shot(r, 'content-review');
  await r.context().close();
});

test('a scene made from a template in the console plays its two colours', async () => {
  const p = await page(chrome, server, errors);
  await logIn(p, 'mk', passwords.mk);
  await p.getByRole('button', { name: 'Content' }).click();
  const template = p.getByRole('listitem', { name: 'Celebration' });
  await template.waitFor();
  await p.getByLabel('Home colour (Celebration)').fill('#e00000');
  await p.getByLabel('Away colour (Celebration)').fill('#0030e0');
  await p.getByLabel('Name of the scene made from Celebration').fill('Reds v Blues');
  await p.getByRole('button', { name: 'Make scene from Celebration' }).click();
  await p.getByText('Reds v Blues made from Celebration').waitFor();
  await shot(p, 'content-template');
  await p.context().close();
  await server.ok('POST', `/api/v1/canvases/${wall}/scene`, admin, { scene: 'Reds v Blues' });
  const want = Array.from({ length: 32 }, (_, i) => (i < 16 ? [0xe0, 0, 0] : [0, 0x30, 0xe0])).flat();
  await rx.until((pkt) => pkt.slots.slice(0, 96).every((v, i) => v === want[i]));
});

test('the content pages raised no JavaScript error', () => {
  assert.deepEqual(errors, []);
});

/** A whole upload through tus from the test itself; the upload's final state. */
async function tusUpload(token, bytes, metadata) {
  const meta = Object.entries(metadata)
    .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
    .join(',');
  const auth = { Authorization: `Bearer ${token}`, 'Tus-Resumable': '1.0.0' };
  const created = await fetch(`${server.url}/api/v1/uploads`, {
    method: 'POST',
    headers: { ...auth, 'Upload-Length': String(bytes.length), 'Upload-Metadata': meta },
  });
  assert.equal(created.status, 201);
  const url = new URL(created.headers.get('location'), server.url).href;
  const patched = await fetch(url, {
    method: 'PATCH',
    headers: { ...auth, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
    body: bytes,
  });
  assert.equal(patched.status, 204);
  return (await fetch(url, { headers: auth })).json();
}
