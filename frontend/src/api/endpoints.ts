/** One typed function per API operation the application uses. */

import { request, requestBlob, uploadFile, withQuery } from "./client";
import type {
  AuditAction,
  AdminUser,
  AuditRecord,
  Counters,
  DocumentInfo,
  LoginResult,
  MfaEnrollment,
  NewObservation,
  Observation,
  ObservationChange,
  ObservationType,
  Page,
  Profile,
  RecoveryCodes,
  RegistrationReceipt,
  ResetAsked,
  Role,
  SignedInSession,
  UploadLimits,
  User,
} from "./types";

export const auth = {
  me: () => request<User>("/api/auth/me"),
  register: (email: string, password: string, displayName: string) =>
    request<RegistrationReceipt>("/api/auth/register", {
      method: "POST",
      json: { email, password, display_name: displayName },
    }),
  /** `second`: the authenticator's code, or a recovery code in its place. */
  login: (email: string, password: string, second?: { totp: string } | { recovery_code: string }) =>
    request<LoginResult>("/api/auth/login", {
      method: "POST",
      json: { email, password, ...second },
    }),
  logout: () => request<void>("/api/auth/logout", { method: "POST" }),
  acceptInvitation: (token: string, password: string) =>
    request<void>("/api/auth/invitations/accept", { method: "POST", json: { token, password } }),
  startMfa: () => request<MfaEnrollment>("/api/auth/mfa/enroll", { method: "POST" }),
  finishMfa: (code: string) =>
    request<void>("/api/auth/mfa/verify", { method: "POST", json: { code } }),
};

export const account = {
  changePassword: (currentPassword: string, newPassword: string) =>
    request<void>("/api/account/password", {
      method: "POST",
      json: { current_password: currentPassword, new_password: newPassword },
    }),
  sessions: () => request<SignedInSession[]>("/api/account/sessions"),
  endSession: (id: string) =>
    request<void>(`/api/account/sessions/${encodeURIComponent(id)}`, { method: "DELETE" }),
  signOutEverywhere: () =>
    request<void>("/api/account/sessions/sign-out-everywhere", { method: "POST" }),
  sendVerification: () =>
    request<{ sent: boolean }>("/api/account/email/verification", { method: "POST" }),
  verifyEmail: (token: string) =>
    request<void>("/api/account/email/verify", { method: "POST", json: { token } }),
  recoveryCodes: () => request<RecoveryCodes>("/api/account/recovery-codes", { method: "POST" }),
  turnOffTotp: (password: string, code: string) =>
    request<void>("/api/account/totp/off", { method: "POST", json: { password, code } }),
  askDeletion: (password: string) =>
    request<{ due_at: string }>("/api/account/deletion", { method: "POST", json: { password } }),
  keep: () => request<void>("/api/account/deletion", { method: "DELETE" }),
};

export const passwordReset = {
  ask: (email: string) =>
    request<ResetAsked>("/api/auth/password-reset", { method: "POST", json: { email } }),
  confirm: (token: string, newPassword: string) =>
    request<void>("/api/auth/password-reset/confirm", {
      method: "POST",
      json: { token, new_password: newPassword },
    }),
};

/** One's own data (HIPAA's right of access): a FHIR Bundle, or the measurements as CSV. */
export const exports = {
  fhir: () => requestBlob("/api/export/fhir"),
  csv: () => requestBlob("/api/export/csv"),
};

export const profile = {
  read: () => request<Profile>("/api/profile"),
  update: (change: {
    display_name?: string;
    date_of_birth?: string | null;
    units?: Record<string, string> | null;
  }) => request<Profile>("/api/profile", { method: "PATCH", json: change }),
};

export interface ObservationFilter {
  type?: string;
  from?: string;
  to?: string;
  limit?: number;
  offset?: number;
}

export const observations = {
  types: () => request<ObservationType[]>("/api/observations/types"),
  latest: () => request<Observation[]>("/api/observations/latest"),
  list: (filter: ObservationFilter) =>
    request<Page<Observation>>("/api/observations", { query: { ...filter } }),
  create: (body: NewObservation) =>
    request<Observation>("/api/observations", { method: "POST", json: body }),
  update: (id: string, change: ObservationChange) =>
    request<Observation>(`/api/observations/${encodeURIComponent(id)}`, {
      method: "PATCH",
      json: change,
    }),
  remove: (id: string) =>
    request<void>(`/api/observations/${encodeURIComponent(id)}`, { method: "DELETE" }),
};

export const documents = {
  limits: () => request<UploadLimits>("/api/documents/limits"),
  list: (limit: number, offset: number) =>
    request<Page<DocumentInfo>>("/api/documents", { query: { limit, offset } }),
  upload: (file: File, onProgress: (fraction: number) => void, signal?: AbortSignal) =>
    uploadFile<DocumentInfo>(
      `/api/documents?filename=${encodeURIComponent(file.name)}`,
      file,
      onProgress,
      signal,
    ),
  content: (id: string) => requestBlob(`/api/documents/${encodeURIComponent(id)}/content`),
  remove: (id: string) =>
    request<void>(`/api/documents/${encodeURIComponent(id)}`, { method: "DELETE" }),
};

export interface AuditFilter {
  user_id?: string;
  /** Part of the actor's address. */
  email?: string;
  /** success, refused, denied, failure… */
  outcome?: string;
  action?: string;
  resource_type?: string;
  from?: string;
  to?: string;
  limit?: number;
  offset?: number;
}

export const admin = {
  users: (limit: number, offset: number, email?: string) =>
    request<Page<AdminUser>>("/api/admin/users", { query: { email, limit, offset } }),
  lock: (id: string) =>
    request<AdminUser>(`/api/admin/users/${encodeURIComponent(id)}/lock`, { method: "POST" }),
  unlock: (id: string) =>
    request<AdminUser>(`/api/admin/users/${encodeURIComponent(id)}/unlock`, { method: "POST" }),
  setRole: (id: string, role: Role) =>
    request<AdminUser>(`/api/admin/users/${encodeURIComponent(id)}/role`, {
      method: "PUT",
      json: { role },
    }),
  resetMfa: (id: string) =>
    request<AdminUser>(`/api/admin/users/${encodeURIComponent(id)}/mfa/reset`, {
      method: "POST",
    }),
  audit: (filter: AuditFilter) =>
    request<Page<AuditRecord>>("/api/admin/audit", { query: { ...filter } }),
  auditCsv: (filter: AuditFilter) =>
    requestBlob(
      withQuery("/api/admin/audit/csv", { ...filter, limit: undefined, offset: undefined }),
    ),
  auditActions: () => request<AuditAction[]>("/api/admin/audit/actions"),
  counters: () => request<Counters>("/api/admin/counters"),
};
