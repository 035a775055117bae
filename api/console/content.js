// The console's content library: uploads (resumable, with a progress bar),
// assets with their versions and review, blind previews of a scene on a real
// canvas, and scenes made from templates. Everything goes through the same REST
// API and WebSocket as any other client.

import { upload } from './tus.js';

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') {
      Object.assign(e.dataset, v);
    } else if (k.startsWith('aria-') || k === 'role' || k === 'for') {
      e.setAttribute(k, v);
    } else {
      e[k] = v;
    }
  }
  e.append(...children);
  return e;
}

function bytes(n) {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

/**
 * The content page. `ctx` gives it the console's own pieces: `api(method, path,
 * body)`, `send(message)` (a WebSocket command, resolving with its ack),
 * `toast(text, kind)`, `session()`, `canvases()` (live canvas states),
 * `scenes()` (reloads and gives the scene list) and `drawPreview(target, rgba,
 * width, height)`.
 */
export function contentPage(ctx) {
  let me = null;
  let assets = [];
  let templates = [];
  /** Thumbnails by `asset/version`: each fetched once, given back when gone. */
  const thumbnails = new Map();
  /** The canvas a blind preview runs on, if one does. */
  let blindCanvas = null;
  const blindView = { preview: $('blind-view'), scratch: document.createElement('canvas'), image: null };

  const canManage = () => ['admin', 'marketing'].includes(ctx.session().role);
  const canApprove = () => ctx.session().role === 'admin' || (me && me.approver);

  async function load() {
    me = await ctx.api('GET', '/api/v1/auth/me').catch(() => null);
    $('upload-form').hidden = !canManage();
    $('template-box').hidden = !canManage();
    await Promise.all([loadAssets(), loadTemplates(), drawBlindChoices()]);
  }

  // ---- uploads -----------------------------------------------------------

  async function onUpload(event) {
    event.preventDefault();
    const file = $('upload-file').files[0];
    if (!file) {
      ctx.toast('Choose a file to upload first.', 'error');
      return;
    }
    const asset = $('upload-asset').value;
    const metadata = asset ? { asset, filename: file.name } : { name: $('upload-name').value.trim() || file.name, filename: file.name };
    const bar = $('upload-progress');
    const status = $('upload-status');
    const button = $('upload-button');
    button.disabled = true;
    bar.value = 0;
    bar.hidden = false;
    status.textContent = `Uploading ${file.name}…`;
    try {
      const done = await upload({
        file,
        metadata,
        token: ctx.session().token,
        progress: (sent, total) => {
          bar.value = total ? sent / total : 1;
          status.textContent = `${file.name}: ${bytes(sent)} of ${bytes(total)} (${Math.floor((100 * sent) / Math.max(total, 1))} %)`;
        },
      });
      bar.value = 1;
      status.textContent = `${file.name} is uploaded: asset ${done.asset}, version ${done.version}, waiting for approval.`;
      ctx.toast(`${file.name} uploaded`, 'ok');
      $('upload-form').reset();
      await loadAssets();
    } catch (e) {
      status.textContent = `${file.name}: refused: ${e.message}`;
      ctx.toast(`Upload of ${file.name}: ${e.message}`, 'error');
    } finally {
      button.disabled = false;
    }
  }

  // ---- assets ------------------------------------------------------------

  async function loadAssets() {
    assets = await ctx.api('GET', '/api/v1/assets');
    const shown = new Set(assets.map((a) => `${a.id}/${thumbnailVersion(a)}`));
    for (const [key, url] of thumbnails) {
      if (!shown.has(key)) {
        thumbnails.delete(key);
        url.then((u) => u && URL.revokeObjectURL(u));
      }
    }
    const choice = $('upload-asset');
    const chosen = choice.value;
    choice.replaceChildren(
      el('option', { value: '', textContent: 'A new asset' }),
      ...assets.map((a) => el('option', { value: String(a.id), textContent: a.name })),
    );
    choice.value = assets.some((a) => String(a.id) === chosen) ? chosen : '';
    $('asset-list').replaceChildren(...assets.map(drawAsset));
    drawTemplates();
  }

  /** The version a thumbnail shows: the live one, or the newest while none is. */
  function thumbnailVersion(a) {
    return a.live_version || a.versions[a.versions.length - 1].version;
  }

  function drawAsset(a) {
    const newest = a.versions[a.versions.length - 1];
    const shown = thumbnailVersion(a);
    const img = el('img', { className: 'asset-thumb', alt: `${a.name}, version ${shown}`, width: 96, height: 96 });
    loadThumbnail(img, a.id, shown);
    const status = a.live_version ? `live: version ${a.live_version}` : 'nothing approved yet';
    const head = el(
      'div',
      { className: 'asset-head' },
      el('strong', { textContent: a.name }),
      el('span', { className: 'muted', textContent: ` #${a.id} · ${status}` }),
    );
    const rows = a.versions.map((v) =>
      el(
        'tr',
        {},
        el('td', { textContent: `v${v.version}` }),
        el('td', {}, el('span', { className: `badge status-${v.status}`, textContent: v.status })),
        el('td', { textContent: `${v.width} × ${v.height}` }),
        el('td', { textContent: bytes(v.size) }),
        el('td', { textContent: v.uploaded_by }),
        el('td', { textContent: v.reason ? `${v.reason} (${v.decided_by})` : v.decided_by ? `by ${v.decided_by}` : '' }),
      ),
    );
    const table = el(
      'table',
      { className: 'plain versions', 'aria-label': `Versions of ${a.name}` },
      el('thead', {}, el('tr', {}, ...['Version', 'Status', 'Size', 'Bytes', 'Uploaded by', 'Review'].map((t) => el('th', { textContent: t })))),
      el('tbody', {}, ...rows),
    );
    const actions = el('div', { className: 'asset-actions' });
    const pending = a.versions.some((v) => v.status === 'pending');
    if (canApprove() && pending) {
      const reason = el('input', { placeholder: 'Reason', 'aria-label': `Reason for rejecting ${a.name}` });
      actions.append(
        button(`Approve ${a.name}`, () => review(a, 'approve', undefined, `${a.name} approved`)),
        reason,
        button(`Reject ${a.name}`, () => {
          if (!reason.value.trim()) {
            ctx.toast('Say why it is rejected: the uploader reads it.', 'error');
            reason.focus();
            return;
          }
          review(a, 'reject', { reason: reason.value.trim() }, `${a.name} rejected`);
        }),
      );
    }
    const approved = a.versions.filter((v) => v.status === 'approved').length;
    if (canApprove() && approved > 1) {
      actions.append(button(`Roll back ${a.name}`, () => review(a, 'rollback', undefined, `${a.name} rolled back`)));
    }
    if (canManage()) {
      const remove = button(`Delete ${a.name}`, async () => {
        if (!remove.dataset.confirm) {
          remove.dataset.confirm = '1';
          remove.textContent = `Confirm: delete ${a.name}`;
          remove.classList.add('danger');
          return;
        }
        try {
          await ctx.api('DELETE', `/api/v1/assets/${a.id}`);
          ctx.toast(`${a.name} deleted`, 'ok');
        } catch (e) {
          ctx.toast(`Delete ${a.name}: ${e.message}`, 'error');
        }
        await loadAssets();
      });
      actions.append(remove);
    }
    return el(
      'li',
      { className: 'asset', 'aria-label': a.name, dataset: { status: newest.status, live: String(a.live_version || '') } },
      img,
      el('div', { className: 'asset-body' }, head, table, actions),
    );
  }

  function button(text, onClick) {
    const b = el('button', { type: 'button', textContent: text });
    b.addEventListener('click', onClick);
    return b;
  }

  async function review(asset, step, body, what) {
    try {
      await ctx.api('POST', `/api/v1/assets/${asset.id}/${step}`, body);
      ctx.toast(what, 'ok');
    } catch (e) {
      ctx.toast(`${what}: refused: ${e.message}`, 'error');
    }
    await loadAssets();
  }

  async function loadThumbnail(img, id, version) {
    const key = `${id}/${version}`;
    if (!thumbnails.has(key)) {
      thumbnails.set(key, fetchThumbnail(id, version));
    }
    const url = await thumbnails.get(key);
    if (url) {
      img.src = url;
    } else {
      // Asked again on the next drawing.
      thumbnails.delete(key);
    }
  }

  /** An object URL of a version's thumbnail; null when there is none. */
  async function fetchThumbnail(id, version) {
    try {
      const res = await fetch(`/api/v1/assets/${id}/thumbnail?version=${version}&size=96`, {
        headers: { Authorization: `Bearer ${ctx.session().token}` },
      });
      return res.ok ? URL.createObjectURL(await res.blob()) : null;
    } catch {
      // No thumbnail: the name and versions still stand.
      return null;
    }
  }

  // ---- blind previews ----------------------------------------------------

  async function drawBlindChoices() {
    const canvases = ctx.canvases();
    const canvas = $('blind-canvas');
    const was = canvas.value;
    canvas.replaceChildren(...canvases.map((c) => el('option', { value: String(c.id), textContent: c.name })));
    if (canvases.some((c) => String(c.id) === was)) {
      canvas.value = was;
    }
    const scenes = await ctx.scenes();
    const scene = $('blind-scene');
    const chosen = scene.value;
    scene.replaceChildren(...scenes.map((s) => el('option', { value: s.name, textContent: s.name })));
    if (scenes.some((s) => s.name === chosen)) {
      scene.value = chosen;
    }
  }

  async function startBlind() {
    const canvas = Number($('blind-canvas').value);
    const scene = $('blind-scene').value;
    if (!canvas || !scene) {
      ctx.toast('Choose a canvas and a scene to preview.', 'error');
      return;
    }
    if (blindCanvas !== null && blindCanvas !== canvas) {
      await stopBlind();
    }
    try {
      await ctx.send({ type: 'preview_scene', canvas, scene });
      blindCanvas = canvas;
      const name = ctx.canvases().find((c) => c.id === canvas)?.name || `canvas ${canvas}`;
      $('blind-status').textContent = `${scene} on ${name}, on this console only: nothing of it reaches the lights.`;
      $('blind-stop').disabled = false;
    } catch (e) {
      ctx.toast(`Preview of ${scene}: ${e.message}`, 'error');
    }
  }

  async function stopBlind() {
    if (blindCanvas === null) {
      return;
    }
    const canvas = blindCanvas;
    blindCanvas = null;
    $('blind-status').textContent = '';
    $('blind-stop').disabled = true;
    await ctx.send({ type: 'preview_scene', canvas, scene: null }).catch(() => {});
  }

  /** A preview frame of `id`: drawn here while a blind preview runs on it. */
  function onPreview(id, rgba, width, height) {
    if (id !== blindCanvas) {
      return false;
    }
    ctx.drawPreview(blindView, rgba, width, height);
    return true;
  }

  // ---- templates ---------------------------------------------------------

  async function loadTemplates() {
    templates = await ctx.api('GET', '/api/v1/templates');
    drawTemplates();
  }

  function drawTemplates() {
    $('template-list').replaceChildren(...templates.map(drawTemplate));
  }

  function drawTemplate(t) {
    const inputs = [];
    const fields = t.parameters.map((p) => {
      const label = p.label || p.name;
      let input;
      if (p.kind === 'color') {
        input = el('input', { type: 'color', value: p.default.toLowerCase() });
      } else if (p.kind === 'number') {
        input = el('input', { type: 'number', value: String(p.default), step: 'any' });
        if (p.min !== null && p.min !== undefined) input.min = String(p.min);
        if (p.max !== null && p.max !== undefined) input.max = String(p.max);
      } else if (p.kind === 'asset') {
        input = el('select', {}, ...assets.map((a) => el('option', { value: String(a.id), textContent: a.name })));
        if (p.default) input.value = String(p.default);
      } else {
        input = el('input', { type: 'text', value: p.default, maxLength: 500 });
      }
      input.setAttribute('aria-label', `${label} (${t.name})`);
      inputs.push([p, input]);
      return el('label', {}, `${label} `, input);
    });
    const name = el('input', { required: true, 'aria-label': `Name of the scene made from ${t.name}`, placeholder: 'Scene name' });
    const make = button(`Make scene from ${t.name}`, async () => {
      const values = {};
      for (const [p, input] of inputs) {
        if (p.kind === 'color') values[p.name] = input.value.toUpperCase();
        else if (p.kind === 'number') values[p.name] = Number(input.value);
        else if (p.kind === 'asset') values[p.name] = Number(input.value);
        else values[p.name] = input.value;
      }
      const sceneName = name.value.trim();
      if (!sceneName) {
        ctx.toast('Give the new scene a name.', 'error');
        name.focus();
        return;
      }
      try {
        await ctx.api('POST', `/api/v1/templates/${t.id}/instantiate`, { name: sceneName, values });
        ctx.toast(`${sceneName} made from ${t.name}`, 'ok');
        name.value = '';
        await drawBlindChoices();
      } catch (e) {
        ctx.toast(`${sceneName}: ${e.message}`, 'error');
      }
    });
    return el(
      'li',
      { className: 'template', 'aria-label': t.name },
      el('strong', { textContent: t.name }),
      el('span', { className: 'muted', textContent: t.description ? ` ${t.description}` : '' }),
      el('div', { className: 'template-fields' }, ...fields, name, make),
    );
  }

  // ---- events --------------------------------------------------------------

  function onEvent(m) {
    if (m.type === 'asset_changed' && !$('view-content').hidden) {
      loadAssets().catch(() => {});
    }
  }

  $('upload-form').addEventListener('submit', onUpload);
  $('blind-start').addEventListener('click', startBlind);
  $('blind-stop').addEventListener('click', stopBlind);

  return {
    load,
    onPreview,
    onEvent,
    /** The connection was made again: a blind preview ended with the old one. */
    reconnected: () => {
      if (blindCanvas !== null) {
        blindCanvas = null;
        $('blind-status').textContent = 'The preview ended with the connection; start it again.';
        $('blind-stop').disabled = true;
      }
    },
  };
}
