// The Limelight operator console: REST for what is stored, the WebSocket for what
// is live. One module, no framework: state in `live`, the page drawn from it.

import { contentPage } from './content.js';

const TOKEN_KEY = 'limelight.session';
const PROTOCOL = 'limelight.v1';
const PREVIEW_FPS = 15;
// Most pixels a preview is drawn with; the server sends no more than this.
const PREVIEW_PIXELS = 2048;
// A fader sends at most this many changes a second.
const FADER_RATE = 20;
// After a fader is let go, echoes of its own values are ignored this long.
const FADER_SETTLE_MS = 400;
// Reconnect waits, growing to the last and staying there.
const RECONNECT_MS = [100, 250, 500, 1000];

const $ = (id) => document.getElementById(id);

/** Who is logged in: { token, username, role }, kept in session storage only. */
let session = null;
/** Live state from the WebSocket. */
const live = {
  canvases: new Map(),
  overrides: new Map(),
  grandMaster: 100,
  consoles: [],
  /** Inputs by id: name, connection, stale, and values by name. */
  inputs: new Map(),
  alerts: [],
};
let socket = null;
let reconnects = 0;
let reconnectTimer = null;
let nextRequest = 1;
const pending = new Map();
const tiles = new Map();
let scenes = [];
let cueLists = [];
/** The content library page (`content.js`), made once the page is wired. */
let content = null;

// ---- session -------------------------------------------------------------

function loadSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || 'null');
    if (saved && saved.token && saved.role) {
      return saved;
    }
  } catch {
    // A broken entry is the same as none.
  }
  return null;
}

function saveSession(s) {
  session = s;
  if (s) {
    sessionStorage.setItem(TOKEN_KEY, JSON.stringify(s));
  } else {
    sessionStorage.removeItem(TOKEN_KEY);
  }
}

const can = {
  live: () => session && (session.role === 'admin' || session.role === 'operator'),
  system: () => session && session.role === 'admin',
};

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (session) {
    headers.Authorization = `Bearer ${session.token}`;
  }
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (res.status === 401 && session) {
    endSession('Your session has ended; log in again.');
  }
  if (!res.ok) {
    const err = new Error((data && data.message) || res.statusText);
    err.code = data && data.code;
    err.status = res.status;
    throw err;
  }
  return data;
}

async function logIn(event) {
  event.preventDefault();
  const error = $('login-error');
  error.textContent = '';
  const username = $('login-username').value.trim();
  const password = $('login-password').value;
  try {
    const answer = await api('POST', '/api/v1/auth/login', { username, password });
    if (answer.role === 'attendee') {
      error.textContent = 'This console is for venue staff: attendee accounts cannot use it.';
      return;
    }
    saveSession({ token: answer.token, username, role: answer.role });
    $('login-password').value = '';
    start();
  } catch (e) {
    error.textContent = e.status === 401 ? 'Wrong username or password.' : `Cannot log in: ${e.message}`;
  }
}

function endSession(message) {
  saveSession(null);
  stopSocket();
  $('app').hidden = true;
  $('login-view').hidden = false;
  $('login-error').textContent = message || '';
  $('login-username').focus();
}

// ---- the WebSocket -------------------------------------------------------

function setConnection(text, ok) {
  const el = $('connection');
  el.textContent = text;
  el.classList.toggle('ok', ok);
}

function connect() {
  clearTimeout(reconnectTimer);
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  // The token travels as a subprotocol: never in a URL the browser keeps.
  const ws = new WebSocket(`${scheme}://${location.host}/api/v1/ws`, [PROTOCOL, `bearer.${session.token}`]);
  ws.binaryType = 'arraybuffer';
  socket = ws;
  ws.onopen = () => {
    reconnects = 0;
    content.reconnected();
    setConnection('Connected', true);
  };
  ws.onmessage = (m) => {
    if (typeof m.data === 'string') {
      onMessage(JSON.parse(m.data));
    } else {
      onPreview(m.data);
    }
  };
  ws.onclose = () => {
    if (socket !== ws) {
      return;
    }
    socket = null;
    for (const [, p] of pending) {
      p.reject(new Error('the connection dropped'));
    }
    pending.clear();
    if (!session) {
      return;
    }
    setConnection('Reconnecting…', false);
    const wait = RECONNECT_MS[Math.min(reconnects, RECONNECT_MS.length - 1)];
    reconnects += 1;
    reconnectTimer = setTimeout(checkAndReconnect, wait);
  };
}

async function checkAndReconnect() {
  if (!session) {
    return;
  }
  if (reconnects > 3) {
    // Refused more than once: make sure the token still holds.
    try {
      await api('GET', '/api/v1/auth/me');
    } catch (e) {
      if (e.status === 401) {
        return;
      }
    }
  }
  if (session) {
    connect();
  }
}

function stopSocket() {
  clearTimeout(reconnectTimer);
  if (socket) {
    const ws = socket;
    socket = null;
    ws.close();
  }
}

/** Send a command; resolves with its ack, rejects with its error. */
function send(message) {
  const request_id = `c${nextRequest++}`;
  return new Promise((resolve, reject) => {
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      reject(new Error('not connected'));
      return;
    }
    pending.set(request_id, { resolve, reject });
    socket.send(JSON.stringify({ ...message, request_id }));
  });
}

/** Send a command and show its ack or its error. */
async function command(message, what) {
  try {
    const ack = await send(message);
    if (ack.canvas) {
      updateCanvas(ack.canvas);
    }
    toast(`${what}: done`, 'ok');
    return ack;
  } catch (e) {
    toast(`${what}: ${e.message}`, 'error');
    return null;
  }
}

function onMessage(m) {
  content.onEvent(m);
  switch (m.type) {
    case 'welcome':
      $('who').textContent = `${m.username} (${m.role})`;
      break;
    case 'snapshot':
      onSnapshot(m);
      break;
    case 'canvas_state':
      updateCanvas(m.canvas);
      break;
    case 'grand_master':
      live.grandMaster = m.level;
      drawGrandMaster();
      break;
    case 'override_changed':
      if (m.override) {
        live.overrides.set(m.canvas, m.override);
      } else {
        live.overrides.delete(m.canvas);
      }
      drawTile(m.canvas);
      drawOverrides();
      break;
    case 'cue':
      drawCues();
      break;
    case 'canvas_restarted':
      toast(`${canvasName(m.canvas)} restarted: ${m.reason}`, 'error');
      break;
    case 'system_alert':
      live.alerts.push(m.alert);
      drawAlerts();
      break;
    case 'consoles':
      live.consoles = m.consoles;
      drawPresence();
      break;
    case 'input_status': {
      const input = live.inputs.get(m.input) || { values: new Map() };
      Object.assign(input, { name: m.name, connection: m.connection, stale: m.stale });
      live.inputs.set(m.input, input);
      drawInputs();
      break;
    }
    case 'celebration': {
      const f = m.fired;
      toast(`${f.name}: fired by ${f.by} on ${f.canvases.map(canvasName).join(', ')}`, 'ok');
      break;
    }
    case 'sensor_data': {
      const input = live.inputs.get(m.input);
      if (input) {
        for (const v of m.values) {
          input.values.set(v.name, v);
        }
        drawInputs();
      }
      break;
    }
    case 'ack': {
      const p = pending.get(m.request_id);
      pending.delete(m.request_id);
      if (p) {
        p.resolve(m);
      }
      break;
    }
    case 'error': {
      const p = m.request_id && pending.get(m.request_id);
      if (p) {
        pending.delete(m.request_id);
        const err = new Error(m.message);
        err.code = m.code;
        p.reject(err);
      } else {
        toast(m.message, 'error');
      }
      break;
    }
    default:
      break;
  }
}

function onSnapshot(m) {
  live.canvases = new Map(m.canvases.map((c) => [c.id, c]));
  live.overrides = new Map((m.overrides || []).map((o) => [o.canvas, o]));
  live.grandMaster = m.grand_master;
  if (m.consoles) {
    live.consoles = m.consoles;
  }
  live.inputs = new Map(
    (m.inputs || []).map((i) => [
      i.id,
      {
        name: i.name,
        connection: i.connection,
        stale: i.values.some((v) => v.stale),
        values: new Map(i.values.map((v) => [v.name, v])),
      },
    ]),
  );
  drawInputs();
  drawTiles();
  drawGrandMaster();
  drawOverrides();
  drawPresence();
  drawTriggerTargets();
  drawCues();
  send({
    type: 'subscribe_preview',
    canvases: [...live.canvases.keys()],
    fps: PREVIEW_FPS,
    max_pixels: PREVIEW_PIXELS,
    format: 2,
  }).catch(() => {});
}

function updateCanvas(state) {
  live.canvases.set(state.id, state);
  drawTile(state.id);
  if (Number($('cue-canvas').value) === state.id) {
    drawCues();
  }
}

function canvasName(id) {
  const c = live.canvases.get(id);
  return c ? c.name : `canvas ${id}`;
}

// ---- previews ------------------------------------------------------------

function onPreview(buffer) {
  const view = new DataView(buffer);
  if (view.byteLength < 25 || view.getUint8(0) !== 2) {
    return;
  }
  const id = Number(view.getBigInt64(1));
  const width = view.getUint32(17);
  const height = view.getUint32(21);
  if (width < 1 || height < 1 || view.byteLength < 25 + width * height * 4) {
    return;
  }
  const rgba = new Uint8ClampedArray(buffer, 25, width * height * 4);
  // A blind preview's frames stand in for the canvas's own: they go to the
  // content page, never to the live tile.
  if (content.onPreview(id, rgba, width, height)) {
    return;
  }
  const tile = tiles.get(id);
  if (tile) {
    drawPreview(tile, rgba, width, height);
  }
}

/**
 * A canvas's raster (RGBA cells, transparent where no pixel is) drawn where its
 * pixels are, as large as the tile allows without stretching. A canvas with no
 * geometry is one row: it is drawn wrapped into rows of at most 64 pixels.
 */
function drawPreview(tile, rgba, width, height) {
  let cells = rgba;
  let w = width;
  let h = height;
  if (height === 1 && width > 64) {
    w = 64;
    h = Math.ceil(width / 64);
    cells = new Uint8ClampedArray(w * h * 4);
    cells.set(rgba);
  }
  if (!tile.image || tile.image.width !== w || tile.image.height !== h) {
    tile.image = new ImageData(w, h);
    tile.scratch.width = w;
    tile.scratch.height = h;
  }
  tile.image.data.set(cells);
  tile.scratch.getContext('2d').putImageData(tile.image, 0, 0);
  const canvas = tile.preview;
  const scale = Math.min(canvas.width / w, canvas.height / h);
  const dw = Math.max(1, Math.round(w * scale));
  const dh = Math.max(1, Math.round(h * scale));
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(tile.scratch, (canvas.width - dw) >> 1, (canvas.height - dh) >> 1, dw, dh);
  canvas.dataset.frame = String((Number(canvas.dataset.frame) || 0) + 1);
  canvas.dataset.raster = `${width}x${height}`;
  // The first cell a pixel is in, for tests and the curious.
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i + 3] !== 0) {
      canvas.dataset.first = `${rgba[i]},${rgba[i + 1]},${rgba[i + 2]}`;
      break;
    }
  }
}

// ---- faders --------------------------------------------------------------

/**
 * A range input that sends while it is dragged (at most FADER_RATE a second, the
 * last value always) and ignores the server's echoes until it settles.
 */
function fader(input, sendValue) {
  const period = 1000 / FADER_RATE;
  const state = { dragging: false, settledAt: 0, timer: null, lastSent: -Infinity, sentValue: null, queued: null };
  // The one place a value leaves: never sooner than `period` after the last.
  const flush = () => {
    state.timer = null;
    if (state.queued === null) {
      return;
    }
    const early = state.lastSent + period - performance.now();
    if (early > 0) {
      state.timer = setTimeout(flush, early);
      return;
    }
    const value = state.queued;
    state.queued = null;
    if (value === state.sentValue) {
      return;
    }
    state.lastSent = performance.now();
    state.sentValue = value;
    sendValue(value);
  };
  const change = () => {
    state.queued = Number(input.value);
    if (!state.timer) {
      state.timer = setTimeout(flush, Math.max(0, state.lastSent + period - performance.now()));
    }
  };
  input.addEventListener('pointerdown', () => {
    state.dragging = true;
  });
  const release = () => {
    state.dragging = false;
    state.settledAt = performance.now() + FADER_SETTLE_MS;
  };
  input.addEventListener('pointerup', release);
  input.addEventListener('pointercancel', release);
  input.addEventListener('input', change);
  input.addEventListener('change', () => {
    change();
    release();
  });
  return {
    /** Show the server's value unless the operator is moving the fader. */
    show(value) {
      // Moved elsewhere (or an echo of an earlier value): the next value of this
      // fader goes out even if it is the one it last sent, so the operator's
      // hand wins when the fader is let go.
      if (value !== state.sentValue) {
        state.sentValue = null;
      }
      if (state.dragging || state.queued !== null || performance.now() < state.settledAt) {
        return;
      }
      input.value = String(value);
    },
  };
}

// ---- tiles ---------------------------------------------------------------

function drawTiles() {
  const box = $('tiles');
  const ids = [...live.canvases.keys()];
  for (const [id, tile] of tiles) {
    if (!live.canvases.has(id)) {
      tile.root.remove();
      tiles.delete(id);
    }
  }
  for (const id of ids) {
    if (!tiles.has(id)) {
      tiles.set(id, makeTile(id));
      box.append(tiles.get(id).root);
    }
    drawTile(id);
  }
  applyRole(box);
}

function makeTile(id) {
  const root = $('tile-template').content.firstElementChild.cloneNode(true);
  const q = (c) => root.querySelector(c);
  const tile = {
    root,
    preview: q('.preview'),
    scratch: document.createElement('canvas'),
    image: null,
    confirmTimer: null,
  };
  tile.master = fader(q('.tile-master'), (level) => {
    q('.tile-master-value').textContent = `${level} %`;
    command({ type: 'master', canvas: id, level }, `${canvasName(id)} master`);
  });
  q('.tile-master').addEventListener('input', (e) => {
    q('.tile-master-value').textContent = `${e.target.value} %`;
  });
  q('.tile-blackout').addEventListener('click', () => {
    const on = !live.canvases.get(id).blackout;
    command({ type: 'blackout', canvas: id, on }, `${canvasName(id)} blackout ${on ? 'on' : 'off'}`);
  });
  q('.tile-emergency').addEventListener('click', () => confirmEmergency(id, tile));
  q('.tile-release').addEventListener('click', () => {
    command({ type: 'release_override', canvas: id }, `${canvasName(id)} handed back`);
  });
  return tile;
}

/** Emergency takes a second, confirming click within five seconds. */
function confirmEmergency(id, tile) {
  const button = tile.root.querySelector('.tile-emergency');
  const on = !live.canvases.get(id).emergency;
  let confirm = tile.root.querySelector('.tile-confirm');
  if (confirm) {
    return;
  }
  confirm = document.createElement('button');
  confirm.type = 'button';
  confirm.className = 'tile-confirm danger';
  confirm.textContent = on ? 'Confirm: switch emergency on' : 'Confirm: switch emergency off';
  const done = () => {
    clearTimeout(tile.confirmTimer);
    confirm.remove();
  };
  confirm.addEventListener('click', () => {
    done();
    command({ type: 'emergency', canvas: id, on }, `${canvasName(id)} emergency ${on ? 'on' : 'off'}`);
  });
  button.after(confirm);
  confirm.focus();
  tile.confirmTimer = setTimeout(done, 5000);
}

function drawTile(id) {
  const tile = tiles.get(id);
  const c = live.canvases.get(id);
  if (!tile || !c) {
    return;
  }
  const q = (s) => tile.root.querySelector(s);
  tile.root.setAttribute('aria-label', c.name);
  q('.tile-name').textContent = c.name;
  const playing = c.cues
    ? `${c.cues.name}: cue ${c.cues.current ?? '–'}`
    : c.scene ?? 'dark';
  q('.tile-playing').textContent = playing;
  const fade = q('.tile-fade');
  fade.hidden = c.fade === null || c.fade === undefined;
  fade.value = c.fade ?? 0;
  q('.tile-master-value').textContent = `${Math.round(c.master)} %`;
  tile.master.show(Math.round(c.master));
  q('.tile-blackout').setAttribute('aria-pressed', String(c.blackout));
  q('.tile-emergency').setAttribute('aria-pressed', String(c.emergency));
  tile.root.classList.toggle('emergency', c.emergency);
  q('.tile-stats').textContent = `${c.frames_skipped} frames skipped · ${c.restarts} restarts`;
  const o = live.overrides.get(id);
  const badge = q('.tile-override');
  badge.hidden = !o;
  q('.tile-release').hidden = !o || !can.live();
  if (o) {
    badge.textContent = `Override by ${o.by}: ${scopeText(o.scope)}`;
  }
}

function scopeText(scope) {
  if (scope === 'until_released') {
    return 'until released';
  }
  if (scope === 'next_change') {
    return 'until the next change';
  }
  if (scope && scope.for_s) {
    return `for ${scope.for_s} s`;
  }
  return String(scope);
}

let grandMasterFader = null;

function drawGrandMaster() {
  $('grand-master-value').textContent = `${Math.round(live.grandMaster)} %`;
  grandMasterFader.show(Math.round(live.grandMaster));
}

// ---- alerts, toasts, presence --------------------------------------------

function drawAlerts() {
  const box = $('alerts');
  box.replaceChildren(
    ...live.alerts.map((alert, i) => {
      const div = document.createElement('div');
      div.className = 'alert';
      div.setAttribute('role', 'alert');
      const text = document.createElement('span');
      text.textContent = `${alert.kind === 'critical_incident' ? 'Critical incident' : 'Emergency'}: ${alert.title}`;
      const ack = document.createElement('button');
      ack.type = 'button';
      ack.textContent = 'Acknowledge';
      ack.addEventListener('click', () => {
        live.alerts.splice(i, 1);
        drawAlerts();
      });
      div.append(text, ack);
      return div;
    }),
  );
}

function toast(text, kind) {
  const div = document.createElement('div');
  div.className = `toast ${kind}`;
  div.textContent = text;
  $('toasts').append(div);
  setTimeout(() => div.remove(), kind === 'error' ? 8000 : 2500);
}

/** One row per input value: what layers read now, with a bar. */
function drawInputs() {
  const body = $('inputs').tBodies[0];
  const rows = [];
  for (const input of live.inputs.values()) {
    const values = input.values.size ? [...input.values.values()] : [null];
    for (const v of values) {
      const tr = document.createElement('tr');
      const name = document.createElement('td');
      name.textContent = v ? `${input.name} · ${v.name}` : input.name;
      const state = document.createElement('td');
      state.textContent = input.connection + (v && v.stale ? ' · stale' : '');
      const value = document.createElement('td');
      value.textContent = v ? v.value.toFixed(2) : '–';
      const level = document.createElement('td');
      if (v) {
        const meter = document.createElement('meter');
        meter.min = 0;
        meter.max = 1;
        meter.value = v.value;
        meter.setAttribute('aria-label', `${v.name} level`);
        level.append(meter);
      }
      tr.append(name, state, value, level);
      rows.push(tr);
    }
  }
  body.replaceChildren(...rows);
}

function drawPresence() {
  const list = $('presence');
  list.replaceChildren(
    ...live.consoles.map((c) => {
      const li = document.createElement('li');
      li.textContent = `${c.username} (${c.role})${c.consoles > 1 ? ` · ${c.consoles} consoles` : ''}`;
      return li;
    }),
  );
}

// ---- scenes --------------------------------------------------------------

/** Object URLs of the thumbnails shown, given back when the list is drawn again. */
let thumbnails = [];

async function loadScenes() {
  scenes = await api('GET', '/api/v1/scenes');
  for (const url of thumbnails) {
    URL.revokeObjectURL(url);
  }
  thumbnails = [];
  const list = $('scene-list');
  list.replaceChildren(
    ...scenes.map((s) => {
      const li = document.createElement('li');
      li.setAttribute('aria-label', s.name);
      const img = document.createElement('img');
      img.className = 'thumb';
      img.alt = `${s.name}, over four seconds`;
      img.width = 64;
      img.height = 16;
      loadThumbnail(img, s.id);
      const name = document.createElement('span');
      name.textContent = s.name;
      li.append(img, name);
      if (can.live()) {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = `Trigger ${s.name}`;
        b.addEventListener('click', () => triggerScene(s.name));
        li.append(b);
      }
      return li;
    }),
  );
}

/** A scene's thumbnail: a row of 64 pixels for each quarter second, drawn by the server. */
async function loadThumbnail(img, id) {
  try {
    const res = await fetch(`/api/v1/scenes/${id}/thumbnail?width=64&height=16&seconds=4`, {
      headers: { Authorization: `Bearer ${session.token}` },
    });
    if (!res.ok) {
      return;
    }
    const url = URL.createObjectURL(await res.blob());
    thumbnails.push(url);
    img.src = url;
  } catch {
    // No thumbnail: the name still stands.
  }
}

function drawTriggerTargets() {
  const box = $('trigger-canvases');
  const checked = new Set([...box.querySelectorAll('input:checked')].map((i) => Number(i.value)));
  box.replaceChildren(
    ...[...live.canvases.values()].map((c) => {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.value = String(c.id);
      input.checked = checked.has(c.id);
      label.append(input, ` ${c.name}`);
      return label;
    }),
  );
}

function triggerScene(scene) {
  const targets = [...$('trigger-canvases').querySelectorAll('input:checked')].map((i) => Number(i.value));
  if (targets.length === 0) {
    toast('Choose the canvases to trigger on first.', 'error');
    return;
  }
  const fade_ms = Number($('trigger-fade').value) || 0;
  const curve = $('trigger-curve').value;
  const scopeChoice = $('trigger-scope').value;
  const scope = scopeChoice === 'for' ? { for_s: Number($('trigger-for').value) || 60 } : scopeChoice;
  for (const canvas of targets) {
    command(
      { type: 'trigger_scene', canvas, scene, fade_ms, curve, scope },
      `${scene} on ${canvasName(canvas)}`,
    );
  }
}

// ---- cues ----------------------------------------------------------------

async function loadCueLists() {
  cueLists = await api('GET', '/api/v1/cue-lists');
  $('cue-list').replaceChildren(
    ...cueLists.map((l) => {
      const o = document.createElement('option');
      o.value = String(l.id);
      o.textContent = l.name;
      return o;
    }),
  );
  drawCues();
}

function drawCues() {
  const select = $('cue-canvas');
  const chosen = Number(select.value);
  if (select.options.length !== live.canvases.size) {
    select.replaceChildren(
      ...[...live.canvases.values()].map((c) => {
        const o = document.createElement('option');
        o.value = String(c.id);
        o.textContent = c.name;
        return o;
      }),
    );
    if (chosen) {
      select.value = String(chosen);
    }
  }
  const c = live.canvases.get(Number(select.value));
  const playhead = c && c.cues;
  $('cue-current').textContent = playhead ? playhead.current ?? '–' : '–';
  $('cue-standby').textContent = playhead ? playhead.standby ?? 'end of list' : 'no list loaded';
  const list = playhead && cueLists.find((l) => l.id === playhead.cue_list);
  const cues = list ? list.cues : [];
  $('cue-goto').replaceChildren(
    ...cues.map((q) => {
      const o = document.createElement('option');
      o.value = String(q.number);
      o.textContent = `${q.number} ${q.name || q.scene || ''}`;
      return o;
    }),
  );
  $('cue-rows').replaceChildren(
    ...cues.map((q) => {
      const li = document.createElement('li');
      li.textContent = `${q.number} · ${q.name || q.scene || 'black'}`;
      if (playhead && String(playhead.current) === String(q.number)) {
        li.classList.add('current');
      }
      if (playhead && String(playhead.standby) === String(q.number)) {
        li.classList.add('standby');
      }
      return li;
    }),
  );
}

async function cue(commandBody, what) {
  const canvas = Number($('cue-canvas').value);
  if (!canvas) {
    return;
  }
  try {
    const ack = await send({ type: 'cue', canvas, command: commandBody });
    if (ack.canvas) {
      updateCanvas(ack.canvas);
    }
    $('cue-message').textContent = `${what}: done`;
  } catch (e) {
    // GO protection and the like say why.
    $('cue-message').textContent = `${what} refused: ${e.message}`;
    toast(`${what} refused: ${e.message}`, 'error');
  }
}

// ---- schedule ------------------------------------------------------------

async function loadSchedule() {
  const now = new Date();
  const week = new Date(now.getTime() + 7 * 24 * 3600 * 1000);
  const timeline = await api(
    'GET',
    `/api/v1/schedule/timeline?from=${encodeURIComponent(now.toISOString())}&to=${encodeURIComponent(week.toISOString())}`,
  );
  drawTimeline(timeline);
  if (!$('preview-at').value) {
    const local = new Date(now.getTime() - now.getTimezoneOffset() * 60000);
    $('preview-at').value = local.toISOString().slice(0, 16);
  }
}

/**
 * The timeline: per canvas a bar over the range, a segment for each stretch of one
 * thing playing (dark gaps left empty), a tick at each midnight; the changes as a
 * list beside it for reading.
 */
function drawTimeline(timeline) {
  const from = Date.parse(timeline.from);
  const to = Date.parse(timeline.to);
  const span = Math.max(1, to - from);
  const byCanvas = new Map();
  for (const p of timeline.initial) {
    byCanvas.set(p.canvas, [{ at: from, play: p.play }]);
  }
  for (const ch of timeline.changes) {
    if (!byCanvas.has(ch.canvas)) {
      byCanvas.set(ch.canvas, []);
    }
    byCanvas.get(ch.canvas).push({ at: Date.parse(ch.at), play: ch.play });
  }
  const days = [];
  const midnight = new Date(from);
  midnight.setHours(24, 0, 0, 0);
  for (let t = midnight.getTime(); t < to; t += 24 * 3600 * 1000) {
    days.push(t);
  }
  const at = (t) => `${((t - from) / span) * 100}%`;
  $('timeline').replaceChildren(
    ...[...byCanvas].map(([canvas, changes]) => {
      const row = document.createElement('section');
      row.className = 'timeline-row';
      row.setAttribute('aria-label', `${canvasName(canvas)} timeline`);
      const h = document.createElement('h3');
      h.textContent = canvasName(canvas);
      const bar = document.createElement('div');
      bar.className = 'timeline-bar';
      for (const day of days) {
        const tick = document.createElement('span');
        tick.className = 'timeline-day';
        tick.style.left = at(day);
        tick.textContent = new Date(day).toLocaleDateString(undefined, { weekday: 'short', day: 'numeric' });
        bar.append(tick);
      }
      changes.forEach((ch, i) => {
        const end = i + 1 < changes.length ? changes[i + 1].at : to;
        if (!ch.play || end <= ch.at) {
          return;
        }
        const seg = document.createElement('span');
        seg.className = 'timeline-segment';
        seg.style.left = at(Math.max(ch.at, from));
        seg.style.width = `${((end - Math.max(ch.at, from)) / span) * 100}%`;
        seg.style.background = `hsl(${hue(playText(ch.play))} 55% 42%)`;
        const text = `${playText(ch.play)}: ${new Date(ch.at).toLocaleString()} to ${new Date(end).toLocaleString()}`;
        seg.title = text;
        seg.setAttribute('aria-label', text);
        seg.textContent = playText(ch.play);
        bar.append(seg);
      });
      const now = document.createElement('span');
      now.className = 'timeline-now';
      now.style.left = at(Date.now());
      bar.append(now);
      const details = document.createElement('details');
      const summary = document.createElement('summary');
      summary.textContent = `${changes.length} changes`;
      const ol = document.createElement('ol');
      for (const ch of changes.slice(0, 100)) {
        const li = document.createElement('li');
        li.textContent = `${new Date(ch.at).toLocaleString()} → ${playText(ch.play)}`;
        ol.append(li);
      }
      details.append(summary, ol);
      row.append(h);
      if (can.live()) {
        const next = document.createElement('button');
        next.type = 'button';
        next.textContent = 'Start the next entry now';
        next.addEventListener('click', () =>
          command({ type: 'start_next_entry', canvas }, `${canvasName(canvas)} next entry`),
        );
        h.append(' ', next);
      }
      row.append(bar, details);
      return row;
    }),
  );
}

/** A steady hue for a name, so one scene has one colour on every row. */
function hue(name) {
  let h = 0;
  for (const c of name) {
    h = (h * 31 + c.codePointAt(0)) % 360;
  }
  return h;
}

function playText(play) {
  if (!play) {
    return 'dark';
  }
  if (play.scene) {
    return play.scene;
  }
  if (play.cue_list) {
    const list = cueLists.find((l) => l.id === play.cue_list);
    return `cue list ${list ? list.name : play.cue_list}`;
  }
  return JSON.stringify(play);
}

async function showPreview() {
  const at = new Date($('preview-at').value);
  if (Number.isNaN(at.getTime())) {
    return;
  }
  const preview = await api('GET', `/api/v1/schedule/preview?at=${encodeURIComponent(at.toISOString())}`);
  $('preview-table').tBodies[0].replaceChildren(
    ...preview.canvases.map((p) => {
      const tr = document.createElement('tr');
      const name = document.createElement('th');
      name.textContent = canvasName(p.canvas);
      const what = document.createElement('td');
      what.textContent = playText(p.play);
      tr.append(name, what);
      return tr;
    }),
  );
}

function drawOverrides() {
  const list = $('override-list');
  if (live.overrides.size === 0) {
    const li = document.createElement('li');
    li.className = 'muted';
    li.textContent = 'None: every canvas follows the schedule.';
    list.replaceChildren(li);
    return;
  }
  list.replaceChildren(
    ...[...live.overrides.values()].map((o) => {
      const li = document.createElement('li');
      li.textContent = `${canvasName(o.canvas)}: ${playText(o.play)} by ${o.by}, ${scopeText(o.scope)} `;
      if (can.live()) {
        const release = document.createElement('button');
        release.type = 'button';
        release.textContent = 'Release';
        release.addEventListener('click', () =>
          command({ type: 'release_override', canvas: o.canvas }, `${canvasName(o.canvas)} handed back`),
        );
        const next = document.createElement('button');
        next.type = 'button';
        next.textContent = 'Start the next entry now';
        next.addEventListener('click', () =>
          command({ type: 'start_next_entry', canvas: o.canvas }, `${canvasName(o.canvas)} next entry`),
        );
        li.append(release, next);
      }
      return li;
    }),
  );
}

// ---- status --------------------------------------------------------------

/** Each celebration with a button that fires it (for those who may control canvases). */
async function loadCelebrations() {
  const list = await api('GET', '/api/v1/celebrations').catch(() => []);
  $('celebrations').replaceChildren(
    ...(list.length ? list : [null]).map((c) => {
      const li = document.createElement('li');
      if (!c) {
        li.textContent = 'none';
        return li;
      }
      const text = document.createElement('span');
      const seconds = Math.round(c.duration_ms / 100) / 10;
      text.textContent = `${c.name} · ${seconds} s`;
      li.append(text);
      if (can.live()) {
        const fire = document.createElement('button');
        fire.textContent = 'Fire';
        fire.setAttribute('aria-label', `Fire ${c.name}`);
        fire.addEventListener('click', () => command({ type: 'fire_celebration', celebration: c.id }, `Fire ${c.name}`));
        li.append(' ', fire);
      }
      return li;
    }),
  );
}

async function loadStatus() {
  await loadCelebrations();
  const incidents = await api('GET', '/api/v1/incidents?status=open').catch(() => ({ items: [] }));
  const items = incidents.items || incidents;
  $('incidents').replaceChildren(
    ...(items.length ? items : [{ title: 'none' }]).map((i) => {
      const li = document.createElement('li');
      li.textContent = i.priority ? `${i.title} (${i.priority})` : i.title;
      return li;
    }),
  );
  if (can.system()) {
    const audit = await api('GET', '/api/v1/audit?limit=20');
    $('audit').tBodies[0].replaceChildren(
      ...audit.items.map((e) => {
        const tr = document.createElement('tr');
        for (const text of [new Date(e.at).toLocaleTimeString(), e.username, e.action, e.target, e.outcome]) {
          const td = document.createElement('td');
          td.textContent = text;
          tr.append(td);
        }
        return tr;
      }),
    );
  }
}

// ---- users (admins) ------------------------------------------------------

const ROLES = ['operator', 'marketing', 'admin'];

async function loadUsers() {
  const users = await api('GET', '/api/v1/users');
  const items = users.items || users;
  $('users').tBodies[0].replaceChildren(
    ...items
      .filter((u) => u.role !== 'attendee')
      .map((u) => {
        const tr = document.createElement('tr');
        const name = document.createElement('th');
        name.textContent = u.username;
        const role = document.createElement('td');
        const select = document.createElement('select');
        select.setAttribute('aria-label', `Role of ${u.username}`);
        for (const r of ROLES) {
          const o = document.createElement('option');
          o.value = r;
          o.textContent = r;
          select.append(o);
        }
        select.value = u.role;
        select.addEventListener('change', () =>
          userCall('PATCH', `/api/v1/users/${u.id}`, { role: select.value }, `${u.username} is now ${select.value}`),
        );
        role.append(select);
        const since = document.createElement('td');
        since.textContent = new Date(u.created_at).toLocaleDateString();
        const actions = document.createElement('td');
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.textContent = `Remove ${u.username}`;
        remove.addEventListener('click', () => {
          if (remove.dataset.confirm) {
            userCall('DELETE', `/api/v1/users/${u.id}`, undefined, `${u.username} removed`);
          } else {
            remove.dataset.confirm = '1';
            remove.textContent = `Confirm: remove ${u.username}`;
            remove.classList.add('danger');
          }
        });
        actions.append(remove);
        tr.append(name, role, since, actions);
        return tr;
      }),
  );
}

/** A change to the users; the list is read again whatever the answer. */
async function userCall(method, path, body, what) {
  try {
    await api(method, path, body);
    toast(what, 'ok');
  } catch (e) {
    toast(`${what}: refused: ${e.message}`, 'error');
  }
  await loadUsers().catch((e) => toast(e.message, 'error'));
}

async function addUser(event) {
  event.preventDefault();
  const username = $('user-name').value.trim();
  const password = $('user-password').value;
  const role = $('user-role').value;
  try {
    await api('POST', '/api/v1/users', { username, password, role });
    toast(`${username} added as ${role}`, 'ok');
    $('user-form').reset();
  } catch (e) {
    toast(`Adding ${username}: ${e.message}`, 'error');
  }
  await loadUsers().catch((e) => toast(e.message, 'error'));
}

// ---- views and roles -----------------------------------------------------

function applyRole(root) {
  for (const el of root.querySelectorAll('[data-needs]')) {
    const need = el.dataset.needs;
    el.hidden = !(need === 'live' ? can.live() : need === 'system' ? can.system() : true);
  }
}

function show(view) {
  for (const tab of document.querySelectorAll('.tab')) {
    if (tab.dataset.view === view) {
      tab.setAttribute('aria-current', 'page');
    } else {
      tab.removeAttribute('aria-current');
    }
  }
  for (const v of document.querySelectorAll('.view')) {
    v.hidden = v.id !== `view-${view}`;
  }
  const loads = { scenes: loadScenes, content: () => content.load(), cues: loadCueLists, schedule: loadSchedule, status: loadStatus, users: loadUsers };
  if (loads[view]) {
    loads[view]().catch((e) => toast(e.message, 'error'));
  }
  if (view === 'cues') {
    $('cue-stage').focus();
  }
}

function start() {
  $('login-view').hidden = true;
  $('app').hidden = false;
  $('who').textContent = `${session.username} (${session.role})`;
  applyRole(document);
  show('live');
  setConnection('Connecting…', false);
  connect();
  loadCueLists().catch(() => {});
}

function wire() {
  content = contentPage({
    api,
    send,
    toast,
    session: () => session,
    canvases: () => [...live.canvases.values()],
    scenes: async () => {
      scenes = await api('GET', '/api/v1/scenes');
      return scenes;
    },
    drawPreview,
  });
  $('login-form').addEventListener('submit', logIn);
  $('user-form').addEventListener('submit', addUser);
  $('logout').addEventListener('click', async () => {
    // The server ends the token too, so a copy of it is worth nothing.
    try {
      await api('POST', '/api/v1/auth/logout');
    } catch {
      // Unreachable or already ended: the tab forgets it all the same.
    }
    endSession('Logged out.');
  });
  for (const tab of document.querySelectorAll('.tab')) {
    tab.addEventListener('click', () => show(tab.dataset.view));
  }
  grandMasterFader = fader($('grand-master'), (level) => {
    $('grand-master-value').textContent = `${level} %`;
    command({ type: 'grand_master', level }, 'Grand master');
  });
  $('panic-all').addEventListener('click', async () => {
    try {
      await api('POST', '/api/v1/panic', { fade_ms: 1000 });
      toast('Panic: every canvas fades to black', 'ok');
    } catch (e) {
      toast(`Panic: ${e.message}`, 'error');
    }
  });
  $('cue-run').addEventListener('click', () => {
    const list = Number($('cue-list').value);
    if (list) {
      cue({ action: 'run', cue_list: list, scope: 'until_released' }, 'Load list');
    }
  });
  $('cue-canvas').addEventListener('change', drawCues);
  $('cue-go').addEventListener('click', () => cue({ action: 'go' }, 'GO'));
  $('cue-back').addEventListener('click', () => cue({ action: 'back' }, 'Back'));
  $('cue-goto-button').addEventListener('click', () => cue({ action: 'goto', cue: $('cue-goto').value }, 'Go to cue'));
  $('cue-panic').addEventListener('click', () => cue({ action: 'panic' }, 'Panic'));
  // The space bar is GO while the cue view has focus, as in QLab.
  $('cue-stage').addEventListener('keydown', (e) => {
    if (e.code === 'Space' && !(e.target instanceof HTMLSelectElement) && can.live()) {
      e.preventDefault();
      cue({ action: 'go' }, 'GO');
    }
  });
  $('preview-button').addEventListener('click', () => showPreview().catch((e) => toast(e.message, 'error')));
  document.addEventListener('visibilitychange', () => {
    // A phone waking from sleep: reconnect at once rather than on the next wait.
    if (document.visibilityState === 'visible' && session && !socket) {
      connect();
    }
  });
}

wire();
session = loadSession();
if (session) {
  start();
} else {
  endSession('');
}
