import { useState } from 'preact/hooks';
import { call } from '../bridge';
import { staffMessage } from '../errors';
import { t } from '../i18n';
import type { CentralView } from '../generated/kiosk';
import { useLoad } from './use-load';

/** Pairing with a central service, and how the sync with it stands. */
export function Central() {
  const { data, error, setError } = useLoad('central_status');
  const [shown, setShown] = useState<CentralView | null>(null);
  const [url, setUrl] = useState('https://');
  const [code, setCode] = useState('');
  const [fingerprint, setFingerprint] = useState('');
  const [busy, setBusy] = useState(false);
  const view = shown ?? data;
  const run = async (work: () => Promise<CentralView>) => {
    setBusy(true);
    try {
      setShown(await work());
      setError(null);
      setCode('');
    } catch (e) {
      setError(staffMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const link = view?.link ?? null;
  return (
    <div data-test="central">
      <p class="lead">{t('admin.central.lead')}</p>
      {view && !link && (
        <form class="inline-form" onSubmit={(e) => { e.preventDefault(); run(() => call('central_pair', { url, code, fingerprint: fingerprint.trim() || null })); }}>
          <label>{t('admin.central.url')}<input type="url" value={url} onInput={(e) => setUrl((e.target as HTMLInputElement).value)} required data-test="central-url" /></label>
          <label>{t('admin.central.fingerprint')}<input value={fingerprint} autocomplete="off" spellcheck={false} onInput={(e) => setFingerprint((e.target as HTMLInputElement).value)} data-test="central-fingerprint" /></label>
          <label>{t('admin.central.code')}<input value={code} autocomplete="off" onInput={(e) => setCode((e.target as HTMLInputElement).value)} required data-test="central-code" /></label>
          <button class="primary" type="submit" disabled={busy} data-test="central-pair">{t('admin.central.pair')}</button>
        </form>
      )}
      <p class="error" role="alert" data-test="central-error">{error ?? ''}</p>
      {link && view && (
        <>
          <dl class="facts" data-test="central-link">
            <dt>{t('admin.central.address')}</dt><dd>{link.url}</dd>
            <dt>{t('admin.central.kiosk')}</dt><dd>{link.branch ? `${link.name} (${link.branch})` : link.name}</dd>
            {link.fingerprint && (<><dt>{t('admin.central.pinned')}</dt><dd class="small">{link.fingerprint}</dd></>)}
            <dt>{t('admin.central.pairedAt')}</dt><dd>{new Date(link.paired_at).toLocaleString()}</dd>
            <dt>{t('admin.central.lastSync')}</dt>
            <dd data-test="central-last-sync">{link.last_sync_at ? new Date(link.last_sync_at).toLocaleString() : t('admin.central.never')}</dd>
            <dt>{t('admin.central.state')}</dt>
            <dd data-test="central-state">{link.last_error ? t('admin.central.offline', { reason: link.last_error }) : t('admin.central.online')}</dd>
            <dt>{t('admin.central.waiting')}</dt><dd data-test="central-waiting">{view.waiting}</dd>
            <dt>{t('admin.central.pulled')}</dt><dd>{view.pulled}</dd>
            <dt>{t('admin.central.walkIns')}</dt>
            <dd data-test="central-walk-ins">{view.walk_in_flow ?? t('admin.central.noWalkIns')}</dd>
          </dl>
          <div class="inline-form">
            <button class="secondary" disabled={busy} onClick={() => run(() => call('central_sync_now'))} data-test="central-sync">
              {t('admin.central.syncNow')}
            </button>
            <button class="danger" disabled={busy} onClick={() => run(() => call('central_unpair'))} data-test="central-unpair">
              {t('admin.central.unpair')}
            </button>
          </div>
          {view.round && (
            <p role="status" data-test="central-round">
              {t('admin.central.round', { pushed: view.round.pushed, pulled: view.round.pulled, refused: view.round.refused })}
            </p>
          )}
          {view.refused.length > 0 && (
            <>
              <h3>{t('admin.central.refused')}</h3>
              <ul class="flow-list" data-test="central-refused">
                {view.refused.map((r) => (
                  <li key={r.case_id}><span>{r.case_id}</span><span>{r.reason}</span></li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </div>
  );
}
