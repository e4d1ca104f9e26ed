import { useState } from 'preact/hooks';
import { BridgeError, call } from '../bridge';
import { staffMessage } from '../errors';
import { t } from '../i18n';
import type { KioskStatus, Signed } from '../types';
import { PinPad } from './pinpad';

export function StaffSignIn(props: { status: KioskStatus | null; onSignedIn: (s: Signed) => void; onCancel: () => void }) {
  const [role, setRole] = useState<'clerk' | 'admin'>('clerk');
  const [clerkId, setClerkId] = useState<number | null>(null);
  const [pin, setPin] = useState('');
  const [error, setError] = useState<string | null>(null);
  const clerks = props.status?.clerks ?? [];

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      props.onSignedIn(await call('sign_in', { role, clerk_id: role === 'clerk' ? clerkId : null, pin }));
    } catch (err) {
      setPin('');
      setError(err instanceof BridgeError && err.code === 'unauthorized' ? t('error.wrongPin') : staffMessage(err));
    }
  };

  return (
    <main class="staff-screen" data-test="staff-sign-in">
      <h1>{t('staff.title')}</h1>
      <div class="tabs" role="tablist">
        {(['clerk', 'admin'] as const).map((r) => (
          <button key={r} role="tab" aria-selected={role === r} class={`tab ${role === r ? 'selected' : ''}`}
                  onClick={() => { setRole(r); setError(null); }} data-test={`role-${r}`}>
            {t(`staff.${r}`)}
          </button>
        ))}
      </div>
      <form onSubmit={submit} class="pin-form">
        {role === 'clerk' && (
          <fieldset class="clerk-names">
            <legend>{t('staff.whoAreYou')}</legend>
            {clerks.length === 0 && <p class="hint">{t('staff.noClerks')}</p>}
            {clerks.map((c) => (
              <button type="button" key={c.id} class={`choice ${clerkId === c.id ? 'selected' : ''}`}
                      aria-pressed={clerkId === c.id} onClick={() => setClerkId(c.id)} data-test={`clerk-${c.name}`}>
                {c.name}
              </button>
            ))}
          </fieldset>
        )}
        <PinPad id="staff-pin" label={t('staff.pin')} value={pin} onChange={setPin} />
        <p class="error" role="alert" data-test="error">
          {error ?? ''}
        </p>
        <div class="actions">
          <button type="button" class="secondary big" onClick={props.onCancel}>
            {t('common.cancel')}
          </button>
          <button type="submit" class="primary big" disabled={role === 'clerk' && clerkId === null} data-test="sign-in">
            {t('staff.signIn')}
          </button>
        </div>
      </form>
    </main>
  );
}
