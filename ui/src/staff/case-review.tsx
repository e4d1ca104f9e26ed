// The clerk's view of one case: what was asked, what happened, and the decision with a mandatory reason.
import { useEffect, useState } from 'preact/hooks';
import { call } from '../bridge';
import { staffMessage } from '../errors';
import { t } from '../i18n';
import type { CameraScanDetail, CaseDetail, ChipStepDetail, ChipUnreadableDetail, ManualScanDetail } from '../generated/kiosk';
import type { CaseSession, Signed } from '../types';
import { when } from './queue';

type EvidenceItem = CaseDetail['evidence'][number];

/** The case's photos side by side (selfie and reference), so the clerk can compare them by eye. Each view is
 * audited on the server. */
function Photos(props: { caseId: string; evidence: EvidenceItem[] }) {
  const photos = props.evidence.filter((e) => ['selfie', 'reference_photo', 'chip_data', 'document_page'].includes(e.kind) && !e.purged_at);
  // A selfie step keeps several frames, best last: the clerk compares the best one.
  const bestSelfie = photos.filter((e) => e.kind === 'selfie').pop();
  const shown = photos.filter((e) => e.kind !== 'selfie' || e === bestSelfie);
  const [srcs, setSrcs] = useState<Record<string, string>>({});
  useEffect(() => {
    for (const e of shown) {
      if (srcs[e.sha256]) continue;
      call('evidence_image', { case_id: props.caseId, sha256: e.sha256 }).then(
        (r) => setSrcs((m) => ({ ...m, [e.sha256]: r.src })),
        () => {},
      );
    }
  }, [shown.map((e) => e.sha256).join()]);
  if (shown.length === 0) return null;
  return (
    <div class="photos" data-test="case-photos">
      {shown.map((e) => (
        <figure key={e.sha256}>
          {srcs[e.sha256] ? <img src={srcs[e.sha256]} alt={t(`clerk.photo.${e.kind}`)} data-test={`photo-${e.kind}`} /> : <div class="photo-wait" />}
          <figcaption>{t(`clerk.photo.${e.kind}`)}</figcaption>
        </figure>
      ))}
    </div>
  );
}

/** A document_scan step's detail, camera or typed (either may lack fields an older version did not record). */
type ScanDetail = Partial<Omit<CameraScanDetail, 'method'>> &
  Partial<Omit<ManualScanDetail, 'method'>> & { method?: CameraScanDetail['method'] | ManualScanDetail['method'] };

/** A step's score or result in one line, for the list of steps: the match score, what the chip said, or what
 * the page scan read (or the clerk typed). */
function stepScore(detail: unknown): string {
  // A step's detail is what the step recorded, typed by its kind; older records may lack newer fields.
  const scan = detail as ScanDetail | null;
  if (scan?.method === 'camera' || scan?.method === 'manual') {
    const h = scan.holder;
    const who = h ? t('clerk.scan.holder', { name: `${h.given_names} ${h.surname}`, doc: h.document_number, exp: h.date_of_expiry ?? '—' }) : scan.typed ?? '';
    const typed = scan.method === 'manual' ? ` · ${t('clerk.scan.typed', { who: scan.entered_by ?? '—' })}` : '';
    const failures = scan.failures?.length ? ` · ${scan.failures.join(', ')}` : '';
    return ` · ${scan.demo ? 'DEMO · ' : ''}${who}${typed}${failures}`;
  }
  const chip = detail as Partial<ChipStepDetail & ChipUnreadableDetail> | null;
  if (chip?.holder && chip.inspection) {
    const h = chip.holder;
    const i = chip.inspection;
    const failures = chip.failures?.length ? ` · ${chip.failures.join(', ')}` : '';
    return ` · ${chip.demo ? 'DEMO · ' : ''}${t('clerk.chip.holder', { name: `${h.given_names} ${h.surname}`, doc: h.document_number, exp: h.date_of_expiry ?? '—' })} · ${t('clerk.chip.auth', { data: i.data_authentication, chip: i.chip_authentication, access: i.access_control_protocol_type ?? '—' })}${failures}`;
  }
  const d = detail as { score?: number; threshold?: number; reason?: string } | null;
  if (d && typeof d.score === 'number') {
    const pass = typeof d.threshold === 'number' ? ` (${t('clerk.passAt', { threshold: d.threshold })})` : '';
    return ` · ${t('clerk.score', { score: d.score.toFixed(2) })}${pass}`;
  }
  if (d && typeof d.reason === 'string') return ` · ${d.reason}`;
  return '';
}

const DOC_TYPES = ['ID_CARD', 'PASSPORT', 'RESIDENCE_PERMIT', 'DRIVING_LICENCE'];

export function CaseReview(props: { caseId: string; staff: Signed; onBack: () => void; onRun: (s: CaseSession) => void }) {
  const [detail, setDetail] = useState<CaseDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [form, setForm] = useState({ given_name: '', family_name: '', sub: '', date_of_birth: '', country: '', document_type: 'ID_CARD', document_expires: '', reason: '' });
  const [busy, setBusy] = useState(false);

  const load = async () => {
    try {
      const d = await call('case_detail', { case_id: props.caseId });
      setDetail(d);
      const sub = d.case.claims.find((c) => c.type === 'sub')?.value;
      if (sub) setForm((f) => ({ ...f, sub: f.sub || sub }));
      // A chip that passed states the holder with the issuer's signature: start from what it says; without one,
      // from the MRZ the page scan read (printed, not signed: the clerk compares it with the document).
      const passed = (kind: string) => d.session.done.find((r) => r.kind === kind && r.outcome === 'passed')?.detail;
      const chip = (passed('document_chip') ?? passed('document_scan')) as
        | Partial<Pick<ChipStepDetail | CameraScanDetail, 'holder'>>
        | undefined;
      if (chip?.holder) {
        const h = chip.holder;
        setForm((f) => ({
          ...f,
          given_name: f.given_name || h.given_names,
          family_name: f.family_name || h.surname,
          date_of_birth: f.date_of_birth || (h.date_of_birth ?? ''),
          document_type: h.document_code.startsWith('P') ? 'PASSPORT' : f.document_type,
          document_expires: f.document_expires || (h.date_of_expiry ?? ''),
        }));
      }
    } catch (e) {
      setError(staffMessage(e));
    }
  };
  useEffect(() => {
    load();
  }, [props.caseId]);

  const set = (k: keyof typeof form) => (e: Event) => {
    setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
    setError(null);
  };

  const decide = async (outcome: 'approved' | 'rejected') => {
    if (!form.reason.trim()) {
      setError(t('clerk.reasonRequired'));
      return;
    }
    setBusy(true);
    setError(null);
    const { reason, ...identity } = form;
    try {
      setDetail(
        await call('case_decide', {
          case_id: props.caseId,
          outcome,
          reason,
          identity: outcome === 'approved' ? identity : null,
        }),
      );
    } catch (e) {
      setError(staffMessage(e));
    } finally {
      setBusy(false);
    }
  };

  if (!detail) {
    return (
      <main class="staff-screen">
        <p class="error" role="alert">{error ?? t('common.loading')}</p>
        <button class="secondary" onClick={props.onBack}>{t('clerk.backToQueue')}</button>
      </main>
    );
  }
  const s = detail.session;
  const open = s.status === 'pending' || s.status === 'in_progress';
  return (
    <main class="staff-screen wide" data-test="case-review" data-status={s.status}>
      <header class="staff-bar">
        <h1>{t('clerk.case', { code: s.code })}</h1>
        <div class="staff-who">
          <span class={`badge ${s.status}`} data-test="case-status">{t(`status.${s.status}`)}</span>
          <button class="secondary" onClick={props.onBack} data-test="back-to-queue">{t('clerk.backToQueue')}</button>
        </div>
      </header>
      <div class="columns">
        <section class="panel">
          <dl class="facts">
            <dt>{t('clerk.col.reference')}</dt><dd>{detail.case.reference ?? '—'}</dd>
            <dt>{t('clerk.col.purpose')}</dt><dd>{s.purpose ?? '—'}</dd>
            {detail.case.branch && (<><dt>{t('clerk.branch')}</dt><dd>{detail.case.branch}</dd></>)}
            <dt>{t('clerk.requested')}</dt>
            <dd>{detail.case.claims.map((c) => `${c.type}${c.value ? ` = ${c.value}` : ''}`).join(', ') || '—'}</dd>
          </dl>
          <h2>{t('clerk.stepsTitle')}</h2>
          <ol class="steps">
            {s.steps.map((step, i) => {
              const rec = s.done.find((d) => d.index === i);
              return (
                <li key={i} class={rec ? rec.outcome : 'todo'}>
                  <span>{step.kind}</span> <strong>{rec ? rec.outcome : '…'}</strong>
                  {rec && <span class="small" data-test={`step-detail-${step.kind}`}>{stepScore(rec.detail)}</span>}
                </li>
              );
            })}
          </ol>
          {open && s.next.state === 'step' && (
            <button class="primary big" onClick={() => props.onRun(s)} data-test="run-flow">{t('clerk.run')}</button>
          )}
          <Photos caseId={props.caseId} evidence={detail.evidence} />
          <h2>{t('clerk.evidence')}</h2>
          <ul class="evidence">
            {detail.evidence.map((e) => (
              <li key={e.sha256}>
                {e.kind} · {e.size} B · {when(e.created_at)} {e.purged_at && <em>({t('clerk.purged')})</em>}
              </li>
            ))}
          </ul>
        </section>
        <section class="panel">
          <h2>{t('clerk.decideTitle')}</h2>
          {detail.case.decision ? (
            <p data-test="decided">
              {t('clerk.decided', { status: t(`status.${s.status}`) })} — {detail.case.decision.reason} ({detail.case.decision.actor})
            </p>
          ) : open ? (
            <form class="decide" onSubmit={(e) => e.preventDefault()}>
              <fieldset>
                <legend>{t('clerk.identity')}</legend>
                <label>{t('clerk.givenName')}<input value={form.given_name} onInput={set('given_name')} data-test="given-name" /></label>
                <label>{t('clerk.familyName')}<input value={form.family_name} onInput={set('family_name')} data-test="family-name" /></label>
                <label>{t('clerk.sub')}<input value={form.sub} onInput={set('sub')} data-test="sub" /></label>
                <label>{t('clerk.dob')}<input value={form.date_of_birth} onInput={set('date_of_birth')} placeholder="1990-04-21" data-test="dob" /></label>
                <label>{t('clerk.country')}<input value={form.country} onInput={set('country')} maxLength={2} data-test="country" /></label>
                <label>{t('clerk.docType')}
                  <select value={form.document_type} onChange={set('document_type')} data-test="doc-type">
                    {DOC_TYPES.map((d) => <option key={d} value={d}>{d}</option>)}
                  </select>
                </label>
                <label>{t('clerk.docExpires')}<input value={form.document_expires} onInput={set('document_expires')} data-test="doc-expires" /></label>
              </fieldset>
              <label>{t('clerk.reason')}<textarea value={form.reason} onInput={set('reason')} rows={3} data-test="reason" /></label>
              <p class="error" role="alert" data-test="error">{error ?? ''}</p>
              <div class="actions">
                <button type="button" class="danger big" disabled={busy} onClick={() => decide('rejected')} data-test="reject">{t('clerk.reject')}</button>
                <button type="button" class="primary big" disabled={busy} onClick={() => decide('approved')} data-test="approve">{t('clerk.approve')}</button>
              </div>
            </form>
          ) : (
            <p>{t(`status.${s.status}`)}</p>
          )}
          <details>
            <summary>{t('clerk.audit')}</summary>
            <ol class="audit">
              {detail.audit.map((a) => (
                <li key={a.seq}>{when(a.at)} · {a.action} · {a.actor}</li>
              ))}
            </ol>
          </details>
        </section>
      </div>
    </main>
  );
}
