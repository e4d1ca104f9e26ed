import { BridgeError } from './bridge';
import { t } from './i18n';

/** What a customer reads for an error: always in their language, never raw server text. */
export function customerMessage(e: unknown): string {
  if (e instanceof BridgeError && e.reason === 'central_unreachable') return t('error.centralUnreachable');
  const code = e instanceof BridgeError ? e.code : 'internal';
  switch (code) {
    case 'not_found':
      return t('error.noSuchCode');
    case 'too_many_attempts':
      return t('error.tooMany');
    case 'conflict':
      return t('error.conflict');
    case 'not_implemented':
      return t('error.notBuilt');
    case 'unreachable':
      return t('error.unreachable');
    default:
      return t('error.generic');
  }
}

/** Staff see the server's own explanation, which names the field or rule at fault. */
export function staffMessage(e: unknown): string {
  if (e instanceof BridgeError) {
    if (e.reason === 'bridge_pairing_code_wrong') return t('pair.wrong');
    if (e.reason === 'setup_code_wrong') return t('setup.codeWrong');
    if (e.code === 'unreachable') return t('error.unreachable');
    if (e.reason === 'central_unreachable') return e.message;
    if (e.code === 'too_many_attempts' || e.code === 'invalid_input' || e.code === 'conflict' || e.code === 'forbidden' || e.code === 'not_found' || e.code === 'unauthorized' || e.code === 'not_implemented')
      return e.message;
  }
  return t('error.generic');
}
