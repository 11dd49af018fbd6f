import { useState } from "react";
import type { FormEvent } from "react";

import { admin } from "../api/endpoints";
import type { AdminUser, Role } from "../api/types";
import { useSession } from "../auth/session";
import { ConfirmButton } from "../components/ConfirmButton";
import { ErrorNotice } from "../components/ErrorNotice";
import { Field } from "../components/Field";
import { PagedTable } from "../components/PagedTable";
import { formatDateTime } from "../lib/format";
import { useLoad } from "../lib/useLoad";

const PAGE_SIZE = 50;

export function UsersPage() {
  const { user: me } = useSession();
  const [offset, setOffset] = useState(0);
  const [search, setSearch] = useState("");
  const [email, setEmail] = useState("");
  const [version, setVersion] = useState(0);
  const [actionError, setActionError] = useState<unknown>();
  const [done, setDone] = useState<string | null>(null);
  // A role change waits for a second click: making someone an administrator is not undone
  // by accident.
  const [pendingRole, setPendingRole] = useState<{ user: AdminUser; role: Role } | null>(null);
  const page = useLoad(
    () => admin.users(PAGE_SIZE, offset, email || undefined),
    [offset, email, version],
  );

  async function act(what: string, action: () => Promise<AdminUser>) {
    setActionError(undefined);
    setDone(null);
    try {
      await action();
      setDone(what);
      setVersion((v) => v + 1);
    } catch (failure) {
      setActionError(failure);
    }
  }

  const lock = (u: AdminUser) => act(`${u.email} is locked.`, () => admin.lock(u.id));
  const unlock = (u: AdminUser) => act(`${u.email} is unlocked.`, () => admin.unlock(u.id));
  const resetMfa = (u: AdminUser) =>
    act(`${u.email}'s second factor is reset.`, () => admin.resetMfa(u.id));
  const roleName = (role: Role) => (role === "admin" ? "an administrator" : "a patient");
  const setRole = (u: AdminUser, role: Role) => {
    setPendingRole(null);
    return act(`${u.email} is now ${roleName(role)}.`, () => admin.setRole(u.id, role));
  };

  return (
    <>
      <h1>Users</h1>
      <form
        className="filters row"
        role="search"
        aria-label="Find users"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          setEmail(search.trim());
          setOffset(0);
        }}
      >
        <Field label="Email contains">
          {(control) => (
            <input
              {...control}
              type="search"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
          )}
        </Field>
        <button type="submit" className="primary">
          Find
        </button>
      </form>
      <ErrorNotice error={page.error} onRetry={page.reload} />
      <ErrorNotice error={actionError} />
      {done ? (
        <div className="notice notice-success" role="status">
          {done}
        </div>
      ) : null}
      {pendingRole ? (
        <div className="notice notice-info" role="alertdialog" aria-labelledby="role-question">
          <p id="role-question">
            Make {pendingRole.user.email} {roleName(pendingRole.role)}?
          </p>
          <div className="actions">
            <button
              type="button"
              className="primary"
              onClick={() => setRole(pendingRole.user, pendingRole.role)}
              autoFocus
            >
              Change role
            </button>
            <button type="button" onClick={() => setPendingRole(null)}>
              Cancel
            </button>
          </div>
        </div>
      ) : null}
      <PagedTable
        columns={["Account", "Role", "Status", "Second factor", "Last sign-in"]}
        actions
        page={page.data}
        empty="No accounts match."
        label="User pages"
        limit={PAGE_SIZE}
        offset={offset}
        onOffset={setOffset}
        row={(u) => ({
          key: u.id,
          data: { "data-email": u.email },
          cells: [
            <>
              <strong>{u.display_name}</strong>
              <br />
              {u.email}
              {u.email_verified ? null : <span className="badge">Email not confirmed</span>}
            </>,
            <>
              <label className="visually-hidden" htmlFor={`role-${u.id}`}>
                Role of {u.email}
              </label>
              <select
                id={`role-${u.id}`}
                value={pendingRole?.user.id === u.id ? pendingRole.role : u.role}
                disabled={u.id === me?.id}
                onChange={(e) => {
                  const role = e.target.value as Role;
                  setPendingRole(role === u.role ? null : { user: u, role });
                }}
              >
                <option value="patient">Patient</option>
                <option value="admin">Administrator</option>
              </select>
            </>,
            u.locked ? "Locked" : "Active",
            u.mfa_enabled ? "On" : "Off",
            u.last_sign_in_at ? formatDateTime(u.last_sign_in_at) : "Never",
            u.id === me?.id ? null : (
              <>
                {u.locked ? (
                  <button type="button" onClick={() => unlock(u)} aria-label={`Unlock ${u.email}`}>
                    Unlock
                  </button>
                ) : (
                  <ConfirmButton
                    label="Lock"
                    question={`Lock ${u.email}? They are signed out and cannot sign in until unlocked.`}
                    confirmLabel="Lock account"
                    onConfirm={() => lock(u)}
                  />
                )}
                {u.mfa_enabled ? (
                  <ConfirmButton
                    label="Reset second factor"
                    question={`Reset the second factor of ${u.email}? They are signed out, and sign in with their password alone until they set up a new authenticator (an administrator must, at once).`}
                    confirmLabel="Reset second factor"
                    onConfirm={() => resetMfa(u)}
                  />
                ) : null}
              </>
            ),
          ],
        })}
      />
    </>
  );
}
