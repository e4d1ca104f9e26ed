import { useEffect, useState } from 'preact/hooks';
import { call } from '../bridge';
import { staffMessage } from '../errors';
import { t } from '../i18n';
import type { CaseSession, QueueRow } from '../generated/kiosk';
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

/** A button that starts a walk-in case on the central's walk-in flow, shown only where the central takes them. */
function WalkIn(props: { onStarted: (s: CaseSession) => void; onError: (message: string) => void }) {
  const [flow, setFlow] = useState<string | null>(null);
  useEffect(() => {
    call('walk_ins').then((w) => setFlow(w.flow_name ?? null)).catch(() => setFlow(null));
  }, []);
  if (!flow) return null;
  const start = async () => {
    try {
      props.onStarted(await call('walk_in_open'));
    } catch (e) {
      props.onError(staffMessage(e));
    }
  };
  return (
    <button class="primary" onClick={start} data-test="walk-in" title={flow}>
      {t('clerk.walkIn', { flow })}
    </button>
  );
}

export function Queue(props: {
  staff: Signed;
  onOpen: (id: string) => void;
  onWalkIn: (s: CaseSession) => void;
  onSignOut: () => void;
  onSettings?: () => void;
}) {
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
      <WalkIn onStarted={props.onWalkIn} onError={setError} />
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
