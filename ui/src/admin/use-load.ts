import { useEffect, useState } from 'preact/hooks';
import { call, type Command, type Result } from '../bridge';
import { staffMessage } from '../errors';

/** Loads a command's result for a settings panel, with its error and a reload. */
/** `command` takes no arguments. */
export function useLoad<C extends Command>(command: C) {
  const [data, setData] = useState<Result<C> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = async () => {
    try {
      setData((await (call as (c: Command) => Promise<unknown>)(command)) as Result<C>);
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
