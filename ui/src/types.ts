export type Lang = 'en' | 'es' | 'et';

export interface KioskStatus {
  first_run: boolean;
  /** First run over HTTP: the setup code printed by `vouch serve` is asked with the PIN. */
  setup_code_required: boolean;
  languages: Lang[];
  default_language: Lang;
  idle_timeout_secs: number;
  version: string;
  clerks: { id: number; name: string }[];
  server: string;
}

export type Step =
  | { kind: 'consent'; text: Record<string, string> }
  | { kind: 'liveness'; liveness_type: string }
  | { kind: 'face_match'; threshold: number; reference?: 'uploaded' | 'document' }
  | { kind: 'document_chip' | 'document_scan' | 'selfie' | 'signature' | 'clerk_review' | 'result' };

export interface StepRecord {
  index: number;
  kind: string;
  outcome: 'passed' | 'failed';
  detail: unknown;
  at: string;
}

export type Next = { state: 'step'; index: number; step: Step } | { state: 'awaiting_decision'; all_passed: boolean };

export type CaseStatus = 'pending' | 'in_progress' | 'completed' | 'failed' | 'expired' | 'cancelled';

export interface CaseSession {
  case_id: string;
  code: string;
  status: CaseStatus;
  purpose: string | null;
  purpose_translations: Record<string, string>;
  steps: Step[];
  done: StepRecord[];
  next: Next;
}

export interface Signed {
  session: string;
  role: 'clerk' | 'admin';
  name: string;
}
