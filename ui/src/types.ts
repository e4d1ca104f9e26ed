// The shapes the backend sends are generated from its Rust types (`make ts`); these names are the UI's.
export type {
  CaseSession,
  CaseStatus,
  KioskStatus,
  Lang,
  Next,
  SignedIn as Signed,
  Step,
  StepRecord,
} from './generated/kiosk';
