import { useState } from "react";

import { documents } from "../api/endpoints";
import type { DocumentInfo } from "../api/types";
import { ConfirmButton } from "../components/ConfirmButton";
import { ErrorNotice } from "../components/ErrorNotice";
import { PagedTable } from "../components/PagedTable";
import { UploadPanel } from "../documents/UploadPanel";
import { typeName } from "../documents/uploads";
import { save } from "../lib/download";
import { formatBytes, formatDateTime } from "../lib/format";
import { useLoad } from "../lib/useLoad";

const PAGE_SIZE = 20;

export function DocumentsPage() {
  const [offset, setOffset] = useState(0);
  const [version, setVersion] = useState(0);
  const [actionError, setActionError] = useState<unknown>();
  const limits = useLoad(() => documents.limits(), []);
  const page = useLoad(() => documents.list(PAGE_SIZE, offset), [offset, version]);
  const changed = () => setVersion((v) => v + 1);

  async function act(action: () => Promise<void>) {
    setActionError(undefined);
    try {
      await action();
    } catch (failure) {
      setActionError(failure);
    }
  }

  const download = (d: DocumentInfo) =>
    act(async () => save(await documents.content(d.id), d.filename));
  const remove = (d: DocumentInfo) =>
    act(async () => {
      await documents.remove(d.id);
      changed();
    });

  if (limits.error) return <ErrorNotice error={limits.error} onRetry={limits.reload} page />;
  return (
    <>
      <h1>Documents</h1>
      {limits.data ? <UploadPanel limits={limits.data} onUploaded={changed} /> : null}
      <section aria-labelledby="documents-title">
        <h2 id="documents-title">Your documents</h2>
        <ErrorNotice error={page.error} onRetry={page.reload} />
        <ErrorNotice error={actionError} />
        <PagedTable
          columns={["Name", "Type", "Size", "Uploaded"]}
          actions
          page={page.data}
          empty="No documents yet."
          label="Document pages"
          limit={PAGE_SIZE}
          offset={offset}
          onOffset={setOffset}
          row={(d) => ({
            key: d.id,
            cells: [
              d.filename,
              typeName(d.content_type),
              formatBytes(d.size_bytes),
              formatDateTime(d.created_at),
              <>
                <button
                  type="button"
                  onClick={() => download(d)}
                  aria-label={`Download ${d.filename}`}
                >
                  Download
                </button>
                <ConfirmButton
                  label="Delete"
                  question={`Delete ${d.filename}? It will no longer be available to you.`}
                  confirmLabel="Delete document"
                  onConfirm={() => remove(d)}
                />
              </>,
            ],
          })}
        />
      </section>
    </>
  );
}
