import { useEffect, useRef, useState } from 'preact/hooks';
import { call } from '../bridge';
import { customerMessage } from '../errors';
import { LANGS, lang, setLang, t } from '../i18n';
import { useSignal } from '../signal';
import type { CaseSession, KioskStatus, Lang } from '../types';

const NAMES: Record<Lang, string> = { en: 'English', es: 'Español', et: 'Eesti' };

export function Welcome(props: {
  status: KioskStatus | null;
  openCode?: string;
  onOpened: (s: CaseSession) => void;
  onStaff: () => void;
}) {
  useSignal(lang);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  const open = async (value: string) => {
    if (!value.trim()) {
      input.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      props.onOpened(await call('case_open', { code: value.trim() }));
    } catch (e) {
      setError(customerMessage(e));
      input.current?.select();
    } finally {
      setBusy(false);
    }
  };

  // Opened through an eeID link: go straight to the case.
  useEffect(() => {
    if (props.openCode) open(props.openCode);
  }, [props.openCode]);

  return (
    <main class="welcome">
      <header class="topbar">
        <div class="brand" aria-hidden="true">
          Vouch
        </div>
        <nav class="langs" aria-label={t('welcome.language')}>
          {(props.status?.languages ?? LANGS).map((l) => (
            <button
              key={l}
              class={`lang ${lang.get() === l ? 'selected' : ''}`}
              aria-pressed={lang.get() === l}
              lang={l}
              onClick={() => setLang(l)}
              data-test={`lang-${l}`}
            >
              {NAMES[l]}
            </button>
          ))}
        </nav>
      </header>
      <section class="hero">
        <h1>{t('welcome.title')}</h1>
        <p class="lead">{t('welcome.lead')}</p>
        <form
          class="code-form"
          onSubmit={(e) => {
            e.preventDefault();
            open(code);
          }}
        >
          <label for="case-code">{t('welcome.codeLabel')}</label>
          <input
            id="case-code"
            ref={input}
            class="code-input"
            value={code}
            onInput={(e) => setCode((e.target as HTMLInputElement).value)}
            autocomplete="off"
            autocapitalize="characters"
            spellcheck={false}
            maxLength={500}
            aria-describedby="code-hint code-error"
            aria-invalid={error ? 'true' : 'false'}
            data-test="case-code"
            autofocus
          />
          <p id="code-hint" class="hint">
            {t('welcome.codeHint')}
          </p>
          <p id="code-error" class="error" role="alert" data-test="error">
            {error ?? ''}
          </p>
          <button type="submit" class="primary big" disabled={busy} data-test="start">
            {busy ? t('common.loading') : t('welcome.start')}
          </button>
        </form>
      </section>
      <footer class="footer">
        <p class="hint">{t('welcome.demoNote')}</p>
        <button class="ghost" onClick={props.onStaff} data-test="staff">
          {t('welcome.staff')}
        </button>
      </footer>
    </main>
  );
}
