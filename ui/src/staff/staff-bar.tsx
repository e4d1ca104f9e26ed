import type { ComponentChildren } from 'preact';
import { t } from '../i18n';
import type { Signed } from '../types';

export function StaffBar(props: { staff: Signed; title: string; onSignOut: () => void; extra?: ComponentChildren }) {
  return (
    <header class="staff-bar">
      <h1>{props.title}</h1>
      <div class="staff-who">
        {props.extra}
        <span class="who" data-test="who">{props.staff.name}</span>
        <button class="secondary" onClick={props.onSignOut} data-test="sign-out">
          {t('staff.signOut')}
        </button>
      </div>
    </header>
  );
}
