import { useState } from "react";
import type { FormEvent } from "react";

import { admin } from "../api/endpoints";
import type { AdminUser, Role } from "../api/types";
import { useSession } from "../auth/session";
import { ConfirmButton } from "../components/ConfirmButton";
import { ErrorNotice } from "../components/ErrorNotice";
import { Field } from "../components/Field";
import { PagedTable } from "../components/PagedTable";
import { formatDate } from "../lib/format";
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
        columns={["Email", "Name", "Role", "Status", "Since"]}
        actions
        page={page.data}
        empty="No accounts match."
        label="User pages"
        limit={PAGE_SIZE}
        offset={offset}
        onOffset={setOffset}
        row={(u) => (
          <tr key={u.id} data-email={u.email}>
            <td>{u.email}</td>
            <td>{u.display_name}</td>
            <td>
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
            </td>
            <td>{u.locked ? "Locked" : "Active"}</td>
            <td>{formatDate(u.created_at)}</td>
            <td className="actions">
              {u.id === me?.id ? null : u.locked ? (
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
            </td>
          </tr>
        )}
      />
    </>
  );
}
