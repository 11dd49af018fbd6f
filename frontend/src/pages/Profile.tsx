import { useEffect, useState } from "react";
import type { FormEvent } from "react";

import { ApiError } from "../api/client";
import { byField } from "../lib/problems";
import { observations, profile } from "../api/endpoints";
import type { ObservationType } from "../api/types";
import { useSession } from "../auth/session";
import { ErrorNotice } from "../components/ErrorNotice";
import { Field } from "../components/Field";
import { useLoad } from "../lib/useLoad";

export function ProfilePage() {
  const { user, signedIn } = useSession();
  const loaded = useLoad(() => profile.read(), []);
  const [name, setName] = useState("");
  const [birth, setBirth] = useState("");
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  const [units, setUnits] = useState<Record<string, string>>({});
  // The kinds of unit a patient may choose, from the types that offer a choice.
  const types = useLoad(
    () => (user?.role === "patient" ? observations.types() : Promise.resolve([])),
    [user?.role],
  );

  useEffect(() => {
    if (loaded.data) {
      setName(loaded.data.display_name);
      setBirth(loaded.data.date_of_birth ?? "");
      setUnits(loaded.data.units);
    }
  }, [loaded.data]);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    setError(undefined);
    const found: Record<string, string> = {};
    if (name.trim().length < 1 || name.trim().length > 100)
      found.display_name = "Enter a name of 1 to 100 characters.";
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    try {
      const updated = await profile.update({
        display_name: name.trim(),
        date_of_birth: birth || null,
        ...(user?.role === "patient" ? { units } : {}),
      });
      if (user) signedIn({ ...user, display_name: updated.display_name, units: updated.units });
      setSaved(true);
    } catch (failure) {
      if (failure instanceof ApiError) setProblems(byField(failure.details));
      setError(failure);
    }
  }

  if (loaded.error) return <ErrorNotice error={loaded.error} onRetry={loaded.reload} page />;
  if (!loaded.data) return <p className="loading">Loading…</p>;
  return (
    <section className="narrow" aria-labelledby="profile-title">
      <h1 id="profile-title">Profile</h1>
      <ErrorNotice error={error} fields={["display_name", "date_of_birth"]} />
      {saved ? (
        <div className="notice notice-success" role="status">
          Saved.
        </div>
      ) : null}
      <form onSubmit={onSubmit} noValidate>
        <Field label="Email" hint="Your sign-in address; it cannot be changed here.">
          {(control) => <input {...control} value={loaded.data?.email ?? ""} readOnly />}
        </Field>
        <Field label="Name" error={problems.display_name}>
          {(control) => (
            <input
              {...control}
              autoComplete="name"
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          )}
        </Field>
        <Field label="Date of birth" error={problems.date_of_birth}>
          {(control) => (
            <input
              {...control}
              type="date"
              value={birth}
              onChange={(e) => setBirth(e.target.value)}
            />
          )}
        </Field>
        {types.data && types.data.length > 0 ? (
          <UnitChoices types={types.data} units={units} onChange={setUnits} />
        ) : null}
        <button type="submit" className="primary">
          Save
        </button>
      </form>
    </section>
  );
}

/** One select per kind of unit the vocabulary offers a choice of (kg or lb, …). */
function UnitChoices({
  types,
  units,
  onChange,
}: {
  types: readonly ObservationType[];
  units: Record<string, string>;
  onChange: (units: Record<string, string>) => void;
}) {
  const kinds = types.filter(
    (t, i) => t.preference && types.findIndex((u) => u.preference === t.preference) === i,
  );
  return (
    <fieldset className="units">
      <legend>Units</legend>
      {kinds.map((kind) => (
        <Field key={kind.preference} label={kind.display}>
          {(control) => (
            <select
              {...control}
              value={units[kind.preference ?? ""] ?? kind.display_units[0]?.key}
              onChange={(e) => onChange({ ...units, [kind.preference ?? ""]: e.target.value })}
            >
              {kind.display_units.map((unit) => (
                <option key={unit.key} value={unit.key}>
                  {unit.label}
                </option>
              ))}
            </select>
          )}
        </Field>
      ))}
    </fieldset>
  );
}
