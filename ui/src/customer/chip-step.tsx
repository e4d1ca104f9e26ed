// The document_chip step: the access data (the MRZ the document_scan step read, or the MRZ fields or the CAN
// typed by the clerk), then "place your passport on the reader" with progress per file. The kiosk reads the
// chip and decides; this screen only shows what happens and starts again when the passport is lifted too soon.

import { useEffect, useRef, useState } from 'preact/hooks';
import { BridgeError, call } from '../bridge';
import { customerMessage } from '../errors';
import { lang, t } from '../i18n';
import { useSignal } from '../signal';
import type { ChipReadView as ReadView, ChipStatus } from '../generated/kiosk';
import type { CaseSession } from '../types';

type Access = { mode: 'mrz'; document_number: string; date_of_birth: string; date_of_expiry: string } | { mode: 'can'; can: string };

const POLL_MS = 200;
const DONE_HOLD_MS = 1200;

/** A file's name for people: DG2 is the photo, DG1 the data page. */
function fileLabel(file: string): string {
  const known: Record<string, string> = { 'EF.COM': 'chip.file.com', 'EF.SOD': 'chip.file.sod', DG1: 'chip.file.dg1', DG2: 'chip.file.dg2' };
  return known[file] ? t(known[file]) : file;
}

export function ChipStep(props: { case_id: string; index: number; scanned?: boolean; onDone: (s: CaseSession) => void }) {
  useSignal(lang);
  const [status, setStatus] = useState<ChipStatus | null>(null);
  const [access, setAccess] = useState<Access>({ mode: 'mrz', document_number: '', date_of_birth: '', date_of_expiry: '' });
  const [view, setView] = useState<ReadView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reading, setReading] = useState(false);
  const stopped = useRef(false);

  useEffect(() => {
    call('chip_status').then(setStatus, (e) => setError(customerMessage(e)));
    // The page was scanned earlier in the case: its MRZ opens the chip, nothing to type.
    if (props.scanned) begin(true);
    return () => {
      stopped.current = true;
      call('chip_read_cancel', { case_id: props.case_id, index: props.index }).catch(() => {});
    };
  }, []);

  const poll = async () => {
    while (!stopped.current) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      let v: ReadView;
      try {
        v = await call('chip_read_progress', { case_id: props.case_id, index: props.index });
      } catch (e) {
        setError(customerMessage(e));
        setReading(false);
        return;
      }
      if (stopped.current) return;
      setView(v);
      if (v.state === 'done' && v.session) {
        // A moment on the finished list, so the customer sees the chip was read before the next screen.
        const session = v.session;
        setTimeout(() => !stopped.current && props.onDone(session), DONE_HOLD_MS);
        return;
      }
      if (v.state === 'failed') {
        setReading(false);
        setError(v.error?.code === 'access_denied' ? t('chip.accessDenied') : v.error?.code === 'no_card' ? t('chip.noCard') : t('chip.readFailed'));
        return;
      }
    }
  };

  const begin = async (fromScan = false) => {
    setError(null);
    const args = fromScan
      ? {}
      : access.mode === 'can'
        ? { can: access.can }
        : { document_number: access.document_number, date_of_birth: access.date_of_birth, date_of_expiry: access.date_of_expiry };
    try {
      setView(await call('chip_read_begin', { case_id: props.case_id, index: props.index, ...args }));
      setReading(true);
      poll();
    } catch (e) {
      // The server names what is wrong with the typed data (length, date format, check digits).
      setError(e instanceof BridgeError && e.code === 'invalid_input' ? e.message : customerMessage(e));
    }
  };

  const demo = status?.demo ?? false;
  return (
    <section class="step chip-step" data-test="step-document_chip">
      <h1>{t('chip.title')}</h1>
      {demo && (
        <p class="demo-banner" data-test="demo-chip">
          {t('chip.demo')}
        </p>
      )}
      {status?.problem && !demo && <p class="warning" data-test="chip-problem">{status.problem}</p>}
      {reading && view ? (
        <ReadProgress view={view} />
      ) : (
        <AccessForm access={access} setAccess={setAccess} demo={status?.demo_passport} onStart={() => begin()} />
      )}
      <p class="error" role="alert" data-test="chip-error">
        {error ?? ''}
      </p>
    </section>
  );
}

function AccessForm(props: {
  access: Access;
  setAccess: (a: Access) => void;
  demo?: ChipStatus['demo_passport'];
  onStart: () => void;
}) {
  const a = props.access;
  const field = (name: string, label: string, value: string, extra: Record<string, unknown>) => (
    <label>
      {label}
      <input
        value={value}
        data-test={`chip-${name}`}
        autocomplete="off"
        spellcheck={false}
        onInput={(e) => props.setAccess({ ...a, [name]: (e.target as HTMLInputElement).value.toUpperCase() } as Access)}
        {...extra}
      />
    </label>
  );
  return (
    <form class="chip-access" onSubmit={(e) => { e.preventDefault(); props.onStart(); }}>
      <p class="lead">{t('chip.accessLead')}</p>
      <div class="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={a.mode === 'mrz'} data-test="chip-mode-mrz"
                onClick={() => props.setAccess({ mode: 'mrz', document_number: '', date_of_birth: '', date_of_expiry: '' })}>
          {t('chip.mode.mrz')}
        </button>
        <button type="button" role="tab" aria-selected={a.mode === 'can'} data-test="chip-mode-can"
                onClick={() => props.setAccess({ mode: 'can', can: '' })}>
          {t('chip.mode.can')}
        </button>
      </div>
      {a.mode === 'mrz' ? (
        <div class="fields">
          {field('document_number', t('chip.documentNumber'), a.document_number, { maxLength: 9 })}
          {field('date_of_birth', t('chip.dateOfBirth'), a.date_of_birth, { maxLength: 6, inputMode: 'numeric', placeholder: t('chip.yymmdd') })}
          {field('date_of_expiry', t('chip.dateOfExpiry'), a.date_of_expiry, { maxLength: 6, inputMode: 'numeric', placeholder: t('chip.yymmdd') })}
        </div>
      ) : (
        <div class="fields">{field('can', t('chip.can'), a.can, { maxLength: 6, inputMode: 'numeric' })}</div>
      )}
      {props.demo && (
        <p class="small" data-test="chip-demo-data">
          {t('chip.demoData', { can: props.demo.can, doc: props.demo.document_number ?? '', dob: props.demo.date_of_birth ?? '', exp: props.demo.date_of_expiry ?? '' })}{' '}
          <button type="button" class="secondary" data-test="chip-demo-fill"
                  onClick={() => props.setAccess({ mode: 'can', can: props.demo?.can ?? '' })}>
            {t('chip.demoFill')}
          </button>
        </p>
      )}
      <div class="actions">
        <button class="primary big" type="submit" data-test="chip-start">{t('chip.start')}</button>
      </div>
    </form>
  );
}

function ReadProgress(props: { view: ReadView }) {
  const v = props.view;
  const placing = v.state === 'waiting_for_card';
  const message = placing
    ? v.retry === 'card_removed'
      ? t('chip.liftedTooSoon')
      : v.retry === 'read_error'
        ? t('chip.placeAgain')
        : v.hint === 'no_reader'
          ? t('chip.noReader')
          : t('chip.place')
    : v.state === 'done'
      ? t('chip.done')
      : v.state === 'checking'
        ? t('chip.checking')
        : t('chip.reading');
  const percent = v.total > 0 ? Math.round((v.read / v.total) * 100) : 0;
  return (
    <div class="chip-read" data-test="chip-read" data-state={v.state}>
      <div class={`chip-reader-art ${placing ? 'placing' : 'on'}`} aria-hidden="true">
        <div class="passport" />
        <div class="reader-pad" />
      </div>
      <p class={`lead ${v.retry === 'card_removed' && placing ? 'warning' : ''}`} aria-live="assertive" data-test="chip-message">
        {message}
      </p>
      <ul class="chip-files" data-test="chip-files">
        {v.files_done.map((f) => (
          <li key={f} class="done">✓ {fileLabel(f)}</li>
        ))}
        {v.state === 'reading' && v.file && !v.files_done.includes(v.file) && (
          <li class="current">
            {fileLabel(v.file)}
            <div class="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
              <div class="progress-fill" style={{ width: `${percent}%` }} />
            </div>
          </li>
        )}
      </ul>
    </div>
  );
}
