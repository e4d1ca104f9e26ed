import { useEffect, useState } from 'preact/hooks';
import { call } from '../bridge';
import { staffMessage } from '../errors';
import { t } from '../i18n';
import type { QueueRow } from '../generated/kiosk';
import type { Signed } from '../types';
import { StaffBar } from './staff-bar';

const FILTERS: Record<string, string[]> = {
  open: [],
  pending: ['pending'],
  in_progress: ['in_progress'],
  completed: ['completed'],
  failed: ['failed'],
  expired: ['expired'],
};

export function when(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
}

export function Queue(props: { staff: Signed; onOpen: (id: string) => void; onSignOut: () => void; onSettings?: () => void }) {
  const [filter, setFilter] = useState('open');
  const [search, setSearch] = useState('');
  const [rows, setRows] = useState<QueueRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = async () => {
    try {
      setRows(await call('queue', { statuses: FILTERS[filter], search: search.trim() || null }));
      setError(null);
    } catch (e) {
      setError(staffMessage(e));
    }
  };
  useEffect(() => {
    load();
  }, [filter]);

  return (
    <main class="staff-screen wide" data-test="queue">
      <StaffBar staff={props.staff} title={t('clerk.queue')} onSignOut={props.onSignOut}
                extra={props.onSettings && <button class="secondary" onClick={props.onSettings}>{t('admin.title')}</button>} />
      <div class="filters" role="group" aria-label={t('clerk.col.status')}>
        {Object.keys(FILTERS).map((f) => (
          <button key={f} class={`chip ${filter === f ? 'selected' : ''}`} aria-pressed={filter === f}
                  onClick={() => setFilter(f)} data-test={`filter-${f}`}>
            {t(`clerk.filter.${f}`)}
          </button>
        ))}
        <form class="search" onSubmit={(e) => { e.preventDefault(); load(); }}>
          <label class="sr-only" for="queue-search">{t('clerk.search')}</label>
          <input id="queue-search" placeholder={t('clerk.search')} value={search}
                 onInput={(e) => setSearch((e.target as HTMLInputElement).value)} data-test="queue-search" />
          <button type="submit" class="secondary">{t('clerk.refresh')}</button>
        </form>
      </div>
      <p class="error" role="alert">{error ?? ''}</p>
      {rows && rows.length === 0 && <p class="empty">{t('clerk.empty')}</p>}
      {rows && rows.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">{t('clerk.col.code')}</th>
              <th scope="col">{t('clerk.col.status')}</th>
              <th scope="col">{t('clerk.col.reference')}</th>
              <th scope="col">{t('clerk.col.purpose')}</th>
              <th scope="col">{t('clerk.col.steps')}</th>
              <th scope="col">{t('clerk.col.updated')}</th>
              <th scope="col"><span class="sr-only">{t('clerk.open')}</span></th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.case_id} data-test="queue-row" data-code={r.code}>
                <td class="mono">{r.code}</td>
                <td><span class={`badge ${r.status}`}>{t(`status.${r.status}`)}</span></td>
                <td>{r.reference ?? '—'}</td>
                <td class="clip">{r.purpose ?? '—'}</td>
                <td>{r.steps_done}</td>
                <td>{when(r.updated_at)}</td>
                <td><button class="primary" onClick={() => props.onOpen(r.case_id)} data-test="queue-open">{t('clerk.open')}</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
