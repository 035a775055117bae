// A small tus 1.0 client for the console's uploads: creation, then the file in
// chunks with PATCH. After a dropped connection it asks the server where the
// upload stands (HEAD) and goes on from there; the upload's address is kept in
// local storage by file, so even a reloaded page resumes rather than starting
// again.

const CHUNK = 1024 * 1024;
const RETRY_MS = [500, 1000, 2000, 4000, 8000];
const KEPT_KEY = 'limelight.uploads';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A file's key among kept uploads: the same file picked again finds its upload. */
function fileKey(file, metadata) {
  return [file.name, file.size, file.lastModified, metadata.asset || ''].join('|');
}

function kept() {
  try {
    return JSON.parse(localStorage.getItem(KEPT_KEY) || '{}') || {};
  } catch {
    return {};
  }
}

function keep(key, url) {
  const all = kept();
  if (url) {
    all[key] = url;
  } else {
    delete all[key];
  }
  localStorage.setItem(KEPT_KEY, JSON.stringify(all));
}

/** `Upload-Metadata`: each key with its value in base64. */
function encodeMetadata(metadata) {
  return Object.entries(metadata)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => {
      const bytes = new TextEncoder().encode(String(v));
      let binary = '';
      for (const b of bytes) {
        binary += String.fromCharCode(b);
      }
      return `${k} ${btoa(binary)}`;
    })
    .join(',');
}

class UploadError extends Error {
  constructor(message, status, retry) {
    super(message);
    this.status = status;
    this.retry = retry;
  }
}

/** The error body's message, or the status text. */
async function refusal(res) {
  try {
    const body = await res.json();
    return body.message || res.statusText;
  } catch {
    return res.statusText;
  }
}

/**
 * Upload `file` with `metadata` (name, and asset for a new version), calling
 * `progress(sent, total)` as bytes are kept by the server. Resolves with the
 * upload's final state (`{ asset, version, ... }`).
 */
export async function upload({ file, metadata, token, progress, endpoint = '/api/v1/uploads' }) {
  const auth = { Authorization: `Bearer ${token}`, 'Tus-Resumable': '1.0.0' };
  const key = fileKey(file, metadata);
  let url = kept()[key] || null;
  let failures = 0;
  for (;;) {
    try {
      if (!url) {
        url = await create(endpoint, file, metadata, auth);
        keep(key, url);
      }
      let offset = await where(url, auth);
      if (offset === null) {
        // Gone (expired, or ended elsewhere): a new upload.
        keep(key, null);
        url = null;
        continue;
      }
      progress(offset, file.size);
      while (offset < file.size) {
        offset = await patch(url, file, offset, auth);
        failures = 0;
        progress(offset, file.size);
      }
      const done = await fetch(url, { headers: { ...auth, Accept: 'application/json' } });
      if (!done.ok) {
        throw new UploadError(await refusal(done), done.status, false);
      }
      keep(key, null);
      return await done.json();
    } catch (e) {
      if (e instanceof UploadError && !e.retry) {
        keep(key, null);
        throw e;
      }
      // A dropped connection or a busy server: ask again where it stands.
      const wait = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)];
      failures += 1;
      if (failures > 20) {
        throw new UploadError(`the upload keeps failing: ${e.message}`, 0, false);
      }
      await sleep(wait);
    }
  }
}

async function create(endpoint, file, metadata, auth) {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { ...auth, 'Upload-Length': String(file.size), 'Upload-Metadata': encodeMetadata(metadata) },
  });
  if (res.status !== 201) {
    throw new UploadError(await refusal(res), res.status, res.status >= 500 || res.status === 423);
  }
  return new URL(res.headers.get('Location'), location.href).pathname;
}

/** Where the upload stands; null when the server no longer has it. */
async function where(url, auth) {
  const res = await fetch(url, { method: 'HEAD', headers: auth, cache: 'no-store' });
  if (res.status === 404 || res.status === 410) {
    return null;
  }
  if (!res.ok) {
    throw new UploadError(res.statusText, res.status, true);
  }
  return Number(res.headers.get('Upload-Offset'));
}

async function patch(url, file, offset, auth) {
  const chunk = file.slice(offset, Math.min(offset + CHUNK, file.size));
  const res = await fetch(url, {
    method: 'PATCH',
    headers: { ...auth, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
    body: chunk,
  });
  if (res.status !== 204) {
    // 409: the server stands elsewhere; 423: another request writes it. Both
    // are settled by asking where it stands.
    const retry = res.status === 409 || res.status === 423 || res.status >= 500;
    throw new UploadError(await refusal(res), res.status, retry);
  }
  return Number(res.headers.get('Upload-Offset'));
}
