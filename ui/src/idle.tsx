// The idle timeout: with no touch, key or pointer for the configured time, the screen clears. In the
// last seconds a full-screen prompt offers to stay.

import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from './i18n';

const WARN_SECS = 10;

export function IdleGuard(props: { seconds: number; armed: boolean; onTimeout: () => void; resetKey: string }) {
  const last = useRef(Date.now());
  const [left, setLeft] = useState<number | null>(null);
  const [touched, setTouched] = useState(false);
  const armed = props.armed || touched;

  useEffect(() => {
    last.current = Date.now();
    setTouched(false);
  }, [props.resetKey]);

  useEffect(() => {
    const poke = () => {
      last.current = Date.now();
      setTouched(true);
      setLeft(null);
    };
    const events = ['pointerdown', 'keydown', 'touchstart', 'wheel', 'input'];
    events.forEach((e) => window.addEventListener(e, poke, { passive: true, capture: true }));
    return () => events.forEach((e) => window.removeEventListener(e, poke, { capture: true }));
  }, []);

  useEffect(() => {
    if (!armed) return;
    const timer = setInterval(() => {
      const remaining = props.seconds - (Date.now() - last.current) / 1000;
      if (remaining <= 0) {
        setLeft(null);
        setTouched(false);
        props.onTimeout();
      } else if (remaining <= WARN_SECS) {
        setLeft(Math.ceil(remaining));
      } else {
        setLeft(null);
      }
    }, 250);
    return () => clearInterval(timer);
  }, [armed, props.seconds, props.onTimeout]);

  if (left === null) return null;
  return (
    <div class="overlay" role="alertdialog" aria-modal="true" aria-labelledby="idle-title" data-test="idle-warning">
      <div class="dialog">
        <h2 id="idle-title">{t('idle.title')}</h2>
        <p>{t('idle.body', { s: left })}</p>
        <button class="primary big" autofocus>{t('idle.stay')}</button>
      </div>
    </div>
  );
}
