import { useState } from 'preact/hooks';
import { call } from '../bridge';
import type { Client } from '../generated/kiosk';
import { staffMessage } from '../errors';
import { t } from '../i18n';
import { when } from '../staff/queue';
import { useLoad } from './use-load';

export function Clients() {
  const { data, error, setError, reload } = useLoad('clients_list');
  const [name, setName] = useState('');
  const [webhook, setWebhook] = useState('');
  const [admin, setAdmin] = useState(false);
  const [shown, setShown] = useState<{ id: string; secret: string } | null>(null);

  const create = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await call('client_create', { name, webhook_url: webhook || null, admin });
      setShown({ id: r.client.id, secret: r.secret });
      setName('');
      setWebhook('');
      setAdmin(false);
      reload();
    } catch (err) {
      setError(staffMessage(err));
    }
  };
  // A revoke asks twice, in the page itself (the kiosk window has no native dialogs).
  const [confirming, setConfirming] = useState<string | null>(null);
  const act = async (command: 'client_revoke' | 'client_rotate_secret', c: Client) => {
    if (command === 'client_revoke' && confirming !== c.id) {
      setConfirming(c.id);
      return;
    }
    setConfirming(null);
    try {
      const r = await call(command, { client_id: c.id });
      if ('secret' in r) setShown({ id: c.id, secret: r.secret });
      reload();
    } catch (err) {
      setError(staffMessage(err));
    }
  };

  return (
    <div data-test="clients">
      <form class="inline-form" onSubmit={create}>
        <label>{t('admin.clients.name')}<input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} required data-test="client-name" /></label>
        <label>{t('admin.clients.webhook')}<input value={webhook} type="url" onInput={(e) => setWebhook((e.target as HTMLInputElement).value)} data-test="client-webhook" /></label>
        <label class="check"><input type="checkbox" checked={admin} onChange={(e) => setAdmin((e.target as HTMLInputElement).checked)} />{t('admin.clients.adminScope')}</label>
        <button type="submit" class="primary" data-test="client-create">{t('admin.clients.create')}</button>
      </form>
      {shown && (
        <div class="secret-box" role="status" data-test="client-secret-box">
          <p><strong>{t('admin.clients.secretOnce')}</strong></p>
          <p>{t('admin.clients.id')}: <code data-test="client-id">{shown.id}</code></p>
          <p>{t('admin.clients.secret')}: <code data-test="client-secret">{shown.secret}</code></p>
          <button class="secondary" onClick={() => setShown(null)}>{t('common.close')}</button>
        </div>
      )}
      <p class="error" role="alert">{error ?? ''}</p>
      {data && data.length === 0 && <p class="empty">{t('admin.clients.none')}</p>}
      {data && data.length > 0 && (
        <table class="table">
          <thead><tr><th scope="col">{t('admin.clients.name')}</th><th scope="col">{t('admin.clients.id')}</th><th scope="col">Scope</th><th scope="col">Webhook</th><th scope="col"></th></tr></thead>
          <tbody>
            {data.map((c) => (
              <tr key={c.id} data-test="client-row">
                <td>{c.name}</td>
                <td class="mono small">{c.id}</td>
                <td>{c.scope}</td>
                <td class="clip">{c.webhook_url ?? '—'}</td>
                <td class="row-actions">
                  {c.revoked_at ? (
                    <span class="badge failed">{t('admin.clients.revoked')} {when(c.revoked_at)}</span>
                  ) : (
                    <>
                      <button class="secondary" onClick={() => act('client_rotate_secret', c)}>{t('admin.clients.rotate')}</button>
                      <button class="danger" onClick={() => act('client_revoke', c)} data-test="client-revoke">
                        {confirming === c.id ? t('admin.clients.confirmRevoke', { name: c.name }) : t('admin.clients.revoke')}
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function Webhooks() {
  const clients = useLoad('clients_list');
  const log = useLoad('deliveries');
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);

  const save = async (c: Client) => {
    try {
      await call('client_set_webhook', { client_id: c.id, url: edits[c.id] ?? c.webhook_url ?? '' });
      setError(null);
      clients.reload();
    } catch (e) {
      setError(staffMessage(e));
    }
  };
  const retry = async (id: number) => {
    try {
      await call('delivery_retry', { delivery_id: id });
      log.reload();
    } catch (e) {
      setError(staffMessage(e));
    }
  };
  return (
    <div data-test="webhooks">
      <p class="lead small">{t('admin.webhooks.lead')}</p>
      <p class="error" role="alert">{error ?? clients.error ?? log.error ?? ''}</p>
      {(clients.data ?? []).filter((c) => !c.revoked_at).map((c) => (
        <form key={c.id} class="inline-form" onSubmit={(e) => { e.preventDefault(); save(c); }}>
          <label>{c.name}
            <input type="url" value={edits[c.id] ?? c.webhook_url ?? ''} onInput={(e) => setEdits({ ...edits, [c.id]: (e.target as HTMLInputElement).value })} />
          </label>
          <button class="primary" type="submit">{t('admin.webhooks.save')}</button>
        </form>
      ))}
      <h2>{t('admin.webhooks.log')} <button class="secondary" onClick={log.reload}>{t('clerk.refresh')}</button></h2>
      {log.data && log.data.length === 0 && <p class="empty">{t('admin.webhooks.none')}</p>}
      {log.data && log.data.length > 0 && (
        <table class="table">
          <thead><tr><th scope="col">#</th><th scope="col">URL</th><th scope="col">{t('clerk.col.status')}</th><th scope="col"></th><th scope="col"></th></tr></thead>
          <tbody>
            {log.data.map((d) => (
              <tr key={d.delivery.id} data-test="delivery-row" data-status={d.delivery.status}>
                <td>{d.delivery.id}</td>
                <td class="clip">{d.delivery.message && <span class="badge">{t('admin.webhooks.message')}</span>} {d.delivery.url}</td>
                <td><span class={`badge ${d.delivery.status}`}>{d.delivery.status}</span></td>
                <td>{t('admin.webhooks.attempts', { n: d.attempts.length })}{d.delivery.last_error ? ` · ${d.delivery.last_error}` : ''}</td>
                <td>{d.delivery.status === 'failed' && !d.delivery.message && <button class="primary" onClick={() => retry(d.delivery.id)}>{t('admin.webhooks.retry')}</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
