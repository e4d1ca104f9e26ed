import { useEffect, useState } from 'preact/hooks';
import { call } from '../bridge';
import { staffMessage } from '../errors';
import { LANGS, t } from '../i18n';
import type { KioskStatus, Lang } from '../types';
import { useLoad } from './use-load';
import type { KioskSettings } from '../generated/kiosk';

function useSettings(onChanged: () => void) {
  const loaded = useLoad('settings_get');
  const [draft, setDraft] = useState<KioskSettings | null>(null);
  const [note, setNote] = useState<string | null>(null);
  useEffect(() => setDraft(loaded.data), [loaded.data]);
  const save = async () => {
    try {
      if (draft) setDraft(await call('settings_save', draft));
      setNote(t('admin.general.saved'));
      loaded.setError(null);
      onChanged();
    } catch (e) {
      setNote(null);
      loaded.setError(staffMessage(e));
    }
  };
  return { draft, setDraft, save, note, setNote, error: loaded.error, setError: loaded.setError };
}

export function Retention(props: { onChanged: () => void }) {
  const s = useSettings(props.onChanged);
  const purge = async () => {
    try {
      const r = await call('purge_now');
      s.setNote(t('admin.retention.purged', {
        cases: r.cases,
        evidence: r.evidence,
        documents: r.sign_documents,
        customers: r.dis_customers,
        faces: r.dis_faces,
        records: r.trust_records,
      }));
    } catch (e) {
      s.setError(staffMessage(e));
    }
  };
  if (!s.draft) return <p class="error" role="alert">{s.error ?? ''}</p>;
  return (
    <form class="settings-form" data-test="retention" onSubmit={(e) => { e.preventDefault(); s.save(); }}>
      <p class="lead small">{t('admin.retention.lead')}</p>
      <label>{t('admin.retention.days')}
        <input type="number" min={1} max={3650} value={s.draft.retention_days} data-test="retention-days"
               onInput={(e) => s.setDraft({ ...s.draft!, retention_days: Number((e.target as HTMLInputElement).value) })} />
      </label>
      <p class="error" role="alert">{s.error ?? ''}</p>
      <p role="status" data-test="note">{s.note ?? ''}</p>
      <div class="actions">
        <button type="submit" class="primary">{t('admin.general.save')}</button>
        <button type="button" class="danger" onClick={purge} data-test="purge">{t('admin.retention.purge')}</button>
      </div>
    </form>
  );
}

export function General(props: { status: KioskStatus | null; onChanged: () => void; onExited: () => void }) {
  const s = useSettings(props.onChanged);
  const [pin, setPin] = useState('');
  const [audit, setAudit] = useState<string | null>(null);
  const changePin = async () => {
    try {
      await call('admin_pin_change', { pin });
      setPin('');
      s.setNote(t('admin.general.saved'));
    } catch (e) {
      s.setError(staffMessage(e));
    }
  };
  const verify = async () => {
    try {
      const r = await call('audit_verify');
      setAudit(r.breaks.length === 0 ? t('admin.general.auditOk', { events: r.events, chains: r.chains }) : t('admin.general.auditBroken', { n: r.breaks.length }));
    } catch (e) {
      s.setError(staffMessage(e));
    }
  };
  const exit = async () => {
    try {
      await call('exit_app');
      props.onExited();
    } catch (e) {
      s.setError(staffMessage(e));
    }
  };
  if (!s.draft) return <p class="error" role="alert">{s.error ?? ''}</p>;
  return (
    <div class="settings-form" data-test="general">
      <form onSubmit={(e) => { e.preventDefault(); s.save(); }}>
        <label>{t('admin.general.language')}
          <select value={s.draft.default_language} data-test="default-language"
                  onChange={(e) => s.setDraft({ ...s.draft!, default_language: (e.target as HTMLSelectElement).value as Lang })}>
            {LANGS.map((l) => <option key={l} value={l}>{l}</option>)}
          </select>
        </label>
        <label>{t('admin.general.idle')}
          <input type="number" min={15} max={900} value={s.draft.idle_timeout_secs} data-test="idle-secs"
                 onInput={(e) => s.setDraft({ ...s.draft!, idle_timeout_secs: Number((e.target as HTMLInputElement).value) })} />
        </label>
        <button type="submit" class="primary" data-test="settings-save">{t('admin.general.save')}</button>
      </form>
      <p class="error" role="alert">{s.error ?? ''}</p>
      <p role="status" data-test="note">{s.note ?? ''}</p>
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); changePin(); }}>
        <label>{t('admin.general.newPin')}<input type="password" inputMode="numeric" value={pin} onInput={(e) => setPin((e.target as HTMLInputElement).value)} /></label>
        <button type="submit" class="secondary">{t('admin.general.changePin')}</button>
      </form>
      <div class="actions">
        <button class="secondary" onClick={verify} data-test="audit-verify">{t('admin.general.audit')}</button>
        <button class="danger" onClick={exit} data-test="exit">{t('admin.general.exit')}</button>
      </div>
      <p role="status" data-test="audit-result">{audit ?? ''}</p>
      <SigningKeys />
      {props.status && <p class="small">{t('admin.general.server', { server: props.status.server, version: props.status.version })}</p>}
    </div>
  );
}

/** A chosen file as base64 (PKCS#12) or text (PEM). */
function readFile(file: File, as: 'base64' | 'text'): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(reader.error);
    reader.onload = () => {
      const result = String(reader.result ?? '');
      resolve(as === 'base64' ? result.slice(result.indexOf(',') + 1) : result);
    };
    if (as === 'base64') reader.readAsDataURL(file);
    else reader.readAsText(file);
  });
}

/** The certificate that seals signed PDFs and evidence, and where pen data is escrowed; the admin can replace both. */
function SigningKeys() {
  const keys = useLoad('signing_keys');
  const [p12, setP12] = useState<File | null>(null);
  const [password, setPassword] = useState('');
  const [escrow, setEscrow] = useState<File | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const save = async () => {
    try {
      const args: Record<string, unknown> = {};
      if (p12) Object.assign(args, { pkcs12: await readFile(p12, 'base64'), password });
      if (escrow) args.escrow_certificate = await readFile(escrow, 'text');
      await call('signing_keys_set', args);
      setPassword('');
      setNote(t('admin.general.saved'));
      await keys.reload();
    } catch (e) {
      setNote(null);
      keys.setError(staffMessage(e));
    }
  };
  return (
    <section class="signing-keys" data-test="signing-keys">
      <h3>{t('admin.general.signingTitle')}</h3>
      {keys.data && (
        <dl>
          <dt>{t('admin.general.signingSubject')}</dt>
          <dd data-test="signing-subject">
            {keys.data.subject}
            {keys.data.self_signed && <strong> {t('admin.general.selfSigned')}</strong>}
          </dd>
          <dt>{t('admin.general.signingFingerprint')}</dt>
          <dd class="small mono">{keys.data.fingerprint_sha256}</dd>
          <dt>{t('admin.general.signingSource')}</dt>
          <dd class="small">{keys.data.source}</dd>
          <dt>{t('admin.general.escrow')}</dt>
          <dd class="small" data-test="escrow-subject">{keys.data.escrow_subject}: {keys.data.escrow_source}</dd>
        </dl>
      )}
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); save(); }}>
        <label>{t('admin.general.pkcs12')}
          <input type="file" accept=".p12,.pfx,application/x-pkcs12" data-test="signing-pkcs12" onChange={(e) => setP12((e.target as HTMLInputElement).files?.[0] ?? null)} />
        </label>
        <label>{t('admin.general.pkcs12Password')}
          <input type="password" value={password} data-test="signing-password" onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </label>
        <label>{t('admin.general.escrowFile')}
          <input type="file" accept=".pem,.crt,.cer" data-test="signing-escrow" onChange={(e) => setEscrow((e.target as HTMLInputElement).files?.[0] ?? null)} />
        </label>
        <button type="submit" class="secondary" disabled={!p12 && !escrow} data-test="signing-save">{t('admin.general.signingUse')}</button>
      </form>
      <p class="error" role="alert">{keys.error ?? ''}</p>
      <p role="status">{note ?? ''}</p>
      <p class="small">{t('admin.general.signingHow')}</p>
    </section>
  );
}
