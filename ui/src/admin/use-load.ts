import { useEffect, useState } from 'preact/hooks';
import { call } from '../bridge';
import { staffMessage } from '../errors';

/** Loads a command's result for a settings panel, with its error and a reload. */
export function useLoad<T>(command: string) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = async () => {
    try {
      setData(await call<T>(command));
      setError(null);
    } catch (e) {
      setError(staffMessage(e));
    }
  };
  useEffect(() => {
    reload();
  }, [command]);
  return { data, error, setError, reload };
}
