import { t } from '../i18n';
import { useLoad } from './use-load';

interface Devices {
  cameras: { device: string; name: string }[];
  card_readers: { ok: boolean; readers: { name: string; card_present: boolean }[]; error?: string };
}

interface CameraInUse {
  available: boolean;
  demo: boolean;
  error?: string;
  source?: { name: string; kind: string; width: number; height: number; fps: number };
}

export function Devices() {
  const { data, error, reload } = useLoad<Devices>('devices');
  const camera = useLoad<CameraInUse>('camera_status');
  const src = camera.data?.source;
  return (
    <div data-test="devices">
      <p class="error" role="alert">{error ?? ''}</p>
      <h2>{t('admin.devices.inUse')}</h2>
      <p data-test="camera-in-use">
        {src ? (
          <>
            {src.name} — {src.width}×{src.height} @ {src.fps} fps
            {camera.data?.demo && <strong class="demo-tag"> ({t('admin.devices.demo')})</strong>}
          </>
        ) : (
          <>{t('admin.devices.cameraOff')}{camera.data?.error ? `: ${camera.data.error}` : ''}</>
        )}
      </p>
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
      <button class="secondary" onClick={reload}>{t('admin.devices.rescan')}</button>
    </div>
  );
}
