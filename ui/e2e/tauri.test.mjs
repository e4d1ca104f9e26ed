// The real `vouch-kiosk` window under Xvfb, driven by tauri-driver and WebKitWebDriver. The kiosk runs
// its embedded server; the test talks to that server over HTTP as an integrator would.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  ADMIN_PIN, CLERK_PIN, ROOT, SIGNING_STEPS, artifactDir, pairingCodeIn, contractPdf, createRequest, eventually, getRequest, kioskAdmin, putReferencePhoto, startCircuit, startReceiver, webhookFor,
} from './harness.mjs';
import { WebDriver } from './webdriver.mjs';
import { screenshotDisplay } from './xshot.mjs';

const APP = process.env.VOUCH_KIOSK_BIN ?? join(ROOT, 'target/debug/vouch-kiosk');
const TAURI_DRIVER = process.env.TAURI_DRIVER ?? join(process.env.HOME ?? '/root', '.cargo/bin/tauri-driver');
const shots = artifactDir('tauri');
const procs = [];
let driver, base, receiver, dataDir;
const state = {};

/** Signs a staff member in from the window's start screen: the admin, or the clerk of that name. */
async function signInAs(role, { name = 'Jaan Kask', pin } = {}) {
  await driver.click('[data-test=staff]');
  await driver.click(role === 'admin' ? '[data-test=role-admin]' : `[data-test="clerk-${name}"]`);
  await driver.type('[data-test=staff-pin]', pin ?? (role === 'admin' ? ADMIN_PIN : CLERK_PIN));
  await driver.click('[data-test=sign-in]');
}

/**
 * Builds a flow in the window's flow editor (English consent only) and saves it, checking that no error is
 * shown, then makes it the default.
 */
async function saveFlow({ id, name, consent, steps, shot }) {
  await driver.click('[data-test=tab-flows]');
  await driver.click('[data-test=flow-new]');
  await driver.type('[data-test=flow-id]', id);
  await driver.type('[data-test=flow-name]', name);
  await driver.type('[data-test=consent-en]', consent);
  for (const kind of steps) {
    await driver.select('[data-test=step-kind]', kind);
    await driver.click('[data-test=step-add]');
  }
  await driver.click('[data-test=flow-save]');
  if (shot) await shoot(shot);
  const saveError = await driver.exec("return [...document.querySelectorAll('[role=alert]')].map((e) => e.textContent).join(' ')");
  assert.equal(saveError.trim(), '', 'the flow saves');
  await driver.click(`[data-test=flow-row][data-flow=${id}] [data-test=flow-default]`);
  await driver.waitFor(`[data-test=flow-row][data-flow=${id}] .badge`);
}

function freePort() {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Children die with the test run, even when it is interrupted.
const killAll = () => procs.forEach((p) => p.exitCode === null && p.kill('SIGKILL'));
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

function run(cmd, args, env) {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  child.log = () => out;
  procs.push(child);
  return child;
}

let display;
async function shoot(name) {
  screenshotDisplay(display, join(shots, `${name}.png`));
}

before(async () => {
  assert.ok(existsSync(APP), `build the kiosk first: ${APP}`);
  assert.ok(existsSync(TAURI_DRIVER), `install tauri-driver first: ${TAURI_DRIVER}`);
  // The first display number nobody holds (an X server leaves /tmp/.X<n>-lock while it runs).
  let n = 90;
  while (existsSync(`/tmp/.X${n}-lock`)) n += 1;
  display = `:${n}`;
  run('Xvfb', [display, '-screen', '0', '1280x800x24', '-nolisten', 'tcp']);
  await eventually(() => existsSync(`/tmp/.X11-unix/X${n}`), 20000, 'Xvfb');
  const clip = join(shots, 'document-clip.mjpeg');
  execFileSync(process.env.VOUCH_BIN ?? join(ROOT, 'target/debug/vouch'), ['doc', 'clip', '--out', clip], { cwd: ROOT, stdio: 'inherit' });
  const port = await freePort();
  const driverPort = await freePort();
  const nativePort = await freePort();
  base = `http://127.0.0.1:${port}`;
  dataDir = mkdtempSync(join(tmpdir(), 'vouch-kiosk-e2e-'));
  const env = {
    ...process.env,
    DISPLAY: display,
    VOUCH_DATA_DIR: dataDir,
    VOUCH_BIND: `127.0.0.1:${port}`,
    VOUCH_LOG: 'warn',
    WEBKIT_DISABLE_DMABUF_RENDERER: '1',
    // The labelled demo camera: public-domain frames of one face, played in a loop.
    VOUCH_CAMERA: `demo:${join(ROOT, 'assets/demo-camera')}`,
    // The demo document camera: a synthetic SPECIMEN clip of the DEMO passport's page.
    VOUCH_DOCUMENT_CAMERA: `demo:${clip}`,
  };
  delete env.VOUCH_REMOTE_URL;
  const td = run(TAURI_DRIVER, ['--port', String(driverPort), '--native-port', String(nativePort)], env);
  await eventually(() => fetch(`http://127.0.0.1:${driverPort}/status`).then((r) => r.ok), 30000, `tauri-driver: ${td.log()}`);
  try {
    driver = await new WebDriver(`http://127.0.0.1:${driverPort}`).start({ 'tauri:options': { application: APP } });
  } catch (e) {
    throw new Error(`no kiosk window on ${display}: ${e.message}\n${td.log().slice(-3000)}`);
  }
  receiver = await startReceiver(() => state.secret);
});

after(async () => {
  await driver?.quit();
  receiver?.close();
  for (const p of procs.reverse()) p.kill('SIGTERM');
});

test('the window opens full screen on the first-run PIN screen, and the embedded server answers', async () => {
  await driver.waitFor('[data-test=setup]', 60000);
  const size = await driver.exec('return [window.innerWidth, window.innerHeight]');
  assert.deepEqual(size, [1280, 800], 'full screen on the 1280x800 display');
  const health = await fetch(`${base}/healthz`).then((r) => r.text());
  assert.equal(health, 'ok');
  await shoot('admin-first-run');
  await driver.type('[data-test=setup-pin]', ADMIN_PIN);
  await driver.type('[data-test=setup-repeat]', ADMIN_PIN);
  await driver.click('[data-test=setup-save]');
  await driver.waitFor('[data-test=settings]');
});

test('an API client created in the window works over HTTP, and a clerk is added', async () => {
  await driver.type('[data-test=client-name]', 'Branch backend');
  await driver.type('[data-test=client-webhook]', receiver.url);
  await driver.click('[data-test=client-create]');
  state.clientId = await driver.text('[data-test=client-id]');
  state.secret = await driver.text('[data-test=client-secret]');
  await shoot('admin-clients');
  await driver.click('[data-test=tab-clerks]');
  await driver.type('[data-test=clerk-name]', 'Jaan Kask');
  await driver.type('[data-test=clerk-pin]', CLERK_PIN);
  await driver.click('[data-test=clerk-add]');
  await driver.waitFor('[data-test=clerk-row]');
  await driver.click('[data-test=sign-out]');
  await driver.waitFor('[data-test=case-code]');
  const { token, request } = await createRequest(base, state.clientId, state.secret, 'branch-9');
  Object.assign(state, { token, request });
});

test('the customer scans the request link and gives consent', async () => {
  await driver.type('[data-test=case-code]', state.request.link);
  await shoot('customer-welcome');
  await driver.click('[data-test=start]');
  await driver.waitFor('[data-test=step-consent]');
  await shoot('customer-consent');
  await driver.click('[data-test=consent-agree]');
  await driver.waitFor('[data-test=result][data-result=done]');
  await shoot('customer-result');
  await driver.click('[data-test=finish]');
  await driver.waitFor('[data-test=case-code]');
});

test('the clerk approves with a reason: the request completes and its webhook is sent', async () => {
  await signInAs('clerk');
  await driver.waitFor('[data-test=queue-row]');
  await shoot('clerk-queue');
  await driver.click('[data-test=queue-open]');
  await driver.waitFor('[data-test=case-review]');
  await driver.type('[data-test=given-name]', 'Jaan');
  await driver.type('[data-test=family-name]', 'Tamm');
  await driver.type('[data-test=reason]', 'Passport checked at the desk');
  await driver.click('[data-test=approve]');
  await driver.waitFor('[data-test=case-review][data-status=completed]');
  await shoot('clerk-review');
  const got = await getRequest(base, state.token, state.request.id);
  assert.equal(got.status, 'completed');
  const hook = await webhookFor(receiver, state.request.id);
  assert.equal(hook.signed, true);
});

test('in the window, a customer takes a selfie, passes liveness and matches the photo on file from the DEMO camera', async () => {
  await driver.click('[data-test=back-to-queue]');
  await driver.click('[data-test=sign-out]');
  await driver.waitFor('[data-test=case-code]');
  await signInAs('admin');
  await saveFlow({
    id: 'face',
    name: 'Face check',
    consent: 'I agree that my face is photographed and checked.',
    steps: ['selfie', 'liveness', 'face_match'],
    shot: 'admin-flow-saved',
  });
  await driver.click('[data-test=sign-out]');
  await driver.waitFor('[data-test=case-code]');

  const { token, request } = await createRequest(base, state.clientId, state.secret, 'face-window');
  await putReferencePhoto(base, token, request.id, join(ROOT, 'testdata/faces/fr_obama2.jpg'));
  await driver.type('[data-test=case-code]', request.link);
  await driver.click('[data-test=start]');
  await driver.click('[data-test=consent-agree]');
  await driver.waitFor('[data-test=step-selfie]');
  await driver.waitFor('[data-test=demo-camera]');
  // The MJPEG preview plays in WebKitGTK from the embedded server.
  await eventually(() => driver.exec("return document.querySelector('[data-test=preview]')?.naturalWidth === 640"), 20000, 'preview frames');
  await shoot('customer-selfie');
  await driver.waitFor('[data-test=step-liveness]', 30000);
  await driver.click('[data-test=liveness-start]');
  // Every step passed, the face match included (a failed one shows data-result=incomplete).
  await driver.waitFor('[data-test=result][data-result=done]', 60000);
  await shoot('customer-camera-done');
  const flow = await fetch(`${base}/eeid/api/ident/v1/identification_requests/${request.id}`, {
    headers: { Authorization: `Bearer ${token}` },
  }).then((r) => r.json());
  assert.equal(flow.status, 'pending', 'the request waits for the clerk');
  await driver.click('[data-test=finish]');
  await driver.waitFor('[data-test=case-code]');
});

test('in the window, a customer shows the DEMO passport page to the document camera and it is captured by itself', async () => {
  await signInAs('admin');
  await saveFlow({
    id: 'scan',
    name: 'Passport page',
    consent: 'I agree that my passport page is photographed.',
    steps: ['document_scan'],
  });
  await driver.click('[data-test=sign-out]');
  await driver.waitFor('[data-test=case-code]');

  const { token, request } = await createRequest(base, state.clientId, state.secret, 'scan-window');
  await driver.type('[data-test=case-code]', request.link);
  await driver.click('[data-test=start]');
  await driver.click('[data-test=consent-agree]');
  await driver.waitFor('[data-test=step-document_scan]');
  await driver.waitFor('[data-test=demo-camera]');
  // The document camera's own stream plays in WebKitGTK, and the page is outlined on it.
  await eventually(() => driver.exec("return document.querySelector('[data-test=preview]')?.naturalWidth === 1280"), 20000, 'document preview frames');
  await driver.waitFor('[data-test=page-outline]', 20000);
  await shoot('customer-document-scan');
  await driver.waitFor('[data-test=result][data-result=done]', 60000);
  const got = await getRequest(base, token, request.id);
  assert.equal(got.status, 'pending', 'the request waits for the clerk');
  await driver.click('[data-test=finish]');
  await driver.waitFor('[data-test=case-code]');
});

test('in the window, a DANAconnect signer reads the contract and signs it with WebDriver pointer actions', async (t) => {
  const admin = await kioskAdmin(base, ADMIN_PIN, pairingCodeIn(dataDir));
  await admin('flow_save', { flow_id: 'contract', name: 'Contract signing', create: true, steps: SIGNING_STEPS });
  const pdf = contractPdf('DEMO loan contract signed in the kiosk window');
  const { token, circuit } = await startCircuit(base, state.clientId, state.secret, 'contract', 'loan-window-1', pdf);
  await driver.type('[data-test=case-code]', circuit.link);
  await driver.click('[data-test=start]');
  await driver.click('[data-test=consent-agree]');
  await driver.waitFor('[data-test=document-page][data-rendered="1"]', 60000);
  await driver.click('[data-test=sign-agree]');
  // A scribble is refused, and the window says why: the reason travels as a code through the IPC bridge.
  await driver.draw('[data-test=signature-pad]', [[[-20, 0], [-5, 8]]], { pointerType: 'mouse' });
  await driver.click('[data-test=sign-submit]');
  await eventually(async () => (await driver.text('[data-test=sign-error]')).includes('too short'), 20000, 'the refusal');
  await driver.click('[data-test=pad-clear]');
  // A pen's strokes: the pad records pressure and tilt where WebKit passes them on.
  const stroke = (dx) => [[-300 + dx, 40], [-270 + dx, -50], [-240 + dx, 40], [-210 + dx, -45], [-180 + dx, 45]];
  const strokes = [stroke(0), stroke(180), [[100, 0], [200, -40], [300, 30]]];
  const inked = () => driver.exec("return !document.querySelector('[data-test=pad-undo]').disabled");
  let pointerType = 'pen';
  await driver.draw('[data-test=signature-pad]', strokes, { pointerType }).catch(() => {});
  if (!(await inked())) {
    // WebKitWebDriver without pen input: the same strokes as a mouse.
    pointerType = 'mouse';
    await driver.draw('[data-test=signature-pad]', strokes, { pointerType });
  }
  assert.ok(await inked(), 'the pad took the strokes');
  t.diagnostic(`drawn with WebDriver ${pointerType} actions`);
  await shoot('customer-signature');
  await driver.click('[data-test=sign-submit]');
  await driver.waitFor('[data-test=step-signature-done]', 60000);
  await shoot('customer-signed');
  await driver.click('[data-test=sign-continue]');
  await driver.waitFor('[data-test=result][data-result=done]');
  const status = await (await fetch(`${base}/danaconnect/api/biometric/circuits/${circuit.circuitId}`, {
    headers: { Authorization: `Bearer ${token}` },
  })).json();
  assert.ok(status.signedAt, `signed (${pointerType} actions): ${JSON.stringify(status)}`);
  assert.equal(status.documents[0].signed, true);
  await driver.click('[data-test=finish]');
  await driver.waitFor('[data-test=case-code]');
});

test('the admin PIN session ends kiosk mode and the app exits', async () => {
  await signInAs('admin');
  await driver.click('[data-test=tab-general]');
  await shoot('admin-general');
  await driver.click('[data-test=exit]');
  await eventually(async () => (await fetch(`${base}/healthz`).then(() => false).catch(() => true)), 20000, 'the app to exit');
});
