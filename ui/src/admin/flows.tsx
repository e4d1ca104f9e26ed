// Flows: an ordered list of steps with their settings. Saving an existing flow saves its next version;
// running cases keep the version they started with. Steps whose capture is not built yet are shown
// disabled with the reason, and the server refuses them too.
import { useState } from 'preact/hooks';
import { call } from '../bridge';
import { staffMessage } from '../errors';
import { LANGS, t } from '../i18n';
import type { FaceReference, FlowList, FlowVersion, LivenessType } from '../generated/kiosk';

/** What the editor changes: a flow's id, name and steps (a new one has version 0). */
type FlowDraft = Pick<FlowVersion, 'id' | 'version' | 'name' | 'steps'>;
import type { Step } from '../types';
import { useLoad } from './use-load';

function newStep(kind: string): Step {
  if (kind === 'consent') return { kind: 'consent', text: { en: '', es: '', et: '' } };
  if (kind === 'liveness') return { kind: 'liveness', liveness_type: 'passive' };
  if (kind === 'face_match') return { kind: 'face_match', threshold: 0.5, reference: 'uploaded' };
  if (kind === 'duplicate_check') return { kind: 'duplicate_check', threshold: 0.75 };
  return { kind } as Step;
}

export function Flows() {
  const { data, error, setError, reload } = useLoad('flows_list');
  const [editing, setEditing] = useState<{ flow: FlowDraft; create: boolean } | null>(null);
  const [note, setNote] = useState<string | null>(null);

  const makeDefault = async (id: string) => {
    try {
      await call('flow_set_default', { flow_id: id });
      reload();
    } catch (e) {
      setError(staffMessage(e));
    }
  };

  if (editing) {
    return (
      <FlowEditor
        initial={editing.flow}
        create={editing.create}
        kinds={data?.step_kinds ?? []}
        onDone={(saved) => {
          setEditing(null);
          if (saved) setNote(t('admin.flows.saved', { v: saved.version }));
          reload();
        }}
      />
    );
  }
  return (
    <div data-test="flows">
      <p class="error" role="alert">{error ?? ''}</p>
      <p role="status">{note ?? ''}</p>
      <button class="primary" data-test="flow-new"
              onClick={() => setEditing({ create: true, flow: { id: '', version: 0, name: '', steps: [newStep('consent'), { kind: 'result' }] } })}>
        {t('admin.flows.new')}
      </button>
      <ul class="flow-list">
        {(data?.flows ?? []).map((f) => (
          <li key={f.id} data-test="flow-row" data-flow={f.id}>
            <div>
              <strong>{f.name}</strong> <span class="mono small">{f.id}</span> · {t('admin.flows.version', { v: f.version })}
              {data?.default === f.id && <span class="badge completed">{t('admin.flows.default')}</span>}
              <div class="small">{f.steps.map((s) => s.kind).join(' → ')}</div>
            </div>
            <div class="row-actions">
              <button class="secondary" onClick={() => setEditing({ flow: f, create: false })}>{t('admin.flows.edit')}</button>
              {data?.default !== f.id && (
                <button class="secondary" onClick={() => makeDefault(f.id)} data-test="flow-default">{t('admin.flows.makeDefault')}</button>
              )}
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}

function FlowEditor(props: { initial: FlowDraft; create: boolean; kinds: FlowList['step_kinds']; onDone: (saved: FlowVersion | null) => void }) {
  const [id, setId] = useState(props.initial.id);
  const [name, setName] = useState(props.initial.name);
  const [steps, setSteps] = useState<Step[]>(props.initial.steps);
  const [adding, setAdding] = useState('consent');
  const [error, setError] = useState<string | null>(null);

  const update = (i: number, s: Step) => setSteps(steps.map((x, j) => (j === i ? s : x)));
  const remove = (i: number) => setSteps(steps.filter((_, j) => j !== i));
  const up = (i: number) => {
    if (i === 0) return;
    const next = [...steps];
    [next[i - 1], next[i]] = [next[i], next[i - 1]];
    setSteps(next);
  };
  const add = () => {
    const resultAt = steps.findIndex((s) => s.kind === 'result');
    const at = resultAt === -1 ? steps.length : resultAt;
    setSteps([...steps.slice(0, at), newStep(adding), ...steps.slice(at)]);
  };
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      // Only English is required: a language left blank is left out, and the kiosk shows English for it.
      const cleaned = steps.map((s) =>
        s.kind === 'consent' ? { ...s, text: Object.fromEntries(Object.entries(s.text).filter(([, v]) => (v ?? '').trim() !== '')) } : s,
      );
      props.onDone(await call('flow_save', { flow_id: id, name, steps: cleaned, create: props.create }));
    } catch (err) {
      setError(staffMessage(err));
    }
  };

  return (
    <form class="flow-editor" onSubmit={save} data-test="flow-editor">
      <label>{t('admin.flows.id')}<input value={id} disabled={!props.create} onInput={(e) => setId((e.target as HTMLInputElement).value)} required data-test="flow-id" /></label>
      <label>{t('admin.flows.name')}<input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} required data-test="flow-name" /></label>
      <h2>{t('admin.flows.steps')}</h2>
      <ol class="step-editor">
        {steps.map((s, i) => (
          <li key={i} data-test="flow-step" data-kind={s.kind}>
            <div class="step-head">
              <strong>{i + 1}. {s.kind}</strong>
              <span class="row-actions">
                <button type="button" class="secondary" onClick={() => up(i)} disabled={i === 0}>{t('admin.flows.up')}</button>
                <button type="button" class="secondary" onClick={() => remove(i)}>{t('admin.flows.remove')}</button>
              </span>
            </div>
            {s.kind === 'consent' &&
              LANGS.map((l) => (
                <label key={l}>{t('admin.flows.consentText', { lang: l })}
                  <textarea rows={2} value={s.text[l] ?? ''} data-test={`consent-${l}`}
                            onInput={(e) => update(i, { ...s, text: { ...s.text, [l]: (e.target as HTMLTextAreaElement).value } })} />
                </label>
              ))}
            {s.kind === 'liveness' && (
              <label>{t('admin.flows.livenessType')}
                <select value={s.liveness_type} data-test="liveness-type"
                        onChange={(e) => update(i, { ...s, liveness_type: (e.target as HTMLSelectElement).value as LivenessType })}>
                  {['passive', 'eye_gaze', 'smile', 'magnifeye'].map((v) => <option key={v} value={v}>{t(`admin.flows.liveness.${v}`)}</option>)}
                </select>
              </label>
            )}
            {s.kind === 'face_match' && (
              <>
                <label>{t('admin.flows.matchThreshold')}
                  <input type="number" min={0.05} max={1} step={0.05} value={s.threshold} data-test="match-threshold"
                         onInput={(e) => update(i, { ...s, threshold: Number((e.target as HTMLInputElement).value) })} />
                </label>
                <label>{t('admin.flows.matchReference')}
                  <select value={s.reference ?? 'uploaded'} data-test="match-reference"
                          onChange={(e) => update(i, { ...s, reference: (e.target as HTMLSelectElement).value as FaceReference })}>
                    <option value="uploaded">{t('admin.flows.reference.uploaded')}</option>
                    <option value="document">{t('admin.flows.reference.document')}</option>
                    <option value="enrolled">{t('admin.flows.reference.enrolled')}</option>
                  </select>
                </label>
              </>
            )}
            {s.kind === 'duplicate_check' && (
              <>
                <label>{t('admin.flows.duplicateThreshold')}
                  <input type="number" min={0.05} max={1} step={0.05} value={s.threshold} data-test="duplicate-threshold"
                         onInput={(e) => update(i, { ...s, threshold: Number((e.target as HTMLInputElement).value) })} />
                </label>
                <label>{t('admin.flows.duplicateCollection')}
                  <input type="text" maxLength={64} value={s.collection ?? ''} data-test="duplicate-collection"
                         onInput={(e) => {
                           const v = (e.target as HTMLInputElement).value.trim();
                           update(i, { kind: 'duplicate_check', threshold: s.threshold, ...(v ? { collection: v } : {}) });
                         }} />
                </label>
              </>
            )}
          </li>
        ))}
      </ol>
      <div class="inline-form">
        <label>{t('admin.flows.addStep')}
          <select value={adding} onChange={(e) => setAdding((e.target as HTMLSelectElement).value)} data-test="step-kind">
            {props.kinds.filter((k) => k.kind !== 'result').map((k) => (
              <option key={k.kind} value={k.kind} disabled={!!k.missing}>
                {k.kind}{k.missing ? ` — ${t('admin.flows.notBuilt', { missing: k.missing })}` : ''}
              </option>
            ))}
          </select>
        </label>
        <button type="button" class="secondary" onClick={add} data-test="step-add">{t('admin.flows.addStep')}</button>
      </div>
      <p class="error" role="alert" data-test="error">{error ?? ''}</p>
      <div class="actions">
        <button type="button" class="secondary" onClick={() => props.onDone(null)}>{t('common.cancel')}</button>
        <button type="submit" class="primary" data-test="flow-save">{t('admin.flows.save')}</button>
      </div>
    </form>
  );
}
