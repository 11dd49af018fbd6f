/** The API's bodies, as its OpenAPI document describes them (GET /api/openapi.json). */

export type Role = "patient" | "admin";

export interface User {
  id: string;
  email: string;
  display_name: string;
  role: Role;
  mfa_enabled: boolean;
  /** Whether the owner opened a link sent to the address (reset needs it; we remind). */
  email_verified: boolean;
  /** The unit chosen per kind of measurement: {mass: "lb", temperature: "C", …}. */
  units: Record<string, string>;
  /** When the deletion its owner asked for is due (null: none asked). */
  deletion_due_at: string | null;
}

/** One place the account is signed in (GET /api/account/sessions). */
export interface SignedInSession {
  id: string;
  signed_in_at: string;
  address: string | null;
  agent: string | null;
  /** This browser's own session. */
  current: boolean;
}

/** Shown once: only their digests are kept. */
export interface RecoveryCodes {
  codes: string[];
  shown_once: boolean;
}

/** The same answer for any address: only a confirmed owner gets a link. */
export interface ResetAsked {
  message: string;
}

/** The same for a new and a taken email: only the address's owner learns which, by email. */
export interface RegistrationReceipt {
  email: string;
  message: string;
}

export interface LoginResult {
  user: User;
  csrf_token: string;
  mfa_enrollment_required: boolean;
}

export interface MfaEnrollment {
  secret: string;
  otpauth_uri: string;
}

export interface Profile {
  email: string;
  display_name: string;
  date_of_birth: string | null;
  units: Record<string, string>;
}

/** One value of a reading of several (blood pressure's systolic and diastolic). */
export interface ObservationComponent {
  code: string;
  display: string;
  loinc: string;
  minimum: number;
  maximum: number;
  reference_low: number | null;
  reference_high: number | null;
}

/** A unit a type may be shown and entered in: stored = shown × scale + offset. */
export interface DisplayUnit {
  key: string;
  label: string;
  scale: number;
  offset: number;
}

export interface ObservationType {
  code: string;
  display: string;
  loinc: string;
  /** UCUM, as stored and exported ("mm[Hg]"). */
  unit: string;
  /** The unit as people write it ("mmHg"): what pages show. */
  unit_label: string;
  minimum: number;
  maximum: number;
  /** The usual adult range, for an in-range mark (null: none, as for weight). */
  reference_low: number | null;
  reference_high: number | null;
  components: ObservationComponent[];
  /** False: an earlier way of recording, still shown but no longer entered. */
  recorded: boolean;
  /** Which of the user's unit choices applies ("mass"), null: its own unit only. */
  preference: string | null;
  /** The units it may be shown in, the stored one first. */
  display_units: DisplayUnit[];
}

export interface Observation {
  id: string;
  type: string;
  loinc: string;
  /** The value, or a reading's first component's. */
  value: number;
  components: Record<string, number> | null;
  unit: string;
  effective_at: string;
  note: string | null;
}

export interface NewObservation {
  type: string;
  value?: number;
  components?: Record<string, number>;
  unit: string;
  effective_at: string;
  note: string | null;
}

export type ObservationChange = Partial<Omit<NewObservation, "type">>;

export interface Page<T> {
  items: T[];
  total: number;
  limit?: number;
  offset?: number;
}

export interface DocumentInfo {
  id: string;
  filename: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  created_at: string;
}

export interface UploadLimits {
  max_bytes: number;
  accepted_types: string[];
}

export interface AdminUser {
  id: string;
  email: string;
  display_name: string;
  role: Role;
  locked: boolean;
  mfa_enabled: boolean;
  email_verified: boolean;
  created_at: string;
  last_sign_in_at: string | null;
}

export interface AuditRecord {
  id: number;
  at: string;
  actor_id: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  outcome: string;
  client_address: string | null;
  request_id: string | null;
  /** Who, as a person reads it (null: nobody signed in, or an account since deleted). */
  actor_email: string | null;
  actor_name: string | null;
  /** What was done, in words: "Downloaded a document". */
  what: string;
  /** Whom it touched: the account acted on, or the owner of the measurement or document. */
  subject_name: string | null;
  subject_email: string | null;
}

export interface AuditAction {
  action: string;
  what: string;
}

export interface Counters {
  active_sessions: number;
  requests_per_minute: number;
  logins_per_minute: number;
  failed_logins_per_minute: number;
}
