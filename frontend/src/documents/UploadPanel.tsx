import { useState } from "react";
import type { ChangeEvent } from "react";

import { documents } from "../api/endpoints";
import { formatBytes } from "../lib/format";
import { describe } from "../lib/problems";
import type { UploadLimits } from "../api/types";
import { refusal, typeName } from "./uploads";

interface Upload {
  id: number;
  name: string;
  size: number;
  progress: number;
  state: "waiting" | "sending" | "done" | "refused" | "failed";
  message?: string;
}

let nextId = 0;

/** Several files at once, one after another, each with its own progress bar. */
export function UploadPanel({
  limits,
  onUploaded,
}: {
  limits: UploadLimits;
  onUploaded: () => void;
}) {
  const [uploads, setUploads] = useState<Upload[]>([]);
  const update = (id: number, change: Partial<Upload>) =>
    setUploads((all) => all.map((u) => (u.id === id ? { ...u, ...change } : u)));

  async function onChoose(event: ChangeEvent<HTMLInputElement>) {
    const files = Array.from(event.target.files ?? []);
    event.target.value = ""; // choosing the same file again fires change again
    const batch = files.map((file) => {
      const why = refusal(file, limits);
      return {
        file,
        upload: {
          id: nextId++,
          name: file.name,
          size: file.size,
          progress: 0,
          state: why ? "refused" : "waiting",
          message: why ?? undefined,
        } satisfies Upload as Upload,
      };
    });
    setUploads((all) => [...batch.map((b) => b.upload), ...all]);
    for (const { file, upload } of batch) {
      if (upload.state === "refused") continue;
      update(upload.id, { state: "sending" });
      try {
        await documents.upload(file, (fraction) => update(upload.id, { progress: fraction }));
        update(upload.id, { state: "done", progress: 1 });
        onUploaded();
      } catch (failure) {
        update(upload.id, { state: "failed", message: describe(failure).message });
      }
    }
  }

  const accepted = limits.accepted_types.map(typeName).join(", ");
  return (
    <section aria-labelledby="upload-title">
      <h2 id="upload-title">Upload</h2>
      <p id="upload-rules" className="hint">
        {accepted}; up to {formatBytes(limits.max_bytes)} each. Several files at once are fine.
      </p>
      <label className="file-button">
        Choose files…
        <input
          type="file"
          multiple
          accept={[...limits.accepted_types, ".pdf", ".png", ".jpg", ".jpeg", ".dcm"].join(",")}
          aria-describedby="upload-rules"
          onChange={onChoose}
        />
      </label>
      {uploads.length > 0 ? (
        <ul className="uploads" aria-label="Uploads">
          {uploads.map((u) => (
            <li key={u.id} className={`upload upload-${u.state}`}>
              <span className="upload-name">
                {u.name} <small>({formatBytes(u.size)})</small>
              </span>
              <progress
                max={1}
                value={u.progress}
                aria-label={`Upload of ${u.name}`}
                aria-valuetext={`${Math.round(u.progress * 100)}%`}
              />
              <span
                className="upload-state"
                role={u.state === "failed" || u.state === "refused" ? "alert" : undefined}
              >
                {u.state === "done"
                  ? "Uploaded"
                  : u.state === "sending"
                    ? `${Math.round(u.progress * 100)}%`
                    : u.state === "waiting"
                      ? "Waiting"
                      : u.message}
              </span>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
