// The UI's one way to the backend: call(command, args). Inside the Tauri app it is IPC to the `call`
// command; in a browser it is HTTP to /vouch/v1/kiosk/{command}. Both reach the same Rust function.

import { invoke } from '@tauri-apps/api/core';
import type { KioskCommands } from './generated/kiosk';

/** A kiosk command's name, its arguments and its answer: generated from the Rust commands. */
export type Command = keyof KioskCommands;
export type Args<C extends Command> = KioskCommands[C]['args'];
export type Result<C extends Command> = KioskCommands[C]['result'];

/** The error codes the backend sends; screens match on these, never on message text. */
export type ErrorCode =
  | 'malformed_body'
  | 'invalid_input'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'method_not_allowed'
  | 'not_implemented'
  | 'too_many_attempts'
  | 'busy'
  | 'internal'
  | 'unreachable';

export class BridgeError extends Error {
  constructor(
    public code: ErrorCode,
    message: string,
    /** A finer machine reason where the server gives one (signature_empty, NO_FACE_DETECTED, ...). */
    public reason?: string,
  ) {
    super(message);
  }
}

export const inTauri = typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;

let session: string | null = null;

/** Staff sign-in token; held in memory only, so a reload signs out. */
export function setSession(token: string | null) {
  session = token;
}

function asBridgeError(e: unknown): BridgeError {
  if (e instanceof BridgeError) return e;
  if (e && typeof e === 'object' && 'code' in e && 'message' in e) {
    const o = e as { code: ErrorCode; message: string; reason?: string };
    return new BridgeError(o.code, String(o.message), o.reason);
  }
  return new BridgeError('unreachable', String(e));
}

/** Runs a command; commands without required arguments may leave them out. */
export async function call<C extends Command>(
  command: C,
  ...rest: {} extends Args<C> ? [args?: Args<C>] : [args: Args<C>]
): Promise<Result<C>> {
  const args = rest[0] ?? {};
  if (inTauri) {
    try {
      return await invoke<Result<C>>('call', { command, args, session });
    } catch (e) {
      throw asBridgeError(e);
    }
  }
  let resp: Response;
  try {
    resp = await fetch(`/vouch/v1/kiosk/${command}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(session ? { Authorization: `Bearer ${session}` } : {}),
      },
      body: JSON.stringify(args),
    });
  } catch (e) {
    throw new BridgeError('unreachable', String(e));
  }
  const body = await resp.json().catch(() => null);
  if (!resp.ok) {
    const err = asBridgeError(body ?? { code: 'internal', message: `HTTP ${resp.status}` });
    // The server forgot this screen (it restarted, or the pairing lapsed): the app asks for the code again.
    if (err.reason === 'bridge_unpaired') window.dispatchEvent(new Event(UNPAIRED_EVENT));
    throw err;
  }
  return body as Result<C>;
}

/** Fired when the HTTP bridge says this browser is not paired. */
export const UNPAIRED_EVENT = 'vouch-unpaired';

/** Pairs this browser with the kiosk bridge: the server answers with an HttpOnly session cookie. */
export async function pair(code: string): Promise<void> {
  let resp: Response;
  try {
    resp = await fetch('/vouch/v1/kiosk/pair', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ code }),
    });
  } catch (e) {
    throw new BridgeError('unreachable', String(e));
  }
  if (!resp.ok) {
    const body = await resp.json().catch(() => null);
    throw asBridgeError(body ?? { code: 'internal', message: `HTTP ${resp.status}` });
  }
}

/** Tells the app shell the first screen is interactive (it measures cold start from this). */
export function reportReady() {
  if (inTauri) invoke('ui_ready').catch(() => undefined);
}
