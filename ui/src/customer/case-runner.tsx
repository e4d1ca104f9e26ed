// Runs a case's flow one screen per step, with progress, and ends on the result screen. The customer
// runs it alone; a clerk runs it with them (assisted), which also allows the clerk-review step.

import { useState } from 'preact/hooks';
import { call } from '../bridge';
import { customerMessage } from '../errors';
import { lang, pick, t } from '../i18n';
import { useSignal } from '../signal';
import type { JsonValue } from '../generated/kiosk';
import type { CaseSession, Signed, Step } from '../types';
import { DuplicateCheckStep, FaceMatchStep, LivenessStep, SelfieStep } from './camera-steps';
import { ChipStep } from './chip-step';
import { DocumentScanStep } from './document-step';
import { SignatureStep } from './signature-step';

export function CaseRunner(props: { initial: CaseSession; assisted: boolean; staff: Signed | null; onFinish: () => void }) {
  useSignal(lang);
  const [session, setSession] = useState(props.initial);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const total = session.steps.length;
  const terminal = !['pending', 'in_progress'].includes(session.status);
  const stepNow = !terminal && session.next.state === 'step' ? session.next : null;
  const position = stepNow ? stepNow.index + 1 : total;

  const submit = async (step: Step, index: number, outcome: 'passed' | 'failed', detail: Record<string, JsonValue>) => {
    setBusy(true);
    setError(null);
    try {
      setSession(
        await call('step_submit', { case_id: session.case_id, index, kind: step.kind, outcome, detail }),
      );
    } catch (e) {
      setError(customerMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const purpose = pick(session.purpose_translations, session.purpose ?? '');

  return (
    <main class="case" data-test="case">
      <header class="progress-bar">
        <p class="progress-label" data-test="progress">
          {t('progress', { n: position, total })}
        </p>
        <div
          class="progress"
          role="progressbar"
          aria-valuemin={1}
          aria-valuemax={total}
          aria-valuenow={position}
          aria-label={t('progress', { n: position, total })}
        >
          <div class="progress-fill" style={{ width: `${(position / total) * 100}%` }} />
        </div>
        {purpose && <p class="purpose">{t('purpose', { purpose })}</p>}
      </header>
      <p class="error" role="alert" data-test="error">
        {error ?? ''}
      </p>
      {stepNow ? (
        <StepScreen
          key={`${session.case_id}-${stepNow.index}`}
          caseId={session.case_id}
          index={stepNow.index}
          onSession={setSession}
          step={stepNow.step}
          scanned={session.done.some((d) => d.kind === 'document_scan' && d.outcome === 'passed')}
          busy={busy}
          staff={props.assisted ? props.staff : null}
          onOutcome={(outcome, detail) => submit(stepNow.step, stepNow.index, outcome, detail)}
        />
      ) : (
        <Result session={session} onFinish={props.onFinish} />
      )}
    </main>
  );
}

function StepScreen(props: {
  caseId: string;
  index: number;
  onSession: (s: CaseSession) => void;
  step: Step;
  /** A document_scan step passed earlier: its MRZ (or CAN) opens the chip without typing. */
  scanned: boolean;
  busy: boolean;
  staff: Signed | null;
  onOutcome: (o: 'passed' | 'failed', detail: Record<string, JsonValue>) => void;
}) {
  const step = props.step;
  switch (step.kind) {
    case 'consent':
      return <Consent text={pick(step.text)} busy={props.busy} onOutcome={props.onOutcome} />;
    case 'selfie':
      return <SelfieStep case_id={props.caseId} index={props.index} onDone={props.onSession} />;
    case 'liveness':
      return <LivenessStep case_id={props.caseId} index={props.index} onDone={props.onSession} />;
    case 'document_chip':
      return <ChipStep case_id={props.caseId} index={props.index} scanned={props.scanned} onDone={props.onSession} />;
    case 'document_scan':
      return <DocumentScanStep case_id={props.caseId} index={props.index} staff={props.staff} onDone={props.onSession} />;
    case 'signature':
      return <SignatureStep case_id={props.caseId} index={props.index} onDone={props.onSession} />;
    case 'face_match':
      return <FaceMatchStep case_id={props.caseId} index={props.index} onDone={props.onSession} />;
    case 'duplicate_check':
      return <DuplicateCheckStep case_id={props.caseId} index={props.index} onDone={props.onSession} />;
    case 'clerk_review':
      return props.staff ? (
        <section class="step" data-test="step-clerk_review">
          <h1>{t('step.clerk_review.title')}</h1>
          <div class="actions">
            <button class="primary big" disabled={props.busy} onClick={() => props.onOutcome('passed', { reviewed_by: props.staff?.name ?? null })}>
              {t('clerk.approve')}
            </button>
            <button class="secondary big" disabled={props.busy} onClick={() => props.onOutcome('failed', { reviewed_by: props.staff?.name ?? null })}>
              {t('clerk.reject')}
            </button>
          </div>
        </section>
      ) : (
        <section class="step" data-test="step-clerk_review">
          <h1>{t('step.clerk_review.title')}</h1>
          <p class="lead">{t('step.clerk_review.body')}</p>
        </section>
      );
    default:
      return (
        <section class="step" data-test="step-unavailable">
          <h1>{t('step.unavailable.title')}</h1>
          <p class="lead">{t('step.unavailable.body')}</p>
        </section>
      );
  }
}

function Consent(props: { text: string; busy: boolean; onOutcome: (o: 'passed' | 'failed', d: Record<string, JsonValue>) => void }) {
  const [confirming, setConfirming] = useState(false);
  const detail = { language: lang.get() };
  return (
    <section class="step" data-test="step-consent">
      <h1>{t('consent.title')}</h1>
      <div class="consent-text" tabIndex={0}>
        {props.text}
      </div>
      {confirming ? (
        <div class="confirm" role="alertdialog" aria-label={t('consent.confirmDecline')}>
          <p>{t('consent.confirmDecline')}</p>
          <div class="actions">
            <button class="secondary big" onClick={() => setConfirming(false)}>
              {t('common.back')}
            </button>
            <button class="danger big" disabled={props.busy} onClick={() => props.onOutcome('failed', detail)}>
              {t('consent.yesDecline')}
            </button>
          </div>
        </div>
      ) : (
        <div class="actions">
          <button class="secondary big" onClick={() => setConfirming(true)} data-test="consent-decline">
            {t('consent.decline')}
          </button>
          <button class="primary big" disabled={props.busy} onClick={() => props.onOutcome('passed', detail)} data-test="consent-agree">
            {t('consent.agree')}
          </button>
        </div>
      )}
    </section>
  );
}

function Result(props: { session: CaseSession; onFinish: () => void }) {
  const s = props.session;
  let key: string;
  if (s.status === 'completed') key = 'completed';
  else if (s.status === 'failed' || s.status === 'cancelled') key = 'failed';
  else if (s.status === 'expired') key = 'expired';
  else if (s.next.state === 'awaiting_decision' && !s.next.all_passed) key = 'incomplete';
  else key = 'done';
  const good = key === 'completed' || key === 'done';
  return (
    <section class={`step result ${good ? 'good' : 'bad'}`} data-test="result" data-result={key}>
      <div class="result-icon" aria-hidden="true">
        {good ? '✓' : '!'}
      </div>
      <h1>{t(`result.${key}.title`)}</h1>
      <p class="lead">{t(`result.${key}.body`)}</p>
      <button class="primary big" onClick={props.onFinish} data-test="finish" autofocus>
        {t('result.finish')}
      </button>
    </section>
  );
}
