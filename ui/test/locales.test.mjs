// Every language has every string, and every placeholder survives translation.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const load = (l) => JSON.parse(readFileSync(new URL(`../src/locales/${l}.json`, import.meta.url)));
const en = load('en');
const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

for (const lang of ['es', 'et']) {
  test(`${lang} has exactly the English keys, with the same placeholders`, () => {
    const other = load(lang);
    assert.deepEqual(Object.keys(other).sort(), Object.keys(en).sort());
    for (const [key, text] of Object.entries(en)) {
      assert.deepEqual(placeholders(other[key]), placeholders(text), `${lang}:${key}`);
      assert.ok(other[key].trim().length > 0, `${lang}:${key} is empty`);
    }
  });
}

test('every key the screens use exists in English', () => {
  const src = ['app.tsx', 'idle.tsx', 'errors.ts', 'customer/welcome.tsx', 'customer/case-runner.tsx', 'customer/camera-steps.tsx', 'customer/chip-step.tsx', 'customer/document-step.tsx', 'staff/setup.tsx',
    'staff/sign-in.tsx', 'staff/queue.tsx', 'staff/case-review.tsx', 'staff/pinpad.tsx', 'staff/exited.tsx', 'staff/staff-bar.tsx',
    'admin/settings.tsx', 'admin/clients.tsx', 'admin/flows.tsx', 'admin/clerks.tsx', 'admin/devices.tsx', 'admin/general.tsx']
    .map((f) => readFileSync(new URL(`../src/${f}`, import.meta.url), 'utf8')).join('\n');
  const used = [...src.matchAll(/\bt\('([\w.]+)'/g)].map((m) => m[1]);
  assert.ok(used.length > 50);
  for (const key of used) assert.ok(key in en, `missing string ${key}`);
});
