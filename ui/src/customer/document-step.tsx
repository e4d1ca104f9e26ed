// The document_scan step: "show your passport photo page to the camera". The live preview of the document
// camera with the page's outline as the kiosk sees it, written and spoken hints, and a count of agreeing reads;
// the kiosk captures by itself. A signed-in clerk can type the MRZ or the CAN instead when a page will not scan.

import { useEffect, useRef, useState } from 'preact/hooks';
import { BridgeError, call } from '../bridge';
import { customerMessage } from '../errors';
import { lang, t } from '../i18n';
import { useSignal } from '../signal';
import type { ScanView } from '../generated/kiosk';
import type { CaseSession, Signed } from '../types';
import { CameraView } from './camera-steps';

/** A moment on the captured page before the next screen, so the customer sees it worked. */
const DONE_HOLD_MS = 1200;

export function DocumentScanStep(props: { case_id: string; index: number; staff: Signed | null; onDone: (s: CaseSession) => void }) {
  useSignal(lang);
  const [view, setView] = useState<ScanView | null>(null);
  const [lost, setLost] = useState(false);
  const [typing, setTyping] = useState(false);
  const stopped = useRef(false);
  const args = { case_id: props.case_id, index: props.index };

  useEffect(() => {
    stopped.current = false;
    const poll = async () => {
      while (!stopped.current) {
        try {
          const v = await call('document_scan_frame', args);
          if (stopped.current) return;
          setLost(false);
          setView(v);
          if (v.captured && v.session) {
            const session = v.session;
            setTimeout(() => !stopped.current && props.onDone(session), DONE_HOLD_MS);
            return;
          }
        } catch (e) {
          if (stopped.current) return;
          // Not this step any more (a clerk typed the data elsewhere): stop; otherwise the camera is not answering.
          if (e instanceof BridgeError && e.code === 'conflict' && !/camera/i.test(e.message)) return;
          setLost(true);
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    };
    poll();
    return () => {
      stopped.current = true;
    };
  }, []);

  const captured = !!view?.captured;
  const hint = captured
    ? t(view?.outcome === 'failed' ? 'scan.capturedFailed' : 'scan.captured')
    : view
      ? view.hints.length
        ? t(`scan.hint.${view.hints[0]}`)
        : t('scan.reading', { n: view.agreeing, total: view.needed })
      : null;
  const ready = captured || (!!view && view.hints.length === 0);
  const outline = view?.outline;
  return (
    <section class="step" data-test="step-document_scan">
      <h1>{t('scan.title')}</h1>
      <p class="lead">{t('scan.lead')}</p>
      <CameraView
        document={{ hint, ready, lost }}
        overlay={
          <svg class="page-outline" viewBox="0 0 1 1" preserveAspectRatio="none" aria-hidden="true">
            {outline ? (
              <polygon
                data-test="page-outline"
                class={ready ? 'ready' : ''}
                points={outline.map(([x, y]) => `${x},${y}`).join(' ')}
              />
            ) : (
              <rect class="card-guide" x="0.2" y="0.15" width="0.6" height="0.7" rx="0.02" />
            )}
          </svg>
        }
      />
      {view && !captured && (
        <div class="progress scan-progress" role="progressbar" aria-valuemin={0} aria-valuemax={view.needed} aria-valuenow={view.agreeing}
             aria-label={t('scan.reading', { n: view.agreeing, total: view.needed })} data-test="scan-progress" data-agreeing={view.agreeing}>
          <div class="progress-fill" style={{ width: `${(view.agreeing / Math.max(1, view.needed)) * 100}%` }} />
        </div>
      )}
      {props.staff && !captured && (
        typing ? (
          <ManualEntry case_id={props.case_id} index={props.index} onCancel={() => setTyping(false)}
                       onDone={(s) => { stopped.current = true; props.onDone(s); }} />
        ) : (
          <div class="actions">
            <button class="secondary" onClick={() => setTyping(true)} data-test="scan-type">{t('scan.typeInstead')}</button>
          </div>
        )
      )}
    </section>
  );
}

/** The clerk's fallback: the MRZ as printed (two or three lines), or the CAN. Checked by the kiosk as the chip
 * will check it; recorded as typed by this clerk. */
function ManualEntry(props: { case_id: string; index: number; onCancel: () => void; onDone: (s: CaseSession) => void }) {
  const [mode, setMode] = useState<'mrz' | 'can'>('mrz');
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await call('document_scan_manual', {
        case_id: props.case_id,
        index: props.index,
        ...(mode === 'mrz' ? { mrz: value } : { can: value }),
      });
      if (r.session) props.onDone(r.session);
    } catch (e) {
      setError(e instanceof BridgeError && e.code === 'invalid_input' ? e.message : customerMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="scan-manual" onSubmit={submit} data-test="scan-manual">
      <p class="small">{t('scan.manualLead')}</p>
      <div class="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={mode === 'mrz'} data-test="scan-mode-mrz" onClick={() => { setMode('mrz'); setValue(''); }}>
          {t('scan.mode.mrz')}
        </button>
        <button type="button" role="tab" aria-selected={mode === 'can'} data-test="scan-mode-can" onClick={() => { setMode('can'); setValue(''); }}>
          {t('chip.mode.can')}
        </button>
      </div>
      {mode === 'mrz' ? (
        <textarea class="mrz-input" rows={3} spellcheck={false} autocomplete="off" value={value} data-test="scan-mrz"
                  placeholder="P<UTOERIKSSON<<ANNA<MARIA<<<…" onInput={(e) => setValue((e.target as HTMLTextAreaElement).value.toUpperCase())} />
      ) : (
        <input value={value} maxLength={6} inputMode="numeric" autocomplete="off" data-test="scan-can"
               onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
      )}
      <p class="error" role="alert" data-test="scan-error">{error ?? ''}</p>
      <div class="actions">
        <button type="button" class="secondary" onClick={props.onCancel}>{t('common.back')}</button>
        <button type="submit" class="primary" disabled={busy || value.trim() === ''} data-test="scan-manual-save">{t('scan.manualSave')}</button>
      </div>
    </form>
  );
}
