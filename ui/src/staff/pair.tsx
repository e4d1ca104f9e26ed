import { useState } from 'preact/hooks';
import { pair } from '../bridge';
import { staffMessage } from '../errors';
import { t } from '../i18n';

/**
 * A browser (not the kiosk app) shows this until it is paired: the code is printed by `vouch serve` on its
 * console, so only someone at the terminal or with its data directory can turn this page into the kiosk.
 */
export function Pair(props: { onPaired: () => void }) {
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await pair(code);
      props.onPaired();
    } catch (err) {
      setError(staffMessage(err));
    }
  };
  return (
    <main class="staff-screen" data-test="pair">
      <h1>{t('pair.title')}</h1>
      <p class="lead">{t('pair.lead')}</p>
      <form onSubmit={submit} class="pin-form">
        <label for="pair-code">{t('pair.code')}</label>
        <input
          id="pair-code"
          data-test="pair-code"
          autocomplete="off"
          autocapitalize="characters"
          spellcheck={false}
          maxLength={32}
          value={code}
          onInput={(e) => setCode((e.target as HTMLInputElement).value)}
        />
        <p class="error" role="alert" data-test="error">
          {error ?? ''}
        </p>
        <button type="submit" class="primary big" data-test="pair-submit">
          {t('pair.submit')}
        </button>
      </form>
    </main>
  );
}
