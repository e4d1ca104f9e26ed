// The signature step: read each document (pages rendered by pdf.js), agree, sign on the pad, see the result.
// The pad records what Pointer Events report at the device's rate (coalesced events included): position, time,
// pressure, tip contact and, for pens, tilt. The server checks the drawing and signs the documents; a refused
// drawing is explained and the pad stays, so the customer signs again.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { PDFDocumentProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';
import workerUrl from 'pdfjs-dist/legacy/build/pdf.worker.min.mjs?url';
import { BridgeError, call } from '../bridge';
import { customerMessage } from '../errors';
import { lang, t } from '../i18n';
import { useSignal } from '../signal';
import type { DocumentEntry, PenSample, PointerKind } from '../generated/kiosk';
import type { CaseSession } from '../types';

/** pdf.js (about 400 KB) is fetched when a document is first shown, not with the welcome screen. */
async function loadPdfjs() {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  pdfjs.GlobalWorkerOptions.workerSrc = workerUrl;
  return pdfjs;
}

/** CSS pixels per millimetre at the nominal 96 dpi; the kiosk's screen is calibrated to it. */
const PX_PER_MM = 96 / 25.4;

/** Why a drawing was refused, in the customer's language, by the server's machine reason (see vouch-signature). */
function refusal(e: unknown): string {
  if (e instanceof BridgeError && e.code === 'invalid_input') {
    switch (e.reason) {
      case 'signature_empty':
        return t('sign.empty');
      case 'signature_too_short':
        return t('sign.tooShort');
      case 'signature_too_long':
        return t('sign.tooLong');
      default:
        return t('sign.refused');
    }
  }
  return customerMessage(e);
}

function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function DocumentViewer(props: { caseId: string; index: number; doc: DocumentEntry }) {
  useSignal(lang);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [pdf, setPdf] = useState<PDFDocumentProxy | null>(null);
  const [page, setPage] = useState(1);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    setPdf(null);
    setPage(1);
    call('signature_document', { case_id: props.caseId, index: props.index, position: props.doc.position })
      .then(async (r) => (await loadPdfjs()).getDocument({ data: base64ToBytes(r.pdf), isEvalSupported: false }).promise)
      .then((p) => !cancelled && setPdf(p), (e) => !cancelled && setError(customerMessage(e)));
    return () => {
      cancelled = true;
    };
  }, [props.caseId, props.doc.position]);

  useEffect(() => {
    if (!pdf || !canvas.current) return;
    let task: { cancel: () => void } | null = null;
    pdf.getPage(page).then((p) => {
      const el = canvas.current;
      if (!el) return;
      const width = Math.min(el.parentElement?.clientWidth ?? 720, 900);
      const viewport = p.getViewport({ scale: width / p.getViewport({ scale: 1 }).width });
      const ratio = window.devicePixelRatio || 1;
      el.width = Math.floor(viewport.width * ratio);
      el.height = Math.floor(viewport.height * ratio);
      el.style.width = `${Math.floor(viewport.width)}px`;
      el.style.height = `${Math.floor(viewport.height)}px`;
      const render = p.render({ canvas: el, viewport, transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : undefined });
      task = render;
      render.promise.then(
        () => el.setAttribute('data-rendered', String(page)),
        () => undefined,
      );
    });
    return () => task?.cancel();
  }, [pdf, page]);

  return (
    <div class="document-viewer" data-test="document-viewer">
      <p class="document-name" data-test="document-name">
        {props.doc.name}
      </p>
      {error && <p class="error">{error}</p>}
      <div class="document-page">
        <canvas ref={canvas} data-test="document-page" aria-label={t('sign.pageOf', { n: page, total: props.doc.pages })} />
      </div>
      <div class="actions">
        <button class="secondary" disabled={page <= 1} onClick={() => setPage(page - 1)}>
          {t('sign.prevPage')}
        </button>
        <span data-test="page-label">{t('sign.pageOf', { n: page, total: props.doc.pages })}</span>
        <button class="secondary" data-test="page-next" disabled={page >= props.doc.pages} onClick={() => setPage(page + 1)}>
          {t('sign.nextPage')}
        </button>
      </div>
    </div>
  );
}

/** The pad: strokes as drawn (for undo and redo), every sample in order (for the server), ink by pressure. */
function SignaturePad(props: { onChange: (strokes: PenSample[][], pointer: PointerKind, size: [number, number]) => void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const strokes = useRef<PenSample[][]>([]);
  const undone = useRef<PenSample[][]>([]);
  const t0 = useRef<number | null>(null);
  const pointer = useRef<PointerKind>('mouse');
  const [count, setCount] = useState(0);
  const [undoneCount, setUndoneCount] = useState(0);

  const size = (): [number, number] => {
    const el = canvas.current;
    return el ? [el.clientWidth, el.clientHeight] : [0, 0];
  };

  const redraw = () => {
    const el = canvas.current;
    const ctx = el?.getContext('2d');
    if (!el || !ctx) return;
    const ratio = window.devicePixelRatio || 1;
    if (el.width !== el.clientWidth * ratio) {
      el.width = el.clientWidth * ratio;
      el.height = el.clientHeight * ratio;
    }
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, el.clientWidth, el.clientHeight);
    ctx.lineCap = 'round';
    ctx.strokeStyle = '#10243e';
    for (const stroke of strokes.current) {
      for (let i = 1; i < stroke.length; i++) {
        const a = stroke[i - 1];
        const b = stroke[i];
        if (!a.down || !b.down) continue;
        ctx.lineWidth = 0.8 + 3.2 * b.pressure;
        ctx.beginPath();
        ctx.moveTo(a.x, a.y);
        ctx.lineTo(b.x, b.y);
        ctx.stroke();
      }
    }
  };

  const changed = () => {
    setCount(strokes.current.length);
    setUndoneCount(undone.current.length);
    redraw();
    props.onChange(strokes.current, pointer.current, size());
  };

  useEffect(() => {
    redraw();
    const onResize = () => redraw();
    window.addEventListener('resize', onResize);
    return () => window.removeEventListener('resize', onResize);
  }, []);

  const sample = (e: PointerEvent, down: boolean): PenSample => {
    const rect = canvas.current?.getBoundingClientRect();
    if (t0.current === null) t0.current = e.timeStamp;
    const s: PenSample = {
      x: Math.min(Math.max(e.clientX - (rect?.left ?? 0), 0), rect?.width ?? 0),
      y: Math.min(Math.max(e.clientY - (rect?.top ?? 0), 0), rect?.height ?? 0),
      t: Math.max(0, e.timeStamp - t0.current),
      // A mouse reports 0.5 with its button down; a pen or finger its real pressure.
      pressure: down ? Math.min(Math.max(e.pressure || 0.5, 0), 1) : 0,
      down,
    };
    if (e.pointerType === 'pen') {
      s.tilt_x = e.tiltX;
      s.tilt_y = e.tiltY;
    }
    return s;
  };

  const push = (e: PointerEvent, down: boolean) => {
    const stroke = strokes.current[strokes.current.length - 1];
    if (!stroke) return;
    const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    for (const ev of events.length ? events : [e]) {
      const s = sample(ev, down);
      const last = stroke[stroke.length - 1];
      // Times never go back, even when coalesced events overlap the previous batch.
      if (last && s.t < last.t) s.t = last.t;
      stroke.push(s);
    }
    redraw();
  };

  const onDown = (e: PointerEvent) => {
    e.preventDefault();
    canvas.current?.setPointerCapture(e.pointerId);
    pointer.current = e.pointerType === 'pen' || e.pointerType === 'touch' ? e.pointerType : 'mouse';
    strokes.current.push([]);
    undone.current = [];
    push(e, true);
  };
  const onMove = (e: PointerEvent) => {
    if (!strokes.current.length || !canvas.current?.hasPointerCapture(e.pointerId)) return;
    push(e, true);
  };
  const onUp = (e: PointerEvent) => {
    if (!strokes.current.length) return;
    const stroke = strokes.current[strokes.current.length - 1];
    if (stroke?.length) {
      const lift = sample(e, false);
      stroke.push({ ...lift, t: Math.max(lift.t, stroke[stroke.length - 1].t) });
    }
    changed();
  };

  const clear = () => {
    strokes.current = [];
    undone.current = [];
    t0.current = null;
    changed();
  };
  const undo = () => {
    const s = strokes.current.pop();
    if (s) undone.current.push(s);
    changed();
  };
  const redo = () => {
    const s = undone.current.pop();
    if (s) strokes.current.push(s);
    changed();
  };

  return (
    <div class="signature-pad-wrap">
      <canvas
        ref={canvas}
        class="signature-pad"
        data-test="signature-pad"
        aria-label={t('sign.padLabel')}
        onPointerDown={onDown}
        onPointerMove={onMove}
        onPointerUp={onUp}
        onPointerCancel={onUp}
      />
      <div class="actions">
        <button class="secondary" data-test="pad-undo" disabled={!count} onClick={undo}>
          {t('sign.undo')}
        </button>
        <button class="secondary" data-test="pad-redo" disabled={!undoneCount} onClick={redo}>
          {t('sign.redo')}
        </button>
        <button class="secondary" data-test="pad-clear" disabled={!count} onClick={clear}>
          {t('sign.clear')}
        </button>
      </div>
    </div>
  );
}

export function SignatureStep(props: { case_id: string; index: number; onDone: (s: CaseSession) => void }) {
  useSignal(lang);
  const [docs, setDocs] = useState<DocumentEntry[] | null>(null);
  const [reading, setReading] = useState(0);
  const [agreed, setAgreed] = useState(false);
  const [drawing, setDrawing] = useState<{ strokes: PenSample[][]; pointer: PointerKind; size: [number, number] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [signed, setSigned] = useState<{ session: CaseSession; documents: number; forCentral: boolean } | null>(null);

  useEffect(() => {
    call('signature_documents', { case_id: props.case_id, index: props.index }).then(
      (r) => setDocs(r.documents),
      (e) => setError(customerMessage(e)),
    );
  }, [props.case_id, props.index]);

  const submit = async () => {
    if (!drawing) return;
    setBusy(true);
    setError(null);
    try {
      const samples = drawing.strokes.flat();
      const r = await call('signature_submit', {
        case_id: props.case_id,
        index: props.index,
        agreed,
        pad: { width: drawing.size[0], height: drawing.size[1], px_per_mm: PX_PER_MM, pointer: drawing.pointer },
        samples,
      });
      setSigned({ session: r.session, documents: r.signed.documents, forCentral: r.signed.for_central });
    } catch (e) {
      setError(refusal(e));
    } finally {
      setBusy(false);
    }
  };

  if (signed) {
    return (
      <section class="step" data-test="step-signature-done">
        <h1>{t('sign.doneTitle')}</h1>
        <p class="lead">{t(signed.forCentral ? 'sign.doneBodyCentral' : 'sign.doneBody', { n: signed.documents })}</p>
        <div class="actions">
          <button class="primary big" data-test="sign-continue" onClick={() => props.onDone(signed.session)}>
            {t('common.continue')}
          </button>
        </div>
      </section>
    );
  }

  const doc = docs?.[reading];
  const hasInk = !!drawing && drawing.strokes.some((s) => s.length > 1);
  return (
    <section class="step" data-test="step-signature">
      <h1>{t('sign.title')}</h1>
      <p class="lead">{t('sign.lead')}</p>
      {docs && docs.length > 1 && (
        <div class="tabs" role="tablist">
          {docs.map((d, i) => (
            <button key={d.position} role="tab" aria-selected={i === reading} data-test={`document-tab-${i}`} onClick={() => setReading(i)}>
              {t('sign.documentN', { n: i + 1, total: docs.length })}
            </button>
          ))}
        </div>
      )}
      {doc ? <DocumentViewer caseId={props.case_id} index={props.index} doc={doc} /> : !error && <p>{t('common.loading')}</p>}
      <label class="agree">
        <input type="checkbox" data-test="sign-agree" checked={agreed} onChange={(e) => setAgreed((e.target as HTMLInputElement).checked)} />
        {t('sign.agree', { n: docs?.length ?? 1 })}
      </label>
      <p class="pad-hint">{t('sign.padHint')}</p>
      <SignaturePad
        onChange={(strokes, pointer, size) => {
          setDrawing({ strokes, pointer, size });
          setError(null);
        }}
      />
      <p class="error" role="alert" data-test="sign-error">
        {error ?? ''}
      </p>
      <div class="actions">
        <button class="primary big" data-test="sign-submit" disabled={!agreed || !hasInk || busy || !docs} onClick={submit}>
          {busy ? t('sign.signing') : t('sign.submit')}
        </button>
      </div>
    </section>
  );
}
