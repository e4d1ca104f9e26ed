// The camera steps: a live preview with an oval guide and written and spoken hints, the selfie, and the
// liveness checks. The kiosk's own camera takes the frames and the server decides; this screen only tells
// the customer what to do and when.

import { useEffect, useRef, useState } from 'preact/hooks';
import { BridgeError, call, inTauri } from '../bridge';
import { customerMessage } from '../errors';
import { lang, t } from '../i18n';
import { useSignal } from '../signal';
import type { Assertion, CameraStatusView, Guide } from '../generated/kiosk';
import type { CaseSession } from '../types';

type Done = (session: CaseSession) => void;

const SPEECH_LANG: Record<string, string> = { en: 'en-GB', es: 'es-ES', et: 'et-EE' };

/** Speaks a hint aloud when it changes (not more than every few seconds), where the system has a voice. */
export function useSpoken(text: string | null) {
  const last = useRef<{ text: string; at: number }>({ text: '', at: 0 });
  useEffect(() => {
    if (!text || typeof speechSynthesis === 'undefined') return;
    const now = Date.now();
    if (text === last.current.text && now - last.current.at < 6000) return;
    if (now - last.current.at < 2500) return;
    last.current = { text, at: now };
    const u = new SpeechSynthesisUtterance(text);
    u.lang = SPEECH_LANG[lang.get()] ?? 'en-GB';
    speechSynthesis.cancel();
    speechSynthesis.speak(u);
  }, [text]);
}

/** The preview with its oval and hints; `guide` polls the server's view of the frame. With `document`, it shows
 * the document camera unmirrored and without the oval, and the caller polls and gives the hint. */
export function CameraView(props: {
  overlay?: preact.ComponentChildren;
  onGuide?: (g: Guide) => void;
  spoken?: string | null;
  document?: { hint: string | null; ready: boolean; lost: boolean };
}) {
  useSignal(lang);
  const [status, setStatus] = useState<CameraStatusView | null>(null);
  const [server, setServer] = useState('');
  const [guide, setGuide] = useState<Guide | null>(null);
  // A webcam that stops answering (unplugged, taken by another program): say so, and reopen the preview
  // stream once frames come back.
  const [lost, setLost] = useState(false);
  const [previewKey, setPreviewKey] = useState(0);
  const onGuide = useRef(props.onGuide);
  onGuide.current = props.onGuide;

  useEffect(() => {
    if (inTauri) call('kiosk_status').then((s) => setServer(s.server.startsWith('http') ? s.server : ''));
  }, []);

  // Preview tokens open a stream for a minute only: a reconnecting preview asks for a fresh one.
  useEffect(() => {
    call('camera_status', props.document ? { document: true } : {}).then(setStatus, () =>
      setStatus({ configured: '', available: false, connected: false, demo: false, preview_path: null }),
    );
  }, [previewKey]);

  useEffect(() => {
    if (!status?.available || props.document) return;
    let stopped = false;
    const poll = async () => {
      while (!stopped) {
        try {
          const g = await call('camera_guide');
          if (stopped) return;
          setLost((was) => {
            if (was) setPreviewKey((k) => k + 1);
            return false;
          });
          setGuide(g);
          onGuide.current?.(g);
        } catch {
          // The next poll retries; meanwhile the customer is told the camera is not answering.
          if (!stopped) {
            setLost(true);
            setGuide(null);
          }
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    poll();
    return () => {
      stopped = true;
    };
  }, [status?.available]);

  const doc = props.document;
  useEffect(() => {
    // The document step polls; when frames come back after a loss, the preview stream is reopened.
    if (doc && !doc.lost && lost) setPreviewKey((k) => k + 1);
    if (doc) setLost(doc.lost);
  }, [doc?.lost]);
  const ready = doc ? doc.ready : !!guide?.ready;
  const hint = lost
    ? t('camera.lost')
    : doc
      ? doc.hint
    : guide
      ? guide.ready
        ? t('camera.hint.ready')
        : t(`camera.hint.${guide.hints[0]}`)
      : null;
  useSpoken(props.spoken ?? hint);

  if (status && !status.available) {
    return (
      <div class="camera-missing" data-test="camera-missing" role="alert">
        <p class="lead">{t('camera.missing')}</p>
      </div>
    );
  }
  return (
    <div class="camera">
      {status?.demo && (
        <p class="demo-banner" data-test="demo-camera">
          {t('camera.demo')}
        </p>
      )}
      <div
        class={`camera-frame ${doc ? 'document' : ''}`}
        style={doc && status?.source ? { aspectRatio: `${status.source.width} / ${status.source.height}` } : undefined}
      >
        {status?.preview_path && (
          <img key={previewKey} class="preview" data-test="preview" src={`${server}${status.preview_path}`} alt={t('camera.previewAlt')}
               onError={() => setTimeout(() => setPreviewKey((k) => k + 1), 1000)} />
        )}
        {!doc && <div class="shade" aria-hidden="true" />}
        {!doc && <div class={`oval ${ready ? 'ready' : ''}`} aria-hidden="true" />}
        {props.overlay}
      </div>
      <p class={`hint ${ready && !lost ? 'ok' : ''} ${lost ? 'lost' : ''}`} data-test="hint" aria-live="polite">
        {hint ?? t('common.loading')}
      </p>
    </div>
  );
}

export function SelfieStep(props: { case_id: string; index: number; onDone: Done }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const readyRun = useRef(0);

  const take = async () => {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const r = await call('selfie_capture', {
        case_id: props.case_id,
        index: props.index,
      });
      if (r.captured && r.session) props.onDone(r.session);
      else setError(t(`camera.hint.${r.hints?.[0] ?? 'no_face'}`));
    } catch (e) {
      setError(customerMessage(e));
    } finally {
      setBusy(false);
      readyRun.current = 0;
    }
  };

  // Takes the photo by itself once the face has been well placed for about a second.
  const onGuide = (g: Guide) => {
    readyRun.current = g.ready ? readyRun.current + 1 : 0;
    if (readyRun.current >= 4 && !busy) take();
  };

  return (
    <section class="step" data-test="step-selfie">
      <h1>{t('selfie.title')}</h1>
      <CameraView onGuide={onGuide} />
      <p class="error" role="alert" data-test="selfie-error">
        {error ?? ''}
      </p>
      <div class="actions">
        <button class="primary big" disabled={busy} onClick={take} data-test="selfie-take">
          {busy ? t('selfie.taking') : t('selfie.take')}
        </button>
      </div>
    </section>
  );
}

const CORNER_CLASS: Record<string, string> = {
  EYE_GAZE_TOP_LEFT: 'top-left',
  EYE_GAZE_TOP_RIGHT: 'top-right',
  EYE_GAZE_BOTTOM_LEFT: 'bottom-left',
  EYE_GAZE_BOTTOM_RIGHT: 'bottom-right',
};

function prompt(a: Assertion): string {
  if (a in CORNER_CLASS) return t('liveness.prompt.gaze');
  return t(`liveness.prompt.${a.toLowerCase()}`);
}

/** Seconds each prompt is shown before its frame is taken. */
const HOLD_MS = 1800;

export function LivenessStep(props: { case_id: string; index: number; onDone: Done }) {
  useSignal(lang);
  const [plan, setPlan] = useState<Assertion[] | null>(null);
  const [at, setAt] = useState(0);
  const [state, setState] = useState<'ready' | 'running' | 'retry' | 'checking'>('ready');
  const [attemptsLeft, setAttemptsLeft] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const args = { case_id: props.case_id, index: props.index };

  const run = async () => {
    setError(null);
    try {
      const p = await call('liveness_begin', args);
      setPlan(p.plan);
      setAttemptsLeft(p.attempts_left);
      setState('running');
      for (let i = 0; i < p.plan.length; i++) {
        setAt(i);
        await new Promise((r) => setTimeout(r, HOLD_MS));
        if (i === p.plan.length - 1) setState('checking');
        const r = await call('liveness_frame', args);
        if (!r.done) continue;
        if (r.session) return props.onDone(r.session);
        setAttemptsLeft(r.attempts_left ?? 0);
        setState('retry');
      }
    } catch (e) {
      setError(e instanceof BridgeError ? customerMessage(e) : String(e));
      setState('retry');
    }
  };

  const current = plan?.[at] ?? null;
  const corner = current ? CORNER_CLASS[current] : undefined;
  const spoken = state === 'running' && current ? prompt(current) : null;
  return (
    <section class="step" data-test="step-liveness">
      <h1>{t('liveness.title')}</h1>
      <CameraView spoken={spoken} overlay={corner && state === 'running' ? <span class={`gaze-target ${corner}`} data-test="gaze-target" /> : null} />
      <p class="liveness-prompt" data-test="liveness-prompt" aria-live="assertive">
        {state === 'running' && current ? prompt(current) : state === 'checking' ? t('liveness.checking') : ''}
        {state === 'retry' ? t('liveness.retry', { n: attemptsLeft ?? 0 }) : ''}
      </p>
      <p class="error" role="alert">
        {error ?? ''}
      </p>
      {(state === 'ready' || state === 'retry') && (
        <div class="actions">
          <button class="primary big" onClick={run} data-test="liveness-start">
            {state === 'ready' ? t('liveness.start') : t('liveness.again')}
          </button>
        </div>
      )}
    </section>
  );
}

/** A step the kiosk decides from what it captured earlier (the face match, the duplicate check). Nothing to do
 * for the customer but wait; the result is shown at the end like every other step. */
function DecidedStep(props: { case_id: string; index: number; onDone: Done; kind: 'face_match' | 'duplicate_check' }) {
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const command = props.kind === 'face_match' ? 'face_match_run' : 'duplicate_check_run';
  const words = props.kind === 'face_match' ? 'faceMatch' : 'duplicateCheck';
  useEffect(() => {
    let cancelled = false;
    setError(null);
    call(command, { case_id: props.case_id, index: props.index }).then(
      (r) => !cancelled && r.session && props.onDone(r.session),
      (e) => !cancelled && setError(customerMessage(e)),
    );
    return () => {
      cancelled = true;
    };
  }, [attempt]);
  return (
    <section class="step" data-test={`step-${props.kind}`}>
      <h1>{t(`${words}.title`)}</h1>
      {error ? (
        <>
          <p class="error" role="alert">{error}</p>
          <button class="primary big" onClick={() => setAttempt((a) => a + 1)}>{t('common.retry')}</button>
        </>
      ) : (
        <p class="lead" aria-live="polite">{t(`${words}.working`)}</p>
      )}
    </section>
  );
}

/** Compares the face taken earlier with the photo on file, or with the person the case was opened for. */
export function FaceMatchStep(props: { case_id: string; index: number; onDone: Done }) {
  return <DecidedStep {...props} kind="face_match" />;
}

/** Searches the enrolled persons for the face taken earlier, so one person cannot enrol twice. */
export function DuplicateCheckStep(props: { case_id: string; index: number; onDone: Done }) {
  return <DecidedStep {...props} kind="duplicate_check" />;
}
