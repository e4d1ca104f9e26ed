// Shared by the browser and the Tauri end-to-end suites: a real `vouch serve` on 127.0.0.1:0 over a
// fresh data directory, a webhook receiver that checks signatures, and small checks run in the page.

import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ADMIN_PIN = '482913';
export const CLERK_PIN = '583016';

export function artifactDir(suite) {
  const dir = process.env.VOUCH_E2E_ARTIFACTS ?? join(ROOT, 'target/e2e-artifacts', suite);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Polls `check` until it returns a truthy value or `ms` pass; never asserts on how long it took. */
export async function eventually(check, ms = 20000, what = 'condition') {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}: ${last}`);
}

/** Starts `vouch serve` and resolves once it prints its URL. */
export async function startVouch(extraEnv = {}) {
  const data = mkdtempSync(join(tmpdir(), 'vouch-e2e-'));
  const bin = process.env.VOUCH_BIN ?? join(ROOT, 'target/debug/vouch');
  const child = spawn(bin, ['--data-dir', data, 'serve', '--bind', '127.0.0.1:0', '--ui-dir', join(ROOT, 'ui/dist')], {
    env: { ...process.env, VOUCH_LOG: 'warn', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr.on('data', (d) => (out += d));
  const url = await new Promise((resolveUrl, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/serving on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolveUrl(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`vouch exited with ${code}: ${out}`)));
  });
  // The codes `vouch serve` prints on its console, also kept (0600) in the data directory.
  const pairingCode = readFileSync(join(data, 'bridge-pairing-code'), 'utf8').trim();
  const setupCode = readFileSync(join(data, 'setup-code'), 'utf8').trim();
  await eventually(() => out.includes(pairingCode) && out.includes(setupCode), 10000, `the codes on the console: ${out}`);
  return { url, data, pairingCode, setupCode, stop: () => child.kill('SIGTERM'), log: () => out };
}

/** The pairing code of the kiosk whose data directory is `data`. */
export function pairingCodeIn(data) {
  return readFileSync(join(data, 'bridge-pairing-code'), 'utf8').trim();
}

/** A webhook receiver on 127.0.0.1:0 that records each body and whether its HMAC matched `secret()`. */
export async function startReceiver(secret) {
  const received = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const expected = createHmac('sha256', secret()).update(body).digest('hex');
      received.push({ body: JSON.parse(body.toString()), signed: req.headers['x-hmac-signature'] === expected });
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/eeid/webhooks/identification_requests`, received, close: () => server.close() };
}

/** What an integrator's backend does with curl: a token, then an identification request. */
export async function createRequest(base, id, secret, reference) {
  const auth = 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');
  const tok = await fetch(`${base}/eeid/api/auth/v1/token`, { method: 'POST', headers: { Authorization: auth } });
  if (tok.status !== 201) throw new Error(`token: ${tok.status} ${await tok.text()}`);
  const { access_token } = await tok.json();
  const resp = await fetch(`${base}/eeid/api/ident/v1/identification_requests`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${access_token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      claims_required: [{ type: 'sub', value: 'EE30303039914' }],
      reference,
      reason: 'Opening a savings account',
      reason_translations: { et: 'Hoiuse avamine' },
    }),
  });
  if (resp.status !== 201) throw new Error(`create: ${resp.status} ${await resp.text()}`);
  return { token: access_token, request: await resp.json() };
}

/** Uploads the integrator's reference photo of the person, for a face_match step. */
export async function putReferencePhoto(base, token, caseId, file) {
  const resp = await fetch(`${base}/vouch/v1/cases/${caseId}/reference-photo`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'image/jpeg' },
    body: readFileSync(file),
  });
  if (resp.status !== 200) throw new Error(`reference photo: ${resp.status} ${await resp.text()}`);
  return resp.json();
}

/** The request as the integrator reads it back. */
export async function getRequest(base, token, id) {
  const resp = await fetch(`${base}/eeid/api/ident/v1/identification_requests/${id}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  return resp.json();
}

/** What an integrator's backend does with Verifik: a JWT for its Vouch credentials, then JSON calls with it. */
export async function verifikClient(base, id, secret) {
  const auth = 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');
  const tok = await fetch(`${base}/verifik/v2/auth/session`, { method: 'POST', headers: { Authorization: auth } });
  if (tok.status !== 200) throw new Error(`verifik token: ${tok.status} ${await tok.text()}`);
  const { accessToken } = await tok.json();
  return async (method, path, body) => {
    const resp = await fetch(`${base}/verifik/v2${path}`, {
      method,
      headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await resp.json();
    if (resp.status !== 200) throw new Error(`${method} ${path}: ${resp.status} ${JSON.stringify(answer)}`);
    return answer.data;
  };
}

/** Waits for the completion webhook of request `id` to reach the receiver. */
export function webhookFor(receiver, id) {
  return eventually(() => receiver.received.find((r) => r.body.identification_request_id === id), 20000, 'the webhook');
}

/**
 * Run inside the page: every visible text against its effective background must reach WCAG AA
 * (4.5:1, or 3:1 for large text). Returns the failures.
 */
export const CONTRAST_CHECK = `(() => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null; const p = m[1].split(',').map(Number); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
  const lum = ({ r, g, b }) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const bgOf = (el) => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0.5) return c; } return { r: 255, g: 255, b: 255, a: 1 }; };
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode; const el = node.parentElement;
    if (!el || !node.textContent.trim()) continue;
    const rect = el.getBoundingClientRect(); const cs = getComputedStyle(el);
    if (rect.width === 0 || rect.height === 0 || cs.visibility === 'hidden' || el.closest('[disabled],.sr-only,option')) continue;
    const fg = parse(cs.color); if (!fg) continue;
    const l1 = lum(fg), l2 = lum(bgOf(el)); const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(cs.fontSize); const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) bad.push(node.textContent.trim().slice(0, 40) + ' ' + ratio.toFixed(2));
  }
  return bad;
})()`;

/** Run inside the page: whether anything spills past the viewport sideways. */
export const OVERFLOW_CHECK = `document.documentElement.scrollWidth > window.innerWidth + 1`;

/** A one-page PDF that says `text` (Helvetica), with a correct cross-reference table. */
export function contractPdf(text) {
  const stream = `BT /F1 18 Tf 72 760 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.7\n';
  const offsets = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** Starts a DANAconnect circuit on `channel` for a DEMO signer; returns the token and `{circuitId, link}`. */
export async function startCircuit(base, id, secret, channel, reference, pdf) {
  const auth = 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');
  const tok = await fetch(`${base}/danaconnect/oauth2/token`, {
    method: 'POST',
    headers: { Authorization: auth, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  if (tok.status !== 200) throw new Error(`token: ${tok.status} ${await tok.text()}`);
  const { access_token } = await tok.json();
  const resp = await fetch(`${base}/danaconnect/api/biometric/start_circuit/${channel}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${access_token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      id: reference,
      signer: { name: 'DEMO Signer', email: 'demo.signer@example.com', nif: '12345678Z' },
      docs: [{ name: 'contract.pdf', size: pdf.length, content: pdf.toString('base64') }],
    }),
  });
  if (resp.status !== 200) throw new Error(`start_circuit: ${resp.status} ${await resp.text()}`);
  return { token: access_token, circuit: await resp.json() };
}

/** Runs kiosk commands over HTTP as the admin (signed in with the PIN), on a bridge paired with `pairingCode`. */
export async function kioskAdmin(base, pin, pairingCode) {
  const paired = await fetch(`${base}/vouch/v1/kiosk/pair`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code: pairingCode }),
  });
  if (paired.status !== 200) throw new Error(`pair: ${paired.status} ${await paired.text()}`);
  const cookie = paired.headers.get('set-cookie').split(';')[0];
  const send = async (command, args, session) => {
    const resp = await fetch(`${base}/vouch/v1/kiosk/${command}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Cookie: cookie,
        ...(session ? { Authorization: `Bearer ${session}` } : {}),
      },
      body: JSON.stringify(args),
    });
    const body = await resp.json();
    if (resp.status !== 200) throw new Error(`${command}: ${resp.status} ${JSON.stringify(body)}`);
    return body;
  };
  const { session } = await send('sign_in', { role: 'admin', pin });
  return (command, args = {}) => send(command, args, session);
}

/** The flow a signing circuit runs: consent, signature, result. */
export const SIGNING_STEPS = [
  { kind: 'consent', text: { en: 'I agree to sign the contract at this kiosk.', es: 'Acepto firmar el contrato en este quiosco.', et: 'Nõustun lepingu selles kioskis allkirjastama.' } },
  { kind: 'signature' },
  { kind: 'result' },
];
