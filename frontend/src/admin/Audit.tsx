import { useState } from "react";
import type { FormEvent } from "react";

import { admin } from "../api/endpoints";
import type { AuditFilter } from "../api/endpoints";
import { ErrorNotice } from "../components/ErrorNotice";
import { Field } from "../components/Field";
import { PagedTable } from "../components/PagedTable";
import { formatDateTime, fromLocalInput } from "../lib/format";
import { useLoad } from "../lib/useLoad";

const PAGE_SIZE = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Filters {
  user_id: string;
  action: string;
  resource_type: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { user_id: "", action: "", resource_type: "", from: "", to: "" };

export function toQuery(filters: Filters, offset: number): AuditFilter {
  return {
    user_id: filters.user_id.trim() || undefined,
    action: filters.action.trim() || undefined,
    resource_type: filters.resource_type.trim() || undefined,
    from: fromLocalInput(filters.from) ?? undefined,
    to: fromLocalInput(filters.to) ?? undefined,
    limit: PAGE_SIZE,
    offset,
  };
}

export function AuditPage() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const [offset, setOffset] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);
  const page = useLoad(() => admin.audit(toQuery(applied, offset)), [applied, offset]);

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (draft.user_id.trim() && !UUID.test(draft.user_id.trim())) {
      setProblem("A user id looks like 0b7e4c1a-3d52-4f7e-a0c4-6f1d9e2b8c35.");
      return;
    }
    setProblem(null);
    setApplied(draft);
    setOffset(0);
  }

  const field = (key: keyof Filters, label: string, type = "text") => (
    <Field label={label} error={key === "user_id" ? (problem ?? undefined) : undefined}>
      {(control) => (
        <input
          {...control}
          type={type}
          value={draft[key]}
          onChange={(e) => setDraft({ ...draft, [key]: e.target.value })}
        />
      )}
    </Field>
  );

  return (
    <>
      <h1>Audit log</h1>
      <form
        className="filters row"
        aria-label="Filter the audit log"
        onSubmit={onSubmit}
        noValidate
      >
        {field("user_id", "User id")}
        {field("action", "Action")}
        {field("resource_type", "Resource type")}
        {field("from", "From", "datetime-local")}
        {field("to", "To", "datetime-local")}
        <button type="submit" className="primary">
          Search
        </button>
      </form>
      <ErrorNotice error={page.error} onRetry={page.reload} />
      <PagedTable
        columns={["When", "Actor", "Action", "Resource", "Outcome", "Address"]}
        className="audit"
        page={page.data}
        empty="No records match."
        label="Audit pages"
        limit={PAGE_SIZE}
        offset={offset}
        onOffset={setOffset}
        row={(r) => (
          <tr key={r.id}>
            <td>{formatDateTime(r.at)}</td>
            <td>
              <code>{r.actor_id ?? "—"}</code>
            </td>
            <td>{r.action}</td>
            <td>
              {r.resource_type}
              {r.resource_id ? (
                <>
                  {" "}
                  <code>{r.resource_id}</code>
                </>
              ) : null}
            </td>
            <td>{r.outcome}</td>
            <td>{r.client_address ?? "—"}</td>
          </tr>
        )}
      />
    </>
  );
}
