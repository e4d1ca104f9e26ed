// A PIN entry that works by touch (large keypad) and by keyboard (the field takes digits directly).
import { t } from '../i18n';

export function PinPad(props: { id: string; label: string; value: string; onChange: (v: string) => void; testId?: string }) {
  const press = (d: string) => props.onChange((props.value + d).slice(0, 12));
  return (
    <div class="pinpad">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="password"
        inputMode="numeric"
        autocomplete="off"
        pattern="[0-9]*"
        maxLength={12}
        value={props.value}
        onInput={(e) => props.onChange((e.target as HTMLInputElement).value.replace(/\D/g, '').slice(0, 12))}
        data-test={props.testId ?? props.id}
        class="pin-input"
      />
      <div class="keys" role="group" aria-label={props.label}>
        {['1', '2', '3', '4', '5', '6', '7', '8', '9'].map((d) => (
          <button type="button" key={d} class="key" onClick={() => press(d)}>
            {d}
          </button>
        ))}
        <button type="button" class="key small" onClick={() => props.onChange('')}>
          {t('pad.clear')}
        </button>
        <button type="button" class="key" onClick={() => press('0')}>
          0
        </button>
        <button type="button" class="key small" onClick={() => props.onChange(props.value.slice(0, -1))}>
          {t('pad.delete')}
        </button>
      </div>
    </div>
  );
}
