// What the console's browser tests run against: a real Limelight binary on a free
// loopback port with a fresh data directory, a UDP socket that decodes the E1.31
// it receives, a REST client, and Debian's Chromium driven by playwright-core.

import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import zlib from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../..');
const binary = process.env.LIMELIGHT_BIN || path.join(root, 'target/debug/limelight');
export const screenshots = process.env.LIMELIGHT_SCREENSHOTS || path.join(root, 'target/console-screenshots');
export const ADMIN_PASSWORD = 'console-test-admin-password';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A Limelight process; `restart()` starts it again on the same port and data. */
export class Server {
  static async start({ demo = false } = {}) {
    const server = new Server();
    server.dir = mkdtempSync(path.join(os.tmpdir(), 'limelight-console-'));
    server.port = await freePort();
    server.url = `http://127.0.0.1:${server.port}`;
    server.demo = demo;
    server.log = [];
    await server.spawn();
    return server;
  }

  async spawn() {
    // The harness's own settings are not the server's: it refuses unknown ones.
    const { LIMELIGHT_BIN: _bin, LIMELIGHT_SCREENSHOTS: _shots, ...inherited } = process.env;
    const env = {
      ...inherited,
      LIMELIGHT_HTTP_ADDR: `127.0.0.1:${this.port}`,
      LIMELIGHT_DATA_DIR: this.dir,
      LIMELIGHT_ADMIN_PASSWORD: ADMIN_PASSWORD,
      LIMELIGHT_JWT_SECRET: 'console-tests-secret-of-at-least-32-characters',
      LIMELIGHT_SCENES_DIR: path.join(root, 'scenes'),
      LIMELIGHT_SEED_DEMO_VENUE: String(this.demo),
      LIMELIGHT_SACN_MULTICAST_INTERFACE: '127.0.0.1',
      LIMELIGHT_LOG: 'info',
      // A test logs in and calls the API far more often than a person would;
      // the limits have tests of their own.
      LIMELIGHT_RATE_LIMIT_PER_MINUTE: '0',
      LIMELIGHT_WS_RATE_LIMIT_PER_MINUTE: '0',
      LIMELIGHT_LOGIN_RATE_LIMIT_PER_MINUTE: '0',
    };
    this.child = spawn(binary, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    // Up once it says so; the deadline only bounds a failure.
    const child = this.child;
    const from = this.log.length;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('limelight did not come up')), 30_000);
      const fail = (e) => {
        clearTimeout(timer);
        reject(new Error(`${e.message}:\n${this.log.join('')}`));
      };
      child.once('exit', (code) => fail(new Error(`limelight exited with ${code}`)));
      for (const stream of [child.stdout, child.stderr]) {
        stream.on('data', (d) => {
          this.log.push(String(d));
          if (this.log.slice(from).join('').includes('Limelight is up')) {
            clearTimeout(timer);
            resolve();
          }
        });
      }
    });
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill() {
    if (this.child.exitCode !== null) {
      return;
    }
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await gone;
  }

  async restart() {
    await this.kill();
    await this.spawn();
  }

  async stop() {
    if (this.child.exitCode === null) {
      const gone = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await Promise.race([gone, sleep(10_000)]);
      await this.kill();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  async call(method, route, token, body) {
    const headers = { Accept: 'application/json' };
    if (token) {
      headers.Authorization = `Bearer ${token}`;
    }
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
    }
    const res = await fetch(`${this.url}${route}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  }

  async ok(method, route, token, body) {
    const { status, body: answer } = await this.call(method, route, token, body);
    if (status >= 300) {
      throw new Error(`${method} ${route}: ${status} ${JSON.stringify(answer)}`);
    }
    return answer;
  }

  async login(username, password) {
    return (await this.ok('POST', '/api/v1/auth/login', null, { username, password })).token;
  }

  async admin() {
    return this.login('admin', ADMIN_PASSWORD);
  }

  /** A user with `role`; its password is its name twice over. */
  async user(admin, username, role) {
    const password = `${username}-${username}-password`;
    await this.ok('POST', '/api/v1/users', admin, { username, password, role });
    return password;
  }

  async solidScene(token, name, color) {
    await this.ok('POST', '/api/v1/scenes', token, { name, layers: [{ effect: 'solid', color }] });
  }

  /** A 10-pixel canvas sending unicast to `rx`; its id. */
  async canvasTo(token, name, rx, universe = 1) {
    const canvas = await this.ok('POST', '/api/v1/canvases', token, {
      name,
      pixels: 10,
      fps: 40,
      output: { universe, destinations: [rx.dest()] },
    });
    return canvas.id;
  }
}

/** Debian's mosquitto on a free loopback port; `publish` goes through mosquitto_pub. */
export class Broker {
  static async start() {
    const broker = new Broker();
    broker.port = await freePort();
    broker.url = `mqtt://127.0.0.1:${broker.port}`;
    broker.dir = mkdtempSync(path.join(os.tmpdir(), 'limelight-mqtt-'));
    broker.config = path.join(broker.dir, 'mosquitto.conf');
    writeFileSync(broker.config, `listener ${broker.port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
    await broker.restart();
    return broker;
  }

  async restart() {
    const program = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p)) || 'mosquitto';
    this.child = spawn(program, ['-c', this.config], { stdio: 'ignore' });
    for (let i = 0; i < 200; i++) {
      const up = await new Promise((resolve) => {
        const s = net.connect(this.port, '127.0.0.1', () => {
          s.end();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      if (up) {
        return;
      }
      await sleep(25);
    }
    throw new Error('mosquitto did not listen');
  }

  async stop() {
    // A killed child has a signalCode and no exitCode.
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      const gone = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGKILL');
      await gone;
    }
  }

  async publish(topic, payload) {
    const pub = spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(this.port), '-t', topic, '-m', payload]);
    const code = await new Promise((r) => pub.once('exit', r));
    if (code !== 0) {
      throw new Error(`mosquitto_pub exited with ${code}`);
    }
  }

  async close() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A UDP socket on loopback that decodes the E1.31 data packets it receives. */
export class Receiver {
  static async bind() {
    const rx = new Receiver();
    rx.socket = dgram.createSocket('udp4');
    rx.queue = [];
    rx.waiters = [];
    rx.socket.on('message', (msg) => {
      const p = decode(msg);
      if (!p) {
        return;
      }
      rx.queue.push(p);
      if (rx.queue.length > 2000) {
        rx.queue.shift();
      }
      for (const w of rx.waiters.splice(0)) {
        w();
      }
    });
    await new Promise((r) => rx.socket.bind(0, '127.0.0.1', r));
    return rx;
  }

  dest() {
    const { address, port } = this.socket.address();
    return `${address}:${port}`;
  }

  /** Data packets until one passes `pred`; that packet. Fails after `within` ms. */
  async until(pred, within = 5000) {
    const deadline = Date.now() + within;
    for (;;) {
      while (this.queue.length) {
        const p = this.queue.shift();
        if (pred(p)) {
          return p;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error('no matching E1.31 packet in time');
      }
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Until the first pixel is `rgb`. */
  async untilRgb(rgb, within) {
    return this.until((p) => p.slots[0] === rgb[0] && p.slots[1] === rgb[1] && p.slots[2] === rgb[2], within);
  }

  close() {
    this.socket.close();
  }
}

/** An E1.31 data packet's universe, sequence and DMX slots; null for anything else. */
export function decode(msg) {
  // Root layer: ACN packet identifier at 4..16, vector 4 (E1.31 data) at 18..22.
  if (msg.length < 126 || msg.toString('latin1', 4, 13) !== 'ASC-E1.17') {
    return null;
  }
  if (msg.readUInt32BE(18) !== 0x00000004 || msg.readUInt32BE(40) !== 0x00000002) {
    return null;
  }
  const universe = msg.readUInt16BE(113);
  const count = msg.readUInt16BE(123) - 1;
  if (msg[125] !== 0) {
    return null;
  }
  return {
    universe,
    sequence: msg[111],
    options: msg[112],
    slots: [...msg.subarray(126, 126 + count)],
    at: performance.now(),
  };
}

/** Debian's Chromium, headless, as playwright-core drives it. */
export async function browser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A page in a fresh context (with playwright's context `options`) that records every JavaScript error it raises (and
 * every console error) into `errors`.
 */
export async function page(chrome, server, errors, options = {}) {
  const context = await chrome.newContext({ viewport: { width: 1400, height: 1000 }, ...options });
  const p = await context.newPage();
  p.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  p.on('console', (m) => {
    // The browser's own notes of refused requests and dropped sockets are not
    // errors of the page: the tests cause them on purpose.
    const network = /^(Failed to load resource|WebSocket connection to)/;
    if (m.type() === 'error' && !network.test(m.text())) {
      errors.push(`console error: ${m.text()}`);
    }
  });
  await p.goto(server.url);
  return p;
}

/** Log in through the form and wait until the console is connected. */
export async function logIn(p, username, password) {
  await p.getByLabel('Username').fill(username);
  await p.getByLabel('Password').fill(password);
  await p.getByRole('button', { name: 'Log in' }).click();
  await p.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 10_000 });
}

export async function shot(p, name) {
  mkdirSync(screenshots, { recursive: true });
  await p.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
}

/** CRC-32 as PNG chunks carry it. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) {
    c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) {
    c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** A `width` x `height` RGB PNG with `colour(x, y)` -> [r, g, b] on each pixel. */
export function png(width, height, colour) {
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const at = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      rows.set(colour(x, y), at + 1 + x * 3);
    }
  }
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
