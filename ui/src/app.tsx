// The kiosk's screens and who may see them. The customer needs no sign-in; clerk and admin screens
// need a PIN session. Any screen left alone for the idle timeout returns to the welcome screen and
// forgets everything that was on it.

import { useCallback, useEffect, useState } from 'preact/hooks';
import { BridgeError, call, reportReady, setSession, UNPAIRED_EVENT } from './bridge';
import { lang, setLang } from './i18n';
import { useSignal } from './signal';
import type { CaseSession, KioskStatus, Signed } from './types';
import { IdleGuard } from './idle';
import { Welcome } from './customer/welcome';
import { CaseRunner } from './customer/case-runner';
import { Setup } from './staff/setup';
import { Pair } from './staff/pair';
import { StaffSignIn } from './staff/sign-in';
import { Queue } from './staff/queue';
import { CaseReview } from './staff/case-review';
import { Settings } from './admin/settings';
import { Exited } from './staff/exited';

export type Screen =
  | { name: 'loading' }
  | { name: 'pair' }
  | { name: 'setup' }
  | { name: 'welcome'; openCode?: string }
  | { name: 'case'; session: CaseSession; assisted: boolean }
  | { name: 'staff' }
  | { name: 'queue' }
  | { name: 'review'; caseId: string }
  | { name: 'settings' }
  | { name: 'exited' };

/** The case id in an eeID link path (/kiosk/requests/{id}), if the page was opened through one. */
function linkedCase(): string | undefined {
  const m = location.pathname.match(/\/kiosk\/requests\/([0-9a-fA-F-]{36})\/?$/);
  return m?.[1];
}

export function App() {
  const [status, setStatus] = useState<KioskStatus | null>(null);
  const [screen, setScreen] = useState<Screen>({ name: 'loading' });
  const [staff, setStaff] = useState<Signed | null>(null);
  // Bumped on every wipe so that every input on screen is rebuilt empty.
  const [generation, setGeneration] = useState(0);
  const current = useSignal(lang);

  const loadStatus = useCallback(async () => {
    const s = await call('kiosk_status');
    setStatus(s);
    return s;
  }, []);

  const start = useCallback(() => {
    loadStatus()
      .then((s) => {
        setLang(s.default_language);
        if (s.first_run) setScreen({ name: 'setup' });
        else setScreen({ name: 'welcome', openCode: linkedCase() });
        document.body.dataset.ready = 'true';
        // The app shell measures cold start to this moment.
        reportReady();
      })
      .catch((e) => {
        if (e instanceof BridgeError && e.reason === 'bridge_unpaired') {
          setScreen({ name: 'pair' });
          document.body.dataset.ready = 'true';
        } else setScreen({ name: 'welcome' });
      });
  }, [loadStatus]);

  useEffect(start, [start]);

  // A browser whose pairing the server no longer knows goes back to the pairing screen, signed out.
  useEffect(() => {
    const unpaired = () => {
      setSession(null);
      setStaff(null);
      setScreen({ name: 'pair' });
    };
    window.addEventListener(UNPAIRED_EVENT, unpaired);
    return () => window.removeEventListener(UNPAIRED_EVENT, unpaired);
  }, []);

  const signIn = (s: Signed) => {
    setSession(s.session);
    setStaff(s);
    setScreen(s.role === 'admin' ? { name: 'settings' } : { name: 'queue' });
  };

  const wipe = useCallback(() => {
    if (staff) call('sign_out').catch(() => undefined);
    setSession(null);
    setStaff(null);
    setGeneration((g) => g + 1);
    if (status) setLang(status.default_language);
    loadStatus().catch(() => undefined);
    setScreen({ name: 'welcome' });
  }, [staff, status, loadStatus]);

  const idleSecs = status?.idle_timeout_secs ?? 90;
  const pristine = screen.name === 'welcome' && !screen.openCode;

  let body;
  switch (screen.name) {
    case 'loading':
      body = <main class="center" aria-busy="true" />;
      break;
    case 'pair':
      body = <Pair onPaired={start} />;
      break;
    case 'setup':
      body = (
        <Setup
          setupCodeRequired={status?.setup_code_required ?? false}
          onDone={(s) => loadStatus().then(() => signIn(s))}
        />
      );
      break;
    case 'welcome':
      body = (
        <Welcome
          key={generation}
          status={status}
          openCode={screen.openCode}
          onOpened={(session) => setScreen({ name: 'case', session, assisted: false })}
          onStaff={() => setScreen({ name: 'staff' })}
        />
      );
      break;
    case 'case':
      body = (
        <CaseRunner
          key={generation}
          initial={screen.session}
          assisted={screen.assisted}
          staff={staff}
          onFinish={() =>
            screen.assisted ? setScreen({ name: 'review', caseId: screen.session.case_id }) : wipe()
          }
        />
      );
      break;
    case 'staff':
      body = <StaffSignIn status={status} onSignedIn={signIn} onCancel={wipe} />;
      break;
    case 'queue':
      body = staff && (
        <Queue staff={staff} onOpen={(caseId) => setScreen({ name: 'review', caseId })} onSignOut={wipe}
               onWalkIn={(session) => setScreen({ name: 'case', session, assisted: true })}
               onSettings={staff.role === 'admin' ? () => setScreen({ name: 'settings' }) : undefined} />
      );
      break;
    case 'review':
      body = staff && (
        <CaseReview
          caseId={screen.caseId}
          staff={staff}
          onBack={() => setScreen({ name: 'queue' })}
          onRun={(session) => setScreen({ name: 'case', session, assisted: true })}
        />
      );
      break;
    case 'settings':
      body = staff && (
        <Settings
          status={status}
          onQueue={() => setScreen({ name: 'queue' })}
          onSignOut={wipe}
          onExited={() => setScreen({ name: 'exited' })}
          onSettingsChanged={() => loadStatus().catch(() => undefined)}
        />
      );
      break;
    case 'exited':
      body = <Exited />;
      break;
  }

  return (
    <div class={`app lang-${current}`} data-screen={screen.name}>
      {body}
      {screen.name !== 'exited' && screen.name !== 'setup' && screen.name !== 'loading' && screen.name !== 'pair' && (
        <IdleGuard seconds={idleSecs} armed={!pristine} onTimeout={wipe} resetKey={`${screen.name}-${generation}`} />
      )}
    </div>
  );
}
