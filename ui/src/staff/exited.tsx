import { t } from '../i18n';

export function Exited() {
  return (
    <main class="center" data-test="exited">
      <h1>{t('admin.general.exited')}</h1>
    </main>
  );
}
