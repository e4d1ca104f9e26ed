import { useState } from 'preact/hooks';
import { call } from '../bridge';
import { staffMessage } from '../errors';
import { t } from '../i18n';
import { useLoad } from './use-load';
import type { Devices } from '../generated/kiosk';

/** The camera choices: the startup configuration, none, the first webcam, and each webcam found now (plus the
 * chosen one while it is unplugged, so a replug needs no new choice). */
function cameraOptions(devices: Devices | null, chosen: string): { value: string; label: string }[] {
  const options = [
    { value: '', label: t('admin.devices.asStartup', { source: devices?.startup_camera ?? '…' }) },
    { value: 'none', label: t('admin.devices.noneChoice') },
    { value: 'webcam', label: t('admin.devices.firstWebcam') },
  ];
  for (const c of devices?.cameras ?? []) options.push({ value: `webcam:${c.name}`, label: `${c.name} (${c.device})` });
  if (chosen && !options.some((o) => o.value === chosen)) {
    options.push({ value: chosen, label: t('admin.devices.notConnected', { name: chosen.replace(/^webcam:/, '') }) });
  }
  return options;
}

export function Devices() {
  const { data, error, setError, reload } = useLoad('devices');
  const camera = useLoad('camera_status');
  const settings = useLoad('settings_get');
  // The admin's last pick, else the saved choice. Derived rather than copied from settings in an effect: an effect
  // runs after the paint that enables the select, so a late answer could overwrite a pick made in that gap.
  const [picked, setPicked] = useState<string | null>(null);
  const chosen = picked ?? settings.data?.camera ?? '';
  const [note, setNote] = useState<string | null>(null);
  const src = camera.data?.source;

  const applyCamera = async () => {
    try {
      const current = await call('settings_get');
      await call('settings_save', { ...current, camera: chosen });
      setNote(t('admin.general.saved'));
      setError(null);
      // The switch is immediate; a webcam may need a moment more before it reports its first frame.
      camera.reload();
      setTimeout(camera.reload, 1500);
    } catch (e) {
      setNote(null);
      setError(staffMessage(e));
    }
  };
  const rescan = () => {
    reload();
    camera.reload();
  };

  return (
    <div data-test="devices">
      <p class="error" role="alert">{error ?? ''}</p>
      <h2>{t('admin.devices.inUse')}</h2>
      <p data-test="camera-in-use">
        {src ? (
          <>
            {src.name} — {src.width}×{src.height} @ {src.fps} fps
            {camera.data?.demo && <strong class="demo-tag"> ({t('admin.devices.demo')})</strong>}
            {camera.data && !camera.data.connected && camera.data.error && (
              <strong class="demo-tag" data-test="camera-disconnected"> — {t('admin.devices.disconnected')}: {camera.data.error}</strong>
            )}
          </>
        ) : (
          <>{t('admin.devices.cameraOff')}{camera.data?.error ? `: ${camera.data.error}` : ''}</>
        )}
      </p>
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); applyCamera(); }}>
        <label>{t('admin.devices.choose')}
          <select
            value={chosen}
            data-test="camera-choice"
            disabled={!settings.data}
            onChange={(e) => setPicked((e.target as HTMLSelectElement).value)}
          >
            {cameraOptions(data, chosen).map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
          </select>
        </label>
        <button type="submit" class="primary" data-test="camera-use" disabled={!settings.data}>{t('admin.devices.use')}</button>
      </form>
      <p role="status" data-test="note">{note ?? ''}</p>
      <h2>{t('admin.devices.cameras')}</h2>
      {data && data.cameras.length === 0 && <p data-test="no-camera">{t('admin.devices.noCamera')}</p>}
      <ul>{data?.cameras.map((c) => <li key={c.device}>{c.name} <span class="mono small">{c.device}</span></li>)}</ul>
      <h2>{t('admin.devices.readers')}</h2>
      {data && !data.card_readers.ok && <p data-test="reader-error">{data.card_readers.error}</p>}
      {data && data.card_readers.ok && data.card_readers.readers.length === 0 && <p>{t('admin.devices.noReader')}</p>}
      <ul>
        {data?.card_readers.readers.map((r) => (
          <li key={r.name}>{r.name} — {r.card_present ? t('admin.devices.card') : t('admin.devices.noCard')}</li>
        ))}
      </ul>
      <button class="secondary" onClick={rescan}>{t('admin.devices.rescan')}</button>
    </div>
  );
}
