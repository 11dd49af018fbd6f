import { useState } from "react";

import { admin } from "../api/endpoints";
import type { AdminUser, Role } from "../api/types";
import { useSession } from "../auth/session";
import { ConfirmButton } from "../components/ConfirmButton";
import { ErrorNotice } from "../components/ErrorNotice";
import { Pagination } from "../components/Pagination";
import { formatDate } from "../lib/format";
import { useLoad } from "../lib/useLoad";

const PAGE_SIZE = 50;

export function UsersPage() {
  const { user: me } = useSession();
  const [offset, setOffset] = useState(0);
  const [version, setVersion] = useState(0);
  const [actionError, setActionError] = useState<unknown>();
  const [done, setDone] = useState<string | null>(null);
  const page = useLoad(() => admin.users(PAGE_SIZE, offset), [offset, version]);

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
  const setRole = (u: AdminUser, role: Role) =>
    act(`${u.email} is now ${role === "admin" ? "an administrator" : "a patient"}.`, () => admin.setRole(u.id, role));

  return (
    <>
      <h1>Users</h1>
      <ErrorNotice error={page.error} onRetry={page.reload} />
      <ErrorNotice error={actionError} />
      {done ? (
        <div className="notice notice-success" role="status">
          {done}
        </div>
      ) : null}
      {page.data ? (
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Since</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.map((u) => (
                <tr key={u.id} data-email={u.email}>
                  <td>{u.email}</td>
                  <td>{u.display_name}</td>
                  <td>
                    <label className="visually-hidden" htmlFor={`role-${u.id}`}>
                      Role of {u.email}
                    </label>
                    <select
                      id={`role-${u.id}`}
                      value={u.role}
                      disabled={u.id === me?.id}
                      onChange={(e) => setRole(u, e.target.value as Role)}
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
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {page.data ? (
        <Pagination label="User pages" total={page.data.total} limit={PAGE_SIZE} offset={offset} onChange={setOffset} />
      ) : null}
    </>
  );
}
