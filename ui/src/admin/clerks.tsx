import { useState } from 'preact/hooks';
import { call } from '../bridge';
import { staffMessage } from '../errors';
import { t } from '../i18n';
import { useLoad } from './use-load';

export function Clerks(props: { onChanged: () => void }) {
  const { data, error, setError, reload } = useLoad('clerks_list');
  const [name, setName] = useState('');
  const [pin, setPin] = useState('');
  const run = async (change: () => Promise<unknown>) => {
    try {
      await change();
      setName('');
      setPin('');
      reload();
      props.onChanged();
    } catch (e) {
      setError(staffMessage(e));
    }
  };
  return (
    <div data-test="clerks">
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); run(() => call('clerk_add', { name, pin })); }}>
        <label>{t('admin.clients.name')}<input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} required data-test="clerk-name" /></label>
        <label>{t('admin.clerks.pin')}<input type="password" inputMode="numeric" value={pin} onInput={(e) => setPin((e.target as HTMLInputElement).value)} required data-test="clerk-pin" /></label>
        <button class="primary" type="submit" data-test="clerk-add">{t('admin.clerks.add')}</button>
      </form>
      <p class="error" role="alert">{error ?? ''}</p>
      <ul class="flow-list">
        {(data ?? []).map((c) => (
          <li key={c.id} data-test="clerk-row">
            <span>{c.name}</span>
            <button class="danger" onClick={() => run(() => call('clerk_remove', { clerk_id: c.id }))}>{t('admin.clerks.remove')}</button>
          </li>
        ))}
      </ul>
    </div>
  );
}
