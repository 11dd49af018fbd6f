import { useState } from "react";
import type { FormEvent } from "react";

import { ApiError } from "../api/client";
import { byField } from "../lib/problems";
import type { Observation, ObservationType } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import { Field } from "../components/Field";
import { formatNumber, fromLocalInput, toLocalInput } from "../lib/format";
import { shownUnit, toShown, useUnitChoices } from "../lib/units";
import { TypeOptions } from "./TypeOptions";
import { MAX_NOTE, problems, shownForEditing } from "./validation";
import type { ObservationDraft } from "./validation";

export interface ObservationFormProps {
  types: readonly ObservationType[];
  /** Editing this measurement (its type cannot change); otherwise a new one. */
  editing?: Observation;
  onSave: (draft: ObservationDraft) => Promise<void>;
  onCancel?: () => void;
}

/** Add or correct a measurement; refuses what the API would refuse, and shows the API's
 * message when it refuses anyway. */
export function ObservationForm({ types, editing, onSave, onCancel }: ObservationFormProps) {
  const [type, setType] = useState(
    editing?.type ?? types.find((t) => t.recorded)?.code ?? types[0]?.code ?? "",
  );
  const choices = useUnitChoices();
  const editingKind = editing ? types.find((t) => t.code === editing.type) : undefined;
  const shown = editing && editingKind ? shownForEditing(editingKind, editing, choices) : undefined;
  const [value, setValue] = useState(shown?.value ?? "");
  const [parts, setParts] = useState<Record<string, string>>(shown?.components ?? {});
  const [when, setWhen] = useState(shown?.when ?? toLocalInput(new Date()));
  const [note, setNote] = useState(editing?.note ?? "");
  const [fieldProblems, setFieldProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const kind = types.find((t) => t.code === type);
  const unit = kind ? shownUnit(kind, choices) : undefined;

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    const draft = {
      type,
      value,
      components: parts,
      unit: kind?.unit ?? "",
      effectiveAt: fromLocalInput(when),
      note,
    };
    const found = problems(types, draft, choices);
    setFieldProblems(byField(found));
    if (found.length > 0) return;
    setBusy(true);
    try {
      await onSave(draft);
      if (!editing) {
        setValue("");
        setParts({});
        setNote("");
      }
    } catch (failure) {
      if (failure instanceof ApiError) setFieldProblems(byField(failure.details));
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  const title = editing ? "Correct measurement" : "Add a measurement";
  return (
    <form className="observation-form" onSubmit={onSubmit} noValidate aria-label={title}>
      <h2>{title}</h2>
      <ErrorNotice
        error={error}
        fields={["type", "value", "unit", "components", "effective_at", "note"]}
      />
      <div className="row">
        <Field label="Type" error={fieldProblems.type}>
          {(control) => (
            <select
              {...control}
              value={type}
              disabled={Boolean(editing)}
              onChange={(e) => setType(e.target.value)}
            >
              <TypeOptions types={types} including={editing?.type} />
            </select>
          )}
        </Field>
        {kind && kind.components.length > 0 ? (
          kind.components.map((part) => (
            <Field
              key={part.code}
              label={`${part.display} (${kind.unit_label})`}
              hint={`Between ${part.minimum} and ${part.maximum}`}
              error={fieldProblems[`components.${part.code}`] ?? fieldProblems.components}
            >
              {(control) => (
                <input
                  {...control}
                  inputMode="decimal"
                  value={parts[part.code] ?? ""}
                  onChange={(e) => setParts({ ...parts, [part.code]: e.target.value })}
                />
              )}
            </Field>
          ))
        ) : (
          <Field
            label={`Value${unit ? ` (${unit.label})` : ""}`}
            hint={
              kind && unit
                ? `Between ${formatNumber(toShown(kind.minimum, unit))} and ${formatNumber(toShown(kind.maximum, unit))}`
                : undefined
            }
            error={fieldProblems.value ?? fieldProblems.unit}
          >
            {(control) => (
              <input
                {...control}
                inputMode="decimal"
                value={value}
                onChange={(e) => setValue(e.target.value)}
              />
            )}
          </Field>
        )}
        <Field label="Measured at" error={fieldProblems.effective_at}>
          {(control) => (
            <input
              {...control}
              type="datetime-local"
              value={when}
              onChange={(e) => setWhen(e.target.value)}
            />
          )}
        </Field>
      </div>
      <Field
        label="Note (optional)"
        error={fieldProblems.note}
        hint={`Up to ${MAX_NOTE} characters.`}
      >
        {(control) => <input {...control} value={note} onChange={(e) => setNote(e.target.value)} />}
      </Field>
      <div className="actions">
        <button type="submit" className="primary" disabled={busy || !kind}>
          {editing ? "Save correction" : "Add"}
        </button>
        {onCancel ? (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
