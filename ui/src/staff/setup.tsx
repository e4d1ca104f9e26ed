import { useState } from 'preact/hooks';
import { call } from '../bridge';
import { staffMessage } from '../errors';
import { t } from '../i18n';
import type { Signed } from '../types';
import { PinPad } from './pinpad';

/** First run: nothing works until the admin PIN is chosen. */
export function Setup(props: { onDone: (s: Signed) => void; setupCodeRequired: boolean }) {
  const [code, setCode] = useState('');
  const [pin, setPin] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<string | null>(null);
  const save = async (e: Event) => {
    e.preventDefault();
    if (pin !== again) {
      setError(t('setup.mismatch'));
      return;
    }
    try {
      props.onDone(await call('admin_setup', props.setupCodeRequired ? { pin, setup_code: code } : { pin }));
    } catch (err) {
      setError(staffMessage(err));
    }
  };
  return (
    <main class="staff-screen" data-test="setup">
      <h1>{t('setup.title')}</h1>
      <p class="lead">{t('setup.lead')}</p>
      <form onSubmit={save} class="pin-form two">
        {props.setupCodeRequired && (
          <div class="setup-code">
            <label for="setup-code">{t('setup.code')}</label>
            <input
              id="setup-code"
              data-test="setup-code"
              autocomplete="off"
              spellcheck={false}
              maxLength={32}
              value={code}
              onInput={(e) => setCode((e.target as HTMLInputElement).value)}
            />
          </div>
        )}
        <PinPad id="setup-pin" label={t('setup.pin')} value={pin} onChange={setPin} />
        <PinPad id="setup-repeat" label={t('setup.repeat')} value={again} onChange={setAgain} />
        <p class="error" role="alert" data-test="error">
          {error ?? ''}
        </p>
        <button type="submit" class="primary big" data-test="setup-save">
          {t('setup.save')}
        </button>
      </form>
    </main>
  );
}
