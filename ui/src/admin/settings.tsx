import { useState } from 'preact/hooks';
import { t } from '../i18n';
import type { KioskStatus } from '../types';
import { Clients, Webhooks } from './clients';
import { Flows } from './flows';
import { Clerks } from './clerks';
import { Devices } from './devices';
import { General, Retention } from './general';
import { Central } from './central';

const TABS = ['clients', 'webhooks', 'flows', 'clerks', 'devices', 'retention', 'central', 'general'] as const;
type Tab = (typeof TABS)[number];

export function Settings(props: {
  status: KioskStatus | null;
  onQueue: () => void;
  onSignOut: () => void;
  onExited: () => void;
  onSettingsChanged: () => void;
}) {
  const [tab, setTab] = useState<Tab>('clients');
  return (
    <main class="staff-screen wide" data-test="settings">
      <header class="staff-bar">
        <h1>{t('admin.title')}</h1>
        <div class="staff-who">
          <button class="secondary" onClick={props.onQueue} data-test="to-queue">{t('clerk.queue')}</button>
          <button class="secondary" onClick={props.onSignOut} data-test="sign-out">{t('staff.signOut')}</button>
        </div>
      </header>
      <nav class="tabs" role="tablist" aria-label={t('admin.title')}>
        {TABS.map((k) => (
          <button key={k} role="tab" aria-selected={tab === k} class={`tab ${tab === k ? 'selected' : ''}`}
                  onClick={() => setTab(k)} data-test={`tab-${k}`}>
            {t(`admin.tab.${k}`)}
          </button>
        ))}
      </nav>
      <section class="panel" role="tabpanel">
        {tab === 'clients' && <Clients />}
        {tab === 'webhooks' && <Webhooks />}
        {tab === 'flows' && <Flows />}
        {tab === 'clerks' && <Clerks onChanged={props.onSettingsChanged} />}
        {tab === 'devices' && <Devices />}
        {tab === 'retention' && <Retention onChanged={props.onSettingsChanged} />}
        {tab === 'central' && <Central />}
        {tab === 'general' && <General status={props.status} onChanged={props.onSettingsChanged} onExited={props.onExited} />}
      </section>
    </main>
  );
}
