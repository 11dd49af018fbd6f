import { useState } from "react";

import { exports } from "../api/endpoints";
import { ErrorNotice } from "../components/ErrorNotice";
import { save } from "../lib/download";
import { DeleteAccount } from "./DeleteAccount";

const FORMATS = [
  {
    name: "fhir",
    label: "Download everything (FHIR)",
    file: "health-record.fhir.json",
    about:
      "Your profile, every measurement and a reference to every document, as a FHIR R4 Bundle: the standard format other health apps and clinics import.",
    fetch: exports.fhir,
  },
  {
    name: "csv",
    label: "Download measurements (CSV)",
    file: "measurements.csv",
    about: "Every measurement as a spreadsheet: one row each, with its time, value and unit.",
    fetch: exports.csv,
  },
] as const;

/** One's own data, to take elsewhere (HIPAA's right of access). */
export function YourDataPage() {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();

  async function download(format: (typeof FORMATS)[number]) {
    setError(undefined);
    setBusy(format.name);
    try {
      save(await format.fetch(), format.file);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(null);
    }
  }

  return (
    <section className="narrow stack" aria-labelledby="data-title">
      <h1 id="data-title">Your data</h1>
      <p>A copy of what this platform holds about you, to keep or to take to another service.</p>
      <ErrorNotice error={error} />
      {FORMATS.map((format) => (
        <div key={format.name} className="card">
          <p>{format.about}</p>
          <button
            type="button"
            className="primary"
            disabled={busy !== null}
            onClick={() => download(format)}
          >
            {busy === format.name ? "Preparing…" : format.label}
          </button>
        </div>
      ))}
      <DeleteAccount />
    </section>
  );
}
